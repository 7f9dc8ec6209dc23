"""The sample reviews (samples/reviews.csv) that benchmarks and chaos draw their batches from.

A module of its own so that performance.py, llm.py and chaos.py all read it without importing
one another (performance.py runs llm.py's benchmark: llm.py importing it back was a cycle).
"""

from __future__ import annotations

import csv

from reviewpulse_tools.local.template import ROOT

SAMPLE = ROOT / "samples" / "reviews.csv"


def sample_reviews() -> list[str]:
    with SAMPLE.open(newline="") as handle:
        return [row["review"] for row in csv.DictReader(handle)]
