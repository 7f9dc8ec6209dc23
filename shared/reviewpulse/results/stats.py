"""Small statistics for the insights: intervals, tests and a multiple-comparison correction.

Written here rather than imported from scipy: these few formulas are all the insights need, and
numpy/scipy would multiply the layer's size and cold start (see README, "Insights").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Z_95 = 1.959963984540054  # the two-sided 95% quantile of the standard normal


def normal_two_sided_p(z: float) -> float:
    """P(|Z| >= |z|) for a standard normal Z."""
    return math.erfc(abs(z) / math.sqrt(2.0))


def net_sentiment(positive: int, negative: int, n: int) -> float | None:
    """Positive share minus negative share, in [-1, 1]; None without items."""
    return (positive - negative) / n if n else None


def net_sentiment_variance(positive: int, negative: int, n: int) -> float | None:
    """Variance of the estimated net sentiment p+ − p− when the n labels are a multinomial
    sample: (p+ + p− − (p+ − p−)²) / n."""
    if not n:
        return None
    p_pos, p_neg = positive / n, negative / n
    return max(p_pos + p_neg - (p_pos - p_neg) ** 2, 0.0) / n


def net_sentiment_interval(positive: int, negative: int, n: int, z: float = Z_95) -> tuple[float, float] | None:
    """Adjusted Wald interval of the net sentiment, clipped to [-1, 1]: the multinomial Wald
    interval computed with one pseudo-item added to each of positive, negative and the rest
    (after Agresti & Caffo 2000), so that a small segment whose items all agree gets a wide
    interval rather than the plain Wald interval's zero width."""
    if not n:
        return None
    size = n + 3
    p_pos, p_neg = (positive + 1) / size, (negative + 1) / size
    centre = p_pos - p_neg
    half = z * math.sqrt(max(p_pos + p_neg - centre**2, 0.0) / size)
    return max(-1.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Test:
    statistic: float
    p_value: float


def two_proportion_z_test(x1: int, n1: int, x2: int, n2: int) -> Test | None:
    """Pooled two-proportion z-test of x1/n1 against x2/n2 (two-sided). None when it is undefined
    (an empty sample, or both proportions 0 or both 1)."""
    if not n1 or not n2:
        return None
    pooled = (x1 + x2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance <= 0:
        return None
    z = (x1 / n1 - x2 / n2) / math.sqrt(variance)
    return Test(statistic=z, p_value=normal_two_sided_p(z))


def net_sentiment_z_test(pos1: int, neg1: int, n1: int, pos2: int, neg2: int, n2: int) -> Test | None:
    """z-test of the difference between two independent net sentiments (Wald, unpooled)."""
    v1 = net_sentiment_variance(pos1, neg1, n1)
    v2 = net_sentiment_variance(pos2, neg2, n2)
    if v1 is None or v2 is None or v1 + v2 <= 0:
        return None
    z = ((pos1 - neg1) / n1 - (pos2 - neg2) / n2) / math.sqrt(v1 + v2)
    return Test(statistic=z, p_value=normal_two_sided_p(z))


def benjamini_hochberg(p_values: list[float]) -> list[float]:
    """Benjamini–Hochberg adjusted p-values (false discovery rate), in the order given."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        index = order[rank - 1]
        running = min(running, p_values[index] * m / rank)
        adjusted[index] = min(running, 1.0)
    return adjusted
