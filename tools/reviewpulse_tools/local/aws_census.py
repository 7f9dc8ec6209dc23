"""What each AWS action costs the local stack's AWS processes: requests, CPU and wall time.

The load report (bench/load.py) asks each AWS process for these before and after the load, and
prints where moto's CPU went by action (a status poll's GetItem, the pollers' ReceiveMessage, the
stream's GetRecords, ...) and how long each waited: DynamoDB's one-at-a-time lock shows as wall
time far above CPU time. CPU is the request thread's own (time.thread_time), so a request waiting
for a lock or the interpreter costs nothing here; wall time is from when moto's app is called to
when the server has sent its answer. The figures are the process's since it started, at GET CENSUS_PATH (answered
here, never by moto: no AWS API has that path).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

CENSUS_PATH = "/_reviewpulse/aws-requests"


def action(environ: dict[str, Any]) -> str:
    """ "DynamoDB GetItem", "SQS ReceiveMessage" (JSON protocols name it in X-Amz-Target), or
    "S3 PUT" for the REST ones (S3 is the only REST service the stack calls)."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        service, _, operation = target.rpartition(".")
        service = {"DynamoDB_20120810": "DynamoDB", "DynamoDBStreams_20120810": "DynamoDB Streams"}.get(
            service, service.removeprefix("Amazon").removeprefix("AWS")
        )
        return f"{service} {operation}"
    return f"S3 {environ.get('REQUEST_METHOD', '?')}"


class Census:
    """WSGI middleware: counts every request to `app` by action, with its CPU and wall seconds."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.actions: dict[str, list[float]] = {}  # action → [requests, CPU seconds, wall seconds]
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == CENSUS_PATH and environ.get("REQUEST_METHOD") == "GET":
            with self._lock:
                body = json.dumps(self.actions).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        began = time.thread_time(), time.monotonic()
        name = action(environ)

        def done() -> None:
            cpu, wall = time.thread_time() - began[0], time.monotonic() - began[1]
            with self._lock:
                counts = self.actions.setdefault(name, [0, 0.0, 0.0])
                counts[0] += 1
                counts[1] += cpu
                counts[2] += wall

        return _Counted(self.app(environ, start_response), done)


class _Counted:
    """An answer passed on as it is (large S3 reads stream), counted when the server closes it."""

    def __init__(self, answer: Iterable[bytes], done: Callable[[], None]) -> None:
        self.answer, self.done = answer, done

    def __iter__(self) -> Any:
        return iter(self.answer)

    def close(self) -> None:
        try:
            close = getattr(self.answer, "close", None)
            if close is not None:
                close()
        finally:
            self.done()


__all__ = ["CENSUS_PATH", "Census", "action"]
