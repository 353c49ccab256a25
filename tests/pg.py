"""A throwaway PostgreSQL cluster for the test session, from the installed server binaries.

PostgreSQL refuses to run as root; as root the cluster belongs to `nobody` (runuser). It
listens on 127.0.0.1 on a free port with trust authentication, in a temporary folder that is
removed at the end. Under CI (CI=true) a cluster that cannot start FAILS the tests that need
it; elsewhere they are skipped with the reason.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

_counter = itertools.count()


def _binaries() -> Path | None:
    root = Path("/usr/lib/postgresql")
    found = sorted(root.glob("*/bin/initdb"), key=lambda p: [
        int(part) if part.isdigit() else 0 for part in p.parts[-3].split(".")])
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    def __init__(self, bindir: Path, root: Path, port: int, as_user: list[str]) -> None:
        self.bindir = bindir
        self.root = root
        self.port = port
        self.as_user = as_user
        self.data = root / "data"

    def run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.as_user, str(self.bindir / tool), *args],
                              capture_output=True, text=True, timeout=120, check=False)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://onesend@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database: its URL."""
        name = f"t{os.getpid()}_{next(_counter)}"
        done = self.run("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "onesend",
                        "-d", "postgres", "-c", f"CREATE DATABASE {name}")
        if done.returncode != 0:
            raise RuntimeError(done.stderr)
        return self.url(name)


def _fail_or_skip(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"PostgreSQL is needed under CI: {reason}")
    pytest.skip(f"PostgreSQL is not available: {reason}")


@contextmanager
def cluster() -> Iterator[Cluster]:
    bindir = _binaries()
    if bindir is None:
        _fail_or_skip("no initdb (build_scripts/test-deps.sh installs it)")
        raise AssertionError("unreachable")
    root = Path(tempfile.mkdtemp(prefix="onesend-pg-"))
    root.chmod(0o755)
    as_user: list[str] = []
    if os.geteuid() == 0:
        as_user = ["runuser", "-u", "nobody", "--"]
        shutil.chown(root, "nobody")
    port = _free_port()
    pg = Cluster(bindir, root, port, as_user)
    try:
        made = pg.run("initdb", "-D", str(pg.data), "-U", "onesend", "-A", "trust",
                      "-E", "UTF8", "--no-sync")
        if made.returncode != 0:
            _fail_or_skip(f"initdb failed: {made.stderr.strip()[:300]}")
        started = pg.run(
            "pg_ctl", "-D", str(pg.data), "-l", str(root / "log"), "-w", "-t", "60", "-o",
            f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=200", "start")
        if started.returncode != 0:
            log = (root / "log").read_text(errors="replace")[-500:] if (
                root / "log").exists() else ""
            _fail_or_skip(f"pg_ctl start failed: {started.stderr.strip()[:300]} {log}")
        yield pg
    finally:
        if (pg.data / "postmaster.pid").exists():
            pg.run("pg_ctl", "-D", str(pg.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)
