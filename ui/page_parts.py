"""The parts the pages before a profile is open are built from: a readable column with a
heading (`Page`), a one-sentence `Message`, a busy state, and `NewPasswordPage`, the shape both
"create a profile" and "set a new password with the recovery key" share: a new password typed
twice under the same rule, a primary button, Cancel, and the work done off the GUI thread.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QBoxLayout,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)
from typing_extensions import override

from desktop.passwords import password_problem
from ui.crash import user_sentence
from ui.tasks import emit

# The readable measure of the column, in average character widths of the system font.
COLUMN_CHARACTERS = 72


def heading_html(title: str) -> str:
    """A heading as rich text, one and a half times the text size (escaped: titles are ours)."""
    return f'<span style="font-size: xx-large; font-weight: bold;">{html.escape(title)}</span>'


def paragraph(text: str, name: str = "") -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setAccessibleName(name or text)
    label.setAccessibleDescription(text)
    return label


class Message(QLabel):
    """A one-sentence message on a page: words first ("Error:"), a bar, never colour alone."""

    def __init__(self, object_name: str = "pageMessage", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(True)
        self.setVisible(False)
        self.setAccessibleName("Message")
        # Not a Tab stop (GOV.UK: messages are read when they appear, not tabbed to); the page
        # may still put the focus on it.
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)

    def say(self, sentence: str, kind: str = "error") -> None:
        text = f"Error: {sentence}" if kind == "error" and sentence else sentence
        self.setText(text)
        self.setProperty("kind", kind)
        self.setAccessibleName("Problem" if kind == "error" else "Message")
        self.setAccessibleDescription(text)
        self.style().unpolish(self)
        self.style().polish(self)
        self.setVisible(bool(sentence))

    def clear_message(self) -> None:
        self.say("")


class Page(QScrollArea):
    """A centred readable column with a heading; scrolls rather than clips at large text sizes."""

    def __init__(self, title: str, object_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        # Not a Tab stop itself: `first` takes the focus when the page is shown. (A focus
        # proxy on the page instead made Tab skip the controls before the proxy.)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.first: QWidget | None = None
        self.setAccessibleName(title)
        outer = QWidget()
        outer.setObjectName("pageBackground")
        outer_layout = QVBoxLayout(outer)
        outer_layout.setContentsMargins(24, 32, 24, 24)
        self.column = QWidget(outer)
        self.column.setObjectName("pageColumn")
        # Stretches either side centre the column; an alignment flag instead would size it by
        # its size hint, which ignores how tall wrapped paragraphs become.
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.column, 100)
        row.addStretch(1)
        outer_layout.addLayout(row)
        outer_layout.addStretch(1)
        self.layout_ = QVBoxLayout(self.column)
        self.layout_.setSpacing(12)
        # Rich text with a relative size: it follows the window's font without any setFont
        # (an explicit font on a child is lost when the page is re-parented under a stylesheet).
        self.heading = QLabel(heading_html(title), self.column)
        self.heading.setObjectName("pageHeading")
        self.heading.setTextFormat(Qt.TextFormat.RichText)
        self.heading.setWordWrap(True)
        self.heading.setAccessibleName(title)
        self.layout_.addWidget(self.heading)
        self.setWidget(outer)
        self._apply_fonts()

    def focus_first(self) -> None:
        """Put the focus where the page starts (the field most people type in first)."""
        (self.first or self).setFocus(Qt.FocusReason.OtherFocusReason)

    def _apply_fonts(self) -> None:
        # The column's measure follows the font, so a change of text size is followed.
        self.column.setMaximumWidth(self.fontMetrics().averageCharWidth() * COLUMN_CHARACTERS)

    @override
    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.FontChange:
            self._apply_fonts()
        super().changeEvent(event)


def password_edit(name: str, description: str) -> QLineEdit:
    edit = QLineEdit()
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setAccessibleName(name)
    edit.setAccessibleDescription(description)
    edit.setInputMethodHints(Qt.InputMethodHint.ImhSensitiveData
                             | Qt.InputMethodHint.ImhNoPredictiveText)
    return edit


class Busy:
    """A page's busy state: the button disabled with a busy word, a bar, a busy cursor."""

    def __init__(self, page: QWidget, button: QPushButton, busy_text: str,
                 name: str) -> None:
        self.page = page
        self.button = button
        self.idle_text = button.text()
        self.busy_text = busy_text
        self.bar = QProgressBar(page)
        self.bar.setObjectName("busyBar")
        self.bar.setRange(0, 0)  # indeterminate
        self.bar.setTextVisible(False)
        self.bar.setAccessibleName(name)
        self.bar.setVisible(False)
        self.bar.setMaximumHeight(page.fontMetrics().height() // 2 + 2)
        self.active = False

    def set(self, busy: bool) -> None:
        self.active = busy
        self.button.setEnabled(not busy)
        self.button.setText(self.busy_text if busy else self.idle_text)
        self.button.setAccessibleDescription(self.busy_text if busy else "")
        self.bar.setVisible(busy)
        if busy:
            self.page.setCursor(Qt.CursorShape.BusyCursor)
        else:
            self.page.unsetCursor()


def new_form() -> QFormLayout:
    """A form whose labels sit above their fields (room for large text sizes)."""
    form = QFormLayout()
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
    return form


class NewPasswordPage(Page):
    """A page that ends in a new password typed twice (the rule of
    desktop.profiles.password_problem), a primary button, Cancel and a busy state.

    A page fills `first` and says what it asks first (`_first_problem`), adds the password
    fields and the buttons, and starts its own work (`_start`); checking what was typed,
    saying the first problem and failing are the same for every such page.
    """

    cancelled = Signal()
    doing = ""  # what the work is, for a failure's sentence ("creating the profile")
    clear_confirm_on_problem = False  # a problem past the first field clears "again"

    def __init__(self, title: str, object_name: str, parent: QWidget | None = None) -> None:
        super().__init__(title, object_name, parent)
        self.message = Message()
        self.password_edit = QLineEdit()
        self.confirm_edit = QLineEdit()

    def add_password_fields(
        self, form: QFormLayout, *, name: str, label: str, object_name: str,
        confirm_name: str, confirm_label: str, confirm_object_name: str,
        hint: str = "", after_password: QWidget | None = None,
        after_confirm: QWidget | None = None,
    ) -> None:
        self.password_edit = password_edit(
            name, "At least 10 characters; a short phrase of several words is best.")
        self.password_edit.setObjectName(object_name)
        password_label = QLabel(label)
        password_label.setBuddy(self.password_edit)
        form.addRow(password_label)
        if hint:
            form.addRow(paragraph(hint, "Password hint"))
        form.addRow(self.password_edit)
        if after_password is not None:
            form.addRow(after_password)
        self.confirm_edit = password_edit(confirm_name,
                                          "Type the same password again to be sure of it.")
        self.confirm_edit.setObjectName(confirm_object_name)
        again_label = QLabel(confirm_label)
        again_label.setBuddy(self.confirm_edit)
        form.addRow(again_label)
        form.addRow(self.confirm_edit)
        if after_confirm is not None:
            form.addRow(after_confirm)

    def add_buttons(self, layout: QBoxLayout, *, text: str, name: str, cancel_name: str,
                    busy_text: str, busy_name: str) -> None:
        """The primary button, Cancel and the busy bar, then the space below them."""
        buttons = QHBoxLayout()
        self.primary_button = QPushButton(text)
        self.primary_button.setObjectName("primaryButton")
        self.primary_button.setDefault(True)
        self.primary_button.setAccessibleName(name)
        self.primary_button.clicked.connect(self.submit)
        buttons.addWidget(self.primary_button)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName(cancel_name)
        self.cancel_button.clicked.connect(self._cancel)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.busy = Busy(self.column, self.primary_button, busy_text, busy_name)
        layout.addWidget(self.busy.bar)
        layout.addStretch(1)

    @staticmethod
    def strength_problem(password: str, user_inputs: tuple[str, ...] = ()) -> str:
        """The one sentence that says what is wrong with the password, or '' when it will do.

        The same rule as `onesend profile create` (desktop.profiles.password_problem).
        """
        return password_problem(password, user_inputs)

    def _names(self) -> tuple[str, ...]:
        """Words the password must not be made of (the profile's name)."""
        return ()

    def _first_problem(self) -> tuple[str, QLineEdit] | None:
        return None

    def _problem(self) -> tuple[str, QLineEdit] | None:
        found = self._first_problem()
        if found is not None:
            return found
        problem = self.strength_problem(self.password_edit.text(), self._names())
        if problem:
            return problem, self.password_edit
        if self.confirm_edit.text() != self.password_edit.text():
            return ("The two passwords are not the same: type the same password in both "
                    "boxes."), self.confirm_edit
        return None

    def submit(self) -> None:
        if self.busy.active:
            return
        found = self._problem()
        if found is not None:
            sentence, field = found
            self.message.say(sentence)
            if self.clear_confirm_on_problem and field is not self.first:
                self.confirm_edit.clear()
            field.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        self._start()

    def _start(self) -> None:
        raise NotImplementedError

    def _failed(self, error: object) -> None:
        self.busy.set(False)
        assert isinstance(error, BaseException)
        self.message.say(user_sentence(error, self.doing))
        (self.first or self).setFocus(Qt.FocusReason.OtherFocusReason)

    def _cancel(self) -> None:
        emit(self.cancelled)
