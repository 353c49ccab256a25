"""Whether Qt can show a window here, decided from the environment alone (no Qt import).

The CLI asks before it touches Qt, so a headless machine gets one clear sentence instead of
Qt's abort ("could not connect to display") and a core dump.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

NO_DISPLAY = (
    "No display is available: run OneSEND from a desktop session, "
    "or set QT_QPA_PLATFORM=offscreen for a headless check."
)

# Platform plugins that draw without a windowing system (into memory, a framebuffer or VNC).
_HEADLESS_PLATFORMS = frozenset(
    {"offscreen", "minimal", "minimalegl", "vnc", "linuxfb", "eglfs", "vkkhrdisplay"}
)


def _platforms(value: str) -> list[str]:
    """`xcb;wayland` names fallbacks; `offscreen:fontengine=freetype` carries options."""
    return [part.split(":", 1)[0].strip().lower() for part in value.split(";") if part.strip()]


def _platform_usable(name: str, environ: Mapping[str, str]) -> bool:
    if name == "xcb":
        return bool(environ.get("DISPLAY"))
    if name.startswith("wayland"):
        return bool(environ.get("WAYLAND_DISPLAY"))
    # Headless plugins always work; any other name is Qt's to judge (windows, cocoa, ...).
    return True


def display_problem(
    *, environ: Mapping[str, str] | None = None, platform: str | None = None
) -> str | None:
    """None when Qt can show a window here; otherwise one sentence saying what to do.

    `environ` and `platform` default to `os.environ` and `sys.platform`; tests pass their own.
    """
    env = os.environ if environ is None else environ
    system = sys.platform if platform is None else platform
    requested = _platforms(env.get("QT_QPA_PLATFORM", ""))
    if requested:
        if any(name in _HEADLESS_PLATFORMS for name in requested):
            return None
        return None if any(_platform_usable(name, env) for name in requested) else NO_DISPLAY
    if system.startswith(("win32", "cygwin", "darwin")):
        return None
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return None
    return NO_DISPLAY
