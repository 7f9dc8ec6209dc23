"""How `auto` routes through a model: items whose calibrated confidence is below a threshold go to
the LLM. The default threshold is chosen from the model's own cross-validated predictions for a
target accuracy: the lowest confidence such that the items at or above it were right at least
AUTO_TARGET_ACCURACY of the time out of fold (the LLM's own accuracy is about that: what the
model keeps is then as good as what it sends). A task's `min_confidence` overrides it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

AUTO_TARGET_ACCURACY = 0.9
# Fewer kept items than this and a threshold's accuracy is noise: such a threshold is not chosen.
MIN_KEPT = 10


def threshold_for(pairs: Sequence[tuple[float, bool]], target_accuracy: float = AUTO_TARGET_ACCURACY) -> float:
    """The lowest confidence c such that items with confidence ≥ c were right ≥ target_accuracy of
    the time (pairs: out-of-fold (confidence, right)); 1.0 (every item to the LLM) when none is."""
    ranked = sorted(pairs, key=lambda pair: -pair[0])
    right = 0
    chosen = 1.0
    for n, (confidence, ok) in enumerate(ranked, start=1):
        right += ok
        # Only where the next item's confidence differs: a threshold keeps all items at its value.
        if n < len(ranked) and ranked[n][0] == confidence:
            continue
        if n >= MIN_KEPT and right / n >= target_accuracy:
            chosen = confidence
    # Rounded down, so that the item it was chosen at is still kept.
    return min(1.0, math.floor(chosen * 10_000) / 10_000)
