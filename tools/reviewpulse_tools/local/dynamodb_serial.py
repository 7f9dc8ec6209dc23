"""moto's DynamoDB, one request at a time, in the local stack's AWS process.

DynamoDB applies each write to an item atomically; moto does not. Its werkzeug server answers
every request on a thread of its own, and an UpdateItem reads the item's attributes, computes
the new ones and writes them back, in place, with nothing held between. Under the million-row
run's load (1,000 chunks counted on one task item by the analyzers while the finalizer and the
pagers read it) two counts of the same task interleaved: the task ended with all 1,000 chunks
in its `parts` map but 992,000 of its 1,000,000 rows counted, so it never became ready; and a
read that iterated an item while another thread changed it failed with a 500 ("dictionary
changed size during iteration", 13 times in the run before).

So every DynamoDB and DynamoDB Streams request (told by its X-Amz-Target header) runs under one
lock, its answer produced inside it. The process's other services keep their threads. It costs
no CPU parallelism: moto runs under one interpreter lock anyway.
Installed by the AWS processes only (aws_process._serve); the tests' in-process moto keeps its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

TARGETS = ("DynamoDB_", "DynamoDBStreams_")


class OneDynamoDBRequestAtATime:
    """WSGI middleware: DynamoDB's requests to `app` one at a time, any other as it comes."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith(TARGETS):
            return self.app(environ, start_response)
        with self._lock:
            answer = self.app(environ, start_response)
            try:
                return [b"".join(answer)]  # the whole answer, read while no other write runs
            finally:
                close = getattr(answer, "close", None)
                if close is not None:
                    close()
