"""Per-conversation sentiment, built from per-message results while they stream past once.

Results arrive in row order, and the messages of one conversation are consecutive rows, so only
the conversation being read is held in memory. Only analysed messages (those with a score) count
towards scores; the rules, on the engines' scores from -1 to 1:

- label: "mixed" when the conversation has clearly positive messages (score >= CLEAR_SCORE) and
  clearly negative ones (score <= -CLEAR_SCORE) and neither side has DOMINANCE_RATIO times as
  many as the other. Otherwise the mean score decides: "positive" at >= LABEL_THRESHOLD,
  "negative" at <= -LABEL_THRESHOLD, else "neutral".
- trajectory: start_score and end_score are the mean scores of the first and of the last third
  of the analysed messages (n // 3 of them, at least one each); change = end_score - start_score;
  "improving" when change >= STEADY_BAND, "worsening" when change <= -STEADY_BAND, else "steady".

A conversation none of whose messages could be analysed has no label, mean score or trajectory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from pydantic import BaseModel

from reviewpulse.results.model import ItemResult
from reviewpulse.results.summaries import ConversationsSummary

LABEL_THRESHOLD = 0.05  # the lexicon's own cut-off between neutral and positive or negative
CLEAR_SCORE = 0.25  # a message this strong either way clearly takes a side
DOMINANCE_RATIO = 2  # one side with this many times the other's clear messages is not "mixed"
STEADY_BAND = 0.1  # a smaller change from start to end is "steady"
UNKNOWN_SPEAKER = "unknown"  # where messages without a speaker are counted

ConversationLabel = Literal["positive", "negative", "neutral", "mixed"]
Direction = Literal["improving", "worsening", "steady"]
LABELS: tuple[ConversationLabel, ...] = get_args(ConversationLabel)
DIRECTIONS: tuple[Direction, ...] = get_args(Direction)
_DIGITS = 4  # as the task summary's mean score


class SpeakerSummary(BaseModel):
    messages: int  # all of the speaker's messages, analysed or not
    mean_score: float | None  # over those analysed


class Trajectory(BaseModel):
    start_score: float
    end_score: float
    change: float
    direction: Direction


class ConversationSummary(BaseModel):
    """One line of conversations.jsonl."""

    conversation_id: str
    messages: int  # result rows: one per message, or one for a conversation that could not be read
    analysed: int
    failed: int
    label: ConversationLabel | None
    mean_score: float | None
    speakers: dict[str, SpeakerSummary]
    trajectory: Trajectory | None

    def to_json(self) -> str:
        return self.model_dump_json()


def conversation_label(scores: Sequence[float]) -> ConversationLabel:
    """The label of a conversation whose analysed messages scored `scores` (see the module doc)."""
    positive = sum(1 for score in scores if score >= CLEAR_SCORE)
    negative = sum(1 for score in scores if score <= -CLEAR_SCORE)
    if positive and negative and max(positive, negative) < DOMINANCE_RATIO * min(positive, negative):
        return "mixed"
    mean = sum(scores) / len(scores)
    if mean >= LABEL_THRESHOLD:
        return "positive"
    if mean <= -LABEL_THRESHOLD:
        return "negative"
    return "neutral"


def trajectory(scores: Sequence[float]) -> Trajectory:
    """From the first third of the analysed messages to the last (see the module doc)."""
    size = max(1, len(scores) // 3)
    start = sum(scores[:size]) / size
    end = sum(scores[-size:]) / size
    change = end - start
    if change >= STEADY_BAND:
        direction: Direction = "improving"
    elif change <= -STEADY_BAND:
        direction = "worsening"
    else:
        direction = "steady"
    return Trajectory(
        start_score=round(start, _DIGITS),
        end_score=round(end, _DIGITS),
        change=round(change, _DIGITS),
        direction=direction,
    )


@dataclass
class _Speaker:
    messages: int = 0
    analysed: int = 0
    score_sum: float = 0.0


class _Open:
    """The conversation being read: its scores in order and its speakers' tallies."""

    def __init__(self, conversation_id: str) -> None:
        self.conversation_id = conversation_id
        self.last_turn: int | None = None
        self.rows = 0
        self.scores: list[float] = []
        self.speakers: dict[str, _Speaker] = {}

    def add(self, result: ItemResult, turn: int, speaker: str | None) -> None:
        self.rows += 1
        self.last_turn = turn
        score = result.score if result.error is None else None
        if score is not None:
            self.scores.append(score)
        if turn > 0:  # turn 0 is an error about the whole conversation, said by no one
            tally = self.speakers.setdefault(speaker or UNKNOWN_SPEAKER, _Speaker())
            tally.messages += 1
            if score is not None:
                tally.analysed += 1
                tally.score_sum += score

    def summary(self) -> ConversationSummary:
        scores = self.scores
        analysed = len(scores)
        return ConversationSummary(
            conversation_id=self.conversation_id,
            messages=self.rows,
            analysed=analysed,
            failed=self.rows - analysed,
            label=conversation_label(scores) if scores else None,
            mean_score=round(sum(scores) / analysed, _DIGITS) if scores else None,
            speakers={
                name: SpeakerSummary(
                    messages=tally.messages,
                    mean_score=round(tally.score_sum / tally.analysed, _DIGITS) if tally.analysed else None,
                )
                for name, tally in self.speakers.items()
            },
            trajectory=trajectory(scores) if scores else None,
        )


class ConversationsBuilder:
    """Feed it every result in row order; it hands back each conversation as the next one starts.

    Results without a conversation (not chat messages) are ignored. A new conversation starts when
    the conversation id changes, when the turn does not go up (two conversations with the same id
    in a row), and after a turn-0 row (a conversation that could not be read is one on its own).
    """

    def __init__(self) -> None:
        self._open: _Open | None = None
        self._conversations = 0
        self._labels = dict.fromkeys(LABELS, 0)
        self._directions = dict.fromkeys(DIRECTIONS, 0)

    def add(self, result: ItemResult) -> ConversationSummary | None:
        """Take the next result; returns the conversation it closed, if any."""
        reference = result.conversation
        if reference is None:
            return None
        current = self._open
        finished = None
        if (
            current is None
            or current.conversation_id != reference.conversation_id
            or current.last_turn == 0
            or (current.last_turn is not None and reference.turn <= current.last_turn)
        ):
            finished = self.finish()
            current = self._open = _Open(reference.conversation_id)
        current.add(result, reference.turn, reference.speaker)
        return finished

    def finish(self) -> ConversationSummary | None:
        """Close the conversation being read (once every result is in); None if there is none."""
        if self._open is None:
            return None
        summary = self._open.summary()
        self._open = None
        self._conversations += 1
        if summary.label is not None:
            self._labels[summary.label] += 1
        if summary.trajectory is not None:
            self._directions[summary.trajectory.direction] += 1
        return summary

    def build(self) -> ConversationsSummary | None:
        """The totals over every finished conversation; None if the results held none."""
        if not self._conversations:
            return None
        return ConversationsSummary(
            conversations=self._conversations, labels=dict(self._labels), directions=dict(self._directions)
        )
