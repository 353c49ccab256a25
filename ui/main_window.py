"""The OneSEND main window: for now a welcome page naming the profiles on this computer.

The unlock and create-profile screens replace the welcome page in a later issue; the window
keeps a stack of pages so they slot in without reshaping it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QAction, QFont, QFontDatabase, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractScrollArea,
    QFrame,
    QLabel,
    QListWidget,
    QMainWindow,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)
from typing_extensions import override  # typing.override arrives in Python 3.12

WINDOW_TITLE = "OneSEND"
CREATE_PROFILE_COMMAND = "onesend profile create NAME --password-stdin"

INTRO = (
    "OneSEND is the national assessment of special educational needs and disability (SEND) "
    "for England. Fill it in with the child or young person and their family, with or without "
    "a network. Everything stays on this computer, encrypted, and finished assessments go to "
    "the national service the next time this computer is online."
)
EMPTY_STATE = (
    "There are no profiles on this computer yet. Each person who uses OneSEND here has their "
    "own profile, protected by their own password. To create one, run this command in a "
    "terminal:"
)
PROFILES_HINT = (
    "Opening a profile in this window comes in a later version. Until then, the onesend "
    "command works with these profiles: run onesend --help to see what it can do."
)

# The readable measure of a paragraph, in average character widths of the system font.
_COLUMN_CHARACTERS = 90
# Rows the profile list shows before it scrolls.
_VISIBLE_PROFILES = 8


def _scaled_font(base: QFont, factor: float, *, bold: bool) -> QFont:
    """A font derived from `base` (the system font), so headings grow with the user's setting."""
    font = QFont(base)
    if font.pointSizeF() > 0:
        font.setPointSizeF(font.pointSizeF() * factor)
    elif font.pixelSize() > 0:
        font.setPixelSize(round(font.pixelSize() * factor))
    font.setBold(bold)
    return font


def _paragraph(text: str, name: str) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setAccessibleName(name)
    label.setAccessibleDescription(text)
    return label


