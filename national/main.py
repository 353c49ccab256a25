"""Running the service: in the foreground (the CLI) or in a thread (tests, bench)."""

from __future__ import annotations

import asyncio
import contextlib
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


# How long a stopping ServerThread lets requests it is still answering finish (a trickled or
# delayed answer is cut after this): a test's server stops at its teardown, whatever it was doing.
_STOP_GRACE = 2.0


class _ThreadServer(uvicorn.Server):
    """uvicorn's server, started and stopped from another thread without uvicorn's polling:
    `ready` is an event, and a stop is heard at once, not at the next tenth of a
    second; idle keep-alive connections are closed at once and requests still being answered
    get `_STOP_GRACE` seconds (those whose client has gone, none), instead of uvicorn's fixed
    tenth of a second and unbounded wait.
    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        await super().startup(sockets)
        self.ready.set()

    async def main_loop(self) -> None:
        wake = self._wake or asyncio.Event()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            # A tick a tenth of a second, as uvicorn's (the Date header is renewed each
            # second), but a stop asked for wakes it at once.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), 0.1)

    def request_exit(self) -> None:
        """From any thread: stop serving now."""
        self.should_exit = True
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already closed
                loop.call_soon_threadsafe(wake.set)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        del sockets  # ServerThread closes its own socket after the thread ends
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        loop = asyncio.get_running_loop()
        until = loop.time() + _STOP_GRACE
        state = self.server_state
        # A request whose client is still connected may finish; one whose client has gone
        # (its connection is no longer listed) is answering no one and is cancelled.
        while state.connections and loop.time() < until:
            await asyncio.sleep(0.002)
        for task in list(state.tasks):
            task.cancel()
        for connection in list(state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.abort()
        await asyncio.sleep(0)


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
        self._server = _ThreadServer(_uvicorn_config(
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
        for _ in range(200):  # bounded: at most 10 s
            if self._server.ready.wait(0.05):
                return self
            if not self._thread.is_alive():
                break
        raise RuntimeError("the reference server did not start")

    def stop(self) -> None:
        self._server.request_exit()
        self._thread.join(timeout=10)
        self._sock.close()
        self.store.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
