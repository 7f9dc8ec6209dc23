"""How well a task's labels match the labels its customer already had (options.label_field).

The label column is read with the one mapping training reads it with (analysis/labels.py,
README "Evaluate on labelled rows"): words in any case, and numbers by the column's scale,
decided from every number the column holds, so only known at the end of the finalizer's one pass.
Anything the mapping cannot read is a per-row `invalid-label` (listed in the evaluation with its
row and id, and written on the row in the results files); the evaluation says which values it met
and how it read each. A blank label is an unlabelled row, neither right nor wrong. The row is
analysed whatever its label: the label column measures the engine, it never costs a customer
their sentiment.

Counting is exact under chunking for the same reason the insights are: the finalizer reads each
counted part once, in row order, with the row's input columns (usecases/finalize.py). Memory is
bounded: per distinct label value (at most MAX_LABEL_VALUES, then the rest are invalid) one small
table of counts by predicted label and confidence bin.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from reviewpulse.analysis.labels import MAPPING, LabelScheme
from reviewpulse.results.model import ItemError, ItemResult

LABELS = ("positive", "negative", "neutral", "mixed")
LABEL_MAPPING = MAPPING
RELIABILITY_BINS = 10
MAX_LABEL_VALUES = 100  # distinct values followed; a column with more is not a label column
MAX_VALUE_CHARS = 40  # a value is shown as met up to this length (labels are short)
MAX_LISTED_ERRORS = 50  # invalid-label rows listed by row and id (all are counted)
INVALID_LABEL = "invalid-label"
Scale = Literal["none", "binary", "signed", "stars"]


# -- the document ---------------------------------------------------------------------------------


class LabelValue(BaseModel):
    value: str = Field(description="A value met in the label column (trimmed; cut to 40 characters)")
    rows: int
    read_as: str | None = Field(description="The label it was read as; null: invalid-label")


class RowError(BaseModel):
    row: int
    id: str
    code: str
    detail: str


class Coverage(BaseModel):
    rows: int = Field(description="Every row of the task")
    evaluated: int = Field(description="Rows with a readable label and a sentiment: the figures below count these")
    unlabelled: int = Field(description="Rows whose label is blank")
    invalid_label: int = Field(description="Rows whose label the mapping cannot read (invalid-label)")
    analysis_failed: int = Field(description="Rows with a label but no sentiment (a per-row error)")
    share_evaluated: float = Field(description="evaluated / rows")


class ClassScores(BaseModel):
    label: str
    support: int = Field(description="Rows whose own label is this one")
    predicted: int = Field(description="Rows the engine gave this label")
    precision: float | None = Field(description="null when the engine never gave this label")
    recall: float | None = Field(description="null when no row has this label")
    f1: float


class ConfusionMatrix(BaseModel):
    labels: list[str] = Field(description="Row and column order")
    matrix: list[list[int]] = Field(
        description="matrix[i][j]: rows labelled labels[i] that the engine called labels[j]"
    )


class ReliabilityBin(BaseModel):
    low: float
    high: float
    items: int
    mean_confidence: float | None
    accuracy: float | None


class LlmFigures(BaseModel):
    items_answered_by_llm: int
    share_answered_by_llm: float = Field(description="Of the rows analysed")
    input_tokens: int
    output_tokens: int
    cost_usd: float
    tokens_per_1000_items: float
    cost_per_1000_items_usd: float


class Evaluation(BaseModel):
    label_field: str
    mapping: str = LABEL_MAPPING
    scale: Scale = Field(description="How numbers in the column were read (none: it held no numbers)")
    values: list[LabelValue] = Field(description="The values met, most rows first, and how each was read")
    coverage: Coverage
    accuracy: float | None
    macro_f1: float | None = Field(description="Mean F1 over the classes the customer's labels use")
    classes: list[ClassScores]
    confusion: ConfusionMatrix
    ece: float | None = Field(description="Expected calibration error over 10 equal-width confidence bins")
    reliability: list[ReliabilityBin]
    llm: LlmFigures | None = Field(default=None, description="Engines that call an LLM: what it took")
    errors: list[RowError] = Field(
        default_factory=list, description="The first 50 invalid-label rows (coverage counts them all)"
    )


# -- reading labels -------------------------------------------------------------------------------


# The evaluation's names for the mapping's schemes (its `scale` field, part of the API).
_SCALES: dict[str, Scale] = {"words": "none", "binary": "binary", "polarity": "signed", "stars": "stars"}


def scale_of(values: list[str]) -> Scale:
    """The scale of a column's numbers (analysis/labels.py says how it is decided)."""
    return _SCALES[LabelScheme.for_values(values).name]


