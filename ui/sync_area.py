"""The sync area of an unlocked session: the sync panel in a dock at the bottom of the window.

Made after the workspace is shown (so unlocking paints the list first), shown and hidden by
View → Sync, and shut down on lock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QMainWindow

if TYPE_CHECKING:
    from sync.http import ApiSettings
    from ui.sync_panel import SyncPanel
    from ui.workspace import Workspace


class SyncArea(QObject):
    """The dock and its panel, for one session at a time; `action` shows and hides it."""

    def __init__(self, window: QMainWindow, action: QAction) -> None:
        super().__init__(window)
        self.window = window
        self.action = action
        self.panel: SyncPanel | None = None
        self.dock: QDockWidget | None = None
        self.closing = False
        action.setEnabled(False)  # until a session's area is made
        action.toggled.connect(self.show)

    def show(self, shown: bool) -> None:
        if self.dock is not None:
            self.dock.setVisible(shown)
            if shown:  # the list keeps most of the window
                self.window.resizeDocks([self.dock], [int(self.window.height() * 0.42)],
                                        Qt.Orientation.Vertical)
            if shown and self.panel is not None:
                self.panel.refresh()
                self.panel.setFocus(Qt.FocusReason.OtherFocusReason)

    def start(self, workspace: Workspace, settings: ApiSettings | None) -> None:
        """The sync area of this session: it checks for the server and sends on its own."""
        from ui.sync_panel import SyncPanel  # noqa: PLC0415 - after unlock, like the rest

        dock = QDockWidget("Sync with the national service", self.window)
        dock.setObjectName("syncDock")
        dock.setAccessibleName("Sync with the national service")
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetClosable)
        dock.setVisible(False)
        # Made inside its dock, so it is not re-parented (and its style worked out) twice.
        panel = SyncPanel(workspace.tasks, dock, settings=settings, use_network_information=False)
        panel.may_migrate_drafts = lambda: workspace.editor is None
        panel.changed.connect(workspace.refresh)
        workspace.changed_elsewhere.connect(panel.refresh)
        workspace.editor_opened.connect(
            lambda editor: editor.finalised.connect(lambda _doc=None: panel.refresh()))
        dock.setWidget(panel)
        dock.visibilityChanged.connect(self._visibility)
        self.window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        dock.setVisible(self.action.isChecked())
        self.panel, self.dock = panel, dock
        self.action.setEnabled(True)
        # Loading the network-information backend takes a while: a step of its own.
        from ui.workspace import after_frame  # noqa: PLC0415 - imported with the session

        after_frame(panel.schedule, panel.schedule.watch_network)

    def _visibility(self, visible: bool) -> None:
        if self.dock is not None and not self.closing:
            self.action.blockSignals(True)
            self.action.setChecked(visible)
            self.action.blockSignals(False)

    def stop(self) -> None:
        self.action.setEnabled(False)
        panel, self.panel = self.panel, None
        dock, self.dock = self.dock, None
        if panel is not None:
            panel.shutdown()
        if dock is not None:
            dock.visibilityChanged.disconnect(self._visibility)
            self.window.removeDockWidget(dock)
            dock.deleteLater()
