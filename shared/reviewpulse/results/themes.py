"""A batch's main praise and complaint themes, found without an LLM.

Candidates are key phrases: runs of one to three words inside a clause, bounded by stop words
(stopwords.txt, shipped here), by adverbs in -ly and by VADER's sentiment words ("great",
"terrible", "fine" say how, not what; a few that also name a topic, such as "support", stay). Each is counted once per positive and once per negative item
that contains it, and ranked by the weighted log-odds ratio with an informative Dirichlet prior
(Monroe, Colaresi & Quinn 2008, "Fightin' Words"): the z-score of how much more often a phrase
occurs in positive than in negative items, shrunk towards the pooled rate so that rare phrases
do not win by chance. Praise themes are the highest z, complaints the lowest.

Written here (about 200 lines) rather than with a keyphrase library: those bring a tagger or a
model (spaCy, YAKE's dependencies, NLTK's data) that would weigh more than the whole layer.

Memory stays bounded: the candidate table is pruned of its rarest phrases when it grows past
MAX_CANDIDATES, and each item's phrases are spooled to a temporary file, so that the chosen
themes' counts, example ids and per-segment counts are exact (a second read of that file).
"""

from __future__ import annotations

import marshal
import math
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from pydantic import BaseModel, Field

from reviewpulse.analysis.normalise import mask_social

THEMES_PER_POLARITY = 8
SEGMENT_THEMES_PER_POLARITY = 3
EXAMPLE_IDS = 3
MAX_PHRASE_WORDS = 3
MAX_EXAMPLE_CHARS = 300  # longer sentences are not quoted (a quote is verbatim, never cut)
MAX_CANDIDATES = 50_000
MAX_TOKEN_CACHE = 100_000
SPOOL_BATCH = 1024  # records per marshal.dump: fewer, larger reads and writes
# Words of VADER's lexicon that also name what a review is about.
TOPIC_WORDS = frozenset({"support", "care", "help", "comfort", "value", "security", "safety", "fit", "leak"})
MIN_ITEMS = 3  # a theme is mentioned by at least this many items of its polarity

# Words, and the punctuation that ends a clause (a phrase never spans one).
_TOKENS = re.compile(r"[a-z][a-z']*[a-z]|[a-z]|[,;:()\[\]\"“”\t/]|\s[-–—]\s")
_SENTENCES = re.compile(r"[^.!?\n]+[.!?]*")


class Theme(BaseModel):
    phrase: str
    polarity: str = Field(description="praise | complaint")
    count: int = Field(
        description="Items of this polarity (positive for praise, negative for complaints) that mention it"
    )
    positive: int = Field(description="Positive items that mention it")
    negative: int = Field(description="Negative items that mention it")
    z: float = Field(description="Weighted log-odds z-score, positive vs negative items (> 0 leans positive)")
    example_ids: list[str]
    example: str | None = Field(description="One sentence that mentions it, verbatim, from an item of its polarity")


class SegmentTheme(BaseModel):
    phrase: str
    polarity: str
    count: int = Field(description="Items of this segment and polarity that mention it")


