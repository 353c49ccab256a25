"""Enrolment: a one-time code becomes a device token, kept sealed in the vault with the keys
the server signs receipts and form definitions with.

The code ends with a fingerprint of those keys, so the keys are checked against it before
anything is trusted or stored: a server that did not issue the code (a man in the middle at
enrolment) is refused. Enrolment is exactly once: the request carries an idempotency key,
made once and reused on every retry, so a lost answer never burns the code. The token is
renewed during sync once the server says it is due (by this computer's own clock).
"""

from __future__ import annotations

import math
import platform
import secrets
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from contract.canonical import now_iso
from contract.protocol import (
    IDEMPOTENCY_HEADER,
    code_fingerprint,
    key_fingerprint,
    letters_codes_never_hold,
    normalise_code,
    public_key,
    unb64,
)
from desktop.errors import InvalidInput, NotEnrolled, ServerRejected, TamperedData, UntrustedServer
from desktop.secrets import Secrets
from desktop.vault import Vault
from sync.http import Api, ApiSettings, Reply, Retryable, check_server_url

DEVICE_SECRET = "device_credentials"  # noqa: S105 - the name of a sealed row


@dataclass(frozen=True)
class Credentials:
    """What enrolment gave this profile; stored sealed, never in the clear."""

    server_url: str
    device_id: str
    token: str
    server_id: str
    receipt_key: str
    form_key: str
    enrolled_at: str
    expires_at: str | None = None
    ca_bundle: str | None = None
    proxy: str | None = None
    token_issued_at: str | None = None  # by this computer's clock
    renew_after: float | None = None  # seconds after issue, as the server asked

    def renewal_due(self, now: datetime | None = None) -> bool:
        if self.renew_after is None or self.token_issued_at is None:
            return False
        try:
            issued = datetime.fromisoformat(self.token_issued_at.replace("Z", "+00:00"))
        except ValueError:
            return True
        current = now or datetime.now(tz=UTC)
        # A clock set back before the token was issued renews too, rather than never.
        age = (current - issued).total_seconds()
        return age >= self.renew_after or age < 0

    def receipt_public_key(self) -> Ed25519PublicKey:
        return _key(self.receipt_key)

    def form_public_key(self) -> Ed25519PublicKey:
        return _key(self.form_key)

    def settings(self, base: ApiSettings | None = None) -> ApiSettings:
        """The API settings, with the CA bundle and proxy chosen at enrolment unless overridden."""
        base = base or ApiSettings()
        changes: dict[str, Any] = {}
        if base.ca_bundle is None and self.ca_bundle:
            changes["ca_bundle"] = Path(self.ca_bundle)
        if base.proxy is None and self.proxy:
            changes["proxy"] = self.proxy
        return ApiSettings(**{**asdict(base), **changes}) if changes else base


def _key(text: str) -> Ed25519PublicKey:
    raw = unb64(text)
    if raw is None or len(raw) != 32:
        raise TamperedData("The stored server key is damaged; enrol this device again.")
    return public_key(raw)


def load_credentials(vault: Vault) -> Credentials:
    data = Secrets(vault).get_json(DEVICE_SECRET)
    if not isinstance(data, dict):
        raise NotEnrolled(
            "This profile is not enrolled with a server yet: run 'onesend enrol --server URL' "
            "with the one-time code from your trust or local authority."
        )
    try:
        return Credentials(**data)
    except TypeError as exc:
        raise TamperedData("The stored enrolment is damaged; enrol this device again.") from exc


