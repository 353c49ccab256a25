"""The `onesend` command as a process of its own, where the process is the point: the entry
points' exit statuses, the window's display check, and the self-test a build runs. (The rest of
the command is tested in-process: tests/desktop/test_cli.py; full tier, tests/conftest.py.)"""

from __future__ import annotations

from pathlib import Path

from tests.cli_runner import OnesendProcess

PASSWORD = "a long enough passphrase"


def test_python_dash_m_desktop_is_the_same_command(tmp_path: Path) -> None:
    result = OnesendProcess(tmp_path, PASSWORD, module=True)("--help", stdin="")
    assert result.returncode == 0
    for command in ("profile", "assessments", "forms", "self-test"):
        assert command in result.stdout


def test_window_without_a_display_says_so_in_one_sentence(tmp_path: Path) -> None:
    onesend = OnesendProcess(tmp_path, PASSWORD)
    result = onesend(stdin="", env=dict.fromkeys(("DISPLAY", "WAYLAND_DISPLAY",
                                                  "QT_QPA_PLATFORM")))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("onesend: No display is available")
    assert "Traceback" not in result.stderr


def test_self_test_prints_ok(tmp_path: Path) -> None:
    onesend = OnesendProcess(tmp_path, PASSWORD)
    result = onesend("self-test", stdin="")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "OK"
    assert not onesend.data_dir.exists()  # it works in a temporary folder of its own
