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
Dev-only: never shipped to Lambda.

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
import random
import re
import signal
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from reviewpulse_tools.doubles.fake_batches import BatchDesk

DEFAULT_MODEL = "fake-sentiment-1"
SENTIMENT_BATCH = "sentiment_batch"
BATCH_REPORT = "batch_report"
CONTENT_FAULTS = ("malformed", "truncated", "missing", "extra", "duplicate", "schema")
# A 400 about the request's content, as a provider's content filter answers (code content_filter).
REFUSED = "refused"
# Words the fake "notices" as themes on top of the requested aspects.
THEME_VOCABULARY = (
    "battery",
    "price",
    "delivery",
    "support",
    "quality",
    "screen",
    "sound",
    "service",
    "shipping",
    "refund",
)
LABELS = ("positive", "negative", "neutral", "mixed")
OPPOSITE_LABEL = {"positive": "negative", "negative": "positive", "neutral": "mixed", "mixed": "neutral"}
INJECTION = re.compile(r"ignore\s+(?:all\s+)?previous\s+instructions", re.IGNORECASE)
SENTENCE = re.compile(r"[^.!?]+[.!?]*")
# Pre-tokenization as GPT-style BPE tokenizers do it: contractions, a word with its leading space,
# up to three digits, a run of punctuation with its leading space, whitespace.
PRE_TOKEN = re.compile(r"'(?:[sdmt]|ll|ve|re)| ?[^\W\d_]+| ?\d{1,3}| ?[^\s\w]+|\s+(?!\S)|\s+")
# Characters one BPE token covers inside a longer piece: common words are one token, rare and long
# ones (and long punctuation runs) split into several.
PIECE_CHARS = 6
MALFORMED = {SENTIMENT_BATCH: '{"items": [oops', BATCH_REPORT: '{"summary": oops'}


