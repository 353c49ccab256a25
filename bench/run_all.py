"""`make bench`: every bench/bench_*.py in turn, each printing its figures beside a baseline."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path


def main() -> int:
    here = Path(__file__).parent
    print(f"OneSEND benchmarks, {datetime.now(tz=UTC):%Y-%m-%d %H:%M} UTC, {sys.platform}")
    failed = 0
    for script in sorted(here.glob("bench_*.py")):
        print(f"\n== {script.stem} ==", flush=True)
        failed += subprocess.run([sys.executable, str(script)], check=False).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