@cache
def stop_words() -> frozenset[str]:
    text = resources.files("reviewpulse.results").joinpath("stopwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


@cache
def sentiment_words() -> frozenset[str]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return frozenset(SentimentIntensityAnalyzer().lexicon) - TOPIC_WORDS


def key_phrases(text: str, boundaries: frozenset[str], kept: dict[str, bool] | None = None) -> dict[str, str]:
    """Each candidate phrase of a text, with the first sentence (verbatim) that contains it.
    `kept` remembers which tokens may be part of a phrase (a cache the caller owns)."""
    kept = {} if kept is None else kept
    found: dict[str, str] = {}
    # Sentences and words are read from the text with its links, handles, entities and hashtag
    # marks blanked (same length), and quoted from the original at the same place.
    masked = mask_social(text)
    for match in _SENTENCES.finditer(masked):
        sentence = text[match.start() : match.end()]
        run: list[str] = []
        for token in [*_TOKENS.findall(match.group().lower().replace("’", "'")), ","]:  # "," ends the last run
            keep = kept.get(token)
            if keep is None:
                keep = len(token) > 1 and token[0].isalpha() and token not in boundaries and not token.endswith("ly")
                if len(kept) < MAX_TOKEN_CACHE:
                    kept[token] = keep
            if keep:
                run.append(token)
                continue
            if run:
                length = len(run)
                if length == 1:
                    found.setdefault(run[0], sentence)
                else:
                    for size in range(1, min(MAX_PHRASE_WORDS, length) + 1):
                        for start in range(length - size + 1):
                            found.setdefault(" ".join(run[start : start + size]), sentence)
                run = []
    return found


def log_odds_z(y_pos: int, y_neg: int, n_pos: int, n_neg: int, prior_rate: float, prior_size: float) -> float:
    """Monroe et al.'s z-score of δ = log-odds(phrase | positive) − log-odds(phrase | negative)
    with a Dirichlet prior of total size `prior_size` spread by `prior_rate` (the pooled rate)."""
    alpha = prior_size * prior_rate
    rest_pos, rest_neg = n_pos + prior_size - y_pos - alpha, n_neg + prior_size - y_neg - alpha
    if rest_pos <= 0 or rest_neg <= 0 or y_pos + alpha <= 0 or y_neg + alpha <= 0:
        return 0.0  # the phrase is all there is on a side: it cannot tell the sides apart
    delta = math.log((y_pos + alpha) / rest_pos) - math.log((y_neg + alpha) / rest_neg)
    return delta / math.sqrt(1 / (y_pos + alpha) + 1 / (y_neg + alpha))


@dataclass(slots=True)
class _Candidate:
    positive: int = 0
    negative: int = 0
    examples: dict[str, str] = field(default_factory=dict)  # polarity label -> first sentence


class ThemeFinder:
    """Fed each analysed item's text in the finalizer's pass; finds the batch's themes at the end."""

    def __init__(self, *, max_candidates: int = MAX_CANDIDATES) -> None:
        self._boundaries = stop_words() | sentiment_words()
        self._candidates: dict[str, _Candidate] = {}
        self._max_candidates = max_candidates
        self._items = {"positive": 0, "negative": 0}
        # Our own records, read back by this object only: marshal is the fastest safe round trip.
        self._spool = tempfile.TemporaryFile()
        self._pending: list[tuple] = []
        self._kept: dict[str, bool] = {}

    def add(self, item_id: str, label: str | None, text: str | None, segments: Iterable[str | None] = ()) -> None:
        if label not in ("positive", "negative") or not text:
            return
        self._items[label] += 1
        phrases = key_phrases(text, self._boundaries, self._kept)
        if not phrases:
            return
        positive = label == "positive"
        candidates = self._candidates
        for phrase, sentence in phrases.items():
            candidate = candidates.get(phrase)
            if candidate is None:
                candidate = candidates[phrase] = _Candidate()
            if positive:
                candidate.positive += 1
            else:
                candidate.negative += 1
            if label not in candidate.examples:
                quote = sentence.strip()
                if len(quote) <= MAX_EXAMPLE_CHARS:
                    candidate.examples[label] = quote
        self._pending.append((positive, item_id, tuple(segments), tuple(phrases)))
        if len(self._pending) >= SPOOL_BATCH:
            self._flush()
        if len(self._candidates) > self._max_candidates:
            self._prune()

    def _prune(self) -> None:
        """Drop the rarest phrases until the table is half full: the chosen themes are counted
        again exactly from the spool, so pruning only decides which phrases can be chosen."""
        floor = 1
        while len(self._candidates) > self._max_candidates // 2:
            self._candidates = {p: c for p, c in self._candidates.items() if c.positive + c.negative > floor}
            floor += 1

    def finish(self, listed: list[set[str | None]]) -> tuple[list[Theme], list[dict[str | None, list[SegmentTheme]]]]:
        """The top praise and complaint themes with exact counts, and for each group_by column
        (`listed`: the values it reports) the batch themes each value's items mention most; one
        read of the spool."""
        chosen = self._choose()
        if not chosen:
            return [], [{} for _ in listed]
        side = {phrase: polarity == "praise" for phrase, polarity, _ in chosen}  # True: positive items
        exact = {phrase: [0, 0, []] for phrase in side}  # positive, negative, example ids
        per_value: list[dict[str | None, dict[str, int]]] = [{value: {} for value in values} for values in listed]
        for positive, item_id, segments, phrases in self._records():
            for phrase in phrases:
                entry = exact.get(phrase)
                if entry is None:
                    continue
                entry[0 if positive else 1] += 1
                if positive is side[phrase]:
                    if len(entry[2]) < EXAMPLE_IDS:
                        entry[2].append(item_id)
                    for index, counts in enumerate(per_value):
                        found = counts.get(segments[index])
                        if found is not None:
                            found[phrase] = found.get(phrase, 0) + 1
        themes = [
            Theme(
                phrase=phrase,
                polarity=polarity,
                count=exact[phrase][0 if side[phrase] else 1],
                positive=exact[phrase][0],
                negative=exact[phrase][1],
                z=round(z, 3),
                example_ids=exact[phrase][2],
                example=self._candidates[phrase].examples.get("positive" if side[phrase] else "negative"),
            )
            for phrase, polarity, z in chosen
        ]
        polarity_of = {phrase: polarity for phrase, polarity, _ in chosen}
        segment_themes = []
        for counts in per_value:
            column = {}
            for value, mentioned in counts.items():
                listed_themes = []
                for polarity in ("praise", "complaint"):
                    ranked = sorted(
                        ((count, phrase) for phrase, count in mentioned.items() if polarity_of[phrase] == polarity),
                        key=lambda entry: (-entry[0], entry[1]),
                    )
                    listed_themes += [
                        SegmentTheme(phrase=phrase, polarity=polarity, count=count)
                        for count, phrase in ranked[:SEGMENT_THEMES_PER_POLARITY]
                    ]
                column[value] = listed_themes
            segment_themes.append(column)
        return themes, segment_themes

    def themes(self) -> list[Theme]:
        return self.finish([])[0]

    def counts_by(self, phrases: set[str], group_of: Callable[[object], int | None]) -> dict[int, dict[str, list[int]]]:
        """Per group (`group_of` the last of an item's segment values), how many positive and
        negative items mention each of `phrases`: one more read of the spool (results/periods.py)."""
        found: dict[int, dict[str, list[int]]] = {}
        groups: dict[object, int | None] = {}
        for positive, _, segments, item_phrases in self._records():
            key = segments[-1] if segments else None
            if key not in groups:
                groups[key] = group_of(key)
            group = groups[key]
            if group is None:
                continue
            counts = found.setdefault(group, {})
            for phrase in item_phrases:
                if phrase in phrases:
                    counts.setdefault(phrase, [0, 0])[0 if positive else 1] += 1
        return found

    def close(self) -> None:
        self._spool.close()

    def _flush(self) -> None:
        """One batch of records: its length, then its marshalled bytes."""
        data = marshal.dumps(self._pending)
        self._spool.write(len(data).to_bytes(8, "big") + data)
        self._pending = []

    def _records(self) -> Iterator[tuple]:
        if self._pending:
            self._flush()
        self._spool.seek(0)
        while header := self._spool.read(8):
            # Only what this object wrote above, to its own unnamed temporary file.
            yield from marshal.loads(self._spool.read(int.from_bytes(header, "big")))  # noqa: S302

    def _choose(self) -> list[tuple[str, str, float]]:
        n_pos = sum(c.positive for c in self._candidates.values())
        n_neg = sum(c.negative for c in self._candidates.values())
        total = n_pos + n_neg
        if not total or not n_pos or not n_neg:
            return []
        scored = []
        for phrase, candidate in self._candidates.items():
            rate = (candidate.positive + candidate.negative) / total
            z = log_odds_z(candidate.positive, candidate.negative, n_pos, n_neg, rate, prior_size=total)
            # Only phrases that enough items of the side they lean to mention.
            if (candidate.positive if z > 0 else candidate.negative) >= MIN_ITEMS:
                scored.append((z, phrase))
        chosen: list[tuple[str, str, float]] = []
        for polarity, ordered in (
            ("praise", sorted(scored, key=lambda e: (-e[0], e[1]))),
            ("complaint", sorted(scored, key=lambda e: (e[0], e[1]))),
        ):
            side = "positive" if polarity == "praise" else "negative"
            picked: dict[str, float] = {}
            for z, phrase in ordered:
                if len(picked) == THEMES_PER_POLARITY or (z <= 0 if polarity == "praise" else z >= 0):
                    break
                # "customer" and "customer service" are one theme: the longer phrase names it
                # better, and takes the place of the shorter if it is nearly as frequent.
                overlapping = [other for other in picked if _overlaps(phrase, other)]
                if overlapping:
                    other = overlapping[0]
                    mine = getattr(self._candidates[phrase], side)
                    if len(phrase) > len(other) and mine >= 0.6 * getattr(self._candidates[other], side):
                        picked = {(phrase if p == other else p): (z if p == other else v) for p, v in picked.items()}
                    continue
                picked[phrase] = z
            chosen += [(phrase, polarity, z) for phrase, z in picked.items()]
        return chosen


def _overlaps(a: str, b: str) -> bool:
    return f" {a} " in f" {b} " or f" {b} " in f" {a} "
