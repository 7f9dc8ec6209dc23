"""The `lexicon` engine: VADER with a calibrated confidence, offline, free, on the lexicon queue.
With options.model_id the tenant's model answers instead (engines/model.py: ModelEngine)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property

from reviewpulse.analysis.aspects import aspect_themes, lexicon_aspects
from reviewpulse.analysis.engines.base import (
    AnalysisUnavailable,
    BatchPlan,
    ChunkAnalysis,
    EngineParts,
    HasLanguage,
    ItemFailure,
    LlmShare,
    SummaryWriter,
)
from reviewpulse.analysis.options import AnalysisOptions
from reviewpulse.analysis.sentiment import Analysis, Analyzer, Sentiment
from reviewpulse.errors import ValidationFailed
from reviewpulse.observability import failure_fields, logger


class LexiconAnswers:
    """Answers texts with the lexicon analyzer (or a model's scorer: anything with analyze);
    `label` is the engine its results name, `model` the model that answered, if one did."""

    def __init__(self, analyzer: Analyzer, label: str, *, model: str | None = None) -> None:
        self._analyzer = analyzer
        self.label = label
        self._model = model

    def answer(
        self, tenant: str, texts: Mapping, options: AnalysisOptions, *, deadline: float | None = None
    ) -> ChunkAnalysis:
        keys = list(texts)
        try:
            sentiments = self._analyzer.analyze([texts[key] for key in keys])
            answers = {
                key: self._analysis(texts[key], sentiment, options)
                for key, sentiment in zip(keys, sentiments, strict=True)
            }
        except AnalysisUnavailable:
            raise
        except Exception as exc:
            # One text the analyzer cannot handle must not sink its neighbours: retry one by one.
            logger.warning("chunk analysis failed; analysing items one by one", extra=failure_fields(exc))
            answers = {key: self._one(texts[key], options) for key in keys}
        return ChunkAnalysis(answers)

    def _analysis(self, text: str, sentiment: Sentiment, options: AnalysisOptions) -> Analysis:
        aspects = lexicon_aspects(self._analyzer, text, options.aspects) if options.aspects else ()
        themes = aspect_themes(aspects) if options.report else ()
        return Analysis(sentiment=sentiment, engine=self.label, aspects=aspects, themes=themes, model=self._model)

    def _one(self, text: str, options: AnalysisOptions) -> Analysis | ItemFailure:
        try:
            (sentiment,) = self._analyzer.analyze([text])
            return self._analysis(text, sentiment, options)
        except AnalysisUnavailable:
            raise
        except Exception:
            return ItemFailure("analysis-failed", f"the {self.label} engine could not analyse this item")


class LexiconEngine:
    name = "lexicon"
    uses_llm_queue = False
    spends_tokens = False

    def __init__(self, parts: EngineParts) -> None:
        self._parts = parts

    @cached_property
    def answers(self) -> LexiconAnswers:
        return LexiconAnswers(lexicon_analyzer(self._parts), self.name)

    @property
    def chunk_max_items(self) -> int:
        return self._parts.settings.chunk_max_items

    def unavailable_reason(self) -> str | None:
        return None

    def note(self) -> str | None:
        return None

    def settle_options(self, options: AnalysisOptions) -> AnalysisOptions:
        return no_min_confidence(self.name, options)

    def answer(
        self, tenant: str, texts: Mapping, options: AnalysisOptions, *, deadline: float | None = None
    ) -> ChunkAnalysis:
        return self.answers.answer(tenant, texts, options, deadline=deadline)

    def before_batch_api(self, tenant: str, texts: Mapping, options: AnalysisOptions) -> BatchPlan:
        return BatchPlan(settled=self.answer(tenant, texts, options).answers)  # never asks the LLM

    def summary_writer(self, deadline: float | None) -> SummaryWriter | None:
        return None  # the report's summary is written from a template

    def quote(self, texts: Mapping, options: AnalysisOptions, *, tenant: str = "") -> LlmShare:
        return LlmShare()  # free: nothing goes to an LLM

    def csv_columns(self) -> list[str]:
        return []

    def csv_cells(self, result: HasLanguage) -> list[str]:
        return []


def lexicon_analyzer(parts: EngineParts) -> Analyzer:
    """The workers' analyzer, or one built here (VADER and its calibration load in ~0.1 s)."""
    if parts.lexicon is not None:
        return parts.lexicon
    from reviewpulse.analysis.lexicon_analyzer import LexiconAnalyzer

    return LexiconAnalyzer()


def no_min_confidence(engine: str, options: AnalysisOptions) -> AnalysisOptions:
    if options.min_confidence is not None:
        raise ValidationFailed(f"min_confidence applies to the auto engine only, not to {engine}")
    return options
