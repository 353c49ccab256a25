"""The packaged executable: its size on disk, and start to `self-test` OK beside the source.

Needs `make dist` first (dist/onesend/); without it, says so and exits 0.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "dist" / "onesend" / ("onesend.exe" if os.name == "nt" else "onesend")
ROUNDS = 5


def _size(folder: Path) -> int:
    # Symbolic links (PyInstaller links some libraries) take no space of their own.
    return sum(path.lstat().st_size for path in folder.rglob("*")
               if path.is_file() and not path.is_symlink())


def _self_test_seconds(command: list[str]) -> float:
    """Median wall time from starting `command` to its exit, which must print OK."""
    times = []
    with tempfile.TemporaryDirectory(prefix="onesend-bench-") as home:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": home,
               "ONESEND_DATA_DIR": str(Path(home) / "data")}
        for _ in range(ROUNDS):
            start = time.perf_counter()
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=False,
                                  timeout=120)
            times.append(time.perf_counter() - start)
            if done.returncode != 0 or "OK" not in done.stdout:
                raise SystemExit(f"self-test failed: {done.stderr.strip()[:200]}")
    return statistics.median(times)


def main() -> int:
    if not BUNDLE.exists():
        print("no bundle at dist/onesend: run `make dist` first (skipped)")
        return 0
    print(f"bundle dist/onesend: {_size(BUNDLE.parent) / 1e6:.1f} MB on disk", flush=True)
    bundle = _self_test_seconds([str(BUNDLE), "self-test"])
    source = _self_test_seconds([sys.executable, "-m", "app", "self-test"])
    print(f"start to self-test OK, median of {ROUNDS}:")
    print(f"  bundle   {bundle:6.2f} s")
    print(f"  source   {source:6.2f} s   (baseline: python -m app self-test)")
    print(f"  ratio    {bundle / source:6.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
