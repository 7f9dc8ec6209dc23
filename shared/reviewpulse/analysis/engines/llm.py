"""The `llm` engine: every item answered by an OpenAI-compatible model, on the LLM work queue.

The openai package is imported only when the first LLM chunk arrives (LazyLlmEngine, in
analysis/llm/lazy.py): workers and functions that never call the LLM do not pay its ~0.6 s import.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cached_property, partial
from typing import TYPE_CHECKING

from reviewpulse.analysis.engines.base import (
    Answerer,
    BatchPlan,
    ChunkAnalysis,
    EngineParts,
    ItemFailure,
    LanguageColumn,
    LlmShare,
    SummaryWriter,
)
from reviewpulse.analysis.engines.lexicon import LexiconAnswers, lexicon_analyzer, no_min_confidence
from reviewpulse.analysis.engines.wrappers import (
    BUDGET_ENGINE,
    FALLBACK_ENGINE,
    CachedAnswers,
    WithFallback,
    WithinBudget,
)
from reviewpulse.analysis.llm.estimate import estimate_texts
from reviewpulse.analysis.llm.outcome import BUDGET_EXHAUSTED, INVALID_ANSWER, UNAVAILABLE, LlmOutcome
from reviewpulse.analysis.llm.prompt import PROMPT_VERSION
from reviewpulse.analysis.options import AnalysisOptions
from reviewpulse.errors import ValidationFailed

if TYPE_CHECKING:
    from reviewpulse.analysis.llm.request_engine import LlmEngine
    from reviewpulse.analysis.llm.spend_gate import SpendGate

UNRESOLVED_DETAIL = {
    UNAVAILABLE: "the LLM engine was unavailable for this item",
    INVALID_ANSWER: "the LLM engine gave no valid answer for this item",
    BUDGET_EXHAUSTED: "the budget had no room left for this item's LLM request",
}
NOT_CONFIGURED = "the llm engine is not configured in this deployment; use lexicon or auto"


class LlmAnswers:
    """Texts sent to the model, personal data redacted unless the task was allowed to send it:
    per-item failures name why (unavailable, invalid)."""

    def __init__(self, llm: Callable[[], LlmEngine], spend: SpendGate | None = None) -> None:
        self._llm = llm
        self._spend = spend

    def answer(
        self, tenant: str, texts: Mapping, options: AnalysisOptions, *, deadline: float | None = None
    ) -> ChunkAnalysis:
        engine = self._llm()
        if engine.available:
            outcome = engine.analyze(
                dict(texts),
                options.aspects,
                options.report,
                deadline=deadline,
                redact_pii=options.redact_pii,
                spend=self._spend,
            )
        else:  # the breaker is open: skip the LLM rather than queue behind it
            outcome = LlmOutcome(unresolved=dict.fromkeys(texts, UNAVAILABLE))
        answers = {
            key: outcome.analyses.get(key) or ItemFailure(code, UNRESOLVED_DETAIL[code])
            for key in texts
            for code in [outcome.unresolved.get(key, UNAVAILABLE)]
        }
        return ChunkAnalysis(answers, outcome.usage)


def llm_fallback(parts: EngineParts) -> Answerer | None:
    """What answers the items the LLM left unanswered: the lexicon (named lexicon-fallback), or
    nothing when the deployment's policy is to fail them."""
    return (
        LexiconAnswers(lexicon_analyzer(parts), FALLBACK_ENGINE) if parts.settings.llm_fallback == "lexicon" else None
    )


def budget_lexicon(parts: EngineParts) -> Answerer:
    """What answers the items a budget had no room for (on_budget_exhausted lexicon): the lexicon,
    named lexicon-budget."""
    return LexiconAnswers(lexicon_analyzer(parts), BUDGET_ENGINE)


def llm_answers(parts: EngineParts) -> Answerer:
    """The LLM behind the result cache, the deployment's fallback policy and the task's budget
    policy."""
    if parts.llm is None:
        raise RuntimeError("this worker was given no LLM engine")
    llm = parts.llm
    cached = CachedAnswers(
        LlmAnswers(llm, parts.spend), parts.cache, engine="llm", model=llm().model, prompt=PROMPT_VERSION
    )
    return WithinBudget(WithFallback(cached, llm_fallback(parts)), budget_lexicon(parts))


class LlmTaskEngine(LanguageColumn):
    """The engine a task names `llm` (the client it calls is analysis.llm.engine.LlmEngine)."""

    name = "llm"
    uses_llm_queue = True
    spends_tokens = True

    def __init__(self, parts: EngineParts) -> None:
        self._parts = parts

    @cached_property
    def answers(self) -> Answerer:
        return llm_answers(self._parts)

    @property
    def chunk_max_items(self) -> int:
        # Smaller chunks: one chunk's requests must fit well inside the LLM analyzer's timeout.
        return self._parts.settings.llm_chunk_max_items

    def unavailable_reason(self) -> str | None:
        return None if self._parts.settings.llm_configured else NOT_CONFIGURED

    def note(self) -> str | None:
        return None

    def settle_options(self, options: AnalysisOptions) -> AnalysisOptions:
        if options.model_id is not None:
            raise ValidationFailed("model_id applies to the lexicon and auto engines, not to llm")
        return no_min_confidence(self.name, options)

    def answer(
        self, tenant: str, texts: Mapping, options: AnalysisOptions, *, deadline: float | None = None
    ) -> ChunkAnalysis:
        return self.answers.answer(tenant, texts, options, deadline=deadline)

    def before_batch_api(self, tenant: str, texts: Mapping, options: AnalysisOptions) -> BatchPlan:
        return BatchPlan(to_ask=dict(texts))

    def summary_writer(self, deadline: float | None) -> SummaryWriter | None:
        return llm_summary_writer(self._parts, deadline)

    def quote(self, texts: Mapping, options: AnalysisOptions, *, tenant: str = "") -> LlmShare:
        return llm_share(self._parts, texts, options)


def llm_share(parts: EngineParts, texts: Mapping, options: AnalysisOptions) -> LlmShare:
    """Every one of `texts` sent to the LLM, grouped as the LLM engine groups them. Texts the
    result cache could answer are counted too: the quote is the cost without the cache."""
    if not texts:
        return LlmShare()
    tokens = estimate_texts(
        texts, options.aspects, options.report, items_per_request=parts.settings.llm_items_per_request
    )
    return LlmShare(len(texts), tokens)


def llm_summary_writer(parts: EngineParts, deadline: float | None) -> SummaryWriter | None:
    if parts.llm is None or not parts.settings.llm_configured:
        return None
    return partial(parts.llm().summarize, deadline=deadline)
