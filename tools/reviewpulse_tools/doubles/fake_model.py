"""The model the fake OpenAI server plays (doubles.fake_openai): what it answers to ReviewPulse's
structured-output prompts, deterministically. VADER stands in for the model's labels, word matching
for aspects and themes; an `Oracle` answers known texts with their gold label at a set accuracy; a
BPE-like tokenizer counts usage; a content fault breaks an answer the way real models break them
(malformed, truncated, missing, extra, duplicate, schema). Dev-only: never shipped to Lambda.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

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


@dataclass(frozen=True)
class SentimentRequest:
    aspects: list[str]
    themes: bool
    items: list[tuple[str, str]]


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

    def analyze(self, item_id: str, text: str, aspects: list[str], themes: bool) -> dict[str, Any]:
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
        items = [self.analyze(i, text, request.aspects, request.themes) for i, text in request.items]
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
