"""The webhook POST goes to the address the SSRF guard checked, while TLS verifies the
certificate for the URL's host name (not the address), and a certificate nobody trusts is refused."""

from __future__ import annotations

import ipaddress
import ssl
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from reviewpulse.webhooks.addresses import Target
from reviewpulse.webhooks.sender import post

HOST = "hooks.test"  # resolves nowhere: only the pinned address makes the connection possible


@pytest.fixture
def tls_receiver(tmp_path):
    """An HTTPS server on 127.0.0.1 whose self-signed certificate names hooks.test."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    received: list[tuple[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.headers["Host"], self.path))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert_file, key_file)
    server.socket = server_context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    trusting = ssl.create_default_context(cafile=str(cert_file))
    yield server.server_address[1], trusting, received
    server.shutdown()
    server.server_close()


def test_the_post_reaches_the_pinned_address_with_the_hosts_certificate(tls_receiver):
    port, trusting, received = tls_receiver
    sent = post(Target("https", HOST, port, "/in?x=1"), ipaddress.ip_address("127.0.0.1"), b"{}", {}, 5, trusting)
    assert (sent.status, sent.reason) == (204, "")
    assert received == [(f"{HOST}:{port}", "/in?x=1")]


def test_a_certificate_for_another_name_or_one_nobody_trusts_is_refused(tls_receiver):
    port, trusting, received = tls_receiver
    address = ipaddress.ip_address("127.0.0.1")
    # The same server reached under another name: its certificate does not name it
    assert post(Target("https", "other.test", port, "/"), address, b"{}", {}, 5, trusting).status is None
    # The system's trust store (the default) does not know the self-signed certificate
    refused = post(Target("https", HOST, port, "/"), address, b"{}", {}, 5)
    assert (refused.status, refused.reason) == (None, "TLS handshake failed")
    assert received == []
