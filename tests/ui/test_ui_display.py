"""display_problem(): whether the window can open here, judged from the environment alone."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from ui.display import NO_DISPLAY, X_NOT_ANSWERING, display_problem, x_server_answers


def ANSWERS(_display: str) -> bool:  # noqa: N802 - a constant-like probe
    return True


@pytest.mark.parametrize(
    "platform_plugin",
    ["offscreen", "minimal", "vnc", "offscreen:fontengine=freetype", "xcb;offscreen"],
)
def test_headless_platform_plugins_need_no_display(platform_plugin: str) -> None:
    environ = {"QT_QPA_PLATFORM": platform_plugin}
    assert display_problem(environ=environ, platform="linux", x_server=ANSWERS) is None


@pytest.mark.parametrize(
    "environ",
    [
        {"DISPLAY": ":0"},
        {"WAYLAND_DISPLAY": "wayland-0"},
        {"DISPLAY": ":1", "WAYLAND_DISPLAY": "wayland-1"},
    ],
)
def test_a_linux_desktop_session_can_show_the_window(environ: dict[str, str]) -> None:
    assert display_problem(environ=environ, platform="linux", x_server=ANSWERS) is None


@pytest.mark.parametrize("environ", [{}, {"DISPLAY": ""}, {"WAYLAND_DISPLAY": ""}])
def test_linux_without_a_display_says_what_to_do_in_one_sentence(
    environ: dict[str, str],
) -> None:
    problem = display_problem(environ=environ, platform="linux", x_server=ANSWERS)
    assert problem == NO_DISPLAY
    assert "\n" not in problem
    assert problem.endswith(".")
    assert problem.count(". ") == 0  # one sentence
    assert "QT_QPA_PLATFORM=offscreen" in problem


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_windows_and_macos_always_have_a_display(platform: str) -> None:
    assert display_problem(environ={}, platform=platform) is None


def test_asking_for_xcb_needs_an_x_display() -> None:
    assert display_problem(environ={"QT_QPA_PLATFORM": "xcb"}, platform="linux",
                           x_server=ANSWERS) == NO_DISPLAY
    environ = {"QT_QPA_PLATFORM": "xcb", "DISPLAY": ":0"}
    assert display_problem(environ=environ, platform="linux", x_server=ANSWERS) is None


def test_asking_for_wayland_needs_a_wayland_display() -> None:
    environ = {"QT_QPA_PLATFORM": "wayland", "DISPLAY": ":0"}
    assert display_problem(environ=environ, platform="linux", x_server=ANSWERS) == NO_DISPLAY
    environ = {"QT_QPA_PLATFORM": "wayland;xcb", "DISPLAY": ":0"}
    assert display_problem(environ=environ, platform="linux", x_server=ANSWERS) is None


def test_reads_the_real_environment_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert display_problem() == NO_DISPLAY
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert display_problem() is None
    monkeypatch.delenv("QT_QPA_PLATFORM")
    monkeypatch.setenv("DISPLAY", "127.0.0.1:1")  # port 6001: nothing listens in the tests
    assert display_problem() == X_NOT_ANSWERING.format(display="127.0.0.1:1")


def test_a_display_whose_x_server_is_gone_gets_one_sentence_not_a_qt_abort() -> None:
    # A real listening socket stands for an X server on TCP display 127.0.0.1:N.
    with socket.socket() as server:
        for number in range(60, 200):
            try:
                server.bind(("127.0.0.1", 6000 + number))
            except OSError:
                continue
            break
        server.listen()
        display = f"127.0.0.1:{number}"
        assert x_server_answers(display)
        assert display_problem(environ={"DISPLAY": display}, platform="linux") is None
    # The same display once nothing listens: one sentence naming it.
    problem = display_problem(environ={"DISPLAY": display}, platform="linux")
    assert problem == X_NOT_ANSWERING.format(display=display)
    assert problem.count(". ") == 0
    assert "\n" not in problem
    # A local display number with no socket at all.
    assert not x_server_answers(":987")
    assert display_problem(environ={"QT_QPA_PLATFORM": "xcb", "DISPLAY": ":987"},
                           platform="linux") == X_NOT_ANSWERING.format(display=":987")


def test_importing_it_loads_no_qt() -> None:
    """The CLI asks before touching Qt, so a headless command never loads it."""
    code = (
        "import sys, ui.display\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('PySide6'))\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
