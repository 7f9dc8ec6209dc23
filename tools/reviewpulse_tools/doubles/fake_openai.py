"""A local fake of OpenAI's chat-completions API, for tests and benchmarks: a real HTTP server that
the real `openai` client talks to, playing a model that answers ReviewPulse's structured-output
prompts deterministically (VADER stands in for the model).

The response_format's json_schema name selects the answer: "sentiment_batch" labels a batch of
items, "batch_report" summarises a run. On top of that it can be slow (`latency`), rate limited
(`rpm`, a token bucket) and faulty (`script`: one fault per request, in order; `always`: every
request until cleared). Fault names:

- "status:<code>" answers with that HTTP error (500, 503, ...; 429 carries Retry-After: 1);
- "refused" answers 400 with code content_filter, as a provider's content filter does;
- "slow:<seconds>" waits that much longer, then answers normally;
- "malformed" answers content that is not JSON; "truncated" cuts it in half, finish_reason "length";
- "missing" drops the last item, "extra" adds an item whose id was not sent, "duplicate" repeats
  the first item with the opposite label, "schema" answers valid JSON of the wrong shape.
  On a batch_report answer they drop the summary, add a key, repeat the key and make it a number.

Oracle mode (`oracle=Oracle.from_file(path, accuracy=0.9)`, or `--oracle FILE --oracle-accuracy`):
given a labelled file, the fake answers each known text's gold label with probability `accuracy`
and one of the other two labels otherwise, drawn per text from a seeded generator (the same text
always gets the same answer); texts not in the file get the VADER answer and are counted in
stats.oracle_misses. Token usage is counted as always. This measures routing without a real model.

Stats cover the chat-completions endpoint only, so health checks and /_stats never skew them.
The Files and Batch APIs (/v1/files, /v1/batches) are played by fake_batches.BatchDesk
(`server.batches`, or the /_control key "batches"): delay, per-request failures, expiry part-way,
cancellation; their stats are `server.batches.snapshot()` and /_stats' "batches".
The model it plays is doubles.fake_model; the wire (request parsing, faults, rate limit) is
doubles.fake_wire. Dev-only: never shipped to Lambda.

    with FakeOpenAI(rpm=600) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="test")
        server.script(["status:500", "malformed"])

    python -m reviewpulse_tools.doubles.fake_openai --port 8011 --latency 0.5 --rpm 120
"""

from __future__ import annotations

import argparse
import copy
import itertools
import json
import math
import signal
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

from reviewpulse_tools.doubles.fake_batches import BatchDesk
from reviewpulse_tools.doubles.fake_model import (
    DEFAULT_MODEL,
    REFUSED,
    Model,
    Oracle,
    SentimentRequest,
    apply_content_fault,
    count_tokens,
)
from reviewpulse_tools.doubles.fake_wire import (
    BadRequest,
    Call,
    FakeStats,
    Fault,
    Reply,
    TokenBucket,
    check_latency,
    check_rpm,
    error_body,
    parse_call,
    parse_fault,
    rate_limit_reply,
)

__all__ = ["FakeOpenAI", "main"]


