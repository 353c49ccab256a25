"""The `onesend` command in-process: `app.cli.main(argv)` with its own stdin, stdout, stderr and
environment, as a shell would give them to the real command.

What runs is the command's own code from the parser down (app/cli.py), so its exit codes and
its one-sentence errors are the real ones; only the process around it is the test's. A few
end-to-end tests still start the real `onesend` script as a process (between-process locks,
a killed process, the display check, the exit status of the entry point itself): they are in
the full tier (tests/conftest.py, FULL_TIER).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import app.cli


@dataclass(frozen=True)
class Result:
    """What a finished command left: like `subprocess.CompletedProcess`, with text output."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str


class _Pipe(io.StringIO):
    """A text stream that, like a pipe, is not a terminal and has an encoding."""

    encoding = "utf-8"  # type: ignore[assignment]

    def isatty(self) -> bool:
        return False


@contextmanager
def environment(changes: Mapping[str, str | None]) -> Iterator[None]:
    """Set (or, for None, remove) environment variables for the block, then put them back.

    Every ONESEND_ variable not named is removed, as the subprocess tests did, so a developer's
    own setting never reaches a test.
    """
    names = {*changes, *(n for n in os.environ if n.startswith("ONESEND_"))}
    saved = {name: os.environ.get(name) for name in names}
    try:
        for name in names:
            value = changes.get(name)
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_onesend(argv: Sequence[str], *, stdin: str = "",
                env: Mapping[str, str | None] | None = None) -> Result:
    """Run `onesend ARGV` in this process; stdin is given whole, stdout and stderr captured.

    argparse's own exits (`--help`, `--version`, a usage error) end in SystemExit, as they do
    in the real command: its code is returned like any other.
    """
    out, err = _Pipe(), _Pipe()
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = _Pipe(stdin), out, err
    try:
        with environment(env or {}):
            try:
                code = app.cli.main(list(argv))
            except SystemExit as exited:
                code = _exit_code(exited.code)
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
    return Result(list(argv), code, out.getvalue(), err.getvalue())


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    sys.stderr.write(f"{code}\n")  # what Python prints for sys.exit("message")
    return 1


class Onesend:
    """`onesend` with its own data folder and home, as a user would run it from a shell."""

    def __init__(self, tmp_path: Path, password: str) -> None:
        self.data_dir = tmp_path / "data"
        self.password = password
        self.env: dict[str, str | None] = {"ONESEND_DATA_DIR": str(self.data_dir),
                                           "HOME": str(tmp_path / "home")}

    def __call__(self, *args: str, stdin: str | None = None,
                 env: Mapping[str, str | None] | None = None) -> Result:
        given = self.password + "\n" if stdin is None else stdin
        return run_onesend(args, stdin=given, env={**self.env, **(env or {})})

    def ok(self, *args: str, stdin: str | None = None) -> str:
        """Its output, having checked that it succeeded and printed nothing on stderr."""
        result = self(*args, stdin=stdin)
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""
        return result.stdout

    def fails(self, *args: str, stdin: str | None = None) -> str:
        """Its one line on stderr, having checked it is the user's error (exit 2), no traceback."""
        result = self(*args, stdin=stdin)
        assert result.returncode == 2, (result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        lines = result.stderr.splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("onesend: ")
        return lines[0]


class OnesendProcess(Onesend):
    """The same, as a process of the installed `onesend` script (or `python -m app`): for the
    few end-to-end tests where the process itself is the point."""

    def __init__(self, tmp_path: Path, password: str, *, module: bool = False) -> None:
        super().__init__(tmp_path, password)
        self.module = module

    def __call__(self, *args: str, stdin: str | None = None,
                 env: Mapping[str, str | None] | None = None) -> Result:
        entry = [sys.executable, "-m", "app"] if self.module else [onesend_script()]
        given = self.password + "\n" if stdin is None else stdin
        changes = {**self.env, **(env or {})}
        environ = {k: v for k, v in os.environ.items() if not k.startswith("ONESEND_")}
        environ.update({k: v for k, v in changes.items() if v is not None})
        for name in [k for k, v in changes.items() if v is None]:
            environ.pop(name, None)
        done = subprocess.run([*entry, *args], input=given, capture_output=True, text=True,
                              timeout=120, env=environ, check=False)
        return Result(list(args), done.returncode, done.stdout, done.stderr)


def onesend_script() -> str:
    script = Path(sys.executable).with_name("onesend")
    assert script.exists(), "the console script is installed with the project"
    return str(script)
