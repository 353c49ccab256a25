"""The connections under `sync.http.Api`: a per-request deadline that holds whatever the
request is blocked in, and trust from the operating system's store (plus an administrator's
CA bundle) and nothing else. Split from sync/http.py, which builds its session from these.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import sys
import threading
from pathlib import Path
from typing import Any

import truststore
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from desktop.errors import InvalidInput

# -- the per-request deadline, enforced whatever the request is blocked in -------------------

_active = threading.local()  # the watchdog of the request this thread is making, if any


class Watchdog:
    """Shuts every socket a request uses when its deadline passes.

    A read timeout bounds each wait for a byte, not the request: a server trickling a byte of
    its headers every few seconds would never trip it. `shutdown` wakes whatever the request
    is blocked in (connecting through TLS, sending, waiting for headers, reading the body), so
    the deadline holds. The sockets are duplicates kept by our connections for this alone.
    """

    def __init__(self, seconds: float) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._done = False
        self.fired = False
        self._timer = threading.Timer(max(seconds, 0.0), self._fire)
        self._timer.daemon = True

    def watch(self, connection: HTTPConnection) -> None:
        cut = getattr(connection, "_onesend_cut", None)
        if not isinstance(cut, socket.socket):
            return
        with self._lock:
            self._sockets.append(cut)
            if self.fired:
                _shut(cut)

    def _fire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.fired = True
            for cut in self._sockets:
                _shut(cut)

    def __enter__(self) -> Watchdog:
        _active.watchdog = self
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()
        with self._lock:
            self._done = True
        _active.watchdog = None


def _shut(cut: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed: nothing left to cut
        cut.shutdown(socket.SHUT_RDWR)


def _enlist(connection: HTTPConnection) -> None:
    watchdog = getattr(_active, "watchdog", None)
    if isinstance(watchdog, Watchdog):
        watchdog.watch(connection)


def _keep_cut(connection: HTTPConnection, sock: socket.socket) -> None:
    _drop_cut(connection)
    connection._onesend_cut = sock.dup()  # type: ignore[attr-defined]
    _enlist(connection)


def _drop_cut(connection: HTTPConnection) -> None:
    cut = connection.__dict__.pop("_onesend_cut", None)
    if isinstance(cut, socket.socket):
        cut.close()


class _Watched(HTTPConnection):
    """A connection whose socket the deadline watchdog can cut (plain or TLS alike)."""

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _keep_cut(self, sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        _enlist(self)
        super().request(*args, **kwargs)

    def close(self) -> None:
        try:
            super().close()
        finally:
            _drop_cut(self)


class _WatchedHTTPConnection(_Watched):
    pass


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_WATCHED_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class DeadlineAdapter(HTTPAdapter):
    """Connections a request's watchdog can cut."""

    def __init__(self) -> None:
        super().__init__(pool_connections=2, pool_maxsize=4, max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _WATCHED_POOLS

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kwargs)
        if not proxy.lower().startswith("socks"):
            manager.pool_classes_by_scheme = _WATCHED_POOLS
        return manager


class TrustAdapter(DeadlineAdapter):
    """Hands urllib3 our own SSLContext, so no CA file from the environment sneaks in."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self._context = context
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        kwargs["ssl_context"] = self._context
        return super().proxy_manager_for(proxy, **kwargs)


# -- trust: the OS's store and the administrator's bundle, never the environment's -------------

# Where Linux distributions keep the system's CA certificates (the list truststore uses).
_LINUX_CA_FILES = (
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  # Fedora, RHEL
    "/etc/ssl/cert.pem",  # Alpine, Arch, BSD
    "/etc/pki/tls/cert.pem",  # older Fedora, RHEL, CentOS
    "/etc/ssl/ca-bundle.pem",  # SUSE
)


def system_trust() -> ssl.SSLContext:
    """A verifying context that trusts the operating system's CAs and nothing else.

    Windows and macOS: `truststore`, which asks the OS to verify and reads no environment
    variable. Linux: truststore would call OpenSSL's `set_default_verify_paths`, which honours
    SSL_CERT_FILE and SSL_CERT_DIR, so anyone who can set a variable could add a CA; instead
    the distribution's CA file and OpenSSL's compiled-in CA folder are loaded by path.
    """
    if sys.platform in ("win32", "darwin"):
        return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED, hostnames checked
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    built_in = ssl.get_default_verify_paths()  # openssl_* are compiled in, not from the env
    for cafile in (built_in.openssl_cafile, *_LINUX_CA_FILES):
        if cafile and Path(cafile).is_file():
            context.load_verify_locations(cafile=cafile)
            break
    if built_in.openssl_capath and Path(built_in.openssl_capath).is_dir():
        context.load_verify_locations(capath=built_in.openssl_capath)
    return context


def tls_context(ca_bundle: Path | None) -> ssl.SSLContext:
    """The OS trust store, plus the administrator's CA bundle when one is set."""
    context = system_trust()
    if ca_bundle is not None:
        try:
            context.load_verify_locations(cafile=str(ca_bundle))
        except (OSError, ssl.SSLError) as exc:
            raise InvalidInput(
                f"The CA bundle {ca_bundle} cannot be read as PEM certificates."
            ) from exc
    return context