class FakeOpenAI:
    """The fake server, listening from construction until close(); a context manager."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        model: str = DEFAULT_MODEL,
        latency: float = 0.0,
        rpm: float | None = None,
        always: str | None = None,
        script: Iterable[str] = (),
        oracle: Oracle | None = None,
    ) -> None:
        self.model = model
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._responses = itertools.count(1)
        self._model = Model(oracle)
        self._stats = FakeStats()
        self._script: deque[Fault] = deque()
        self._always: Fault | None = None
        self._latency = 0.0
        self._bucket: TokenBucket | None = None
        self.latency, self.rpm, self.always = latency, rpm, always
        self.script(script)
        self.batches = BatchDesk(self._answer_body)
        self._server = _Server((host, port), self)
        # A short poll: close() waits up to one interval, and tests open and close a server each.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-openai", daemon=True
        )
        self._thread.start()

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self._server.server_address[0]}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def close(self) -> None:
        if self._closing.is_set():
            return
        self._closing.set()  # wakes requests sleeping out a latency
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> FakeOpenAI:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- behaviour ---------------------------------------------------------------------------

    @property
    def latency(self) -> float:
        return self._latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        self._latency = check_latency(seconds)

    @property
    def rpm(self) -> float | None:
        bucket = self._bucket
        return None if bucket is None else bucket.rpm

    @rpm.setter
    def rpm(self, rpm: float | None) -> None:
        check_rpm(rpm)
        with self._lock:
            self._bucket = None if rpm is None else TokenBucket(rpm, time.monotonic())

    @property
    def always(self) -> str | None:
        fault = self._always
        return None if fault is None else fault.name

    @always.setter
    def always(self, name: str | None) -> None:
        self._always = None if name is None else parse_fault(name)

    def script(self, faults: Iterable[str]) -> None:
        """Replace the pending fault script: one fault per chat-completion request, in order."""
        parsed = [parse_fault(name) for name in faults]
        with self._lock:
            self._script = deque(parsed)

    def config(self) -> dict[str, Any]:
        with self._lock:
            script = [fault.name for fault in self._script]
        return {"model": self.model, "latency": self.latency, "rpm": self.rpm, "always": self.always, "script": script}

    def stats(self) -> FakeStats:
        with self._lock:
            stats = copy.deepcopy(self._stats)
            stats.oracle_misses = self._model.oracle_misses
            return stats

    def reset(self) -> None:
        """Clear stats, script and always; the rate limiter starts full again."""
        with self._lock:
            self._stats = FakeStats()
            self._model.oracle_misses = 0
            self._script.clear()
            self._always = None
            if self._bucket is not None:
                self._bucket = TokenBucket(self._bucket.rpm, time.monotonic())
        self.batches.reset()

    def control(self, settings: Any) -> dict[str, Any]:
        """Apply a /_control body: any of reset (applied first), latency, rpm, always, script, and
        batches (an object of BatchDesk settings)."""
        known = {"reset", "latency", "rpm", "always", "script", "batches"}
        if not isinstance(settings, dict) or not set(settings) <= known:
            raise ValueError(f"expected an object with keys among {sorted(known)}")
        script = settings.get("script", [])
        if not isinstance(script, list):
            raise ValueError("script must be a list of fault names")
        # All or nothing: validate everything before changing anything.
        check_latency(settings.get("latency", 0.0))
        check_rpm(settings.get("rpm"))
        for name in [*script, *([settings["always"]] if settings.get("always") is not None else [])]:
            parse_fault(name)
        batches = settings.get("batches", {})
        if not isinstance(batches, dict):
            raise ValueError("batches must be an object of batch settings")
        if settings.get("reset"):
            self.reset()
        if batches:
            self.batches.configure(batches)
        if "latency" in settings:
            self.latency = settings["latency"]
        if "rpm" in settings:
            self.rpm = settings["rpm"]
        if "always" in settings:
            self.always = settings["always"]
        if "script" in settings:
            self.script(script)
        return self.config()

    # -- the endpoint ------------------------------------------------------------------------

    def complete(self, raw: bytes) -> Reply:
        """Answer one POST /v1/chat/completions body."""
        try:
            call: Call | BadRequest = parse_call(raw)
        except BadRequest as exc:
            call = exc
        with self._lock:
            arrival = time.monotonic()  # under the lock: arrivals are ordered, the bucket never sees time go back
            self._stats.requests += 1
            self._stats.arrivals.append(arrival)
            self._stats.bodies.append(raw.decode("utf-8", errors="replace"))
            if isinstance(call, Call) and isinstance(call.payload, SentimentRequest):
                self._stats.item_counts.append(len(call.payload.items))
                self._stats.ids.append([item_id for item_id, _ in call.payload.items])
                self._stats.texts.append([text for _, text in call.payload.items])
            bucket = self._bucket
            wait = 0.0 if bucket is None else bucket.take(arrival)
            limits = {}
            if bucket is not None:
                limits["x-ratelimit-limit-requests"] = f"{bucket.rpm:g}"
                limits["x-ratelimit-remaining-requests"] = str(math.floor(bucket.tokens))
            # Neither a rate-limited nor an invalid request uses up a scripted fault.
            fault = None
            if not wait and isinstance(call, Call):
                fault = self._script.popleft() if self._script else self._always
        reply = self._answer(call, wait, fault)
        reply.headers |= limits
        with self._lock:
            self._stats.by_status[reply.status] = self._stats.by_status.get(reply.status, 0) + 1
            if reply.status == 429:
                self._stats.rate_limited += 1
            if reply.status == 200:
                self._stats.prompt_tokens += reply.body["usage"]["prompt_tokens"]
                self._stats.completion_tokens += reply.body["usage"]["completion_tokens"]
        return reply

    def _answer_body(self, body: dict[str, Any]) -> tuple[int, dict[str, Any], list[str]]:
        """One request line of a batch, answered as the endpoint answers it (no faults, no rate
        limit: a batch has its own): (status, body, the texts of a sentiment request)."""
        try:
            call: Call | BadRequest = parse_call(json.dumps(body).encode())
        except BadRequest as exc:
            call = exc
        reply = self._answer(call, 0.0, None)
        texts = (
            [text for _, text in call.payload.items]
            if isinstance(call, Call) and isinstance(call.payload, SentimentRequest)
            else []
        )
        return reply.status, reply.body, texts

    def _answer(self, call: Call | BadRequest, wait: float, fault: Fault | None) -> Reply:
        if wait:
            return rate_limit_reply(wait)
        if isinstance(call, BadRequest):
            return Reply(400, error_body(call.message, "invalid_request_error", None, call.param))
        if fault is not None and fault.status == 429:
            return rate_limit_reply(1.0)
        self._closing.wait(self.latency + (fault.seconds if fault is not None else 0.0))
        if fault is not None and fault.kind == REFUSED:
            message = "The response was filtered due to the prompt triggering the content management policy."
            return Reply(400, error_body(message, "invalid_request_error", "content_filter"))
        if fault is not None and fault.status is not None:
            kind = "server_error" if fault.status >= 500 else "invalid_request_error"
            return Reply(fault.status, error_body(f"Injected fault {fault.name}.", kind))
        if isinstance(call.payload, SentimentRequest):
            answer = self._model.sentiment_batch(call.payload)
        else:
            answer = self._model.batch_report(call.payload)
        aspects = call.payload.aspects if isinstance(call.payload, SentimentRequest) else []
        content, finish_reason = apply_content_fault(fault.kind if fault else None, call.schema, answer, aspects)
        completion_tokens = count_tokens(content)
        return Reply(
            200,
            {
                "id": f"chatcmpl-fake{next(self._responses)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": call.model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content, "refusal": None},
                        "finish_reason": finish_reason,
                        "logprobs": None,
                    }
                ],
                "usage": {
                    "prompt_tokens": call.prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": call.prompt_tokens + completion_tokens,
                },
            },
        )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's backlog of 5 drops connections when a benchmark opens many at once.
    request_queue_size = socket.SOMAXCONN

    def __init__(self, address: tuple[str, int], fake: FakeOpenAI) -> None:
        super().__init__(address, _Handler)
        self.fake = fake
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        # Idle keep-alive connections would otherwise outlive the server.
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout, closed connection) is routine here, not a server bug.
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's connection pool expects
    # Headers and body go out in two writes: without this, Nagle and delayed ACKs add ~40 ms on keep-alive.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests and benchmarks want quiet; /_stats tells what happened

    def do_GET(self) -> None:
        fake, path = self.server.fake, urlsplit(self.path).path
        if path == "/v1/models":
            model = {"id": fake.model, "object": "model", "created": 0, "owned_by": "reviewpulse"}
            self.reply(Reply(200, {"object": "list", "data": [model]}))
        elif path == "/_stats":
            self.reply(Reply(200, fake.stats().to_json() | {"batches": asdict(fake.batches.snapshot())}))
        elif path.startswith("/v1/files/") and path.endswith("/content"):
            content = fake.batches.content(path.removeprefix("/v1/files/").removesuffix("/content"))
            if content is None:
                self.not_found()
            else:
                self.reply_bytes(content)
        elif path.startswith("/v1/batches/"):
            self.reply(Reply(*fake.batches.retrieve(path.removeprefix("/v1/batches/"))))
        elif path == "/_control":
            self.reply(Reply(200, fake.config()))
        else:
            self.not_found()

    def do_POST(self) -> None:
        fake, path = self.server.fake, urlsplit(self.path).path
        try:
            length = int(self.headers.get("Content-Length", 0))
            if length < 0:
                raise ValueError(length)
        except ValueError:
            self.close_connection = True
            self.reply(Reply(400, error_body("Bad Content-Length.", "invalid_request_error")))
            return
        raw = self.rfile.read(length)
        if path == "/v1/chat/completions":
            self.reply(fake.complete(raw))
        elif path == "/v1/files":
            self.reply(Reply(*fake.batches.upload(self.headers.get("Content-Type", ""), raw)))
        elif path == "/v1/batches":
            self.reply(Reply(*fake.batches.create(raw)))
        elif path.startswith("/v1/batches/") and path.endswith("/cancel"):
            self.reply(Reply(*fake.batches.cancel_batch(path.removeprefix("/v1/batches/").removesuffix("/cancel"))))
        elif path == "/_control":
            try:
                self.reply(Reply(200, fake.control(json.loads(raw or b"{}"))))
            except ValueError as exc:  # JSONDecodeError included
                self.reply(Reply(400, error_body(str(exc), "invalid_request_error")))
        else:
            self.not_found()

    def not_found(self) -> None:
        self.reply(Reply(404, error_body(f"Unknown URL {self.path}.", "invalid_request_error", "unknown_url")))

    def reply_bytes(self, data: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def reply(self, reply: Reply) -> None:
        data = json.dumps(reply.body).encode()
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reviewpulse_tools.doubles.fake_openai", description="Serve a fake OpenAI chat-completions API."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8011)
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before every answer")
    parser.add_argument("--rpm", type=float, default=None, help="requests-per-minute cap")
    parser.add_argument("--always", default=None, help="a fault applied to every request, e.g. status:503")
    parser.add_argument("--script", default="", help="comma-separated faults for the first requests")
    parser.add_argument("--oracle", type=Path, default=None, help="JSON Lines of {text, label}: answer gold labels")
    parser.add_argument("--oracle-accuracy", type=float, default=0.9, help="how often the oracle answers gold")
    parser.add_argument("--oracle-seed", type=int, default=0)
    args = parser.parse_args(argv)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        server = FakeOpenAI(
            host=args.host,
            port=args.port,
            model=args.model,
            latency=args.latency,
            rpm=args.rpm,
            always=args.always,
            script=[name for name in args.script.split(",") if name],
            oracle=None
            if args.oracle is None
            else Oracle.from_file(args.oracle, args.oracle_accuracy, args.oracle_seed),
        )
    except ValueError as exc:
        parser.error(str(exc))
    with server:
        print(server.base_url, flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
