"""When the sync area checks the national service: the schedule, apart from the widget.

A health check is due every `check_interval_ms` while the server answers; while it does not,
the next one waits longer each time (exponential backoff with jitter, capped), so thousands of
computers coming back online do not all knock at once. Where Qt's network information backend
loads, a change of reachability makes a check due at once. `due` is emitted when a check
should run; the panel runs it and says how it went (`answered`, `not_answered`).
"""

from __future__ import annotations

import contextlib
import random
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from ui.tasks import emit


class SyncSchedule(QObject):
    """The timer of the health checks and its backoff."""

    due = Signal()

    def __init__(
        self, parent: QObject | None = None, *, check_interval_ms: int = 60_000,
        retry_base_ms: int = 5_000, retry_cap_ms: int = 300_000,
    ) -> None:
        super().__init__(parent)
        self.check_interval_ms = check_interval_ms
        self.retry_base_ms = retry_base_ms
        self.retry_cap_ms = retry_cap_ms
        self.failures = 0
        self.stopped = False
        self._rng = random.Random()  # noqa: S311 - jitter, not a secret
        self._network_info: Any = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._fire)

    @property
    def waiting(self) -> bool:
        """Whether a check is scheduled."""
        return self._timer.isActive()

    def now(self) -> None:
        """A check at once (the failures counted so far are forgotten)."""
        self.failures = 0
        if not self.stopped:
            self._timer.start(0)

    def answered(self) -> None:
        """The server answered: the next check after the usual interval."""
        self.failures = 0
        self.later()

    def later(self) -> None:
        """The next check after the usual interval (e.g. while a sync runs)."""
        if not self.stopped:
            self._timer.start(self.check_interval_ms)

    def not_answered(self) -> None:
        """The server did not answer: wait longer each time, with jitter, up to the cap."""
        if self.stopped:
            return
        self.failures += 1
        ceiling = min(self.retry_cap_ms, self.retry_base_ms * 2 ** min(self.failures - 1, 20))
        self._timer.start(int(ceiling * self._rng.uniform(0.5, 1.0)))

    def stop(self) -> None:
        """No more checks (on lock)."""
        self.stopped = True
        self._timer.stop()
        if self._network_info is not None:
            with contextlib.suppress(RuntimeError, TypeError):
                self._network_info.reachabilityChanged.disconnect(self._reachability_changed)
            self._network_info = None

    def watch_network(self) -> None:
        """A check as soon as the system says the network changed (where Qt can tell)."""
        if self.stopped:
            return
        try:
            from PySide6.QtNetwork import QNetworkInformation  # noqa: PLC0415 - optional

            feature = QNetworkInformation.Feature.Reachability
            if not QNetworkInformation.loadBackendByFeatures(feature):
                return
            info: Any = QNetworkInformation.instance()  # None if no backend, whatever stubs say
        except (ImportError, RuntimeError, AttributeError):
            return
        if info is None:
            return
        info.reachabilityChanged.connect(self._reachability_changed)
        self._network_info = info

    def _reachability_changed(self, _reachability: object) -> None:
        self.now()

    def _fire(self) -> None:
        if not self.stopped:
            emit(self.due)
