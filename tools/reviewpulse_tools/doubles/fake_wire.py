"""The chat-completions wire of the fake OpenAI server (doubles.fake_openai): a request parsed
into the call the model answers, or refused as OpenAI refuses it (400 with its error body); the
faults a test can inject (`status:<code>`, `refused`, `slow:<seconds>`, the content faults of
doubles.fake_model) and the rate limit (a token bucket, answered 429 with Retry-After); and what the fake saw on it (FakeStats).
Dev-only: never shipped to Lambda.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from reviewpulse_tools.doubles.fake_model import (
    BATCH_REPORT,
    CONTENT_FAULTS,
    REFUSED,
    SENTIMENT_BATCH,
    SentimentRequest,
    count_tokens,
)


@dataclass(frozen=True)
class Fault:
    name: str
    kind: str
    status: int | None = None
    seconds: float = 0.0


def parse_fault(name: str) -> Fault:
    """Validate a fault name ("status:500", "slow:0.5", "malformed", ...); raises ValueError."""
    if not isinstance(name, str):
        raise ValueError(f"a fault is a string, not {name!r}")
    kind, _, argument = name.partition(":")
    if kind == "status" and argument.isdigit() and 400 <= int(argument) <= 599:
        return Fault(name, kind, status=int(argument))
    if kind == "slow":
        try:
            seconds = float(argument)
        except ValueError:
            seconds = -1.0
        if math.isfinite(seconds) and seconds >= 0:
            return Fault(name, kind, seconds=seconds)
    if name in CONTENT_FAULTS:
        return Fault(name, name)
    if name == REFUSED:
        return Fault(name, name, status=400)
    raise ValueError(
        f"unknown fault {name!r}: expected status:<400-599>, slow:<seconds>, {REFUSED} or one of "
        f"{', '.join(CONTENT_FAULTS)}"
    )


def check_latency(seconds: Any) -> float:
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"latency must be a non-negative number of seconds, not {seconds!r}")
    return float(seconds)


def check_rpm(rpm: Any) -> None:
    if rpm is not None and (
        isinstance(rpm, bool) or not isinstance(rpm, int | float) or not math.isfinite(rpm) or rpm <= 0
    ):
        raise ValueError(f"rpm must be a positive number or None, not {rpm!r}")


class BadRequest(Exception):
    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message, self.param = message, param


@dataclass
class Reply:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def error_body(message: str, type_: str, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "code": code, "param": param}}


def rate_limit_reply(wait: float) -> Reply:
    return Reply(
        429,
        error_body("Rate limit reached for requests (fake).", "requests", "rate_limit_exceeded"),
        {"Retry-After": str(max(1, math.ceil(wait))), "retry-after-ms": str(max(1, math.ceil(wait * 1000)))},
    )


class TokenBucket:
    """About one second of burst, refilling at rpm/60 per second."""

    def __init__(self, rpm: float, now: float) -> None:
        self.rpm = rpm
        self.rate = rpm / 60
        self.capacity = max(1.0, self.rate)
        self.tokens = self.capacity
        self.stamp = now

    def take(self, now: float) -> float:
        """Take a token and return 0, or return the seconds until one is available (taking none)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


@dataclass(frozen=True)
class Call:
    model: str
    schema: str
    payload: Any
    prompt_tokens: int


