"""Question widgets, chosen by question type from a registry.

Each question type maps to a small adapter (a ``FieldAdapter`` subclass) that builds the
widgets for one question and offers the same four things: ``get`` the answer, ``set`` it
(without announcing a change), ``show_errors`` inline, and ``focus`` a part of it. An adapter
reports an edit with ``changed(path, value)``; the editor stores it in the engine's session.
The adapters know question *types*, never a question by name.

Every input gets an accessible name from its question's label and a description from its
help and current error; labels are buddies of their inputs, so Alt+letter works where a
mnemonic is given, and errors are written as text ("Error: …"), never shown by colour alone.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from PySide6.QtCore import QDate, QMimeData, QObject, QPoint, QSize, Qt, Signal
from PySide6.QtGui import QFocusEvent, QKeyEvent, QResizeEvent, QTextCursor
from PySide6.QtWidgets import (
    QAbstractButton,
    QButtonGroup,
    QCalendarWidget,
    QCheckBox,
    QComboBox,
    QCompleter,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
    QWidgetAction,
)
from typing_extensions import override

from desktop.answers_text import format_answer
from forms.bounds import (
    CODE_CHARS,
    DATE_CHARS,
    GENERIC_CHARS,
    MAX_NUMBER,
    SHORT_CHARS,
    question_bound,
)
from forms.engine import AGREEMENT_DECISIONS, Problem, Session
from forms.expressions import MISSING
from forms.model import IDENTIFIER_TYPES, OTHER_SUFFIX, TEXT_TYPES, Question
from forms.paths import parse_answer_path
from ui.dates import MONTH_NUMBERS
from ui.form.read_only import set_read_only_choice
from ui.keys import ArrowsSelect
from ui.scaling import follow_font, width_in_characters
from ui.tasks import emit

_ISO = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")
_DMY = re.compile(r"^\s*(\d{1,2})[\s/.\-]+(\d{1,2})[\s/.\-]+(\d{4})\s*$")
_D_MONTH_Y = re.compile(r"^\s*(\d{1,2})\s+([A-Za-z]+)\.?\s+(\d{4})\s*$")
DATE_HINT = "For example 27/03/2016"


def parse_date_text(text: str) -> str | None:
    """A typed date in the forms people use in England, as ``YYYY-MM-DD``; None if not one."""
    for pattern, order in ((_ISO, "ymd"), (_DMY, "dmy"), (_D_MONTH_Y, "dMy")):
        match = pattern.match(text)
        if not match:
            continue
        parts = dict(zip(order, match.groups(), strict=True))
        month_text = parts.get("M")
        month = MONTH_NUMBERS.get(month_text.lower()) if month_text else int(parts["m"])
        if month is None:
            return None
        try:
            return date(int(parts["y"]), month, int(parts["d"])).isoformat()
        except ValueError:
            return None
    return None


def show_date(value: Any) -> str:
    """A stored ISO date as the user types it (DD/MM/YYYY); other text unchanged."""
    if isinstance(value, str) and _ISO.match(value):
        parsed = parse_date_text(value)
        if parsed:
            day = date.fromisoformat(parsed)
            return f"{day.day:02d}/{day.month:02d}/{day.year}"
    return "" if value is None else str(value)


def describe(widget: QWidget, name: str, description: str = "") -> None:
    """Accessible name and description of an input, from its label and help."""
    widget.setAccessibleName(name)
    widget.setAccessibleDescription(description)


class LongTextEdit(QPlainTextEdit):
    """Multi-line text where Tab moves on (as everywhere else) and the box grows with its text."""

    def __init__(self, parent: QWidget | None = None, limit: int = GENERIC_CHARS) -> None:
        super().__init__(parent)
        # The answer's hard bound (forms/bounds.py): the box never holds more than this.
        self.limit = limit
        self.setTabChangesFocus(True)
        # Lines wrap at the box's width, so there is never a sideways scroll bar in it.
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.document().contentsChanged.connect(self._fit)
        self._fit()

    def insertFromMimeData(self, source: QMimeData) -> None:  # noqa: N802 - Qt's name
        """Paste at most what the bound leaves room for; the rest never reaches the layout."""
        if not source.hasText():
            return
        selected = len(self.textCursor().selectedText())
        room = max(0, self.limit - (self.document().characterCount() - 1 - selected))
        self.textCursor().insertText(source.text()[:room])
        self.ensureCursorVisible()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        full = self.document().characterCount() - 1 >= self.limit
        if full and event.text() and not self.textCursor().hasSelection() and (
                event.text().isprintable() or event.text() in "\r\n"):
            return  # at the bound: typing adds nothing (deleting and moving still work)
        super().keyPressEvent(event)

    def _fit(self) -> None:
        """As tall as its wrapped lines (3 to 14 of them), so the answer can be read back."""
        layout = self.document().documentLayout()
        text_height = 0.0
        block = self.document().begin()
        while block.isValid():
            text_height += layout.blockBoundingRect(block).height()  # lays the block out
            block = block.next()
        spacing = self.fontMetrics().lineSpacing()
        lines = max(3, min(14, round(text_height / spacing) if spacing else 3))
        margins = self.contentsMargins().top() + self.contentsMargins().bottom()
        height = spacing * lines + margins + 2 * int(self.document().documentMargin()) + 4
        if height != self.height():
            self.setFixedHeight(height)

    @override
    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._fit()  # a new width wraps the lines differently


def _mark_focus(words: QLabel, focused: bool) -> None:
    """The words inside a wrapping button follow its focus (a stylesheet cannot select on an
    ancestor's :focus): dark on the yellow focus colour while it has the focus."""
    words.setProperty("focused", focused)
    words.style().unpolish(words)
    words.style().polish(words)


class WrappingLink(QPushButton):
    """A link-like button whose text wraps at the width it is given (a long error message
    put a sideways scroll bar on the page at any window size)."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(text)
        self.text_label = QLabel(text, self)
        self.text_label.setObjectName("linkText")
        self.text_label.setWordWrap(True)
        self.text_label.setTextFormat(Qt.TextFormat.PlainText)
        self.text_label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.text_label)
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    @override
    def text(self) -> str:
        """The link's words (drawn by the wrapping label, not by the button)."""
        return self.text_label.text()

    @override
    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        _mark_focus(self.text_label, True)

    @override
    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        _mark_focus(self.text_label, False)

    @override
    def sizeHint(self) -> QSize:
        layout = self.layout()
        return layout.totalSizeHint() if layout is not None else super().sizeHint()

    @override
    def minimumSizeHint(self) -> QSize:
        metrics = self.fontMetrics()
        return QSize(metrics.averageCharWidth() * 12, metrics.height() + 8)

    @override
    def hasHeightForWidth(self) -> bool:
        return True

    @override
    def heightForWidth(self, width: int) -> int:
        layout = self.layout()
        return layout.totalHeightForWidth(width) if layout is not None else -1


class WrapCheckBox(QCheckBox):
    """A tick box whose words wrap at the width it is given (a long choice put a sideways
    scroll bar on the page at large text sizes). ``text()`` is the words."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.words = QLabel(text, self)
        self.words.setObjectName("checkText")
        self.words.setWordWrap(True)
        self.words.setTextFormat(Qt.TextFormat.PlainText)
        self.words.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        layout = QHBoxLayout(self)
        indent = self.style().pixelMetric(self.style().PixelMetric.PM_IndicatorWidth, None, self)
        layout.setContentsMargins(indent + 14, 4, 4, 4)
        layout.addWidget(self.words)
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setAccessibleName(text)

    @override
    def text(self) -> str:
        return self.words.text()

    @override
    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        _mark_focus(self.words, True)

    @override
    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        _mark_focus(self.words, False)

    @override
    def hitButton(self, pos: QPoint) -> bool:
        return self.rect().contains(pos)  # the words toggle it too

    @override
    def sizeHint(self) -> QSize:
        layout = self.layout()
        return layout.totalSizeHint() if layout is not None else super().sizeHint()

    @override
    def minimumSizeHint(self) -> QSize:
        metrics = self.fontMetrics()
        return QSize(metrics.averageCharWidth() * 14, metrics.height() + 8)

    @override
    def hasHeightForWidth(self) -> bool:
        return True

    @override
    def heightForWidth(self, width: int) -> int:
        layout = self.layout()
        return layout.totalHeightForWidth(width) if layout is not None else -1


@dataclass
class FieldContext:
    """What an adapter may ask of the form: the live session and how to build sub-fields."""

    session: Callable[[], Session]
    build: Callable[[Question, str, str, QWidget], FieldAdapter]
    read_only: Callable[[], bool]


class FieldAdapter(QObject):
    """One question on screen: label, help beside it, inline error, and its input(s)."""

    changed = Signal(str, object)  # answer path, new value (None clears it)
    # A repeating group asks the editor to change its items: (path, action, index, to).
    items_requested = Signal(str, str, int, int)
    # A repeating group's item was opened: its adapters (list[FieldAdapter]) were built.
    adapters_added = Signal(object)
    # Whether `refresh` can change anything (computed values, choices from other answers):
    # after an edit only these are asked, so a keystroke costs what can change.
    dynamic = False

    def __init__(self, question: Question, path: str, section_id: str, ctx: FieldContext,
                 parent: QWidget) -> None:
        super().__init__(parent)
        self.question = question
        self.path = path
        self.section_id = section_id
        self.ctx = ctx
        # What a screen reader says for it: the label, with the item it belongs to when the
        # question repeats ("Outcome 2: By when"), so no two inputs share a name.
        self.spoken = self._spoken_label()
        self._loading = False
        self._shown_errors: list[str] = []
        self.widget = QFrame(parent)
        self.widget.setObjectName("question")
        self.widget.setProperty("questionType", question.type)
        self.widget.setProperty("error", False)
        grid = QGridLayout(self.widget)
        grid.setContentsMargins(10, 6, 6, 6)
        grid.setHorizontalSpacing(18)
        self.label = QLabel(self.label_text(), self.widget)
        self.label.setObjectName("questionLabel")
        self.label.setWordWrap(True)
        font = self.label.font()
        font.setBold(True)
        self.label.setFont(font)
        self.error_label = QLabel(self.widget)
        self.error_label.setObjectName("errorMessage")
        self.error_label.setWordWrap(True)
        self.error_label.setVisible(False)
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.body = QWidget(self.widget)
        self.body_layout = QVBoxLayout(self.body)
        self.body_layout.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.label, 0, 0)
        grid.addWidget(self.error_label, 1, 0)
        grid.addWidget(self.body, 2, 0)
        grid.setColumnStretch(0, 3)
        self.help_label: QLabel | None = None
        if question.help:
            self.help_label = QLabel(question.help, self.widget)
            self.help_label.setObjectName("questionHelp")
            self.help_label.setWordWrap(True)
            self.help_label.setTextFormat(Qt.TextFormat.PlainText)
            self.help_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
            grid.addWidget(self.help_label, 0, 1, 3, 1)
            grid.setColumnStretch(1, 2)
        self.build()
        self.label.setBuddy(self.primary())
        self._describe_all("")

    # -- what every adapter offers -------------------------------------------------------------

    def label_text(self) -> str:
        optional = not self.question.required and self.question.required_if is None
        shown = self.question.label
        if optional and self.question.type not in ("computed", "group"):
            shown += " (optional)"
        return shown

    def _spoken_label(self) -> str:
        items = re.findall(r"([a-z][a-z0-9_]*)\[(\d+)\]", self.path)
        if not items:
            return self.question.label
        name, index = items[-1]
        section = self.ctx.session().definition.sections_by_id.get(self.section_id)
        item_label = ""
        if section is not None:
            if name == section.id:
                item_label = section.item_label
            elif name in section.by_id:
                item_label = section.by_id[name].item_label
        return f"{item_label or 'Item'} {int(index) + 1}: {self.question.label}"

    def build(self) -> None:
        raise NotImplementedError

    def primary(self) -> QWidget:
        """The input the label names and focus goes to first."""
        raise NotImplementedError

    def inputs(self) -> list[QWidget]:
        """Every input, for accessible descriptions and read-only mode."""
        return [self.primary()]

    def get(self) -> Any:
        raise NotImplementedError

    def set(self, value: Any, container: dict[str, Any] | None = None) -> None:
        """Show a stored answer without reporting a change."""
        self._loading = True
        try:
            self.load(value, container or {})
        finally:
            self._loading = False

    def load(self, value: Any, container: dict[str, Any]) -> None:
        raise NotImplementedError

    def show_errors(self, problems: list[Problem]) -> None:
        """Inline errors: a message above the input, and the block marked (not by colour only)."""
        messages = list(dict.fromkeys(p.message for p in problems))
        if messages == self._shown_errors:
            return  # unchanged: no re-polish (showing errors costs what changed, not the page)
        self._shown_errors = messages
        self.widget.setProperty("error", bool(messages))
        self.widget.style().unpolish(self.widget)
        self.widget.style().polish(self.widget)
        if messages:
            self.error_label.setText("\n".join(f"Error: {m}" for m in messages))
        self.error_label.setVisible(bool(messages))
        self._describe_all(" ".join(f"Error: {m}" for m in messages))

    def focus(self, sub: str | None = None) -> QWidget:
        """Put the keyboard focus on the input for this answer (or a part of it)."""
        target = self.sub_widget(sub) or self.primary()
        target.setFocus(Qt.FocusReason.OtherFocusReason)
        return target

    def sub_widget(self, sub: str | None) -> QWidget | None:
        del sub
        return None

    def refresh(self, session: Session) -> None:
        """Called after every edit: computed values and choices that depend on other answers."""
        del session

    def set_read_only(self, read_only: bool) -> None:
        for widget in self.inputs():
            if isinstance(widget, QLineEdit | QPlainTextEdit):
                widget.setReadOnly(read_only)
            elif isinstance(widget, QRadioButton | QCheckBox | QComboBox):
                set_read_only_choice(widget, read_only)  # an answer: reachable and readable
            else:
                widget.setEnabled(not read_only)  # an action (Choose date…)

    def adapters(self) -> list[FieldAdapter]:
        """This adapter and any it contains (a group's items)."""
        return [self]

    def repath(self, old: str, new: str) -> None:
        """Its item moved (``provision[4]`` is now ``provision[3]``): path and names follow."""
        if not self.path.startswith(old):
            return
        self.path = new + self.path[len(old):]
        self.spoken = self._spoken_label()
        self._describe_all(" ".join(f"Error: {m}" for m in self._shown_errors))

    # -- helpers ---------------------------------------------------------------------------------

    def report(self, value: Any, path: str | None = None) -> None:
        if not self._loading:
            emit(self.changed, path or self.path, value)

    def _describe_all(self, error: str) -> None:
        help_text = self.question.help
        description = " ".join(part for part in (error, help_text) if part)
        for widget in self.inputs():
            name = widget.accessibleName() or self.spoken
            if widget is self.primary():
                name = self.spoken
            describe(widget, name, description)


# --- simple inputs -------------------------------------------------------------------------------


class TextAdapter(FieldAdapter):
    """``text`` and identifier questions: one line."""

    def build(self) -> None:
        self.edit = QLineEdit(self.body)
        limit = self.question.max_length
        self.edit.setMaxLength(int(limit) if limit else question_bound(self.question).chars)
        if self.question.type in IDENTIFIER_TYPES:
            width_in_characters(self.edit, 24)
        self.edit.textEdited.connect(self._edited)
        self.body_layout.addWidget(self.edit)

    def _edited(self, text: str) -> None:
        self.report(text if text.strip() else None)

    def primary(self) -> QWidget:
        return self.edit

    def get(self) -> Any:
        text = self.edit.text()
        return text if text.strip() else None

    def load(self, value: Any, container: dict[str, Any]) -> None:
        self.edit.setText("" if value is None else str(value))


class LongTextAdapter(FieldAdapter):
    """``long_text``: several lines, in the person's own words."""

    def build(self) -> None:
        self.edit = LongTextEdit(self.body, question_bound(self.question).chars)
        self.edit.textChanged.connect(self._edited)
        self.body_layout.addWidget(self.edit)

    def _edited(self) -> None:
        self.report(self.get())

    def primary(self) -> QWidget:
        return self.edit

    def get(self) -> Any:
        text = self.edit.toPlainText()
        return text if text.strip() else None

    def load(self, value: Any, container: dict[str, Any]) -> None:
        text = "" if value is None else str(value)
        if text != self.edit.toPlainText():
            self.edit.setPlainText(text)
            self.edit.moveCursor(QTextCursor.MoveOperation.End)  # carry on where they stopped


class NumberAdapter(FieldAdapter):
    """``integer`` and ``decimal``; what cannot be read as a number is kept as typed."""

    def build(self) -> None:
        self.edit = QLineEdit(self.body)
        width_in_characters(self.edit, 14)
        self.edit.setMaxLength(CODE_CHARS)
        self.edit.textEdited.connect(lambda _text: self.report(self.get()))
        self.body_layout.addWidget(self.edit)

    def primary(self) -> QWidget:
        return self.edit

    def get(self) -> Any:
        text = self.edit.text().strip().replace(",", "")
        if not text:
            return None
        try:
            number = int(text) if self.question.type == "integer" else float(text)
        except ValueError:
            return self.edit.text()
        if not math.isfinite(number) or abs(number) > MAX_NUMBER:
            return self.edit.text()  # kept as typed (1e400 is no number); the engine says so
        return number

    def load(self, value: Any, container: dict[str, Any]) -> None:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        self.edit.setText("" if value is None else str(value))


class DateInput(QWidget):
    """A date that accepts typing (27/03/2016, 2016-03-27, 27 March 2016) and a picker."""

    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        row = QHBoxLayout()
        column.addLayout(row)
        self.edit = QLineEdit(self)
        self.edit.setMaxLength(DATE_CHARS)
        self.edit.setPlaceholderText("DD/MM/YYYY")
        # Room for the whole placeholder and a typed date, however large the text (and again
        # after Larger text: it showed "DD/…" at the largest size).
        edit = self.edit

        def fit() -> None:
            metrics = edit.fontMetrics()
            edit.setMinimumWidth(metrics.horizontalAdvance("DD/MM/YYYY__") + 16)
            edit.setMaximumWidth(max(metrics.averageCharWidth() * 20, edit.minimumWidth()))

        follow_font(edit, fit)
        self.edit.textEdited.connect(lambda _text: emit(self.edited))
        self.button = QToolButton(self)
        self.button.setText("Choose date…")
        self.button.setToolTip("Choose the date from a calendar")
        self.button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.button.clicked.connect(self.open_picker)
        self.hint = QLabel(DATE_HINT, self)
        self.hint.setObjectName("hint")
        self.hint.setWordWrap(True)
        row.addWidget(self.edit)
        row.addWidget(self.button)
        row.addStretch(1)
        column.addWidget(self.hint)  # its own line: beside the box it needed sideways scrolling
        self.setFocusProxy(self.edit)
        self.menu: QMenu | None = None

    def value(self) -> Any:
        text = self.edit.text()
        if not text.strip():
            return None
        return parse_date_text(text) or text  # kept as typed; the engine says what is wrong

    def set_value(self, value: Any) -> None:
        self.edit.setText(show_date(value))

    def open_picker(self) -> None:
        calendar = QCalendarWidget()
        calendar.setGridVisible(True)
        current = parse_date_text(self.edit.text())
        if current:
            day = date.fromisoformat(current)
            calendar.setSelectedDate(QDate(day.year, day.month, day.day))
        menu = QMenu(self)
        action = QWidgetAction(menu)
        action.setDefaultWidget(calendar)
        menu.addAction(action)
        calendar.activated.connect(lambda chosen: self._picked(chosen, menu))
        calendar.clicked.connect(lambda chosen: self._picked(chosen, menu))
        describe(calendar, "Calendar", "Arrow keys move the day; Enter chooses it; Escape closes.")
        self.menu = menu
        menu.aboutToShow.connect(lambda: calendar.setFocus(Qt.FocusReason.PopupFocusReason))
        menu.popup(self.button.mapToGlobal(self.button.rect().bottomLeft()))
        calendar.setFocus(Qt.FocusReason.PopupFocusReason)

    def _picked(self, chosen: QDate, menu: QMenu) -> None:
        self.edit.setText(f"{chosen.day():02d}/{chosen.month():02d}/{chosen.year()}")
        menu.close()
        self.edit.setFocus(Qt.FocusReason.PopupFocusReason)
        emit(self.edited)


class DateAdapter(FieldAdapter):
    def build(self) -> None:
        self.date = DateInput(self.body)
        self.date.edited.connect(lambda: self.report(self.get()))
        self.body_layout.addWidget(self.date)

    def primary(self) -> QWidget:
        return self.date.edit

    def inputs(self) -> list[QWidget]:
        describe(self.date.button, f"Choose {self.spoken} from a calendar")
        return [self.date.edit, self.date.button]

    def get(self) -> Any:
        return self.date.value()

    def load(self, value: Any, container: dict[str, Any]) -> None:
        self.date.set_value(value)


class SearchableCombo(QComboBox):
    """A choice from a list: type to search (any part of a label), or open the list."""

    chosen = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.setMinimumContentsLength(18)
        completer = QCompleter(self.model(), self)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.setCompleter(completer)
        line = self.line()
        line.setPlaceholderText("Type to search, or open the list")
        line.textEdited.connect(self._typed)
        completer.activated.connect(self._completed)
        self.activated.connect(lambda _index: self._commit(self.currentIndex()))
        line.editingFinished.connect(self._settle)
        self.code: str | None = None

    def line(self) -> QLineEdit:
        line = self.lineEdit()
        assert line is not None  # the box is editable from construction
        return line

    def set_options(self, options: list[tuple[str, str]]) -> None:
        code = self.code
        self.blockSignals(True)
        self.clear()
        for value, label in options:
            self.addItem(label, value)
        self.blockSignals(False)
        self.set_code(code)

    def set_code(self, code: str | None) -> None:
        self.code = code
        index = self.findData(code) if code is not None else -1
        self.blockSignals(True)
        self.setCurrentIndex(index)
        if index < 0:
            self.line().setText("" if code is None else str(code))
        self.blockSignals(False)

    def _match(self, text: str, *, partial: bool) -> int:
        wanted = text.strip().casefold()
        if not wanted:
            return -1
        labels = [self.itemText(i).casefold() for i in range(self.count())]
        exact = [i for i, label in enumerate(labels) if label == wanted]
        if exact:
            return exact[0]
        if partial:
            found = [i for i, label in enumerate(labels) if wanted in label]
            if len(found) == 1:
                return found[0]
        return -1

    def _typed(self, text: str) -> None:
        if not text.strip():
            if self.code is not None:
                self.code = None
                emit(self.chosen)
            return
        index = self._match(text, partial=False)
        if index >= 0:
            self._commit(index, keep_text=True)

    def _completed(self, text: str) -> None:
        self._commit(self._match(text, partial=False))

    def _commit(self, index: int, *, keep_text: bool = False) -> None:
        if index < 0:
            return
        code = self.itemData(index)
        if not keep_text:
            self.blockSignals(True)
            self.setCurrentIndex(index)
            self.blockSignals(False)
        if code != self.code:
            self.code = code
            emit(self.chosen)

    def _settle(self) -> None:
        """On leaving the box: a unique partial match is chosen; anything else reverts."""
        text = self.line().text()
        if not text.strip():
            return
        index = self._match(text, partial=True)
        if index >= 0:
            self._commit(index)
        else:
            self.set_code(self.code)


class ChoiceAdapter(FieldAdapter):
    """``choice``: a searchable list, and a box to say more when the code asks for it."""

    def build(self) -> None:
        self.combo = SearchableCombo(self.body)
        self.combo.chosen.connect(self._chosen)
        self.body_layout.addWidget(self.combo, 0, Qt.AlignmentFlag.AlignLeft)
        self.other_label = QLabel("Please say what you mean", self.body)
        self.other = QLineEdit(self.body)
        self.other.setMaxLength(SHORT_CHARS)
        self.other_label.setBuddy(self.other)
        self.other.textEdited.connect(
            lambda text: self.report(text if text.strip() else None, self.path + OTHER_SUFFIX)
        )
        self.body_layout.addWidget(self.other_label)
        self.body_layout.addWidget(self.other)
        self.combo.set_options(self.options(self.ctx.session()))
        self._show_other()
        self.dynamic = self.question.choices_from is not None

    def _describe_all(self, error: str) -> None:
        describe(self.other, f"{self.spoken}: please say what you mean")
        super()._describe_all(error)

    def options(self, session: Session) -> list[tuple[str, str]]:
        section, question, sub = split_path(self.path)
        if sub is not None:
            return session.choices(section, question, sub)
        return session.choices(section, question)

    def _specify(self) -> bool:
        code_list = self.question.code_list
        if code_list is None or self.combo.code is None:
            return False
        codes = self.ctx.session().definition.code_lists[code_list].by_code
        item = codes.get(self.combo.code)
        return bool(item and item.specify)

    def _show_other(self) -> None:
        shown = self._specify()
        self.other_label.setVisible(shown)
        self.other.setVisible(shown)

    def _chosen(self) -> None:
        self._show_other()
        self.report(self.combo.code)

    def primary(self) -> QWidget:
        return self.combo

    def inputs(self) -> list[QWidget]:
        return [self.combo, self.other]

    def get(self) -> Any:
        return self.combo.code

    def load(self, value: Any, container: dict[str, Any]) -> None:
        self.combo.set_code(None if value is None else str(value))
        other = container.get(self.question.id + OTHER_SUFFIX)
        self.other.setText(other if isinstance(other, str) else "")
        self._show_other()

    def sub_widget(self, sub: str | None) -> QWidget | None:
        return self.other if sub == "other" else None

    def refresh(self, session: Session) -> None:
        if self.question.choices_from is not None:
            self.combo.set_options(self.options(session))

    def set_read_only(self, read_only: bool) -> None:
        set_read_only_choice(self.combo, read_only)
        self.other.setReadOnly(read_only)


class MultiChoiceAdapter(FieldAdapter):
    """``multi_choice``: one list with a tick per option, a search box for a long list, and a
    box to say more when a ticked code asks for it.

    The options are a code list's, or another section's items (a provision item's outcomes,
    named by number and first answer). Each is a row of one list widget (Space or a click on
    the box ticks it), not a check box widget per row: at the form's limits (60 outcomes, 200
    provision items) that is one widget per question instead of 12,000.
    """

    SEARCH_FROM = 9
    VISIBLE_ROWS = 8

    def build(self) -> None:
        self.search = QLineEdit(self.body)
        self.search.setPlaceholderText("Type to narrow the list")
        self.search.textChanged.connect(self._filter)
        self.body_layout.addWidget(self.search)
        self.list = QListWidget(self.body)
        self.list.setObjectName("choiceList")
        self.list.setWordWrap(True)  # a long option wraps: no sideways scrolling
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.itemChanged.connect(lambda _item: self._toggled())
        self.body_layout.addWidget(self.list)
        self.none_label = QLabel("Nothing to choose from yet.", self.body)
        self.body_layout.addWidget(self.none_label)
        self.other_label = QLabel("Please say what you mean", self.body)
        self.other = QLineEdit(self.body)
        self.other.setMaxLength(SHORT_CHARS)
        self.other_label.setBuddy(self.other)
        self.other.textEdited.connect(
            lambda text: self.report(text if text.strip() else None, self.path + OTHER_SUFFIX)
        )
        self.body_layout.addWidget(self.other_label)
        self.body_layout.addWidget(self.other)
        # Options from other answers change as they are typed: asked again after each edit.
        self.dynamic = self.question.choices_from is not None
        self._options: list[tuple[str, str]] | None = None
        self._set_options(self.options(self.ctx.session()))
        self._show_other()

    def options(self, session: Session) -> list[tuple[str, str]]:
        section, question, sub = split_path(self.path)
        if sub is not None:
            return session.choices(section, question, sub)
        return session.choices(section, question)

    def rows(self) -> dict[str, QListWidgetItem]:
        """The row of each code offered, in order."""
        found = {}
        for row in range(self.list.count()):
            item = self.list.item(row)
            found[str(item.data(Qt.ItemDataRole.UserRole))] = item
        return found

    def _set_options(self, options: list[tuple[str, str]]) -> None:
        if options == self._options:
            return
        chosen = self.get() or []
        self._options = options
        self.list.blockSignals(True)
        self.list.clear()
        for code, label in options:
            item = QListWidgetItem(label, self.list)
            item.setData(Qt.ItemDataRole.UserRole, code)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                          | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if code in chosen
                               else Qt.CheckState.Unchecked)
        self.list.blockSignals(False)
        rows = max(1, min(len(options), self.VISIBLE_ROWS))
        height = sum(max(self.list.sizeHintForRow(row), 1) for row in range(rows)) \
            if options else 1
        self.list.setFixedHeight(height + 2 * self.list.frameWidth() + 4)
        self.search.setVisible(len(options) >= self.SEARCH_FROM)
        self.list.setVisible(bool(options))
        self.none_label.setVisible(not options)

    def _filter(self, text: str) -> None:
        wanted = text.strip().casefold()
        for row in range(self.list.count()):
            item = self.list.item(row)
            item.setHidden(bool(wanted) and wanted not in item.text().casefold())

    def _specify(self) -> bool:
        code_list = self.question.code_list
        if code_list is None:
            return False
        codes = self.ctx.session().definition.code_lists[code_list].by_code
        return any(codes[c].specify for c in (self.get() or []) if c in codes)

    def _show_other(self) -> None:
        shown = self._specify()
        self.other_label.setVisible(shown)
        self.other.setVisible(shown)

    def _toggled(self) -> None:
        self._show_other()
        self.report(self.get())

    def primary(self) -> QWidget:
        return self.list

    def inputs(self) -> list[QWidget]:
        return [self.search, self.list, self.other] if hasattr(self, "other") else []

    def _describe_all(self, error: str) -> None:
        description = " ".join(part for part in (error, self.question.help) if part)
        describe(self.search, f"Search: {self.spoken}", description)
        describe(self.list, self.spoken, description)
        describe(self.other, f"{self.spoken}: please say what you mean", description)

    def get(self) -> Any:
        if not hasattr(self, "list"):
            return None
        chosen = [code for code, item in self.rows().items()
                  if item.checkState() == Qt.CheckState.Checked]
        return chosen or None

    def load(self, value: Any, container: dict[str, Any]) -> None:
        chosen = value if isinstance(value, list) else []
        self.list.blockSignals(True)
        for code, item in self.rows().items():
            item.setCheckState(Qt.CheckState.Checked if code in chosen
                               else Qt.CheckState.Unchecked)
        self.list.blockSignals(False)
        other = container.get(self.question.id + OTHER_SUFFIX)
        self.other.setText(other if isinstance(other, str) else "")
        self._show_other()

    def sub_widget(self, sub: str | None) -> QWidget | None:
        return self.other if sub == "other" else None

    def refresh(self, session: Session) -> None:
        if self.dynamic:
            self._set_options(self.options(session))

    def set_read_only(self, read_only: bool) -> None:
        set_read_only_choice(self.list, read_only)
        self.search.setReadOnly(read_only)
        self.other.setReadOnly(read_only)


class RadioRow(QWidget):
    """Exclusive options as radio buttons that can also show "nothing chosen yet"."""

    chosen = Signal()

    def __init__(self, options: list[tuple[Any, str]], name: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        if len(options) > 2 or any(len(label) > 12 for _value, label in options):
            # GOV.UK stacks radios unless there are two short ones (Yes, No): a row of long
            # ones needed sideways scrolling at large text sizes.
            row.setDirection(QHBoxLayout.Direction.TopToBottom)
        self.group = QButtonGroup(self)
        self.buttons: list[tuple[Any, QRadioButton]] = []
        for value, label in options:
            button = QRadioButton(label, self)
            describe(button, label, name)
            self.group.addButton(button)
            row.addWidget(button)
            self.buttons.append((value, button))
        row.addStretch(1)
        self.group.buttonToggled.connect(self._toggled)
        self.arrows = ArrowsSelect([button for _value, button in self.buttons], self)
        self.setFocusProxy(self.buttons[0][1])

    def _toggled(self, button: QAbstractButton, checked: bool) -> None:
        if checked:
            emit(self.chosen)

    def value(self) -> Any:
        for value, button in self.buttons:
            if button.isChecked():
                return value
        return None

    def set_value(self, value: Any) -> None:
        self.group.blockSignals(True)
        self.group.setExclusive(False)
        for option, button in self.buttons:
            button.setChecked(option == value and value is not None)
        self.group.setExclusive(True)
        self.group.blockSignals(False)

    def focus_target(self) -> QRadioButton:
        for _value, button in self.buttons:
            if button.isChecked():
                return button
        return self.buttons[0][1]


class YesNoAdapter(FieldAdapter):
    def build(self) -> None:
        self.radios = RadioRow([(True, "Yes"), (False, "No")], self.spoken, self.body)
        self.radios.chosen.connect(lambda: self.report(self.radios.value()))
        self.body_layout.addWidget(self.radios)

    def primary(self) -> QWidget:
        return self.radios.focus_target()

    def inputs(self) -> list[QWidget]:
        return [button for _value, button in self.radios.buttons]

    def _describe_all(self, error: str) -> None:
        description = " ".join(part for part in (error, self.question.help) if part)
        for _value, button in self.radios.buttons:
            describe(button, button.text(), f"{self.spoken}. {description}".strip(". "))

    def get(self) -> Any:
        return self.radios.value()

    def load(self, value: Any, container: dict[str, Any]) -> None:
        self.radios.set_value(value if isinstance(value, bool) else None)


class _PartsAdapter(FieldAdapter):
    """A question made of named parts (a person, an agreement): one small form."""

    PARTS: ClassVar[tuple[tuple[str, str, bool], ...]] = ()  # (key, label, required)

    def build(self) -> None:
        self.form = QGridLayout()
        self.form.setContentsMargins(0, 0, 0, 0)
        self.body_layout.addLayout(self.form)
        self.parts: dict[str, QWidget] = {}
        for row, (key, label, required) in enumerate(self.PARTS):
            caption = QLabel(label if required else f"{label} (optional)", self.body)
            widget = self.make_part(key)
            caption.setBuddy(widget)
            caption.setWordWrap(True)
            # Each part's label above its box, as GOV.UK does (beside it, the parts needed
            # sideways scrolling at large text sizes).
            self.form.addWidget(caption, 2 * row, 0, Qt.AlignmentFlag.AlignTop)
            self.form.addWidget(widget, 2 * row + 1, 0)
            self.parts[key] = widget
        self.form.setColumnStretch(0, 1)

    def make_part(self, key: str) -> QWidget:
        edit = QLineEdit(self.body)
        edit.setMaxLength(SHORT_CHARS)
        edit.textEdited.connect(lambda _text: self.report(self.get()))
        return edit

    def part_value(self, key: str) -> Any:
        widget = self.parts[key]
        if isinstance(widget, QLineEdit):
            return widget.text() if widget.text().strip() else None
        return None

    def set_part(self, key: str, value: Any) -> None:
        widget = self.parts[key]
        if isinstance(widget, QLineEdit):
            widget.setText("" if value is None else str(value))

    def primary(self) -> QWidget:
        return self.parts[self.PARTS[0][0]]

    def inputs(self) -> list[QWidget]:
        return list(self.parts.values())

    def _describe_all(self, error: str) -> None:
        description = " ".join(part for part in (error, self.question.help) if part)
        for key, label, _required in self.PARTS:
            describe(self.parts[key], f"{self.spoken}: {label}", description)

    def get(self) -> Any:
        value = {key: self.part_value(key) for key, _label, _req in self.PARTS}
        value = {key: part for key, part in value.items() if part is not None}
        return value or None

    def load(self, value: Any, container: dict[str, Any]) -> None:
        value = value if isinstance(value, dict) else {}
        for key, _label, _required in self.PARTS:
            self.set_part(key, value.get(key))

    def sub_widget(self, sub: str | None) -> QWidget | None:
        return self.parts.get(sub or "")


class PersonAdapter(_PartsAdapter):
    PARTS = (("name", "Name", True), ("role", "Role", True),
             ("organisation", "Organisation", False))


class AgreementAdapter(_PartsAdapter):
    PARTS = (("name", "Name", True), ("role", "Role", True), ("decision", "Decision", True),
             ("date", "Date signed", True), ("comments", "Comments or reasons", False))

    def make_part(self, key: str) -> QWidget:
        if key == "decision":
            radios = RadioRow(list(AGREEMENT_DECISIONS.items()), self.spoken, self.body)
            radios.chosen.connect(lambda: self.report(self.get()))
            return radios
        if key == "date":
            picker = DateInput(self.body)
            picker.edited.connect(lambda: self.report(self.get()))
            return picker
        if key == "comments":
            edit = LongTextEdit(self.body, GENERIC_CHARS)
            edit.textChanged.connect(lambda: self.report(self.get()))
            return edit
        return super().make_part(key)

    def part_value(self, key: str) -> Any:
        widget = self.parts[key]
        if isinstance(widget, RadioRow):
            return widget.value()
        if isinstance(widget, DateInput):
            return widget.value()
        if isinstance(widget, LongTextEdit):
            text = widget.toPlainText()
            return text if text.strip() else None
        return super().part_value(key)

    def set_part(self, key: str, value: Any) -> None:
        widget = self.parts[key]
        if isinstance(widget, RadioRow | DateInput):
            widget.set_value(value)
        elif isinstance(widget, LongTextEdit):
            if (value or "") != widget.toPlainText():
                widget.setPlainText("" if value is None else str(value))
        else:
            super().set_part(key, value)

    def inputs(self) -> list[QWidget]:
        found: list[QWidget] = []
        for widget in self.parts.values():
            if isinstance(widget, RadioRow):
                found.extend(button for _value, button in widget.buttons)
            elif isinstance(widget, DateInput):
                found.extend([widget.edit, widget.button])
            else:
                found.append(widget)
        return found

    def _describe_all(self, error: str) -> None:
        description = " ".join(part for part in (error, self.question.help) if part)
        for key, label, _required in self.PARTS:
            widget = self.parts[key]
            name = f"{self.spoken}: {label}"
            if isinstance(widget, RadioRow):
                for _value, button in widget.buttons:
                    describe(button, button.text(), f"{name}. {description}".strip(". "))
            elif isinstance(widget, DateInput):
                describe(widget.edit, name, description)
                describe(widget.button, f"Choose {name} from a calendar")
            else:
                describe(widget, name, description)

    def sub_widget(self, sub: str | None) -> QWidget | None:
        widget = self.parts.get(sub or "")
        if isinstance(widget, RadioRow):
            return widget.focus_target()
        if isinstance(widget, DateInput):
            return widget.edit
        return widget


class ComputedAdapter(FieldAdapter):
    """A value the form works out; shown, never typed. Focusable so it can be read aloud."""

    dynamic = True

    def build(self) -> None:
        self.value_label = QLabel("Not worked out yet", self.body)
        self.value_label.setObjectName("computedValue")
        self.value_label.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.value_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByKeyboard
                                                 | Qt.TextInteractionFlag.TextSelectableByMouse)
        self.body_layout.addWidget(self.value_label)

    def primary(self) -> QWidget:
        return self.value_label

    def get(self) -> Any:
        return None

    def load(self, value: Any, container: dict[str, Any]) -> None:
        del value, container

    def refresh(self, session: Session) -> None:
        section, question, _sub = split_path(self.path)
        value = session.values.get(f"{section}.{question}", MISSING)
        text = format_answer(session, section, self.question, value)
        shown = text or "Not worked out yet: it needs the answers it depends on"
        self.value_label.setText(shown)
        describe(self.value_label, self.spoken, shown)

    def set_read_only(self, read_only: bool) -> None:
        del read_only


# --- repeatable groups ------------------------------------------------------------------------

# A list of more items than this opens with each item as one line (its number, its first
# answer, what is left to fix) that opens the item when pressed: an item's questions are built
# when it is opened. At the form's limits (200 provision items) building every item's questions
# took seconds. A short list opens with all its items open (a section of three open provision
# items costs what the child's section does).
OPEN_UP_TO = 3
SUMMARY_CHARS = 60


def item_summary(questions: tuple[Question, ...], item: Any) -> str:
    """An item's first text answer, on one line and cut short (a closed item's line)."""
    if not isinstance(item, dict):
        return ""
    for question in questions:
        value = item.get(question.id)
        if question.type in TEXT_TYPES and isinstance(value, str) and value.strip():
            text = " ".join(value.split())
            return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1] + "…"
    return ""