def enrol(
    vault: Vault, server_url: str, code: str, settings: ApiSettings | None = None,
    *, device_name: str | None = None,
) -> Credentials:
    """Exchange a one-time code for a device token and store it, sealed, in the vault."""
    settings = settings or ApiSettings()
    url = check_server_url(server_url)
    canonical = normalise_code(code)
    if canonical is None:
        strange = letters_codes_never_hold(code)
        if strange:
            raise InvalidInput(
                f"That is not an enrolment code: it never holds the letter"
                f"{'s' if len(strange) > 1 else ''} {' or '.join(strange)}. Check it against the"
                " code you were given (the digits 0 and 1 may be typed as O, I or L).")
        raise InvalidInput("That is not an enrolment code: it has 28 letters and digits in "
                           "groups of four (XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX).")
    api = Api(url, settings)
    # One key for this enrolment, sent again with every retry of it.
    api.session.headers[IDEMPOTENCY_HEADER] = secrets.token_urlsafe(24)
    try:
        reply = _post_enrolment(api, {
            "code": canonical, "device_name": device_name or platform.node() or "device"})
    finally:
        api.close()
    body = reply.body if isinstance(reply.body, dict) else {}
    fields = ("device_id", "token", "server_id", "receipt_key", "form_key")
    if not all(isinstance(body.get(name), str) and body[name] for name in fields):
        raise ServerRejected("The server's answer to the enrolment was not understood.")
    receipt_raw, form_raw = unb64(body["receipt_key"]), unb64(body["form_key"])
    if (receipt_raw is None or form_raw is None
            or key_fingerprint(receipt_raw, form_raw) != code_fingerprint(canonical)):
        raise UntrustedServer(
            f"The server at {url} is not the one that issued this enrolment code (its signing "
            "keys do not match the code), so nothing was stored: check the address and the "
            "network, or ask for a new code.")
    credentials = Credentials(
        server_url=url, device_id=body["device_id"], token=body["token"],
        server_id=body["server_id"], receipt_key=body["receipt_key"],
        form_key=body["form_key"], enrolled_at=now_iso(),
        expires_at=_text(body.get("expires_at")),
        ca_bundle=str(settings.ca_bundle) if settings.ca_bundle else None,
        proxy=settings.proxy, token_issued_at=now_iso(),
        renew_after=_seconds(body.get("renew_after")),
    )
    credentials.receipt_public_key()
    credentials.form_public_key()
    with vault.write() as conn:
        Secrets(vault).put_json(conn, DEVICE_SECRET, asdict(credentials))
        vault.audit(conn, "device.enrol", None)
    return credentials


def _post_enrolment(api: Api, body: dict[str, Any]) -> Reply:
    """The enrolment request, retried like any other, except that a refusal for too many
    wrong codes is said at once (with how long to wait) rather than waited out."""
    attempt = 0
    while True:
        attempt += 1
        try:
            return api.once("POST", "/v1/enrol", body)
        except Retryable as exc:
            if exc.reason.startswith("HTTP 429"):
                minutes = max(1, math.ceil((exc.retry_after or 60) / 60))
                raise ServerRejected(
                    "The server is refusing enrolments from this network for now (too many "
                    f"attempts): try again in {minutes} minute(s).", status=429,
                    kind="rate-limited") from None
            if attempt >= api.settings.max_attempts:
                raise api.offline(exc, attempt) from None
            api.backoff.wait(attempt, exc.retry_after)


def renew_token_if_due(vault: Vault, api: Api, credentials: Credentials) -> Credentials:
    """During sync: swap the device token for a fresh one once it is due, store the new one
    sealed, and use it for the rest of the run. The old one ends once the new one is used."""
    if not credentials.renewal_due():
        return credentials
    reply = api.call("POST", "/v1/token")
    body = reply.body if isinstance(reply.body, dict) else {}
    token = body.get("token")
    if not isinstance(token, str) or len(token) < 32:
        raise ServerRejected("The server's answer to the token renewal was not understood.")
    renewed = replace(credentials, token=token, expires_at=_text(body.get("expires_at")),
                      token_issued_at=now_iso(), renew_after=_seconds(body.get("renew_after")))
    with vault.write() as conn:
        Secrets(vault).put_json(conn, DEVICE_SECRET, asdict(renewed))
        vault.audit(conn, "device.token_renewed", None)
    api.use_token(token)
    return renewed


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return None
    return float(value)
