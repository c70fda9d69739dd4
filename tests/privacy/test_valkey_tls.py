"""Valkey in transit: with a rediss:// URL and the server CA in VALKEY_CA_PEM (or a file), the
functions' connection arguments talk TLS and verify the server — proven against the real
Valkey behind a TLS terminator whose certificate a test CA signed; a server signed by another
CA is refused."""

from __future__ import annotations

import contextlib
import datetime
import socket
import ssl
import threading
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
import redis
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from shared import valkey
from shared.config import Config, get_config
from shared.store.live import keys
from shared.valkey import tls_arguments


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _ca() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("test valkey CA"))
        .issuer_name(_name("test valkey CA"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _server_cert(ca_key, ca_cert) -> tuple[bytes, bytes]:  # type: ignore[no-untyped-def]
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("valkey"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .sign(ca_key, hashes.SHA256())
    )
    return (
        cert.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture
def tls_valkey(stack, tmp_path) -> Iterator[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(rediss URL, CA PEM) of a TLS terminator in front of the stack's Valkey."""
    ca_key, ca_cert = _ca()
    cert_pem, key_pem = _server_cert(ca_key, ca_cert)
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    (tmp_path / "key.pem").write_bytes(key_pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    upstream = urlparse(stack.valkey_url)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    stop = threading.Event()

    def pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.close()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                raw, _ = listener.accept()
            except TimeoutError:
                continue
            try:
                secured = context.wrap_socket(raw, server_side=True)
            except (ssl.SSLError, OSError):
                raw.close()
                continue
            plain = socket.create_connection((upstream.hostname, upstream.port))
            threading.Thread(target=pipe, args=(secured, plain), daemon=True).start()
            threading.Thread(target=pipe, args=(plain, secured), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"rediss://127.0.0.1:{port}/0", _pem(ca_cert)
    finally:
        stop.set()
        thread.join(timeout=2)
        listener.close()


def _client(config: Config) -> redis.Redis:
    return redis.Redis.from_url(
        config.valkey_url, socket_timeout=2, decode_responses=True, **tls_arguments(config)
    )


def test_rediss_with_the_server_ca_talks_tls_to_valkey(tls_valkey, tmp_path):
    url, ca_pem = tls_valkey
    (tmp_path / "ca.pem").write_text(ca_pem)

    for config in (
        Config(valkey_url=url, valkey_ca_pem=ca_pem),
        Config(valkey_url=url, valkey_ca_cert=str(tmp_path / "ca.pem")),
    ):
        client = _client(config)
        assert client.set("tls:probe", "ok", ex=10)
        assert client.get("tls:probe") == "ok"
        client.close()


def test_a_server_signed_by_another_ca_is_refused(tls_valkey):
    url, _ = tls_valkey
    _, other_ca = _ca()

    client = _client(Config(valkey_url=url, valkey_ca_pem=_pem(other_ca)))

    with pytest.raises(redis.ConnectionError):
        client.ping()


def test_plain_urls_get_no_tls_arguments():
    assert tls_arguments(Config(valkey_url="redis://127.0.0.1:6379/0", valkey_ca_pem="x")) == {}


def test_the_heartbeats_own_connection_talks_tls_too(tls_valkey, monkeypatch):
    """The hot path's script call (valkey.HotScript) builds its connection like the pool's:
    TLS with the configured CA, refused with another CA."""
    url, ca_pem = tls_valkey
    arguments = (0, 0, "", 60, 0, 1, 0, "")
    unknown = ("presence:uid:no-such-uid", *keys.PRESENCE)
    try:
        for pem, works in ((ca_pem, True), (_pem(_ca()[1]), False)):
            monkeypatch.setenv("VALKEY_URL", url)
            monkeypatch.setenv("VALKEY_CA_PEM", pem)
            get_config.cache_clear()
            valkey.reset_client()
            if works:
                assert valkey.hot_script("presence_heartbeat")(unknown, arguments) == [
                    "unknown",
                    "",
                ]
                assert isinstance(valkey._own_connection(), redis.SSLConnection)
            else:
                with pytest.raises(redis.ConnectionError):
                    valkey.hot_script("presence_heartbeat")(unknown, arguments)
    finally:
        monkeypatch.undo()
        get_config.cache_clear()
        valkey.reset_client()