def message_text(content: Any) -> str:
    # The SDK sends a string, but content may also be a list of text parts.
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def parse_call(raw: bytes) -> Call:
    try:
        request = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc}") from None
    if not isinstance(request, dict):
        raise BadRequest("The request body must be a JSON object.")
    model, messages, response_format = request.get("model"), request.get("messages"), request.get("response_format")
    if not isinstance(model, str):
        raise BadRequest("'model' must be a string.", "model")
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise BadRequest("'messages' must be a list of objects.", "messages")
    json_schema = response_format.get("json_schema") if isinstance(response_format, dict) else None
    schema = json_schema.get("name") if isinstance(json_schema, dict) else None
    if not isinstance(response_format, dict) or response_format.get("type") != "json_schema" or schema is None:
        raise BadRequest("This model only answers response_format of type json_schema.", "response_format")
    if schema not in (SENTIMENT_BATCH, BATCH_REPORT):
        raise BadRequest(f"Unknown json_schema name {schema!r}.", "response_format.json_schema.name")
    texts = [message_text(m.get("content")) for m in messages]
    users = [text for m, text in zip(messages, texts, strict=True) if m.get("role") == "user"]
    if not users:
        raise BadRequest("A user message is required.", "messages")
    try:
        user = json.loads(users[-1])
    except json.JSONDecodeError:
        raise BadRequest("The user message must be JSON.", "messages") from None
    payload = parse_sentiment_request(user) if schema == SENTIMENT_BATCH else parse_report_request(user)
    # 3 tokens per message for its framing, as chat models count them.
    prompt_tokens = sum(map(count_tokens, texts)) + count_tokens(json.dumps(response_format)) + 3 * len(messages)
    return Call(model, schema, payload, prompt_tokens)


def parse_sentiment_request(user: Any) -> SentimentRequest:
    items = user.get("items") if isinstance(user, dict) else None
    if not isinstance(items, list) or not all(
        isinstance(i, dict) and isinstance(i.get("id"), str) and isinstance(i.get("text"), str) for i in items
    ):
        raise BadRequest("'items' must be a list of {id, text} strings.", "messages")
    aspects, themes = user.get("aspects", []), user.get("themes", False)
    if not isinstance(aspects, list) or not all(isinstance(a, str) and a.strip() for a in aspects):
        raise BadRequest("'aspects' must be a list of non-empty strings.", "messages")
    if not isinstance(themes, bool):
        raise BadRequest("'themes' must be a boolean.", "messages")
    return SentimentRequest(aspects, themes, [(i["id"], i["text"]) for i in items])


def parse_report_request(user: Any) -> dict[str, Any]:
    if not isinstance(user, dict):
        raise BadRequest("The batch_report request must be an object.", "messages")
    analysed, counts, mean = user.get("analysed"), user.get("counts", {}), user.get("mean_score")
    themes = user.get("themes", [])
    if not isinstance(analysed, int) or analysed < 0:
        raise BadRequest("'analysed' must be a non-negative integer.", "messages")
    if not isinstance(counts, dict) or not all(isinstance(n, int) for n in counts.values()):
        raise BadRequest("'counts' must map labels to integers.", "messages")
    if mean is not None and not isinstance(mean, int | float):
        raise BadRequest("'mean_score' must be a number or null.", "messages")
    if not isinstance(themes, list) or not all(
        isinstance(t, dict)
        and isinstance(t.get("theme"), str)
        and isinstance(t.get("polarity"), str)
        and isinstance(t.get("count"), int)
        for t in themes
    ):
        raise BadRequest("'themes' must be a list of {theme, polarity, count}.", "messages")
    return {"analysed": analysed, "counts": counts, "mean_score": mean, "themes": themes}


@dataclass
class FakeStats:
    """What the fake has seen on /v1/chat/completions. `ids[i]` and `texts[i]` are the ids and texts
    of the i-th sentiment_batch request received (rate-limited ones included: they went over the wire);
    `bodies` every request body as received, of any kind, valid or not (what left the client)."""

    requests: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    item_counts: list[int] = field(default_factory=list)
    ids: list[list[str]] = field(default_factory=list)
    texts: list[list[str]] = field(default_factory=list)
    bodies: list[str] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    rate_limited: int = 0
    arrivals: list[float] = field(default_factory=list)
    oracle_misses: int = 0  # texts the oracle had no gold label for (answered by VADER)

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"by_status": {str(code): n for code, n in sorted(self.by_status.items())}}
