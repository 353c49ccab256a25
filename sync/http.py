"""One HTTP exchange with the national API, done carefully.

TLS is always verified, against the operating system's trust store plus an optional CA bundle
an administrator sets, and nothing else: no environment variable can widen trust. Requests'
REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE are not read (`trust_env = False`), and OpenSSL's
SSL_CERT_FILE and SSL_CERT_DIR are not either: on Windows and macOS `truststore` asks the OS,
and on Linux the distribution's CA files are loaded by their known paths (`tls_context`).
Proxies come from the app's setting or the system's.

Every request has a connect timeout, a read timeout and an overall deadline (a read timeout
alone lets a trickling server hold the client for ever). The deadline covers connecting, the
TLS handshake, sending, waiting for the headers and reading the body: a watchdog shuts the
request's socket when it passes (`Watchdog`), whatever the request is blocked in. An `Api`
may also have a deadline for a whole run (`run_deadline`): every request and backoff wait is
cut to what is left of it, and DeadlinePassed is raised when it is spent.

A server's answer is bounded before it is believed: its size, its nesting depth and how many
items it holds (`bounded_json`); an answer beyond them is refused as UntrustedServer, in one
sentence, and changes nothing. Retries use exponential backoff with full jitter and honour
Retry-After, for timeouts, resets, 429 and 5xx only.
"""

from __future__ import annotations

import email.utils
import gzip
import ipaddress
import json
import random
import re
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3

from contract.protocol import PROBLEM_PREFIX, PROTOCOL_HEADER, PROTOCOL_VERSION, canonical_json
from desktop.errors import (
    AuthExpired,
    Cancelled,
    DeadlinePassed,
    InvalidInput,
    Offline,
    ServerRejected,
    UntrustedServer,
    UpdateRequired,
)
from sync.transport import DeadlineAdapter, TrustAdapter, Watchdog, tls_context

# Bounds on what a server may send (far above any true answer: one assessment, a form
# definition, a page of the manifest, the results of a batch of at most 1,000 items).
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
MAX_RESPONSE_DEPTH = 64
MAX_RESPONSE_VALUES = 1_000_000  # values in the whole answer (counted as separators, bounded)
MAX_CONTAINER_ITEMS = 100_000  # entries in any one list or object
USER_AGENT = "OneSEND-desktop"


@dataclass(frozen=True)
class ApiSettings:
    """Timeouts, retry policy, trust and proxy: one place, injected (tests use short ones)."""

    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    deadline: float = 120.0
    max_attempts: int = 6
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    max_retry_after: float = 300.0
    ca_bundle: Path | None = None
    proxy: str | None = None
    use_system_proxy: bool = True
    # Level 3: the cheapest in CPU per record of 1-9 on batches of assessments (zlib's fast
    # strategy; 8 vs 17 us per record at level 5, for 1.3x the bytes: bench/bench_sync.py).
    gzip_level: int = 3


NETWORK_SETTINGS_FILE = "network.json"
_NETWORK_KEYS = ("ca_bundle", "proxy")


def network_settings(data_dir: Path) -> ApiSettings | None:
    """This computer's network settings, set by an administrator in DATA_DIR/network.json.

    ``{"ca_bundle": "/path/to/school-ca.pem", "proxy": "http://proxy.school:3128"}``, both
    optional: the extra CA certificates of a network that inspects TLS, and a proxy. None when
    there is no such file. A file that is not right raises InvalidInput (one sentence) rather
    than being ignored, so a mistake never silently changes whom OneSEND trusts.
    """
    path = data_dir / NETWORK_SETTINGS_FILE
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"The network settings in {path} cannot be read.") from exc
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"The network settings in {path} are not valid JSON.") from exc
    if not isinstance(data, dict) or set(data) - set(_NETWORK_KEYS) or not all(
            isinstance(value, str) and value for value in data.values()):
        raise InvalidInput(f"The network settings in {path} must be a JSON object with "
                           "\"ca_bundle\" (a file) and/or \"proxy\" (a URL), as text.")
    ca_bundle = Path(data["ca_bundle"]) if "ca_bundle" in data else None
    if ca_bundle is not None and not ca_bundle.is_file():
        raise InvalidInput(f"The CA bundle named in {path} is not a file: {ca_bundle}.")
    proxy = data.get("proxy")
    if proxy is not None and urlsplit(proxy).scheme not in ("http", "https", "socks5"):
        raise InvalidInput(f"The proxy named in {path} is not a proxy address like "
                           "http://proxy.example:3128.")
    return ApiSettings(ca_bundle=ca_bundle, proxy=proxy)


