"""Running the service: in the foreground (the CLI) or in a thread (tests, bench)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import uvicorn

from national.app import ServerConfig, create_app
from national.faults import quiet_injected_faults
from national.store import DEFAULT_SETTING, ServerStore

LOOPBACK = "127.0.0.1"


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _uvicorn_config(
    app: Any, *, tls_cert: Path | None, tls_key: Path | None, log_level: str
) -> uvicorn.Config:
    quiet_injected_faults()
    return uvicorn.Config(
        app, http="h11", lifespan="off", log_level=log_level, access_log=False,
        ssl_certfile=str(tls_cert) if tls_cert else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
        timeout_keep_alive=30,
    )


def administer(
    data_dir: Path, *, issue: Sequence[str] = (), revoke: Sequence[str] = (),
    database: str | None = None,
) -> tuple[list[tuple[str, str]], list[str]]:
    """Issue enrolment codes (one per setting named) and revoke devices, on a data folder
    that a running server may be serving. Returns the (setting, code) pairs and the device
    ids that were not found."""
    store = ServerStore(data_dir, database=database)
    try:
        codes = [(setting, store.issue_code(setting)) for setting in issue]
        unknown = [device for device in revoke if not store.revoke(device)]
    finally:
        store.close()
    return codes, unknown


def serve(
    config: ServerConfig, *, host: str = LOOPBACK, port: int = 0,
    tls_cert: Path | None = None, tls_key: Path | None = None,
    ready: Callable[[str], None] | None = None, log_level: str = "warning",
) -> None:
    """Serve until interrupted; `ready` is told the base URL once the socket listens."""
    app = create_app(config)
    sock = _bind(host, port)
    scheme = "https" if tls_cert else "http"
    bound = sock.getsockname()[1]
    server = uvicorn.Server(_uvicorn_config(app, tls_cert=tls_cert, tls_key=tls_key,
                                            log_level=log_level))
    if ready:
        shown = f"[{host}]" if ":" in host else host
        ready(f"{scheme}://{shown}:{bound}")
    try:
        server.run(sockets=[sock])
    finally:
        app.state.store.close()
        sock.close()


class ServerThread:
    """A reference server on 127.0.0.1 in a background thread (tests and benchmarks)."""

    def __init__(
        self, config: ServerConfig, *, port: int = 0, tls_cert: Path | None = None,
        tls_key: Path | None = None,
    ) -> None:
        self.config = config
        self.app = create_app(config)
        self._sock = _bind(LOOPBACK, port)
        self.port = int(self._sock.getsockname()[1])
        scheme = "https" if tls_cert else "http"
        self.url = f"{scheme}://{LOOPBACK}:{self.port}"
        self._server = uvicorn.Server(_uvicorn_config(
            self.app, tls_cert=tls_cert, tls_key=tls_key, log_level="warning"))
        self._thread = threading.Thread(target=self._run, name="reference-server", daemon=True)

    @property
    def store(self) -> Any:
        return self.app.state.store

    @property
    def faults(self) -> Any:
        return self.app.state.faults

    def issue_code(self, setting: str = DEFAULT_SETTING) -> str:
        """A new one-time enrolment code for a device of `setting`."""
        code: str = self.store.issue_code(setting)
        return code

    def _run(self) -> None:
        self._server.run(sockets=[self._sock])

    def start(self) -> ServerThread:
        self._thread.start()
        for _ in range(500):  # bounded: at most 10 s
            if self._server.started:
                return self
            if not self._thread.is_alive():
                break
            threading.Event().wait(0.02)
        raise RuntimeError("the reference server did not start")

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()
        self.store.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
