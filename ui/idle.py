"""Notices when nobody has touched the keyboard or mouse for a while (for the auto-lock).

An application-wide event filter only notes the time of the last user input (cheap: a clock
restart, no timer juggling per event); one single-shot timer wakes at the earliest moment the
idle time could be over and checks.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QElapsedTimer, QEvent, QObject, QTimer, Signal
from typing_extensions import override

from ui.tasks import emit

USER_INPUT = frozenset({
    QEvent.Type.KeyPress, QEvent.Type.KeyRelease, QEvent.Type.MouseButtonPress,
    QEvent.Type.MouseButtonRelease, QEvent.Type.MouseButtonDblClick, QEvent.Type.MouseMove,
    QEvent.Type.HoverMove, QEvent.Type.Wheel, QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate,
    QEvent.Type.InputMethod, QEvent.Type.TabletPress, QEvent.Type.TabletMove,
})


class IdleWatcher(QObject):
    """Emits `timed_out` once the user has been idle for the timeout, while started."""

    timed_out = Signal()

    def __init__(self, minutes: float = 5.0, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timeout_ms = self._ms(minutes)
        self._last_input = QElapsedTimer()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._check)
        self._running = False

    @staticmethod
    def _ms(minutes: float) -> int:
        return max(1, round(minutes * 60_000))

    @property
    def timeout_ms(self) -> int:
        return self._timeout_ms

    @property
    def running(self) -> bool:
        return self._running

    def set_minutes(self, minutes: float) -> None:
        self.set_timeout_ms(self._ms(minutes))

    def set_timeout_ms(self, timeout_ms: int) -> None:
        """The idle time in milliseconds (tests use a fraction of a second)."""
        self._timeout_ms = max(1, timeout_ms)
        if self._running:
            self._timer.start(self._remaining())

    def start(self) -> None:
        """Count idle time from now on."""
        app = QCoreApplication.instance()
        if app is not None and not self._running:
            app.installEventFilter(self)
        self._running = True
        self._last_input.start()
        self._timer.start(self._timeout_ms)

    def stop(self) -> None:
        app = QCoreApplication.instance()
        if app is not None and self._running:
            app.removeEventFilter(self)
        self._running = False
        self._timer.stop()

    def _remaining(self) -> int:
        return max(0, self._timeout_ms - int(self._last_input.elapsed()))

    def _check(self) -> None:
        if not self._running:
            return
        remaining = self._remaining()
        if remaining > 0:
            self._timer.start(remaining)
            return
        emit(self.timed_out)

    @override
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in USER_INPUT:
            self._last_input.restart()
        return False
