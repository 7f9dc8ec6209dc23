"""A headline that says how sure it is: which engine (and model) gave a task's labels, and how well
that engine is known to do on this kind of text.

With an evaluation (options.label_field) the figures are the batch's own. Without one, the task
says plainly that its labels were not measured on the customer's data, and gives the engine's
range on the labelled public sets (KNOWN_RANGES: `make quality` on ../shared/data, the three-class
view of labelled_data.py, recorded 2026-12-05 after the social-text normalisation).
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, Field

from reviewpulse.results.evaluation import Evaluation

# engine → (lowest accuracy, highest accuracy, what the range is from). The LLM's own accuracy
# depends on the deployment's model: `make quality` measures it only against a simulated LLM, so
# no range is claimed for it.
KNOWN_RANGES: dict[str, tuple[float, float, str]] = {
    "lexicon": (
        0.546,
        0.808,
        "make quality on 8 public labelled sets (UCI, VADER's four, Apple tweets), 2026-12-05",
    ),
}
NOT_MEASURED = "These labels were not measured on your data"


class KnownRange(BaseModel):
    accuracy_low: float
    accuracy_high: float
    source: str


class Headline(BaseModel):
    engine: str = Field(description="The engine the task ran (options.engine)")
    answered_by: dict[str, int] = Field(description="Items answered by each engine")
    model: str | None = Field(default=None, description="model_id@version of a tenant model, when one answered")
    measured: bool = Field(description="true: the figures below come from this batch's own labelled rows")
    statement: str = Field(description="One plain sentence a report shows as it is")
    accuracy: float | None = None
    macro_f1: float | None = None
    ece: float | None = None
    evaluated: int | None = Field(default=None, description="Labelled rows the figures are from")
    known_range: KnownRange | None = Field(
        default=None, description="Unmeasured: the engine's accuracy range on public labelled sets"
    )


def headline(
    engine: str,
    answered_by: Mapping[str, int],
    evaluation: Evaluation | None,
    model: str | None = None,
    *,
    taught_from: int | None = None,
) -> Headline:
    """`taught_from`: the model was taught from the LLM's answers to that many items of this batch
    (options.teach, read through it afterwards)."""
    taught = f", taught from the LLM's answers to {taught_from:,} items of this batch" if taught_from else ""
    by = f"{engine} engine" + (f" (model {model}{taught})" if model else "")
    if evaluation is not None and evaluation.accuracy is not None:
        n = evaluation.coverage.evaluated
        statement = (
            f"Labels by the {by}, measured on {n:,} of your labelled rows: accuracy {evaluation.accuracy:.0%}, "
            f"macro-F1 {evaluation.macro_f1:.2f}"
            + (f", calibration error {evaluation.ece:.2f}" if evaluation.ece is not None else "")
            + "."
        )
        return Headline(
            engine=engine,
            answered_by=dict(answered_by),
            model=model,
            measured=True,
            statement=statement,
            accuracy=evaluation.accuracy,
            macro_f1=evaluation.macro_f1,
            ece=evaluation.ece,
            evaluated=n,
        )
    known = KNOWN_RANGES.get(engine)
    if known is not None:
        low, high, source = known
        statement = (
            f"{NOT_MEASURED}: labels by the {by}, which is right on {low:.0%}–{high:.0%} of items on public "
            "labelled sets (reviews, editorials, tweets). Name a label column (options.label_field) to measure it."
        )
        range_ = KnownRange(accuracy_low=low, accuracy_high=high, source=source)
    else:
        statement = (
            f"{NOT_MEASURED}: labels by the {by}; its accuracy depends on the deployment's LLM and has not "
            "been measured here. Name a label column (options.label_field) to measure it."
        )
        range_ = None
    return Headline(
        engine=engine,
        answered_by=dict(answered_by),
        model=model,
        measured=False,
        statement=statement,
        known_range=range_,
    )