class ItemCard(QFrame):
    """One item of a list: one line (a link that opens it) until opened, then its questions
    under its title, with Move up, Move down and Remove."""

    def __init__(self, owner: ItemList, index: int, *, opened: bool, summary: str = "") -> None:
        super().__init__(owner)
        self.owner = owner
        self.index = index
        self.summary = summary
        self.problem_count = 0
        self.setObjectName("itemCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setProperty("error", False)
        self.card_layout = QVBoxLayout(self)
        self.card_layout.setContentsMargins(4, 2, 4, 2)
        self.adapters: list[FieldAdapter] = []
        self.buttons: dict[str, QPushButton] = {}
        self.title: QLabel | None = None
        self.opener: QPushButton | None = None
        self.head: QHBoxLayout | None = None
        if opened:
            self._build()
        else:
            self._build_line()

    def _build_line(self) -> None:
        # One plain button per closed item (a wrapping one cost twice the widgets): its words
        # are kept short, and it may be narrower than them (no sideways scrolling); its
        # accessible name says it all.
        self.opener = QPushButton(self)
        self.opener.setObjectName("itemOpener")
        self.opener.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.opener.setAutoDefault(False)
        self.opener.setCursor(Qt.CursorShape.PointingHandCursor)
        self.opener.clicked.connect(lambda: self.open(focus=True))
        self.card_layout.addWidget(self.opener)
        self._name_opener()

    @property
    def path(self) -> str:
        """The item's answer path (``provision[3]``)."""
        return f"{self.owner.path}[{self.index}]"

    @property
    def name(self) -> str:
        return f"{self.owner.item_label} {self.index + 1}"

    @property
    def is_open(self) -> bool:
        return self.opener is None

    def _name_opener(self) -> None:
        if self.opener is None:
            return
        text = f"{self.name}: {self.summary}" if self.summary else self.name
        if self.problem_count:
            text += (" (1 answer to fix)" if self.problem_count == 1
                     else f" ({self.problem_count} answers to fix)")
        self.opener.setText(("▸ " + text).replace("&", "&&"))
        describe(self.opener, text, "Opens this item to read or change its answers.")

    def _build(self) -> None:
        read_only = self.owner.ctx.read_only()
        head = self.head = QHBoxLayout()
        self.title = QLabel(self.name, self)
        self.title.setObjectName("itemTitle")
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.title.setFont(font)
        head.addWidget(self.title)
        head.addStretch(1)
        for action, text in (("up", "Move up"), ("down", "Move down"), ("remove", "Remove")):
            button = QPushButton(text, self)
            button.setAutoDefault(False)
            button.setEnabled(not read_only)
            head.addWidget(button)
            self.buttons[action] = button
        self._name_buttons()
        owner = self.owner
        self.buttons["up"].clicked.connect(
            lambda: emit(owner.requested, owner.path, "move", self.index, self.index - 1))
        self.buttons["down"].clicked.connect(
            lambda: emit(owner.requested, owner.path, "move", self.index, self.index + 1))
        self.buttons["remove"].clicked.connect(
            lambda: emit(owner.requested, owner.path, "remove", self.index, self.index))
        self.card_layout.addLayout(head)
        for question in owner.questions:
            adapter = owner.ctx.build(question, f"{self.path}.{question.id}", owner.section_id,
                                      self)
            self.card_layout.addWidget(adapter.widget)
            self.adapters.append(adapter)

    def _name_buttons(self) -> None:
        for action, text in (("up", "Move up"), ("down", "Move down"), ("remove", "Remove")):
            describe(self.buttons[action], f"{text}: {self.name}")

    def open(self, *, focus: bool = False) -> list[FieldAdapter]:
        """Build the item's questions (once); the adapters built, nested ones included."""
        if self.opener is None:
            return []
        had_focus = self.opener.hasFocus()
        # Built and shown as the answers say while hidden: one layout pass, not one per field.
        self.hide()
        self.card_layout.removeWidget(self.opener)
        self.opener.setParent(None)
        self.opener.deleteLater()
        self.opener = None
        self.show_problem_count(0)
        self._build()
        self.owner.update_buttons()
        built = [each for adapter in self.adapters for each in adapter.adapters()]
        emit(self.owner.opened, built)  # the page loads them, shows them and their errors
        self.show()
        if focus or had_focus:
            target = next((a for a in self.adapters if not a.widget.isHidden()), None)
            (target.primary() if target is not None else self.buttons["remove"]).setFocus(
                Qt.FocusReason.OtherFocusReason)
        return built

    def collapse(self) -> None:
        """Back to one line (an item's answers are in the session, never only in widgets)."""
        if self.opener is not None or self.title is None or self.head is None:
            return
        self.hide()
        for adapter in self.adapters:
            adapter.widget.setParent(None)
            adapter.widget.deleteLater()
            adapter.deleteLater()
        for widget in (self.title, *self.buttons.values()):
            widget.setParent(None)
            widget.deleteLater()
        self.card_layout.removeItem(self.head)
        self.adapters, self.buttons, self.title, self.head = [], {}, None, None
        self.summary = item_summary(self.owner.questions,
                                    self.owner.ctx.session().answer(self.path))
        self._build_line()
        self.show()

    def renumber(self, index: int) -> None:
        """The item moved to ``index``: its title, names and answer paths follow."""
        old = self.path
        self.index = index
        if self.title is None:
            self._name_opener()
            return
        self.title.setText(self.name)
        self._name_buttons()
        for adapter in self.adapters:
            adapter.repath(old, self.path)

    def show_problem_count(self, count: int) -> None:
        """How many answers of a closed item are to fix (in words on its line, and a bar)."""
        if count == self.problem_count:
            return
        self.problem_count = count
        self.setProperty("error", bool(count))
        self.style().unpolish(self)
        self.style().polish(self)
        self._name_opener()


class ItemList(QWidget):
    """Items of a repeating section or group: each a card with Move up, Move down, Remove.

    Adding, removing or moving an item builds, deletes or renumbers only the cards concerned;
    a long list's items stay one line each until opened (``OPEN_UP_TO``).
    """

    requested = Signal(str, str, int, int)  # path, "add" | "remove" | "move", index, to
    opened = Signal(object)  # list[FieldAdapter]: an item's questions were built

    def __init__(self, path: str, item_label: str, questions: tuple[Question, ...], *,
                 section_id: str, ctx: FieldContext, count: int, max_items: int | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = path
        self.item_label = item_label
        self.questions = questions
        self.section_id = section_id
        self.ctx = ctx
        self.max_items = max_items
        self.cards: list[ItemCard] = []
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        opened = count <= OPEN_UP_TO
        session = ctx.session()
        for index in range(count):
            summary = "" if opened else item_summary(questions, session.answer(f"{path}[{index}]"))
            card = ItemCard(self, index, opened=opened, summary=summary)
            self._layout.addWidget(card)
            self.cards.append(card)
        self.empty = QLabel(f"No {item_label.lower()} added yet.", self)
        self._layout.addWidget(self.empty)
        self.empty.setVisible(not count)
        self.add_button = QPushButton(self)
        self.add_button.setObjectName("addItem")
        self.add_button.setAutoDefault(False)
        self.add_button.clicked.connect(
            lambda: emit(self.requested, self.path, "add", len(self.cards), 0))
        self._layout.addWidget(self.add_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.update_buttons()

    @property
    def adapters(self) -> list[FieldAdapter]:
        """The adapters of the open items, in order (a closed item has none yet)."""
        return [adapter for card in self.cards for adapter in card.adapters]

    @property
    def item_buttons(self) -> list[dict[str, QPushButton]]:
        """Each item's Move up, Move down and Remove (empty for a closed item)."""
        return [card.buttons for card in self.cards]

    def update_buttons(self) -> None:
        count = len(self.cards)
        read_only = self.ctx.read_only()
        self.add_button.setText(f"Add {'another' if count else 'a'} {self.item_label.lower()}")
        self.add_button.setEnabled(
            not read_only and (self.max_items is None or count < self.max_items))
        for card in self.cards:
            if card.buttons:
                card.buttons["up"].setEnabled(card.index > 0 and not read_only)
                card.buttons["down"].setEnabled(card.index < count - 1 and not read_only)

    def append_item(self) -> list[FieldAdapter]:
        """Add the card of a new last item, open (only that card is built); its adapters.

        In a long list the other items close to one line each: the page holds the item being
        worked on, not every item added so far (so building a long plan costs the same per
        item, however long it is).
        """
        self.empty.setVisible(False)
        if len(self.cards) >= OPEN_UP_TO:
            for other in self.cards:
                other.collapse()
        card = ItemCard(self, len(self.cards), opened=True)
        card.hide()  # shown once its fields are set: one layout pass
        self._layout.insertWidget(len(self.cards), card)
        self.cards.append(card)
        self.update_buttons()
        built = [each for adapter in card.adapters for each in adapter.adapters()]
        emit(self.opened, built)
        card.show()  # now, not at the next event loop turn: the focus goes into it
        return built

    def remove_item(self, index: int) -> None:
        """Delete one item's card; the cards after it are renumbered, not rebuilt."""
        card = self.cards.pop(index)
        self._layout.removeWidget(card)
        card.setParent(None)
        card.deleteLater()
        for later in self.cards[index:]:
            later.renumber(later.index - 1)
        self.empty.setVisible(not self.cards)
        self.update_buttons()

    def move_item(self, index: int, to: int) -> None:
        """Move one item's card; only the cards between the two places are renumbered."""
        card = self.cards.pop(index)
        self.cards.insert(to, card)
        self._layout.removeWidget(card)
        self._layout.insertWidget(to, card)
        for position in range(min(index, to), max(index, to) + 1):
            self.cards[position].renumber(position)
        self.update_buttons()


class GroupAdapter(FieldAdapter):
    """``group``: a repeatable group of questions inside a section."""

    def build(self) -> None:
        count = self.ctx.session().item_count(self.path)
        self.items = ItemList(self.path, self.question.item_label, self.question.questions,
                              section_id=self.section_id, ctx=self.ctx, count=count,
                              max_items=self.question.max_items, parent=self.body)
        self.items.requested.connect(self.items_requested)
        self.items.opened.connect(self.adapters_added)
        self.body_layout.addWidget(self.items)

    def primary(self) -> QWidget:
        return self.items.add_button

    def inputs(self) -> list[QWidget]:
        return [self.items.add_button]

    def _describe_all(self, error: str) -> None:
        description = " ".join(part for part in (error, self.question.help) if part)
        describe(self.items.add_button, self.items.add_button.text(),
                 f"{self.spoken}. {description}".strip(". "))

    def get(self) -> Any:
        return None

    def load(self, value: Any, container: dict[str, Any]) -> None:
        del value, container  # the items' own adapters hold the answers

    def adapters(self) -> list[FieldAdapter]:
        found: list[FieldAdapter] = [self]
        for adapter in self.items.adapters:
            found.extend(adapter.adapters())
        return found

    def repath(self, old: str, new: str) -> None:
        super().repath(old, new)
        self.items.path = self.path
        for card in self.items.cards:
            for adapter in card.adapters:
                adapter.repath(old, new)

    def set_read_only(self, read_only: bool) -> None:
        del read_only  # the buttons were built for the mode


# --- the registry ------------------------------------------------------------------------------

ADAPTERS: dict[str, type[FieldAdapter]] = {
    "text": TextAdapter,
    "long_text": LongTextAdapter,
    "integer": NumberAdapter,
    "decimal": NumberAdapter,
    "date": DateAdapter,
    "choice": ChoiceAdapter,
    "multi_choice": MultiChoiceAdapter,
    "yes_no": YesNoAdapter,
    "person": PersonAdapter,
    "agreement": AgreementAdapter,
    "group": GroupAdapter,
    "computed": ComputedAdapter,
    **{kind: TextAdapter for kind in IDENTIFIER_TYPES},
}


def adapter_for(question: Question) -> type[FieldAdapter]:
    """The adapter class for a question's type; plain text for a type this version lacks."""
    return ADAPTERS.get(question.type, TextAdapter)


def split_path(path: str) -> tuple[str, str, str | None]:
    """``section.q`` / ``section[i].q`` / ``section.group[j].sub`` → (section, q-or-group, sub)."""
    parsed = parse_answer_path(path)
    if parsed is None or parsed.question is None:
        raise ValueError(f"Not a question path: {path}")
    return parsed.section, parsed.question, parsed.field