@dataclass
class Traffic:
    """What went over the wire: requests made and bytes sent (bodies after compression)."""

    requests: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    retries: int = 0
    waits: list[float] = field(default_factory=list)


class Retryable(Exception):
    """A failure a later attempt may not meet: a timeout, a reset, a 429 or a 5xx."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(tz=UTC))).total_seconds())


class Backoff:
    """Exponential backoff with full jitter, honouring Retry-After; waits can be cancelled."""

    def __init__(
        self, settings: ApiSettings, *, cancel: threading.Event | None = None,
        rng: random.Random | None = None, traffic: Traffic | None = None,
    ) -> None:
        self.settings = settings
        self.cancel = cancel or threading.Event()
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
        self.traffic = traffic or Traffic()

    def delay(self, attempt: int, retry_after: float | None) -> float:
        cap = min(self.settings.backoff_cap, self.settings.backoff_base * 2 ** (attempt - 1))
        delay = self.rng.uniform(0, cap)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.settings.max_retry_after))
        return delay

    def wait(self, attempt: int, retry_after: float | None) -> None:
        self.pause(self.delay(attempt, retry_after))

    def pause(self, delay: float) -> None:
        self.traffic.waits.append(delay)
        self.traffic.retries += 1
        if self.cancel.wait(delay):
            raise Cancelled("Sync stopped; what was sent is kept and the rest stays queued.")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def proxies_for(url: str, settings: ApiSettings) -> dict[str, str]:
    """The app's proxy setting, else the system's (unless the host bypasses it)."""
    host = urlsplit(url).hostname or ""
    if _is_loopback(host):
        return {}
    if settings.proxy:
        return {"http": settings.proxy, "https": settings.proxy}
    if not settings.use_system_proxy or urllib.request.proxy_bypass(host):
        return {}
    system = urllib.request.getproxies()
    return {scheme: system[scheme] for scheme in ("http", "https") if scheme in system}


def check_server_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidInput(f"{url} is not a server address like https://api.example.org.")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise InvalidInput("Only https:// server addresses are allowed (http:// only for a "
                           "server on this computer).")
    return url.rstrip("/")


_SSL_REASON = re.compile(r"certificate verify failed: ([^(\]]+)")


class Api:
    """The national API at one address, for one device token (or none, to enrol)."""

    def __init__(
        self, base_url: str, settings: ApiSettings, *, token: str | None = None,
        backoff: Backoff | None = None, clock: Callable[[], float] = time.monotonic,
        run_deadline: float | None = None,
    ) -> None:
        self.base_url = check_server_url(base_url)
        self.settings = settings
        self.token = token
        self.backoff = backoff or Backoff(settings)
        self.traffic = self.backoff.traffic
        self._clock = clock
        self.run_deadline = run_deadline
        self._expires_at = None if run_deadline is None else clock() + run_deadline
        self.session = requests.Session()
        self.session.trust_env = False  # no CA bundle, proxy or .netrc from the environment
        if self.base_url.startswith("https://"):  # (http:// is for loopback only)
            self.session.mount("https://", TrustAdapter(tls_context(settings.ca_bundle)))
        self.session.mount("http://", DeadlineAdapter())
        self.session.proxies = proxies_for(self.base_url, settings)
        self.session.headers.update({PROTOCOL_HEADER: str(PROTOCOL_VERSION),
                                     "User-Agent": USER_AGENT, "Accept": "application/json"})
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def close(self) -> None:
        self.session.close()

    def use_token(self, token: str) -> None:
        """Carry on with a renewed device token."""
        self.token = token
        self.session.headers["Authorization"] = f"Bearer {token}"

    # -- with retries (for requests that are safe to repeat) ----------------------------------

    def call(self, method: str, path: str, body: Any = None, *,
             params: Mapping[str, Any] | None = None) -> Reply:
        attempt = 0
        while True:
            attempt += 1
            try:
                return self.once(method, path, body, params=params)
            except Retryable as exc:
                if attempt >= self.settings.max_attempts:
                    raise self.offline(exc, attempt) from None
                self.wait(attempt, exc.retry_after)

    def wait(self, attempt: int, retry_after: float | None) -> None:
        """Back off before another attempt, unless the run's deadline would pass first."""
        delay = self.backoff.delay(attempt, retry_after)
        if self._expires_at is not None and self._clock() + delay >= self._expires_at:
            raise self.deadline_passed()
        self.backoff.pause(delay)

    def deadline_passed(self) -> DeadlinePassed:
        return DeadlinePassed(
            f"Sync stopped at its deadline of {self.run_deadline:g} seconds; what was sent is "
            "kept and the rest stays queued.")

    def _budget(self) -> tuple[float, bool]:
        """Seconds this request may take, and whether the run's deadline is what bounds it."""
        limit = self.settings.deadline
        if self._expires_at is None:
            return limit, False
        left = self._expires_at - self._clock()
        if left <= 0:
            raise self.deadline_passed()
        return (left, True) if left < limit else (limit, False)

    def offline(self, exc: Retryable, attempts: int) -> Offline:
        return Offline(
            f"Could not reach the server at {self.base_url} after {attempts} attempt(s) "
            f"({exc.reason}); nothing is lost: what is queued stays queued."
        )

    # -- one attempt --------------------------------------------------------------------------

    def once(self, method: str, path: str, body: Any = None, *,
             params: Mapping[str, Any] | None = None, raw: bytes | None = None) -> Reply:
        """One request; raises Retryable, or a OneSendError that a retry will not fix.

        `raw`, instead of `body`: JSON already encoded (the sync engine's batch, whose
        payloads are sent as the canonical bytes that were hashed)."""
        headers = {}
        data = None
        if body is not None:
            raw = canonical_json(body)
        if raw is not None:
            headers["Content-Type"] = "application/json"
            if len(raw) > 1024:
                raw = gzip.compress(raw, compresslevel=self.settings.gzip_level, mtime=0)
                headers["Content-Encoding"] = "gzip"
            data = raw
        limit, by_run = self._budget()
        started = self._clock()
        self.traffic.requests += 1
        self.traffic.bytes_sent += len(data or b"")
        with Watchdog(limit) as watchdog:
            try:
                response, content = self._exchange(method, path, data, headers,
                                                   params=params, started=started, limit=limit)
            except Exception:
                if watchdog.fired:  # whatever broke, it broke because the deadline cut it
                    if by_run:
                        raise self.deadline_passed() from None
                    raise Retryable("the server was too slow to answer (deadline passed)") \
                        from None
                raise
        return self._interpret(response, content)

    def _exchange(
        self, method: str, path: str, data: bytes | None, headers: dict[str, str], *,
        params: Mapping[str, Any] | None, started: float, limit: float,
    ) -> tuple[requests.Response, bytes]:
        try:
            response = self.session.request(
                method, self.base_url + path, data=data, headers=headers, params=params,
                timeout=(min(self.settings.connect_timeout, limit),
                         min(self.settings.read_timeout, limit)),
                stream=True, allow_redirects=False,
            )
        except requests.exceptions.SSLError as exc:
            raise self._untrusted(exc) from None
        except requests.exceptions.ProxyError as exc:
            raise Retryable("the proxy refused the connection") from exc
        except requests.exceptions.ConnectTimeout as exc:
            raise Retryable("the connection timed out") from exc
        except requests.exceptions.ReadTimeout as exc:
            raise Retryable("the server did not answer in time") from exc
        except requests.exceptions.ConnectionError as exc:
            raise Retryable("the connection failed or was reset") from exc
        except requests.exceptions.RequestException as exc:
            raise Retryable(f"the request failed ({type(exc).__name__})") from exc
        try:
            content = self._read(response, started, limit)
        finally:
            response.close()
        return response, content

    def _read(self, response: requests.Response, started: float, limit: float) -> bytes:
        chunks = bytearray()
        try:
            # read1 returns what has arrived, so the deadline is checked however slow the
            # server trickles; a plain read would wait for a whole chunk.
            while chunk := response.raw.read1(64 * 1024, decode_content=True):
                chunks.extend(chunk)
                if self._clock() - started > limit:
                    raise Retryable("the server was too slow to answer (deadline passed)")
                if len(chunks) > MAX_RESPONSE_BYTES:
                    raise _refused(f"it is larger than {MAX_RESPONSE_BYTES // 2**20} MB")
        except (urllib3.exceptions.HTTPError, requests.exceptions.RequestException,
                OSError) as exc:
            # Truncated, reset or timed out mid-body: the answer is lost, not the data.
            raise Retryable("the connection broke before the answer arrived") from exc
        if self._clock() - started > limit:
            raise Retryable("the server was too slow to answer (deadline passed)")
        self.traffic.bytes_received += len(chunks)
        return bytes(chunks)

    def _interpret(self, response: requests.Response, content: bytes) -> Reply:
        status = response.status_code
        try:
            body = bounded_json(content) if content else None
        except ValueError:
            body = None
            if 200 <= status < 300:
                raise Retryable("the server's answer was cut short or garbled") from None
        if 200 <= status < 300:
            return Reply(status, body)
        problem = body if isinstance(body, dict) else {}
        kind = str(problem.get("type", "")).removeprefix(PROBLEM_PREFIX)
        if status == 429 or status >= 500:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise Retryable(f"HTTP {status}", retry_after)
        if status == 401 or kind in ("token-invalid", "token-expired", "token-missing"):
            if kind == "token-expired":
                raise AuthExpired("This device's token has expired: enrol it again with a new "
                                  "code from your trust or local authority.")
            raise AuthExpired("The server does not accept this device's token: enrol it again "
                              "with a new code from your trust or local authority.")
        if kind == "enrolment-refused":
            raise AuthExpired("The server refused that enrolment code: it is unknown or has "
                              "already been used.")
        if status == 426 or kind == "update-required":
            raise UpdateRequired("The server needs a newer version of OneSEND: update it, then "
                                 "sync again (nothing was sent).")
        title = _printable(str(problem.get("title", ""))[:200]) or "no reason given"
        raise ServerRejected(f"The server refused the request (HTTP {status}: {title}).",
                             status=status, kind=kind, problem=problem)

    def _untrusted(self, exc: Exception) -> UntrustedServer:
        found = _SSL_REASON.search(str(exc))
        reason = found.group(1).strip() if found else "the TLS handshake failed"
        return UntrustedServer(
            f"The server's certificate is not trusted ({reason}). If this network inspects "
            "TLS, ask IT to set its CA bundle in OneSEND's network.json (or give it with "
            "--ca-bundle)."
        )


