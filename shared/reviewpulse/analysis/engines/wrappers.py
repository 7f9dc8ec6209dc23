"""The result cache and the fallback policy, as wrappers around whatever answers for the LLM.

    WithFallback(CachedAnswers(LlmAnswers(llm), cache), LexiconAnswers(analyzer, FALLBACK_ENGINE))

Both speak the Answerer interface they wrap, so the `llm` and `auto` engines compose them alike
and the chunk workflow knows neither.
"""

from __future__ import annotations

from collections.abc import Mapping

from reviewpulse.analysis.cache import ResultCache, cache_key
from reviewpulse.analysis.engines.base import Answerer, ChunkAnalysis, ItemFailure
from reviewpulse.analysis.llm.outcome import BUDGET_EXHAUSTED, UNAVAILABLE
from reviewpulse.analysis.options import AnalysisOptions
from reviewpulse.analysis.sentiment import Analysis
from reviewpulse.observability import logger

# The engine named by results the lexicon gave because the LLM left them unanswered.
FALLBACK_ENGINE = "lexicon-fallback"
# The engine named by results the lexicon gave because a budget ran out (on_budget_exhausted lexicon).
BUDGET_ENGINE = "lexicon-budget"
UNAVAILABLE_DETAIL = "the LLM engine was unavailable for this item"


class CachedAnswers:
    """Texts the tenant had answered before come from the cache, repeats within a chunk are
    asked once, and only the rest reach `inner`; its new answers are cached.

    `identity` is what else the cache key names (the engine, model and prompt version), so a
    changed prompt or model never serves a stale answer."""

    def __init__(self, inner: Answerer, cache: ResultCache | None, *, engine: str, model: str, prompt: str) -> None:
        self._inner = inner
        self._cache = cache
        self._identity = {"engine": engine, "model": model, "prompt_version": prompt}

    def answer(
        self, tenant: str, texts: Mapping, options: AnalysisOptions, *, deadline: float | None = None
    ) -> ChunkAnalysis:
        keys = {
            key: cache_key(tenant, text, aspects=options.aspects, themes=options.report, **self._identity)
            for key, text in texts.items()
        }
        known = self._cache.get_many(keys.values()) if self._cache is not None and keys else {}
        to_ask: dict[str, str] = {}
        for key, text in texts.items():
            if keys[key] not in known:
                to_ask.setdefault(keys[key], text)
        asked = self._inner.answer(tenant, to_ask, options, deadline=deadline) if to_ask else ChunkAnalysis()
        fresh = {key: answer for key, answer in asked.answers.items() if isinstance(answer, Analysis)}
        if self._cache is not None and fresh:
            self._cache.put_many(fresh)
        usage = asked.usage
        usage.cached_items += len(texts) - len(to_ask)
        answers = {}
        for key, text in texts.items():
            answer = (
                known.get(keys[key]) or asked.answers.get(keys[key]) or ItemFailure(UNAVAILABLE, UNAVAILABLE_DETAIL)
            )
            # An answer for one text also serves its repeats: its evidence must occur in each.
            answers[key] = answer.for_text(text) if isinstance(answer, Analysis) else answer
        return ChunkAnalysis(answers, usage)


class WithFallback:
    """What `inner` leaves unanswered goes to `fallback` (the lexicon, labelled lexicon-fallback),
    or keeps its per-item error when the policy is to fail (`fallback` None)."""

    def __init__(self, inner: Answerer, fallback: Answerer | None) -> None:
        self._inner = inner
        self._fallback = fallback

    def answer(
        self, tenant: str, texts: Mapping, options: AnalysisOptions, *, deadline: float | None = None
    ) -> ChunkAnalysis:
        result = self._inner.answer(tenant, texts, options, deadline=deadline)
        # Items a budget turned away are not the LLM failing: the task's budget policy answers them.
        unanswered = {
            key: text
            for key, text in texts.items()
            if not isinstance(answer := result.answers.get(key), Analysis) and not _over_budget(answer)
        }
        if unanswered and self._fallback is not None:
            logger.warning("LLM left items unanswered; using the lexicon engine", extra={"items": len(unanswered)})
            result.answers.update(self._fallback.answer(tenant, unanswered, options, deadline=deadline).answers)
        for key in unanswered:
            result.answers.setdefault(key, ItemFailure(UNAVAILABLE, UNAVAILABLE_DETAIL))
        return result


def _over_budget(answer: object) -> bool:
    return isinstance(answer, ItemFailure) and answer.code == BUDGET_EXHAUSTED


class WithinBudget:
    """Items a budget had no room for follow the task's options.on_budget_exhausted: `lexicon`
    answers them with `lexicon` (labelled lexicon-budget); `pause` leaves them BUDGET_EXHAUSTED,
    so that the chunk workflow parks their chunk until the task is resumed."""

    def __init__(self, inner: Answerer, lexicon: Answerer) -> None:
        self._inner = inner
        self._lexicon = lexicon

    def answer(
        self, tenant: str, texts: Mapping, options: AnalysisOptions, *, deadline: float | None = None
    ) -> ChunkAnalysis:
        result = self._inner.answer(tenant, texts, options, deadline=deadline)
        over = {key: text for key, text in texts.items() if _over_budget(result.answers.get(key))}
        if over and options.on_budget_exhausted == "lexicon":
            logger.info("budget exhausted; the lexicon answers the items left", extra={"items": len(over)})
            result.answers.update(self._lexicon.answer(tenant, over, options, deadline=deadline).answers)
        return result
