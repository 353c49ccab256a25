"""Build the OneSEND bundle with PyInstaller, then prove it starts: what `make dist` runs.

Prints the bundle's size on disk and the time from starting `onesend self-test` to its `OK`.
Exits 1 with one line on stderr if the build fails or the self-test does not print OK.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "build_scripts" / "onesend.spec"
DIST = ROOT / "dist"
BUILD = ROOT / "build"
SELF_TEST_TIMEOUT_S = 120


def bundle_executable(dist: Path = DIST) -> Path:
    """The packaged `onesend` inside the onedir bundle."""
    name = "onesend.exe" if sys.platform == "win32" else "onesend"
    return dist / "onesend" / name


def size_on_disk(folder: Path) -> int:
    """Bytes the folder takes on disk (allocated blocks where the system reports them)."""
    total = 0
    for path in folder.rglob("*"):
        if path.is_symlink() or not path.is_file():
            continue
        info = path.stat()
        blocks = getattr(info, "st_blocks", None)
        total += blocks * 512 if blocks is not None else info.st_size
    return total


def build(spec: Path = SPEC, dist: Path = DIST, work: Path = BUILD) -> None:
    """Run PyInstaller on the spec from a clean work folder; CalledProcessError on failure."""
    subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--clean", "--noconfirm",
         "--distpath", str(dist), "--workpath", str(work), str(spec)],
        cwd=ROOT, check=True,
    )


@dataclass(frozen=True)
class SelfTestResult:
    ok: bool
    seconds_to_ok: float | None
    reason: str


def run_self_test(executable: Path, timeout_s: float = SELF_TEST_TIMEOUT_S) -> SelfTestResult:
    """Run `onesend self-test` offscreen on an empty data folder; time it from start to OK."""
    with tempfile.TemporaryDirectory(prefix="onesend-dist-") as tmp:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "ONESEND_DATA_DIR": tmp}
        errors_path = Path(tmp) / "stderr.txt"
        seconds_to_ok: float | None = None
        with errors_path.open("w+", encoding="utf-8") as errors:
            start = time.perf_counter()
            with subprocess.Popen(
                [str(executable), "self-test"], env=env, cwd=tmp, text=True,
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors,
            ) as process:
                # A hung self-test is killed, which ends the read loop below.
                watchdog = threading.Timer(timeout_s, process.kill)
                watchdog.start()
                try:
                    assert process.stdout is not None
                    for line in process.stdout:
                        if line.strip() == "OK" and seconds_to_ok is None:
                            seconds_to_ok = time.perf_counter() - start
                    process.wait()
                finally:
                    watchdog.cancel()
            errors.seek(0)
            stderr = errors.read()
    if time.perf_counter() - start >= timeout_s:
        return SelfTestResult(False, None, f"no result within {timeout_s:g} s")
    if process.returncode != 0:
        last = next(iter(reversed(stderr.strip().splitlines())), "no message")
        return SelfTestResult(False, None, f"exit status {process.returncode}: {last}")
    if seconds_to_ok is None:
        return SelfTestResult(False, None, "it exited 0 but did not print OK")
    return SelfTestResult(True, seconds_to_ok, "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--skip-build", action="store_true", help="only smoke-test the bundle already in dist/"
    )
    args = parser.parse_args(argv)
    if not args.skip_build:
        try:
            build()
        except subprocess.CalledProcessError as exc:
            print(f"build_dist: PyInstaller failed (exit status {exc.returncode}).",
                  file=sys.stderr)
            return 1
    executable = bundle_executable()
    if not executable.is_file():
        print(f"build_dist: no bundle at {executable.relative_to(ROOT)}; build it first.",
              file=sys.stderr)
        return 1
    size_mb = size_on_disk(executable.parent) / 1_000_000
    print(f"build_dist: bundle {executable.parent.relative_to(ROOT)}: {size_mb:.1f} MB on disk")
    result = run_self_test(executable)
    if not result.ok:
        print(f"build_dist: self-test of the bundle failed: {result.reason}", file=sys.stderr)
        return 1
    print(f"build_dist: self-test OK, {result.seconds_to_ok:.2f} s from start to OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
