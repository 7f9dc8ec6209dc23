"""Reading the labels a customer already has: the usual shapes of a label column, mapped to ours.

A column is read as a whole, because a value alone can be ambiguous ("1" is a one-star review in
a stars column and a positive one in a -1/0/1 column):

- words, any case, surrounding spaces ignored: positive / negative / neutral / mixed, and
  pos / neg / neu;
- numbers -1, 0, 1: negative, neutral, positive; a column of only 0 and 1 is binary:
  0 negative, 1 positive;
- stars 1-5 (a column with a value of 2 to 5 and none outside 1-5): 1-2 negative, 3 neutral,
  4-5 positive (whole or half stars: 2.5 is negative, 3.5 positive).

An empty value is no label (the row is skipped, not an error); any other value is unreadable.
Shared by training (tenant models) and evaluation; one place to extend the mapping.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from reviewpulse.analysis.base import Label

_WORDS = {
    "positive": Label.POSITIVE,
    "pos": Label.POSITIVE,
    "negative": Label.NEGATIVE,
    "neg": Label.NEGATIVE,
    "neutral": Label.NEUTRAL,
    "neu": Label.NEUTRAL,
    "mixed": Label.MIXED,
}
_POLARITY = {-1.0: Label.NEGATIVE, 0.0: Label.NEUTRAL, 1.0: Label.POSITIVE}
_BINARY = {0.0: Label.NEGATIVE, 1.0: Label.POSITIVE}
# How many distinct unreadable values an error names (they are the customer's labels, never texts).
MAX_VALUES_NAMED = 10
MAX_VALUE_CHARS = 40


def _number(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


def _stars(number: float) -> Label | None:
    if not 1 <= number <= 5:
        return None
    if number < 3:
        return Label.NEGATIVE
    return Label.NEUTRAL if number == 3 else Label.POSITIVE


@dataclass(frozen=True)
class LabelScheme:
    """How one column's values are read: `words`, `polarity` (-1/0/1), `binary` (0/1) or `stars`."""

    name: str

    def read(self, value: str) -> Label | None:
        """The label of `value`, or None if this scheme cannot read it (empty values never reach here)."""
        cleaned = value.strip().lower()
        if cleaned in _WORDS:
            return _WORDS[cleaned]
        number = _number(cleaned)
        if number is None:
            return None
        if self.name == "stars":
            return _stars(number)
        if self.name == "binary":
            return _BINARY.get(number)
        return _POLARITY.get(number)

    @classmethod
    def for_values(cls, values: Iterable[str]) -> LabelScheme:
        """The scheme that reads a column with these (non-empty) values."""
        numbers = {n for n in (_number(v.strip()) for v in values) if n is not None}
        if numbers and numbers <= {0.0, 1.0}:
            return cls("binary")
        if numbers and numbers <= {-1.0, 0.0, 1.0}:
            return cls("polarity")
        if any(2 <= n <= 5 for n in numbers) and all(1 <= n <= 5 for n in numbers):
            return cls("stars")
        return cls("polarity" if numbers else "words")


def describe_values(values: Iterable[str]) -> str:
    """Unreadable label values as an error names them: a few, each cut short, sorted."""
    distinct = sorted({v.strip()[:MAX_VALUE_CHARS] for v in values})
    shown = ", ".join(repr(v) for v in distinct[:MAX_VALUES_NAMED])
    more = len(distinct) - MAX_VALUES_NAMED
    return shown + (f" and {more} more" if more > 0 else "")
