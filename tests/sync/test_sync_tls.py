"""TLS is always verified: a test CA works only when given through the CA setting."""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from desktop.errors import InvalidInput, UntrustedServer
from national import Faults, ServerConfig, ServerThread
from sync.device import enrol, load_credentials
from sync.http import Api, ApiSettings, Retryable, network_settings


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@pytest.fixture
def test_ca(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA, as a school's TLS-inspecting proxy would have, and a server cert."""
    now = dt.datetime.now(tz=dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("OneSEND test CA"))
          .issuer_name(_name("OneSEND test CA")).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                       crl_sign=True, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False,
                                       decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name("127.0.0.1"))
            .issuer_name(ca.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_pem, cert_pem, key_pem = (tmp_path / n for n in ("ca.pem", "server.pem", "server.key"))
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(_pem_key(key))
    return ca_pem, cert_pem, key_pem


@pytest.fixture
def tls_server(tmp_path: Path, test_ca: tuple[Path, Path, Path]) -> Iterator[ServerThread]:
    _, cert, key = test_ca
    config = ServerConfig(tmp_path / "tls-server", faults=Faults(retry_after=0))
    with ServerThread(config, tls_cert=cert, tls_key=key) as server:
        yield server


def test_tls_with_the_test_ca_in_the_ca_setting_works_and_without_it_fails_clearly(
    tls_server: ServerThread, test_ca: tuple[Path, Path, Path],
    make_device: Callable[..., Any], monkeypatch: pytest.MonkeyPatch,
) -> None:
    ca_pem = test_ca[0]
    assert tls_server.url.startswith("https://127.0.0.1:")
    device = make_device("school", enrolled=False)
    # Not silently from the environment: these must change nothing.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_pem))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(ca_pem))
    with pytest.raises(UntrustedServer, match=(
            r"^The server's certificate is not trusted \(.+\)\. If this network inspects "
            r"TLS, ask IT to set its CA bundle in OneSEND's network\.json \(or give it with "
            r"--ca-bundle\)\.$")):
        enrol(device.vault, tls_server.url, tls_server.issue_code(), device.settings)

    settings = ApiSettings(**{**device.settings.__dict__, "ca_bundle": ca_pem})
    enrol(device.vault, tls_server.url, tls_server.issue_code(), settings)
    assert load_credentials(device.vault).ca_bundle == str(ca_pem)
    device.add(3)
    report = device.sync()  # the CA chosen at enrolment is kept for every later sync
    assert report.accepted == 3
    assert len(tls_server.store.holdings()) == 3


def test_a_ca_bundle_that_is_not_pem_is_refused(
    tmp_path: Path, tls_server: ServerThread, make_device: Callable[..., Any]
) -> None:
    bad = tmp_path / "not-a-ca.pem"
    bad.write_text("hello")
    device = make_device("school", enrolled=False)
    settings = ApiSettings(ca_bundle=bad)
    with pytest.raises(InvalidInput, match="cannot be read as PEM certificates"):
        enrol(device.vault, tls_server.url, tls_server.issue_code(), settings)


def test_plain_http_is_refused_for_anything_but_this_computer(
    make_device: Callable[..., Any]
) -> None:
    device = make_device("school", enrolled=False)
    with pytest.raises(InvalidInput, match=r"Only https:// server addresses are allowed"):
        enrol(device.vault, "http://192.0.2.1:8443", "X", device.settings)


def test_the_administrators_network_settings_are_used_and_checked(
    tmp_path: Path, tls_server: ServerThread, test_ca: tuple[Path, Path, Path],
    make_device: Callable[..., Any],
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    assert network_settings(data_dir) is None  # no file: the system's trust, no proxy
    settings_file = data_dir / "network.json"
    settings_file.write_text(json.dumps({"ca_bundle": str(test_ca[0])}))
    settings = network_settings(data_dir)
    assert settings is not None
    assert settings.ca_bundle == test_ca[0]
    assert settings.proxy is None
    device = make_device("school", enrolled=False)
    # trusted through the file
    enrol(device.vault, tls_server.url, tls_server.issue_code(), settings)
    assert load_credentials(device.vault).ca_bundle == str(test_ca[0])

    for bad, fragment in (("{not json", "not valid JSON"),
                          (json.dumps({"ca_bundle": str(tmp_path / "nowhere.pem")}),
                           "is not a file"),
                          (json.dumps({"verify": False}), "must be a JSON object"),
                          (json.dumps({"proxy": "ftp://x"}), "not a proxy address")):
        settings_file.write_text(bad)
        with pytest.raises(InvalidInput, match=fragment):
            network_settings(data_dir)


def _der(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content


def _der_oid(dotted: str) -> bytes:
    parts = [int(part) for part in dotted.split(".")]
    out = bytes([parts[0] * 40 + parts[1]])
    for part in parts[2:]:
        rest = part
        chunk = [rest & 0x7F]
        rest >>= 7
        while rest:
            chunk.append(0x80 | (rest & 0x7F))
            rest >>= 7
        out += bytes(reversed(chunk))
    return _der(0x06, out)


def openssl_subject_hash(name: x509.Name) -> str:
    """The file name OpenSSL looks a CA up by in a certificate folder (`c_rehash`): the first
    four bytes, little-endian, of SHA-1 over the name's canonical encoding (each value as
    lower-case UTF8String with its spaces collapsed, the RDN sets without the outer SEQUENCE)."""
    canonical = b""
    for rdn in name.rdns:
        canonical += _der(0x31, b"".join(
            _der(0x30, _der_oid(attribute.oid.dotted_string)
                 + _der(0x0C, " ".join(str(attribute.value).split()).lower().encode()))
            for attribute in rdn))
    digest = hashes.Hash(hashes.SHA1())  # OpenSSL's lookup name, not security
    digest.update(canonical)
    return f"{int.from_bytes(digest.finalize()[:4], 'little'):08x}"


def test_ssl_cert_file_and_ssl_cert_dir_cannot_widen_trust_but_network_json_can(
    tmp_path: Path, tls_server: ServerThread, test_ca: tuple[Path, Path, Path],
    make_device: Callable[..., Any], monkeypatch: pytest.MonkeyPatch,
) -> None:
    ca_pem = test_ca[0]
    ca = x509.load_pem_x509_certificate(ca_pem.read_bytes())
    folder = tmp_path / "cert-dir"
    folder.mkdir()
    (folder / f"{openssl_subject_hash(ca.subject)}.0").write_bytes(ca_pem.read_bytes())
    device = make_device("school", enrolled=False)
    for variable, value in (("SSL_CERT_FILE", ca_pem), ("SSL_CERT_DIR", folder)):
        with monkeypatch.context() as env:
            env.setenv(variable, str(value))
            with pytest.raises(UntrustedServer, match=r"^The server's certificate is not "
                               r"trusted \(.+\)\. If this network inspects TLS"):
                enrol(device.vault, tls_server.url, tls_server.issue_code(), device.settings)
    assert tls_server.store.holdings() == []

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "network.json").write_text(json.dumps({"ca_bundle": str(ca_pem)}))
    settings = network_settings(data_dir)
    assert settings is not None
    # the administrator's CA: trusted
    enrol(device.vault, tls_server.url, tls_server.issue_code(), settings)
    assert load_credentials(device.vault).server_url == tls_server.url


def test_headers_trickled_over_tls_are_cut_at_the_deadline_and_not_called_untrusted(
    test_ca: tuple[Path, Path, Path],
) -> None:
    """A TLS server that shakes hands, then sends its headers a byte at a time: the watchdog
    cuts the encrypted socket at the deadline, and the cut is not mistaken for bad TLS."""
    ca_pem, cert, key = test_ca
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    stop = threading.Event()
    trickled = []

    def serve() -> None:
        raw, _ = listener.accept()
        with contextlib.suppress(OSError), context.wrap_socket(raw, server_side=True) as tls:
            tls.recv(65536)  # the request
            tls.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            ends = time.monotonic() + 30
            while time.monotonic() < ends and not stop.wait(0.2):
                tls.sendall(b"a")
                trickled.append(1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    api = Api(f"https://127.0.0.1:{port}", ApiSettings(
        connect_timeout=2, read_timeout=5, deadline=1, max_attempts=1, ca_bundle=ca_pem))
    try:
        started = time.monotonic()
        with pytest.raises(Retryable, match="deadline passed"):
            api.once("GET", "/v1/health")
        elapsed = time.monotonic() - started
    finally:
        api.close()
        stop.set()
        thread.join(timeout=10)
        listener.close()
    assert len(trickled) >= 2
    assert elapsed < 1 + 3