def count_tokens(text: str) -> int:
    """A deterministic tokenizer in the manner of BPE: pre-tokenize as GPT models do, then count a
    piece as one token per PIECE_CHARS characters (rounded up). It counts independently of the
    engine's character-ratio estimate, so the quote's accuracy is measured, not built in."""
    return sum(-(-len(piece.strip() or piece) // PIECE_CHARS) for piece in PRE_TOKEN.findall(text))


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


ORACLE_LABELS = ("positive", "negative", "neutral")
ORACLE_SCORES = {"positive": 0.6, "negative": -0.6, "neutral": 0.0}


@dataclass(frozen=True)
class Oracle:
    """Gold labels by text, answered right with probability `accuracy` (a wrong label otherwise)."""

    gold: dict[str, str]
    accuracy: float = 0.9
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.accuracy <= 1.0:
            raise ValueError(f"oracle accuracy must be within 0..1, not {self.accuracy!r}")
        unknown = set(self.gold.values()) - set(ORACLE_LABELS)
        if unknown:
            raise ValueError(f"oracle labels must be among {ORACLE_LABELS}, not {sorted(unknown)}")

    @classmethod
    def from_file(cls, path: Path, accuracy: float = 0.9, seed: int = 0) -> Oracle:
        """A JSON Lines file of {"text": ..., "label": positive|negative|neutral} objects."""
        gold = {}
        for line in path.read_text(encoding="utf-8").split("\n"):
            if line.strip():
                row = json.loads(line)
                gold[row["text"]] = row["label"]
        return cls(gold, accuracy, seed)

    def answer(self, text: str) -> str | None:
        gold = self.gold.get(text)
        if gold is None:
            return None
        # Seeded per text (string seeds hash deterministically), so repeats get the same answer.
        draw = random.Random(f"{self.seed}:{text}")  # noqa: S311 - a simulation, not security
        if draw.random() < self.accuracy:
            return gold
        return draw.choice([label for label in ORACLE_LABELS if label != gold])


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


@dataclass(frozen=True)
class SentimentRequest:
    aspects: list[str]
    themes: bool
    items: list[tuple[str, str]]


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


class Model:
    """The deterministic "model": VADER for labels, word matching for aspects and themes."""

    def __init__(self, oracle: Oracle | None = None) -> None:
        self.vader = SentimentIntensityAnalyzer()
        self.oracle = oracle
        self.oracle_misses = 0
        self._misses_lock = threading.Lock()  # requests are answered on many threads

    @staticmethod
    def blank(item_id: str, aspects: list[str]) -> dict[str, Any]:
        return {
            "id": item_id,
            "label": "neutral",
            "score": 0.0,
            "confidence": 0.6,
            "language": "en",
            "aspects": [{"aspect": aspect, "label": "not_mentioned", "evidence": ""} for aspect in aspects],
            "themes": [],
        }

    def compound(self, text: str) -> float:
        return float(self.vader.polarity_scores(text)["compound"])

    @staticmethod
    def label(compound: float) -> str:
        return "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"

    @staticmethod
    def sentence_with(word: str, text: str) -> str | None:
        # Whole words only ("price" is not in "priceless"); lookarounds also suit words like "c++".
        pattern = re.compile(rf"(?<!\w){re.escape(word.strip())}(?!\w)", re.IGNORECASE)
        for match in SENTENCE.finditer(text):
            if pattern.search(match.group()):
                return match.group().strip()
        return None

    def analyse(self, item_id: str, text: str, aspects: list[str], themes: bool) -> dict[str, Any]:
        compound = self.compound(text)
        label = self.label(compound)
        if self.oracle is not None:
            answer = self.oracle.answer(text)
            if answer is None:
                with self._misses_lock:
                    self.oracle_misses += 1
            else:
                label, compound = answer, ORACLE_SCORES[answer]
        words = [*aspects, *THEME_VOCABULARY] if themes else aspects
        sentences = {word: self.sentence_with(word, text) for word in words}
        aspect_answers = []
        for aspect in aspects:
            sentence = sentences[aspect]
            aspect_answers.append(
                {"aspect": aspect, "label": "not_mentioned", "evidence": ""}
                if sentence is None
                else {"aspect": aspect, "label": self.label(self.compound(sentence)), "evidence": sentence}
            )
        theme_answers: list[dict[str, str]] = []
        if themes:
            seen: set[str] = set()
            for word in words:
                sentence = sentences[word]
                if sentence is not None and word.lower() not in seen:
                    seen.add(word.lower())
                    polarity = "praise" if self.compound(sentence) >= 0 else "complaint"
                    theme_answers.append({"theme": word, "polarity": polarity})
        return {
            "id": item_id,
            "label": label,
            "score": round(compound, 4),
            "confidence": 0.6 if label == "neutral" else round(0.5 + abs(compound) / 2, 4),
            "language": "en",
            "aspects": aspect_answers,
            "themes": theme_answers,
        }

    def sentiment_batch(self, request: SentimentRequest) -> dict[str, Any]:
        items = [self.analyse(i, text, request.aspects, request.themes) for i, text in request.items]
        # A deliberately obedient model: one injected item takes over the whole batch.
        if any(INJECTION.search(text) for _, text in request.items):
            for item in items:
                item.update(label="positive", score=1.0, confidence=1.0)
        return {"items": items}

    @staticmethod
    def batch_report(report: dict[str, Any]) -> dict[str, Any]:
        analysed, counts, mean = report["analysed"], report["counts"], report["mean_score"]
        if analysed:
            pos, neg, neu, mixed = (f"{100 * counts.get(label, 0) / analysed:.0f}%" for label in LABELS)
            sentences = [
                f"Of {analysed} analysed items, {pos} were positive, {neg} negative, {neu} neutral and {mixed} mixed."
            ]
        else:
            sentences = ["No items were analysed."]
        if mean is not None:
            sentences.append(f"The mean score was {mean:.2f}.")

        def top(polarity: str) -> tuple[str, int] | None:
            ranked = sorted((-t["count"], t["theme"]) for t in report["themes"] if t["polarity"] == polarity)
            return (ranked[0][1], -ranked[0][0]) if ranked else None

        def mentions(n: int) -> str:
            return f"{n} mention" if n == 1 else f"{n} mentions"

        praised, complaint = top("praise"), top("complaint")
        if praised and complaint:
            sentences.append(
                f"The most praised theme was {praised[0]} ({mentions(praised[1])}); "
                f"the most common complaint was {complaint[0]} ({complaint[1]})."
            )
        elif praised:
            sentences.append(
                f"The most praised theme was {praised[0]} ({mentions(praised[1])}); no complaints recurred."
            )
        elif complaint:
            sentences.append(
                f"No theme was praised; the most common complaint was {complaint[0]} ({mentions(complaint[1])})."
            )
        else:
            sentences.append("No recurring themes were reported.")
        return {"summary": " ".join(sentences)}


def unused_id(items: list[dict[str, Any]]) -> str:
    taken = {item["id"] for item in items}
    return next(f"unknown-{n}" for n in itertools.count(len(items) + 1) if f"unknown-{n}" not in taken)


def apply_content_fault(kind: str | None, schema: str, answer: dict[str, Any], aspects: list[str]) -> tuple[str, str]:
    """The answer's content and finish_reason, broken as the fault says."""
    if kind == "malformed":
        return MALFORMED[schema], "stop"
    if kind == "truncated":
        content = json.dumps(answer, ensure_ascii=False)
        return content[: len(content) // 2], "length"
    if schema == BATCH_REPORT:
        if kind == "missing":
            answer = {}
        elif kind == "extra":
            answer = answer | {"extra": "unexpected"}
        elif kind == "duplicate":
            value = json.dumps(answer["summary"], ensure_ascii=False)
            return f'{{"summary": {value}, "summary": {value}}}', "stop"
        elif kind == "schema":
            answer = {"summary": 42}
        return json.dumps(answer, ensure_ascii=False), "stop"
    items: list[dict[str, Any]] = answer["items"]
    if kind == "missing":
        items = items[:-1]
    elif kind == "extra":
        # Well formed but for its id: what a model says about an empty text.
        items = [*items, Model.blank(unused_id(items), aspects)]
    elif kind == "duplicate" and items:
        first = items[0]
        # `or 0.0`: a neutral item's score must not flip to -0.0.
        items = [*items, first | {"label": OPPOSITE_LABEL[first["label"]], "score": -first["score"] or 0.0}]
    elif kind == "schema":
        items = [item | {"label": "great"} for item in items]
    return json.dumps({"items": items}, ensure_ascii=False), "stop"


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
