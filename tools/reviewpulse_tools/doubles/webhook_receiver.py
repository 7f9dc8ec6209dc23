"""A real HTTP receiver of ReviewPulse webhooks, for tests and local runs: it checks each delivery's
signature as the README tells receivers to, records what came, and can be told to fail.

    with WebhookReceiver() as receiver:        # http://127.0.0.1:<port>/hooks
        receiver.secret = "whsec_..."          # from POST /v1/webhooks
        receiver.fail_next(2)                  # answer 500 to the next two deliveries
        ...
        receiver.deliveries                    # [Delivery(event_id, valid, status, body), ...]
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from reviewpulse.webhooks.signing import EVENT_ID_HEADER, SIGNATURE_HEADER, verify


@dataclass(frozen=True)
class Delivery:
    event_id: str | None  # the payload's id
    header_event_id: str | None
    valid: bool  # the signature checked out with the receiver's secret
    status: int  # what the receiver answered
    body: dict[str, Any] | None
    path: str
    signature: str = ""  # the ReviewPulse-Signature header as it came (to check with another secret)
    raw: bytes = b""  # the body as it came


class WebhookReceiver:
    def __init__(self, host: str = "127.0.0.1", *, secret: str | None = None) -> None:
        self.secret = secret
        self.deliveries: list[Delivery] = []
        self._failures = 0
        self._redirect = False
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                status, location = receiver._answer(self.path, self.headers, raw)
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:  # quiet
                return

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="webhook-receiver", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/hooks"

    def fail_next(self, count: int) -> None:
        """Answer 500 to the next `count` deliveries."""
        with self._lock:
            self._failures = count

    def redirect_all(self) -> None:
        """Answer every delivery with a 302 to another path (a sender must not follow it)."""
        with self._lock:
            self._redirect = True

    def accepted(self) -> list[Delivery]:
        return [d for d in self.deliveries if d.valid and 200 <= d.status < 300]

    def _answer(self, path: str, headers: Any, raw: bytes) -> tuple[int, str | None]:
        valid = self.secret is not None and verify(
            self.secret, headers.get(SIGNATURE_HEADER, ""), raw, int(time.time())
        )
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        with self._lock:
            location = None
            if not valid:
                status = 401
            elif self._redirect:
                status, location = 302, "/elsewhere"
            elif self._failures > 0:
                self._failures -= 1
                status = 500
            else:
                status = 204
            event_id = body.get("id") if isinstance(body, dict) else None
            self.deliveries.append(
                Delivery(
                    event_id,
                    headers.get(EVENT_ID_HEADER),
                    valid,
                    status,
                    body,
                    path,
                    headers.get(SIGNATURE_HEADER, ""),
                    raw,
                )
            )
        return status, location

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> WebhookReceiver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
