"""Enrolment: a one-time code becomes a device token, kept sealed in the vault with the keys
the server signs receipts and form definitions with."""

from __future__ import annotations

import platform
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from desktop.errors import NotEnrolled, ServerRejected, TamperedData
from desktop.outbox import Secrets
from desktop.vault import Vault, now_iso
from sync.http import Api, ApiSettings, check_server_url
from sync.protocol import public_key, unb64

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
            "This profile is not enrolled with a server yet: run 'onesend enrol --server URL "
            "--code CODE' with the code from your trust or local authority."
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
    api = Api(url, settings)
    try:
        reply = api.call("POST", "/v1/enrol", {
            "code": code.strip(), "device_name": device_name or platform.node() or "device"})
    finally:
        api.close()
    body = reply.body if isinstance(reply.body, dict) else {}
    fields = ("device_id", "token", "server_id", "receipt_key", "form_key")
    if not all(isinstance(body.get(name), str) and body[name] for name in fields):
        raise ServerRejected("The server's answer to the enrolment was not understood.")
    credentials = Credentials(
        server_url=url, device_id=body["device_id"], token=body["token"],
        server_id=body["server_id"], receipt_key=body["receipt_key"],
        form_key=body["form_key"], enrolled_at=now_iso(),
        expires_at=body.get("expires_at") if isinstance(body.get("expires_at"), str) else None,
        ca_bundle=str(settings.ca_bundle) if settings.ca_bundle else None,
        proxy=settings.proxy,
    )
    credentials.receipt_public_key()
    credentials.form_public_key()
    with vault.write() as conn:
        Secrets(vault).put_json(conn, DEVICE_SECRET, asdict(credentials))
        vault.audit(conn, "device.enrol", None)
    return credentials
