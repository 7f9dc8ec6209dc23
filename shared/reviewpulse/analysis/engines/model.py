"""A tenant's model answering in place of the lexicon: on the `lexicon` engine with
options.model_id every item, and on `auto` the first pass (the items it is unsure of go to the LLM).

Results name the engine `model` and the model that answered (`model`: model_id@version). The
artifact comes through the ModelStore port (EngineParts.models) and is scored in plain Python
(analysis/models/scorer.py), one scorer per (tenant, model id, version) per process. A model the
tenant no longer has leaves each item a per-row `model-not-found` error: nothing is answered by
something the task did not ask for.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property

from reviewpulse.analysis.engines.base import ChunkAnalysis, EngineParts, ItemFailure
from reviewpulse.analysis.engines.lexicon import LexiconAnswers, LexiconEngine, lexicon_analyzer
from reviewpulse.analysis.models.routing import AUTO_TARGET_ACCURACY
from reviewpulse.analysis.options import AnalysisOptions
from reviewpulse.errors import ModelNotFound

MODEL_ENGINE = "model"
MODEL_NOT_FOUND = "model-not-found"
MODEL_NOT_FOUND_DETAIL = "the model this task names is not there any more"


class ModelAnswers:
    """Answers texts with the model a task's options name."""

    def __init__(self, parts: EngineParts) -> None:
        self._parts = parts

    def scorer(self, tenant: str, options: AnalysisOptions):
        """The task's model, scored in this process (ModelNotFound when the tenant has none)."""
        from reviewpulse.analysis.models.scorer import SCORERS, Scorer

        store = self._parts.models
        if store is None or options.model_id is None:
            raise RuntimeError("a task that names a model needs engine parts with a model store")
        model_id = options.model_id
        version = options.model_version or store.current_version(tenant, model_id)
        lexicon = lexicon_analyzer(self._parts)

        def build() -> Scorer:
            return Scorer(
                store.load(tenant, model_id, version),
                vader=getattr(lexicon, "vader", None),
                language=getattr(lexicon, "language", None),
            )

        return SCORERS.get((tenant, model_id, version), build)

    def threshold(self, tenant: str, options: AnalysisOptions) -> float:
        """auto's threshold: the task's min_confidence, else the one the model's card chose for
        AUTO_TARGET_ACCURACY from its cross-validated predictions."""
        if options.min_confidence is not None:
            return options.min_confidence
        card = self.scorer(tenant, options).artifact.card
        return float((card.get("auto") or {}).get("threshold", AUTO_TARGET_ACCURACY))

    def answer(
        self, tenant: str, texts: Mapping, options: AnalysisOptions, *, deadline: float | None = None
    ) -> ChunkAnalysis:
        try:
            scorer = self.scorer(tenant, options)
        except ModelNotFound:
            return ChunkAnalysis({key: ItemFailure(MODEL_NOT_FOUND, MODEL_NOT_FOUND_DETAIL) for key in texts})
        answers = LexiconAnswers(scorer, MODEL_ENGINE, model=scorer.artifact.name)
        return answers.answer(tenant, texts, options, deadline=deadline)


class ModelEngine(LexiconEngine):
    """The `lexicon` engine of a task that names a model: the same queue, chunks and options (it
    is what the task asked for, offline and free), every item answered by the model."""

    @cached_property
    def model_answers(self) -> ModelAnswers:
        return ModelAnswers(self._parts)

    def answer(
        self, tenant: str, texts: Mapping, options: AnalysisOptions, *, deadline: float | None = None
    ) -> ChunkAnalysis:
        return self.model_answers.answer(tenant, texts, options, deadline=deadline)
