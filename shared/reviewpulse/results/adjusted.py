"""Label shares adjusted for an engine's measured errors: adjusted classify-and-count (Forman 2008).

When an evaluation gives a confusion matrix C (rows: the customer's labels, columns: the engine's),
the engine's share q_j of label j among a set of items is, in expectation, Σ_i p_i · M_ij with
M_ij = C_ij / Σ_j C_ij the rate at which true class i is called j. The adjusted shares p solve that
system (least squares with Σ p = 1 when there are more predicted classes than true ones), clipped
to the simplex (no share below 0, the rest renormalised), as Forman recommends.

The interval takes both uncertainties into account: each draw resamples every row of the
confusion matrix (Dirichlet(C_i + 1), the posterior of a multinomial row under a flat prior) and
the engine's counts of the set (Dirichlet(n + 1)), solves again, and the 2.5 and 97.5 percentiles
of the draws are the 95 % interval. Seeded: the same inputs give the same interval.

Written here in plain Python (the systems are at most 4 × 4) rather than with numpy, which the
shipped layer does not carry (stats.py says why).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

from pydantic import BaseModel, Field

DRAWS = 400
SEED = 20080101  # Forman 2008; any fixed number: intervals are reproducible


class AdjustedShare(BaseModel):
    label: str
    observed: float = Field(description="The engine's share of the analysed items (as counted)")
    adjusted: float = Field(description="The share corrected for the engine's measured errors")
    ci95: tuple[float, float] = Field(description="95% interval: the confusion matrix's uncertainty and sampling")


class AdjustedStats(BaseModel):
    key: str | None = Field(default=None, description="The segment value or bucket start; null for the whole batch")
    items: int = Field(description="Analysed items these shares are of")
    shares: list[AdjustedShare]


def confusion_rates(labels: Sequence[str], matrix: Sequence[Sequence[float]]) -> tuple[list[str], list[list[float]]]:
    """The true classes (rows with any item) and their rows of rates M_ij."""
    truths, rates = [], []
    for label, row in zip(labels, matrix, strict=True):
        total = sum(row)
        if total:
            truths.append(label)
            rates.append([value / total for value in row])
    return truths, rates


def adjusted_shares(rates: Sequence[Sequence[float]], observed: Sequence[float]) -> list[float]:
    """p minimising ||Mᵀp − q||² with Σp = 1 (as an extra, heavily weighted equation), clipped to
    the simplex. `rates` is M (true × predicted), `observed` is q (one per predicted class)."""
    k = len(rates)
    if k == 0:
        return []
    if k == 1:
        return [1.0]
    weight = 10.0
    # Rows of the system A p = b: one per predicted class, then the sum constraint.
    a = [[rates[i][j] for i in range(k)] for j in range(len(observed))] + [[weight] * k]
    b = [*observed, weight]
    # Normal equations AᵀA p = Aᵀb, solved by Gaussian elimination with partial pivoting.
    ata = [[sum(row[r] * row[c] for row in a) for c in range(k)] for r in range(k)]
    atb = [sum(row[r] * value for row, value in zip(a, b, strict=True)) for r in range(k)]
    solved = _solve(ata, atb)
    if solved is None:  # a singular matrix: the engine cannot tell these classes apart
        return _normalised(list(observed[:k]))
    return _normalised([max(value, 0.0) for value in solved])


def adjust(
    labels: Sequence[str],
    matrix: Sequence[Sequence[int]],
    counts: Mapping[str, int],
    *,
    key: str | None = None,
    draws: int = DRAWS,
    seed: int = SEED,
) -> AdjustedStats | None:
    """The adjusted shares of a set of items the engine counted `counts` (label → items)."""
    truths, rates = confusion_rates(labels, matrix)
    n = sum(counts.get(label, 0) for label in labels)
    if not truths or not n:
        return None
    observed = [counts.get(label, 0) / n for label in labels]
    point = adjusted_shares(rates, observed)
    rng = random.Random(f"{seed}:{key}")  # noqa: S311 - a seeded resampler, not a secret
    rows = [row for row in matrix if sum(row)]
    samples: list[list[float]] = []
    for _ in range(draws):
        drawn_rates = [_dirichlet(rng, [value + 1 for value in row]) for row in rows]
        drawn_observed = _dirichlet(rng, [counts.get(label, 0) + 1 for label in labels])
        samples.append(adjusted_shares(drawn_rates, drawn_observed))
    shares = []
    for index, label in enumerate(truths):
        values = sorted(sample[index] for sample in samples)
        low, high = values[int(0.025 * (draws - 1))], values[int(round(0.975 * (draws - 1)))]
        shares.append(
            AdjustedShare(
                label=label,
                observed=round(counts.get(label, 0) / n, 4),
                adjusted=round(point[index], 4),
                ci95=(round(low, 4), round(high, 4)),
            )
        )
    return AdjustedStats(key=key, items=n, shares=shares)


def _dirichlet(rng: random.Random, alphas: Sequence[float]) -> list[float]:
    draws = [rng.gammavariate(alpha, 1.0) for alpha in alphas]
    total = sum(draws)
    return [value / total for value in draws]


def _normalised(values: list[float]) -> list[float]:
    total = sum(values)
    return [value / total for value in values] if total > 0 else [1 / len(values)] * len(values)


def _solve(matrix: list[list[float]], vector: list[float]) -> list[float] | None:
    size = len(vector)
    rows = [[*matrix[r], vector[r]] for r in range(size)]
    for column in range(size):
        pivot = max(range(column, size), key=lambda r: abs(rows[r][column]))
        if abs(rows[pivot][column]) < 1e-12:
            return None
        rows[column], rows[pivot] = rows[pivot], rows[column]
        for r in range(size):
            if r != column:
                factor = rows[r][column] / rows[column][column]
                rows[r] = [value - factor * lead for value, lead in zip(rows[r], rows[column], strict=True)]
    return [rows[r][size] / rows[r][r] for r in range(size)]