def label_error(value: str | None, scheme: str) -> ItemError | None:
    """A row's per-row `invalid-label` (in the results files) when its label cell holds a value
    the column's scheme (analysis/labels.py) cannot read; None for a readable or blank one."""
    shown = (value or "").strip()
    if not shown or LabelScheme(scheme).read(shown) is not None:
        return None
    detail = f"the label {shown[:MAX_VALUE_CHARS]!r} is not one the mapping reads ({_SCALES[scheme]} scale)"
    return ItemError(code=INVALID_LABEL, detail=detail)


def read_label(value: str, scale: Scale) -> str | None:
    """The label a value means on this scale, or None: invalid-label."""
    scheme = LabelScheme(next(name for name, shown in _SCALES.items() if shown == scale))
    label = scheme.read(value)
    return label.value if label is not None else None


# -- accumulation ---------------------------------------------------------------------------------


class _ValueTally:
    __slots__ = ("rows", "shown", "cells", "failed", "first_rows")

    def __init__(self, shown: str) -> None:
        self.rows = 0
        self.shown = shown
        self.failed = 0
        # (predicted label, confidence bin) -> [items, confidence sum]
        self.cells: dict[tuple[str, int], list[float]] = {}
        self.first_rows: list[tuple[int, str]] = []


class EvaluationBuilder:
    """Fed every result with its label cell, in the finalizer's pass; builds the Evaluation."""

    def __init__(self, label_field: str, *, max_values: int = MAX_LABEL_VALUES, scheme: str | None = None) -> None:
        """`scheme`: the column's, found over all its values before the pass (labels.SchemeFinder);
        without it, decided from the values this builder keeps."""
        self.label_field = label_field
        self._scheme = scheme
        self._max_values = max_values
        self._values: dict[str, _ValueTally] = {}
        self._rows = 0
        self._unlabelled = 0
        self._overflow = _ValueTally("(other values)")

    def add(self, result: ItemResult, cell: str | None) -> None:
        self._rows += 1
        value = (cell or "").strip()
        if not value:
            self._unlabelled += 1
            return
        key = value.casefold()
        tally = self._values.get(key)
        if tally is None:
            if len(self._values) >= self._max_values:
                tally = self._overflow
            else:
                tally = self._values[key] = _ValueTally(value[:MAX_VALUE_CHARS])
        tally.rows += 1
        if len(tally.first_rows) < MAX_LISTED_ERRORS:
            tally.first_rows.append((result.row, result.id))
        if result.error is not None or result.label is None:
            tally.failed += 1
            return
        confidence = min(max(result.confidence or 0.0, 0.0), 1.0)
        cell_key = (result.label, min(int(confidence * RELIABILITY_BINS), RELIABILITY_BINS - 1))
        counts = tally.cells.get(cell_key)
        if counts is None:
            counts = tally.cells[cell_key] = [0, 0.0]
        counts[0] += 1
        counts[1] += confidence

    def build(self, llm: LlmFigures | None = None) -> Evaluation:
        scale = _SCALES[self._scheme] if self._scheme else scale_of(list(self._values))
        read = {key: read_label(key, scale) for key in self._values}
        truths = [truth for truth in read.values() if truth is not None]
        confusion: dict[tuple[str, str], int] = {}
        bins = [[0, 0.0, 0] for _ in range(RELIABILITY_BINS)]  # items, confidence sum, right
        failed = invalid = 0
        errors: list[RowError] = []
        for key, tally in [*self._values.items(), ("", self._overflow)]:
            truth = read.get(key)
            if truth is None:
                invalid += tally.rows
                detail = f"the label {tally.shown!r} is not one the mapping reads ({scale} scale)"
                for row, item_id in tally.first_rows[: MAX_LISTED_ERRORS - len(errors)]:
                    errors.append(RowError(row=row, id=item_id, code=INVALID_LABEL, detail=detail))
                continue
            failed += tally.failed
            for (predicted, b), (items, confidence_sum) in tally.cells.items():
                confusion[(truth, predicted)] = confusion.get((truth, predicted), 0) + int(items)
                bins[b][0] += int(items)
                bins[b][1] += confidence_sum
                bins[b][2] += int(items) if predicted == truth else 0
        errors.sort(key=lambda e: e.row)
        labels = [label for label in LABELS if any(label in pair for pair in confusion) or label in truths]
        matrix = [[confusion.get((t, p), 0) for p in labels] for t in labels]
        evaluated = sum(map(sum, matrix))
        right = sum(matrix[i][i] for i in range(len(labels)))
        classes = _class_scores(labels, matrix)
        gold = {label for (label, _), n in confusion.items() if n}
        f1s = [c.f1 for c in classes if c.label in gold]
        values = sorted(
            [LabelValue(value=t.shown, rows=t.rows, read_as=read[k]) for k, t in self._values.items()],
            key=lambda v: (-v.rows, v.value),
        )
        if self._overflow.rows:
            values.append(LabelValue(value=self._overflow.shown, rows=self._overflow.rows, read_as=None))
        return Evaluation(
            label_field=self.label_field,
            scale=scale,
            values=values,
            coverage=Coverage(
                rows=self._rows,
                evaluated=evaluated,
                unlabelled=self._unlabelled,
                invalid_label=invalid,
                analysis_failed=failed,
                share_evaluated=round(evaluated / self._rows, 4) if self._rows else 0.0,
            ),
            accuracy=round(right / evaluated, 4) if evaluated else None,
            macro_f1=round(sum(f1s) / len(f1s), 4) if f1s else None,
            classes=classes,
            confusion=ConfusionMatrix(labels=labels, matrix=matrix),
            ece=_ece(bins, evaluated),
            reliability=[
                ReliabilityBin(
                    low=round(b / RELIABILITY_BINS, 2),
                    high=round((b + 1) / RELIABILITY_BINS, 2),
                    items=items,
                    mean_confidence=round(confidence_sum / items, 4) if items else None,
                    accuracy=round(hits / items, 4) if items else None,
                )
                for b, (items, confidence_sum, hits) in enumerate(bins)
            ],
            llm=llm,
            errors=errors,
        )


def _class_scores(labels: list[str], matrix: list[list[int]]) -> list[ClassScores]:
    scores = []
    for i, label in enumerate(labels):
        tp = matrix[i][i]
        support = sum(matrix[i])
        predicted = sum(row[i] for row in matrix)
        precision = tp / predicted if predicted else None
        recall = tp / support if support else None
        f1 = 2 * tp / (support + predicted) if tp else 0.0
        scores.append(
            ClassScores(
                label=label,
                support=support,
                predicted=predicted,
                precision=round(precision, 4) if precision is not None else None,
                recall=round(recall, 4) if recall is not None else None,
                f1=round(f1, 4),
            )
        )
    return scores


def _ece(bins: list[list], evaluated: int) -> float | None:
    """Σ over bins of (items / all) · |accuracy − mean confidence| (Guo et al. 2017)."""
    if not evaluated:
        return None
    return round(sum(abs(hits - confidence_sum) for items, confidence_sum, hits in bins if items) / evaluated, 4)