def _refused(reason: str) -> UntrustedServer:
    return UntrustedServer(f"The server's answer was refused because {reason}; nothing was "
                           "changed by it.")


def _printable(text: str) -> str:
    """A server's words as they may reach a terminal: no control characters, valid Unicode."""
    return "".join(char if char.isprintable() else "?" for char in text)


_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_JSON_BRACKET = re.compile(rb"[\[\]{}]")


def bounded_json(content: bytes) -> Any:
    """Parse a server's JSON answer within bounds, or raise UntrustedServer (one sentence).

    Checked before parsing, at C speed or over the brackets only, so a hostile answer costs
    little: how many values it can hold (separators counted, strings included, an
    overestimate) and how deeply it nests. Then each list and object is checked for size.
    Malformed JSON raises ValueError, as json.loads does.
    """
    if len(content) > MAX_RESPONSE_BYTES:
        raise _refused(f"it is larger than {MAX_RESPONSE_BYTES // 2**20} MB")
    if content.count(b",") + content.count(b"[") + content.count(b"{") > MAX_RESPONSE_VALUES:
        raise _refused(f"it holds more than {MAX_RESPONSE_VALUES:,} values")
    depth = 0
    for bracket in _JSON_BRACKET.finditer(_JSON_STRING.sub(b'""', content)):
        depth += 1 if bracket.group() in (b"[", b"{") else -1
        if depth > MAX_RESPONSE_DEPTH:
            raise _refused(f"it is nested more than {MAX_RESPONSE_DEPTH} levels deep")
    try:
        body = json.loads(content)
    except RecursionError:  # not reachable past the check above; kept as a second wall
        raise _refused(f"it is nested more than {MAX_RESPONSE_DEPTH} levels deep") from None
    containers: list[Any] = [body] if isinstance(body, dict | list) else []
    while containers:
        value = containers.pop()
        items = value.values() if isinstance(value, dict) else value
        if len(items) > MAX_CONTAINER_ITEMS:
            raise _refused(f"a list in it holds more than {MAX_CONTAINER_ITEMS:,} items")
        containers.extend(item for item in items if isinstance(item, dict | list))
    return body


def rejected_reason(exc: ServerRejected) -> dict[str, Any]:
    """The parts of a refusal worth keeping with a quarantined item."""
    errors = exc.problem.get("errors")
    return {"status": exc.status, "type": exc.kind,
            "title": str(exc.problem.get("title", ""))[:300],
            "errors": errors[:200] if isinstance(errors, list) else []}
