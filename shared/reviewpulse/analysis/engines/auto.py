"""The `auto` engine: the lexicon answers every item first; the items it is unsure of go to the LLM.

An item goes to the LLM when the lexicon's calibrated confidence is below the task's
`min_confidence` (the deployment's AutoMinConfidence unless the task names one), or when the
lexicon flags it (a language it does not read): routing.needs_llm. The LLM's share is answered as
the `llm` engine answers, through the result cache and the fallback policy, and every result names
the engine that answered it.

With options.model_id the tenant's model (engines/model.py) takes the lexicon's place: its
calibrated confidence decides, against the task's min_confidence or, without one, the threshold
the model's card chose from its cross-validated predictions (analysis/models/routing.py). Items it
settles name the engine `model`.

Its chunks go to the LLM work queue: a chunk may make LLM requests, so it needs that queue's
capped concurrency (the provider's rate limit), its longer timeout and its smaller chunks. The items
the lexicon settles cost next to nothing there (VADER scores ~10,000 a second). Without an LLM
configured, `auto` is the lexicon on the lexicon queue, and the task says so in its notes.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property

from reviewpulse.analysis.engines.base import (
    Answerer,
    BatchPlan,
    ChunkAnalysis,
    EngineParts,
    LanguageColumn,
    LlmShare,
    SummaryWriter,
)
from reviewpulse.analysis.engines.lexicon import LexiconAnswers, LexiconEngine, lexicon_analyzer
from reviewpulse.analysis.engines.llm import llm_answers, llm_share, llm_summary_writer
from reviewpulse.analysis.engines.model import ModelAnswers
from reviewpulse.analysis.options import AnalysisOptions
from reviewpulse.analysis.routing import needs_llm
from reviewpulse.analysis.sentiment import Analysis

NO_LLM_NOTE = "no LLM is configured in this deployment: auto answered every item with the lexicon"


class AutoEngine(LanguageColumn):
    name = "auto"
    spends_tokens = True

    def __init__(self, parts: EngineParts) -> None:
        self._parts = parts

    @property
    def _with_llm(self) -> bool:
        return self._parts.settings.llm_configured

    @property
    def uses_llm_queue(self) -> bool:
        return self._with_llm

    @property
    def chunk_max_items(self) -> int:
        return self._parts.settings.llm_chunk_max_items if self._with_llm else self._parts.settings.chunk_max_items

    @cached_property
    def _lexicon(self) -> LexiconAnswers:
        # Items the lexicon settles name it, as they would on the lexicon engine.
        return LexiconAnswers(lexicon_analyzer(self._parts), LexiconEngine.name)

    @cached_property
    def _model(self) -> ModelAnswers:
        return ModelAnswers(self._parts)

    def _first(self, options: AnalysisOptions) -> Answerer:
        return self._model if options.model_id is not None else self._lexicon

    @cached_property
    def _llm(self) -> Answerer:
        return llm_answers(self._parts)

    def unavailable_reason(self) -> str | None:
        return None  # without an LLM it is the lexicon, and says so

    def note(self) -> str | None:
        return None if self._with_llm else NO_LLM_NOTE

    def settle_options(self, options: AnalysisOptions) -> AnalysisOptions:
        if options.min_confidence is not None or options.model_id is not None:
            # A model's own threshold applies when the task names none (its card, per version).
            return options
        if options.teach is not None:
            # Taught first: the rest is read through the taught model, at its own threshold, or
            # without one at the deployment's, filled in then (usecases/teach_first.py).
            return options
        # Kept on the task, so a later change of the deployment's threshold cannot alter it.
        return options.model_copy(update={"min_confidence": self._parts.settings.auto_min_confidence})

    def _unsure(self, tenant: str, first: ChunkAnalysis, texts: Mapping, options: AnalysisOptions) -> dict:
        if options.min_confidence is not None:
            threshold = options.min_confidence
        elif options.model_id is not None and any(isinstance(a, Analysis) for a in first.answers.values()):
            threshold = self._model.threshold(tenant, options)
        elif options.model_id is None:  # a teaching task's quote, before its rest is read
            threshold = self._parts.settings.auto_min_confidence
        else:
            threshold = 0.0
        return {
            key: text
            for key, text in texts.items()
            if not isinstance(answer := first.answers.get(key), Analysis) or needs_llm(answer.sentiment, threshold)
        }

    def before_batch_api(self, tenant: str, texts: Mapping, options: AnalysisOptions) -> BatchPlan:
        first = self._first(options).answer(tenant, texts, options)
        unsure = self._unsure(tenant, first, texts, options) if self._with_llm else {}
        return BatchPlan(settled={k: a for k, a in first.answers.items() if k not in unsure}, to_ask=unsure)

    def answer(
        self, tenant: str, texts: Mapping, options: AnalysisOptions, *, deadline: float | None = None
    ) -> ChunkAnalysis:
        first = self._first(options).answer(tenant, texts, options, deadline=deadline)
        if not self._with_llm or self._parts.llm is None:
            return first
        unsure = self._unsure(tenant, first, texts, options)
        if not unsure:
            return first
        second = self._llm.answer(tenant, unsure, options, deadline=deadline)
        return ChunkAnalysis({**first.answers, **second.answers}, second.usage)

    def summary_writer(self, deadline: float | None) -> SummaryWriter | None:
        return llm_summary_writer(self._parts, deadline)

    def quote(self, texts: Mapping, options: AnalysisOptions, *, tenant: str = "") -> LlmShare:
        """The lexicon runs on every text here as it will in the run (~10,000 a second), so the
        quote counts exactly the items the router will send, not an average share."""
        if not self._with_llm or not texts:
            return LlmShare()
        # Without a model store here (a splitter not wired for models), the lexicon's pass estimates.
        first_pass = self._first(options) if self._parts.models is not None else self._lexicon
        first = first_pass.answer(tenant, texts, options)
        return llm_share(self._parts, self._unsure(tenant, first, texts, options), options)
