"""OpenAI's Files and Batch APIs, played by the fake server (fake_openai.FakeOpenAI owns one).

    POST /v1/files                multipart: file + purpose=batch     → a file object
    GET  /v1/files/{id}/content   the file's bytes (input, output or error JSONL)
    POST /v1/batches              {input_file_id, endpoint, completion_window, metadata}
    GET  /v1/batches/{id}         the batch; it runs when `delay` seconds have passed since creation
    POST /v1/batches/{id}/cancel  cancelling → cancelled, with the requests answered so far

Each request line is answered exactly as /v1/chat/completions would answer its body (the same
deterministic model, the same token counting). On top of that, as a provider does:

- `failure_rate`: the share of requests that fail (HTTP 500 in the error file), drawn per request
  (its batch and custom_id) from a seeded hash: the same run fails the same requests, and a
  resubmission, in a new batch, gets a fresh draw;
- `expire`: the next N batches expire part-way: the first `partial` share of their requests is
  answered (output file), the rest is in the error file with code batch_expired;
- `cancel`: the next N batches are cancelled by the provider (as from its dashboard), answering the
  same first share; a cancel through the API does the same;
- `fail`: the next N batches fail validation as a whole (status failed, no output).

Dev-only: never shipped to Lambda.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import itertools
import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

TERMINAL = ("completed", "failed", "expired", "cancelled")
EXPIRED_CODE = "batch_expired"
CANCELLED_CODE = "batch_cancelled"


@dataclass
class BatchStats:
    """What the batch side has seen: batches created, requests answered, failed and expired."""

    files: int = 0
    batches: int = 0
    cancels: int = 0
    requests: int = 0  # request lines of every batch that ran
    answered: int = 0
    failed: int = 0
    expired: int = 0  # expired or cancelled before they were answered
    prompt_tokens: int = 0
    completion_tokens: int = 0
    custom_ids: list[str] = field(default_factory=list)  # of every request line that ran
    texts: list[list[str]] = field(default_factory=list)  # of every sentiment request line that ran
    uploads: list[str] = field(default_factory=list)  # every uploaded file as received (what left the client)


def check_fraction(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError(f"{name} must be a number within 0..1, not {value!r}")
    return float(value)


def check_count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, not {value!r}")
    return value


def fails(request: str, rate: float, seed: int) -> bool:
    """A seeded draw per request (sha256, not random: stable across processes)."""
    if rate <= 0:
        return False
    digest = hashlib.sha256(f"{seed}:{request}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


def parse_multipart(content_type: str, raw: bytes) -> dict[str, tuple[str | None, bytes]]:
    """The form's fields by name: (filename, bytes). The standard library's MIME parser reads
    multipart/form-data as it reads mail; no form library is needed for a test double."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw
    )
    fields: dict[str, tuple[str | None, bytes]] = {}
    if not message.is_multipart():
        return fields
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str):
            fields[name] = (part.get_filename(), part.get_payload(decode=True) or b"")
    return fields


