"""Teaching a tenant model from the LLM (issue 20 §3): which rows are the teaching sample, and which
of their results are teaching labels.

Pure functions only; the pipeline that calls them is described in docs/pending-wip/teach2.md.

The sample is chosen from the row numbers alone, seeded by the task's id:
the `n` rows whose seeded SHA-256 digest is smallest. So it is exactly `n` rows (or every row of a
smaller file), uniformly random, and the same on every redelivery, split or reading of the file —
the splitter that forces them to the LLM and the trainer that reads their labels agree without
storing the set anywhere. Choosing exactly `n` needs the file's row count (a counting pass, as
the quote already makes).
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Iterable
from dataclasses import dataclass

# Bounds of options.teach.sample. The least: enough for MIN_ROWS_PER_CLASS of each of four classes
# with room for a skewed batch (a sample of 200 with a class under 5 % is refused by the trainer's
# own check). The most: the sample is answered by the LLM one request per item and trained in one
# function run; 10,000 rows train within the training function's limits (docs/pending-wip/teach2.md).
# (Declared with the option, analysis/options.py; room for MIN_ROWS_PER_CLASS of each of 4 classes,
# which tests/unit/test_teach.py holds: importing the trainer here would load VADER and the model
# features into every function that samples rows, at its cold start.)

# The engine name an item answered by the LLM carries in its result: only those are teaching labels
# (an item the LLM could not answer, or a budget sent to the lexicon, teaches nothing).
LLM_ENGINE = "llm"


def _key(seed: str, row: int) -> bytes:
    return hashlib.sha256(f"{seed}\x00{row}".encode()).digest()


def sample_rows(seed: str, total: int, n: int) -> frozenset[int]:
    """The teaching sample among rows 1..total: exactly min(n, total) row numbers, chosen by the
    seeded digest of each row number (the same arguments always give the same rows)."""
    if n <= 0 or total <= 0:
        return frozenset()
    if n >= total:
        return frozenset(range(1, total + 1))
    # A heap of n: O(total log n) time, O(n) memory, for files of millions of rows.
    return frozenset(heapq.nsmallest(n, range(1, total + 1), key=lambda row: _key(seed, row)))


@dataclass(frozen=True)
class TeachingLabel:
    row: int
    label: str


def teaching_labels(
    results: Iterable[tuple[int, str | None, str | None]], sample: frozenset[int]
) -> list[TeachingLabel]:
    """The teaching labels among results given as (row, engine, label): the sample's rows the LLM
    answered, in row order. Rows outside the sample, rows answered by another engine (a fallback,
    a budget) and rows without a label are left out."""
    chosen = [
        TeachingLabel(row, label)
        for row, engine, label in results
        if row in sample and engine == LLM_ENGINE and label is not None
    ]
    return sorted(chosen, key=lambda t: t.row)
