"""One window per profile: a second window (another process, or this one) is refused in a
sentence, and the lock goes with its holder (locking, closing, or being killed)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from pytestqt.qtbot import QtBot

from desktop.profiles import Profiles
from tests.ui_shell.conftest import PASSWORD, MakeWindow, Unlock

REPO = Path(__file__).parents[2]
IN_USE = ("Error: The profile 'alex' is already open in another OneSEND window: use that "
          "window, or close it first.")

OTHER_WINDOW = r"""
import sys, time
from pathlib import Path
from desktop.crypto import FAST_KDF
from desktop.owner import unlock_as_owner
from desktop.profiles import Profiles

vault = unlock_as_owner(Profiles(Path(sys.argv[1]), kdf=FAST_KDF), "alex", sys.argv[2])
sys.stdout.write("ready\n"); sys.stdout.flush()
time.sleep(600)
"""


def _try_unlock(qtbot: QtBot, window: object) -> None:
    page = window.unlock_page  # type: ignore[attr-defined]
    page.password_edit.clear()
    qtbot.keyClicks(page.password_edit, PASSWORD)
    page.submit()
    qtbot.waitUntil(lambda: not page.busy.active, timeout=10_000)


def test_a_window_in_another_process_keeps_the_profile_until_it_is_killed(
    qtbot: QtBot, make_window: MakeWindow, profiles: Profiles,
    make_profile: Callable[[str], None], tmp_path: Path,
) -> None:
    make_profile("alex")
    script = tmp_path / "other_window.py"
    script.write_text(OTHER_WINDOW)
    other = subprocess.Popen([sys.executable, str(script), str(profiles.data_dir), PASSWORD],
                             stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert other.stdout is not None
        assert other.stdout.readline() == "ready\n"
        window = make_window()
        _try_unlock(qtbot, window)
        assert window.workspace is None
        assert window.unlock_page.message.text() == IN_USE
    finally:
        os.kill(other.pid, signal.SIGKILL)
        other.wait(timeout=30)
        if other.stdout is not None:
            other.stdout.close()
    # The operating system dropped the killed window's lock: nothing stale is left behind.
    _try_unlock(qtbot, window)
    assert window.workspace is not None


def test_a_second_window_in_this_process_is_refused_until_the_first_locks(
    qtbot: QtBot, make_window: MakeWindow, make_profile: Callable[[str], None],
    unlock: Unlock,
) -> None:
    make_profile("alex")
    first, second = make_window(), make_window()
    unlock(first)
    _try_unlock(qtbot, second)
    assert second.workspace is None
    assert second.unlock_page.message.text() == IN_USE
    first.lock()
    _try_unlock(qtbot, second)
    assert second.workspace is not None
    _try_unlock(qtbot, first)
    assert first.workspace is None
    assert first.unlock_page.message.text() == IN_USE
