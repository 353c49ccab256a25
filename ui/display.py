"""Whether Qt can show a window here, decided from the environment alone (no Qt import).

The CLI asks before it touches Qt, so a headless machine gets one clear sentence instead of
Qt's abort ("could not connect to display") and a core dump. The one thing read beyond the
environment is whether the X server that DISPLAY names answers on its socket: a DISPLAY left
over from a closed session made Qt abort just the same.
"""

from __future__ import annotations

import os
import re
import socket
import sys
from collections.abc import Callable, Mapping

NO_DISPLAY = (
    "No display is available: run OneSEND from a desktop session, "
    "or set QT_QPA_PLATFORM=offscreen for a headless check."
)

X_NOT_ANSWERING = (
    "The display {display} named by DISPLAY does not answer: run OneSEND from a desktop "
    "session, or set QT_QPA_PLATFORM=offscreen for a headless check."
)

# Platform plugins that draw without a windowing system (into memory, a framebuffer or VNC).
_HEADLESS_PLATFORMS = frozenset(
    {"offscreen", "minimal", "minimalegl", "vnc", "linuxfb", "eglfs", "vkkhrdisplay"}
)


def _platforms(value: str) -> list[str]:
    """`xcb;wayland` names fallbacks; `offscreen:fontengine=freetype` carries options."""
    return [part.split(":", 1)[0].strip().lower() for part in value.split(";") if part.strip()]


_X_DISPLAY = re.compile(r"(?P<host>[^:]*):(?P<number>\d+)(?:\.\d+)?")


def x_server_answers(display: str, timeout: float = 1.0) -> bool:
    """Whether an X server accepts a connection for `display` (":0", "unix:0", "host:0.0"):
    its local socket (named or abstract) or TCP port 6000 + the display number."""
    found = _X_DISPLAY.fullmatch(display.strip())
    if found is None:
        return True  # a form we do not read (e.g. a launchd path on macOS): Qt's to judge
    host, number = found["host"], int(found["number"])
    if host in ("", "unix"):
        path = f"/tmp/.X11-unix/X{number}"  # noqa: S108 - the X socket, only connected to
        for address in (path, "\0" + path):  # the file, then Linux's abstract namespace
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                conn.settimeout(timeout)
                try:
                    conn.connect(address)
                except OSError:
                    continue
                return True
        return False
    try:
        socket.create_connection((host, 6000 + number), timeout=timeout).close()
    except OSError:
        return False
    return True


XProbe = Callable[[str], bool]


def _platform_usable(name: str, environ: Mapping[str, str], x_server: XProbe) -> bool:
    if name == "xcb":
        return bool(environ.get("DISPLAY")) and x_server(environ["DISPLAY"])
    if name.startswith("wayland"):
        return bool(environ.get("WAYLAND_DISPLAY"))
    # Headless plugins always work; any other name is Qt's to judge (windows, cocoa, ...).
    return True


def display_problem(
    *, environ: Mapping[str, str] | None = None, platform: str | None = None,
    x_server: XProbe = x_server_answers,
) -> str | None:
    """None when Qt can show a window here; otherwise one sentence saying what to do.

    `environ` and `platform` default to `os.environ` and `sys.platform`, `x_server` to a real
    connection to the X server; tests pass their own.
    """
    env = os.environ if environ is None else environ
    system = sys.platform if platform is None else platform
    requested = _platforms(env.get("QT_QPA_PLATFORM", ""))
    if requested:
        if any(name in _HEADLESS_PLATFORMS for name in requested):
            return None
        if any(_platform_usable(name, env, x_server) for name in requested):
            return None
        return _no_display(env) if "xcb" in requested else NO_DISPLAY
    if system.startswith(("win32", "cygwin", "darwin")):
        return None
    if env.get("WAYLAND_DISPLAY"):
        return None
    if env.get("DISPLAY") and x_server(env["DISPLAY"]):
        return None
    return _no_display(env)


def _no_display(env: Mapping[str, str]) -> str:
    display = env.get("DISPLAY", "")
    return X_NOT_ANSWERING.format(display=display) if display else NO_DISPLAY