class BatchDesk:
    """Files and batches in memory. `answer(body)` answers one chat-completions body as the
    endpoint would: (status, response body, prompt_tokens, completion_tokens, texts)."""

    def __init__(self, answer: Callable[[dict[str, Any]], tuple[int, dict[str, Any], list[str]]]) -> None:
        self._answer = answer
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._files: dict[str, tuple[dict[str, Any], bytes]] = {}
        self._batches: dict[str, dict[str, Any]] = {}
        self._plans: dict[str, str] = {}  # batch id → "expire" | "cancel" | "fail" (decided at creation)
        self.stats = BatchStats()
        self.delay = 0.0
        self.failure_rate = 0.0
        self.partial = 0.5
        self.seed = 0
        self.expire = 0
        self.cancel = 0
        self.fail = 0

    # -- control -----------------------------------------------------------------------------

    KNOWN = frozenset({"delay", "failure_rate", "partial", "seed", "expire", "cancel", "fail"})

    def configure(self, settings: dict[str, Any]) -> None:
        unknown = set(settings) - self.KNOWN
        if unknown:
            raise ValueError(f"unknown batch settings {sorted(unknown)}; expected some of {sorted(self.KNOWN)}")
        delay = settings.get("delay", self.delay)
        if isinstance(delay, bool) or not isinstance(delay, int | float) or not math.isfinite(delay) or delay < 0:
            raise ValueError(f"delay must be a non-negative number of seconds, not {delay!r}")
        failure_rate = check_fraction("failure_rate", settings.get("failure_rate", self.failure_rate))
        partial = check_fraction("partial", settings.get("partial", self.partial))
        counts = {
            name: check_count(name, settings.get(name, getattr(self, name))) for name in ("expire", "cancel", "fail")
        }
        seed = check_count("seed", settings.get("seed", self.seed))
        with self._lock:
            self.delay, self.failure_rate, self.partial, self.seed = float(delay), failure_rate, partial, seed
            self.expire, self.cancel, self.fail = counts["expire"], counts["cancel"], counts["fail"]

    def config(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in sorted(self.KNOWN)}

    def reset(self) -> None:
        with self._lock:
            self._files.clear()
            self._batches.clear()
            self._plans.clear()
            self.stats = BatchStats()
            self.delay, self.failure_rate, self.partial, self.seed = 0.0, 0.0, 0.5, 0
            self.expire = self.cancel = self.fail = 0

    def snapshot(self) -> BatchStats:
        with self._lock:
            return BatchStats(**{k: list(v) if isinstance(v, list) else v for k, v in vars(self.stats).items()})

    # -- files -------------------------------------------------------------------------------

    def upload(self, content_type: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        fields = parse_multipart(content_type, raw)
        if "file" not in fields:
            return 400, _error("A 'file' field is required.", "file")
        purpose = fields.get("purpose", (None, b""))[1].decode()
        if purpose != "batch":
            return 400, _error("This fake only stores files of purpose 'batch'.", "purpose")
        filename, content = fields["file"]
        with self._lock:
            self.stats.uploads.append(content.decode("utf-8", errors="replace"))
        return 200, self._store(filename or "upload.jsonl", content, "batch")

    def _store(self, filename: str, content: bytes, purpose: str) -> dict[str, Any]:
        with self._lock:
            file_id = f"file-fake{next(self._ids)}"
            self.stats.files += 1
        info = {
            "id": file_id,
            "object": "file",
            "bytes": len(content),
            "created_at": int(time.time()),
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
        }
        with self._lock:
            self._files[file_id] = (info, content)
        return info

    def content(self, file_id: str) -> bytes | None:
        with self._lock:
            stored = self._files.get(file_id)
        return None if stored is None else stored[1]

    # -- batches -----------------------------------------------------------------------------

    def create(self, raw: bytes) -> tuple[int, dict[str, Any]]:
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            return 400, _error("The body must be JSON.", None)
        if not isinstance(body, dict):
            return 400, _error("The body must be an object.", None)
        if body.get("endpoint") != "/v1/chat/completions":
            return 400, _error("This fake batches /v1/chat/completions only.", "endpoint")
        if body.get("completion_window") != "24h":
            return 400, _error("completion_window must be 24h.", "completion_window")
        if self.content(str(body.get("input_file_id"))) is None:
            return 404, _error("No such input file.", "input_file_id")
        now = int(time.time())
        with self._lock:
            batch_id = f"batch_fake{next(self._ids)}"
            self.stats.batches += 1
            for plan in ("fail", "expire", "cancel"):
                if getattr(self, plan):
                    setattr(self, plan, getattr(self, plan) - 1)
                    self._plans[batch_id] = plan
                    break
            batch = {
                "id": batch_id,
                "object": "batch",
                "endpoint": body["endpoint"],
                "input_file_id": body["input_file_id"],
                "completion_window": "24h",
                "status": "validating",
                "created_at": now,
                "expires_at": now + 24 * 3600,
                "output_file_id": None,
                "error_file_id": None,
                "request_counts": {"total": 0, "completed": 0, "failed": 0},
                "metadata": body.get("metadata"),
                "_ready_at": time.monotonic() + self.delay,
            }
            self._batches[batch_id] = batch
        return 200, _public(batch)

    def retrieve(self, batch_id: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            batch = self._batches.get(batch_id)
        if batch is None:
            return 404, _error("No such batch.", "batch_id")
        self._advance(batch)
        return 200, _public(batch)

    def cancel_batch(self, batch_id: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            batch = self._batches.get(batch_id)
            if batch is not None:
                self.stats.cancels += 1
        if batch is None:
            return 404, _error("No such batch.", "batch_id")
        if batch["status"] not in TERMINAL:
            # A cancel takes effect before the batch would have run: its answered share is kept.
            self._run(batch, "cancel")
        return 200, _public(batch)

    def _advance(self, batch: dict[str, Any]) -> None:
        if batch["status"] in TERMINAL:
            return
        if time.monotonic() < batch["_ready_at"]:
            batch["status"] = "in_progress"
            return
        self._run(batch, self._plans.get(batch["id"]))

    def _run(self, batch: dict[str, Any], plan: str | None) -> None:
        """Answer the batch's requests once, under the plan decided at creation."""
        with self._lock:
            if batch["status"] in TERMINAL or batch.get("_running"):
                return
            batch["_running"] = True
        if plan == "fail":
            batch.update(
                status="failed",
                failed_at=int(time.time()),
                errors={"object": "list", "data": [{"code": "invalid_request", "message": "Injected failure."}]},
            )
            return
        lines = [
            json.loads(line) for line in (self.content(batch["input_file_id"]) or b"").splitlines() if line.strip()
        ]
        answered_share = len(lines) if plan is None else math.floor(len(lines) * self.partial)
        outputs, errors = [], []
        for n, line in enumerate(lines):
            custom_id = line.get("custom_id")
            record = {"id": f"batch_req_fake{batch['id']}_{n}", "custom_id": custom_id}
            with self._lock:
                self.stats.requests += 1
                self.stats.custom_ids.append(str(custom_id))
            if n >= answered_share:
                code = EXPIRED_CODE if plan == "expire" else CANCELLED_CODE
                errors.append(record | {"response": None, "error": {"code": code, "message": "Not processed in time."}})
                with self._lock:
                    self.stats.expired += 1
                continue
            if fails(f"{batch['id']}/{custom_id}", self.failure_rate, self.seed):
                body = _error("Injected failure of one request.", None, "server_error")
                errors.append(
                    record | {"response": {"status_code": 500, "request_id": "", "body": body}, "error": None}
                )
                with self._lock:
                    self.stats.failed += 1
                continue
            status, body, texts = self._answer(line.get("body") or {})
            target = outputs if status == 200 else errors
            target.append(record | {"response": {"status_code": status, "request_id": "", "body": body}, "error": None})
            with self._lock:
                if status == 200:
                    self.stats.answered += 1
                    self.stats.prompt_tokens += body["usage"]["prompt_tokens"]
                    self.stats.completion_tokens += body["usage"]["completion_tokens"]
                    if texts:
                        self.stats.texts.append(texts)
                else:
                    self.stats.failed += 1
        completed = sum(1 for o in outputs)
        batch["request_counts"] = {"total": len(lines), "completed": completed, "failed": len(lines) - completed}
        if outputs:
            batch["output_file_id"] = self._store("output.jsonl", _jsonl(outputs), "batch_output")["id"]
        if errors:
            batch["error_file_id"] = self._store("errors.jsonl", _jsonl(errors), "batch_output")["id"]
        now = int(time.time())
        if plan == "expire":
            batch.update(status="expired", expired_at=now)
        elif plan == "cancel":
            batch.update(status="cancelled", cancelled_at=now)
        else:
            batch.update(status="completed", completed_at=now)


def _jsonl(records: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(record, ensure_ascii=False).encode() + b"\n" for record in records)


def _public(batch: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in batch.items() if not k.startswith("_")}


def _error(message: str, param: str | None, type_: str = "invalid_request_error") -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "code": None, "param": param}}