class WelcomePage(QWidget):
    """Says what OneSEND is for and which profiles exist, or how to create the first one."""

    def __init__(
        self,
        profile_names: Sequence[str],
        data_dir: Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("welcomePage")
        self.setAccessibleName("Welcome to OneSEND")

        self.heading = QLabel(WINDOW_TITLE)
        self.heading.setObjectName("welcomeHeading")
        self.heading.setAccessibleName("OneSEND")
        self.heading.setTextFormat(Qt.TextFormat.PlainText)
        self.intro = _paragraph(INTRO, "What OneSEND is for")
        self.intro.setObjectName("intro")

        self.profiles_heading = QLabel("Profiles on this computer")
        self.profiles_heading.setObjectName("sectionHeading")
        self.profiles_heading.setTextFormat(Qt.TextFormat.PlainText)

        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        layout.addWidget(self.heading)
        layout.addWidget(self.intro)
        layout.addSpacing(self.fontMetrics().height())
        layout.addWidget(self.profiles_heading)

        # Exactly one of these exists: the list of profiles, or the empty state.
        self.profile_list: QListWidget | None = None
        self.empty_state: QLabel | None = None
        self.create_command: QLabel | None = None
        self.hint: QLabel | None = None
        if profile_names:
            self.profile_list = QListWidget()
            self.profile_list.setObjectName("profileList")
            self.profile_list.setAccessibleName("Profiles on this computer")
            self.profile_list.setAccessibleDescription(
                f"{len(profile_names)} profile{'s' if len(profile_names) != 1 else ''}"
            )
            self.profile_list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
            self.profile_list.addItems(list(profile_names))
            self.profile_list.setSizeAdjustPolicy(
                QAbstractScrollArea.SizeAdjustPolicy.AdjustToContents
            )
            self.profiles_heading.setBuddy(self.profile_list)
            layout.addWidget(self.profile_list)
            self.hint = _paragraph(PROFILES_HINT, "Opening a profile")
            layout.addWidget(self.hint)
        else:
            self.empty_state = _paragraph(EMPTY_STATE, "No profiles yet")
            self.empty_state.setObjectName("emptyState")
            self.create_command = QLabel(CREATE_PROFILE_COMMAND)
            self.create_command.setObjectName("commandHint")
            self.create_command.setTextFormat(Qt.TextFormat.PlainText)
            self.create_command.setAccessibleName("Command that creates a profile")
            self.create_command.setAccessibleDescription(CREATE_PROFILE_COMMAND)
            self.create_command.setTextInteractionFlags(
                Qt.TextInteractionFlag.TextSelectableByMouse
                | Qt.TextInteractionFlag.TextSelectableByKeyboard
            )
            self.create_command.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            layout.addWidget(self.empty_state)
            layout.addWidget(self.create_command)

        self.data_folder: QLabel | None = None
        if data_dir is not None:
            self.data_folder = _paragraph(
                f"Profiles are kept in {data_dir}", "Where profiles are kept"
            )
            self.data_folder.setObjectName("dataFolder")
            self.data_folder.setTextInteractionFlags(
                Qt.TextInteractionFlag.TextSelectableByMouse
            )
            layout.addSpacing(self.fontMetrics().height())
            layout.addWidget(self.data_folder)
        layout.addStretch(1)
        self._apply_fonts()

    def _apply_fonts(self) -> None:
        # Derived from the page's inherited (system) font each time, so a change is followed.
        base = QFont(self.font())
        self.heading.setFont(_scaled_font(base, 1.6, bold=True))
        self.profiles_heading.setFont(_scaled_font(base, 1.15, bold=True))
        if self.create_command is not None:
            fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
            if base.pointSizeF() > 0:
                fixed.setPointSizeF(base.pointSizeF())
            self.create_command.setFont(fixed)
        self.setMaximumWidth(self.fontMetrics().averageCharWidth() * _COLUMN_CHARACTERS)
        if self.profile_list is not None:
            # As tall as its rows (up to a few), so two profiles don't sit in a tall empty box.
            rows = min(self.profile_list.count(), _VISIBLE_PROFILES)
            row_height = self.profile_list.sizeHintForRow(0)
            frame = 2 * self.profile_list.frameWidth() + 12
            self.profile_list.setMaximumHeight(rows * row_height + frame)

    @override
    def changeEvent(self, event: QEvent) -> None:
        # The page's own font is never set, so a change means the system font changed.
        if event.type() == QEvent.Type.FontChange:
            self._apply_fonts()
        super().changeEvent(event)


class MainWindow(QMainWindow):
    """The one OneSEND window: a menu bar and a stack of pages (only the welcome page so far)."""

    def __init__(
        self,
        profile_names: Sequence[str],
        data_dir: Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(WINDOW_TITLE)
        self.setAccessibleName(WINDOW_TITLE)

        self.welcome_page = WelcomePage(profile_names, data_dir)
        # Centre the readable column; scroll rather than clip when the text is large.
        column = QWidget()
        column.setObjectName("welcomeColumn")
        column_layout = QVBoxLayout(column)
        column_layout.setContentsMargins(24, 24, 24, 24)
        column_layout.addWidget(self.welcome_page, 0, Qt.AlignmentFlag.AlignHCenter)
        scroll = QScrollArea()
        scroll.setObjectName("welcomeScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(column)

        self.pages = QStackedWidget()
        self.pages.setObjectName("pages")
        self.pages.addWidget(scroll)
        self.setCentralWidget(self.pages)

        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence(Qt.Modifier.CTRL | Qt.Key.Key_Q))
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.quit_action.setStatusTip("Close OneSEND")
        self.quit_action.triggered.connect(self.close)
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.quit_action)
        self.addAction(self.quit_action)

        self.resize(self._comfortable_size())

    def _comfortable_size(self) -> QSize:
        """Room for the readable column and a page of text, within the screen."""
        metrics = self.fontMetrics()
        wanted = QSize(
            metrics.averageCharWidth() * (_COLUMN_CHARACTERS + 16), metrics.height() * 36
        )
        return wanted.boundedTo(self.screen().availableSize() * 0.9)
