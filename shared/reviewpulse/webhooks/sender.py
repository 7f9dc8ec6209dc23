"""The HTTP POST of one delivery, to the one address the SSRF guard checked.

Written on the standard library rather than an HTTP client library on purpose: the connection must
go to the address that was checked (a library would resolve the host again, and a DNS answer that
changed in between would reach an address nobody checked), while TLS still verifies the
certificate for the host name; and no redirect may be followed (http.client follows none).
"""

from __future__ import annotations

import http.client
import socket
import ssl
from dataclasses import dataclass

from reviewpulse.webhooks.addresses import Address, Target

USER_AGENT = "ReviewPulse-Webhooks/1"
# The receiver's answer is not read beyond its status: only so much of it is drained.
_MAX_RESPONSE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Sent:
    status: int | None  # the HTTP status, or None when no answer came
    reason: str  # a short reason for a failure, never the receiver's body


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, address: Address, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=context)
        self._address = str(address)

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, address: Address, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = str(address)

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def post(
    target: Target,
    address: Address,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
    context: ssl.SSLContext | None = None,
) -> Sent:
    """`context` verifies the receiver's certificate for the target's host name (the system's
    trusted CAs unless a test passes its own)."""
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = _PinnedHTTPSConnection(target, address, timeout, context or ssl.create_default_context())
    else:
        connection = _PinnedHTTPConnection(target, address, timeout)
    try:
        connection.request(
            "POST",
            target.path,
            body=body,
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
        )
        response = connection.getresponse()
        response.read(_MAX_RESPONSE_BYTES)
        return Sent(response.status, "" if 200 <= response.status < 300 else f"HTTP {response.status}")
    except ssl.SSLError:
        return Sent(None, "TLS handshake failed")
    except TimeoutError:
        return Sent(None, "timed out")
    except OSError as exc:
        return Sent(None, f"connection failed ({type(exc).__name__})")
    except http.client.HTTPException as exc:
        return Sent(None, f"bad HTTP answer ({type(exc).__name__})")
    finally:
        connection.close()
