"""The packaged executable (`make dist`), run as a user or an installer would run it.

Skipped when no bundle has been built, unless ONESEND_REQUIRE_BUNDLE=1 (as `.ci/run` sets),
where a missing bundle is a failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop import __version__

ROOT = Path(__file__).resolve().parent.parent
BUNDLE_DIR = ROOT / "dist" / "onesend"
EXECUTABLE = BUNDLE_DIR / ("onesend.exe" if sys.platform == "win32" else "onesend")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bundle() -> Path:
    if not EXECUTABLE.is_file():
        message = f"no bundle at {EXECUTABLE.relative_to(ROOT)}: run `make dist` first"
        if os.environ.get("ONESEND_REQUIRE_BUNDLE") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return EXECUTABLE


def run(
    executable: Path, tmp_path: Path, *args: str, **env_changes: str | None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "ONESEND_DATA_DIR": str(tmp_path / "data"),
        "HOME": str(tmp_path / "home"),
    }
    for name, value in env_changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run(
        [str(executable), *args], check=False, env=env, cwd=tmp_path, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=120,
    )


def test_self_test_prints_ok(bundle: Path, tmp_path: Path) -> None:
    result = run(bundle, tmp_path, "self-test")

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["OK"]
    assert "Traceback" not in result.stderr
    # The self-test works in a folder of its own; the data folder is left alone.
    assert not (tmp_path / "data").exists()


def test_version(bundle: Path, tmp_path: Path) -> None:
    result = run(bundle, tmp_path, "--version")

    assert result.returncode == 0, result.stderr
    assert __version__ in result.stdout


def test_help_lists_the_commands(bundle: Path, tmp_path: Path) -> None:
    result = run(bundle, tmp_path, "--help")

    assert result.returncode == 0, result.stderr
    assert "usage: onesend" in result.stdout
    for command in ("profile", "assessments", "self-test"):
        assert command in result.stdout


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a display is a Linux question")
def test_without_a_display_the_window_says_so_in_one_line(bundle: Path, tmp_path: Path) -> None:
    result = run(bundle, tmp_path, QT_QPA_PLATFORM=None, DISPLAY=None, WAYLAND_DISPLAY=None)

    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0
    assert "No display is available" in result.stderr


def test_bundle_holds_the_assets_and_leaves_out_what_it_does_not_use(bundle: Path) -> None:
    internal = bundle.parent / "_internal"
    if not internal.is_dir():  # macOS .app layouts differ; the checks below are for onedir
        pytest.skip("no _internal folder in this bundle layout")
    files = {path.relative_to(internal).as_posix() for path in internal.rglob("*")}

    assert "resources/onesend.qss" in files
    assert "resources/onesend.svg" in files
    assert any(f.startswith("forms/definitions/") and f.endswith(".json") for f in files)
    assert "forms/data/la_codes.csv" in files
    unwanted = [
        f for f in files
        if any(part in f.lower() for part in ("qt6network", "qt6qml", "qt6quick", "qt6opengl",
                                              "tkinter", "/translations/", "qvnc", "qgtk3"))
    ]
    assert not unwanted
    # No dangling links to Qt libraries that were left out.
    broken = [p for p in internal.rglob("*") if p.is_symlink() and not p.exists()]
    assert not broken


def test_the_national_service_is_not_in_the_bundle(bundle: Path) -> None:
    """The service and its database drivers are a deployable of their own (onesend.spec)."""
    names = {p.name.lower() for p in bundle.rglob("*")}
    for unwanted in ("national", "sqlalchemy", "psycopg", "psycopg_binary", "fastapi",
                     "uvicorn"):
        assert unwanted not in names, unwanted
    archive = subprocess.run(
        [sys.executable, "-m", "PyInstaller.utils.cliutils.archive_viewer", "-r", "-b",
         str(EXECUTABLE)], capture_output=True, text=True, check=False, timeout=120)
    modules = {line.strip() for line in archive.stdout.splitlines()}
    assert "contract.canonical" in modules  # the listing is of the bundle's modules
    for module in modules:
        assert module.split(".")[0] not in ("national", "sqlalchemy", "psycopg"), module
