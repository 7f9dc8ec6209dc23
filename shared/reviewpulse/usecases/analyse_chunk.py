"""Analyse one chunk of items, store its results, count it exactly once."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reviewpulse.analysis.aspects import aspect_themes, lexicon_aspects
from reviewpulse.analysis.base import Analysis, Analyzer, Sentiment, Usage
from reviewpulse.analysis.cache import ResultCache, cache_key
from reviewpulse.analysis.llm.outcome import INVALID_ANSWER, UNAVAILABLE, LlmOutcome
from reviewpulse.analysis.llm.prompt import PROMPT_VERSION
from reviewpulse.analysis.options import AnalysisOptions
from reviewpulse.observability import MetricUnit, failure_fields, logger, metrics
from reviewpulse.queues import FinalizeQueue, WorkMessage
from reviewpulse.results.model import ItemResult
from reviewpulse.storage.result_files import ResultFiles
from reviewpulse.tasks.repository import TaskRepository

if TYPE_CHECKING:
    from reviewpulse.analysis.llm.engine import LlmEngine


class AnalysisUnavailable(RuntimeError):
    """A transient failure of the engine: the whole chunk is retried by SQS."""


@dataclass(frozen=True)
class ChunkOutcome:
    counted: bool  # False when this delivery was a duplicate or the task had already ended
    processed: int
    failed: int
    completed: bool  # the task is now fully counted and its finalization was requested


def analyse_items(
    message: WorkMessage,
    analyzer: Analyzer,
    options: AnalysisOptions | None = None,
    *,
    llm: Callable[[], LlmEngine] | None = None,
    cache: ResultCache | None = None,
    fallback: str = "lexicon",
    deadline: float | None = None,
) -> tuple[list[ItemResult], Usage]:
    """Results in row order; rows the splitter already rejected keep their error. LLM requests
    stop at `deadline` (time.monotonic() seconds); items left then follow the fallback policy."""
    options = options or AnalysisOptions()
    usable = [item for item in message.items if "text" in item]
    usage = Usage()
    if options.engine == "llm" and llm is not None:
        by_row, usage = _llm_results(message.tenant, usable, options, llm(), cache, analyzer, fallback, deadline)
    else:
        by_row = _lexicon_results(usable, options, analyzer, analyzer.engine)
    results = []
    for item in message.items:
        if "text" in item:
            results.append(by_row[item["row"]])
        else:
            error = item.get("error") or {}
            results.append(ItemResult.failed(item, error.get("code", "invalid-row"), error.get("detail", "")))
    return results, usage


def _lexicon_results(
    items: list[dict], options: AnalysisOptions, analyzer: Analyzer, engine: str
) -> dict[int, ItemResult]:
    try:
        sentiments = analyzer.analyze([item["text"] for item in items])
        return {
            item["row"]: ItemResult.analysed(
                item, _lexicon_analysis(item["text"], sentiment, options, analyzer, engine)
            )
            for item, sentiment in zip(items, sentiments, strict=True)
        }
    except AnalysisUnavailable:
        raise
    except Exception as exc:
        # One text the engine cannot handle must not sink its neighbours: retry one by one.
        logger.warning("chunk analysis failed; analysing items one by one", extra=failure_fields(exc))
        return {item["row"]: _analyse_one(item, options, analyzer, engine) for item in items}


def _lexicon_analysis(
    text: str, sentiment: Sentiment, options: AnalysisOptions, analyzer: Analyzer, engine: str
) -> Analysis:
    aspects = lexicon_aspects(analyzer, text, options.aspects) if options.aspects else ()
    themes = aspect_themes(aspects) if options.report else ()
    return Analysis(sentiment=sentiment, engine=engine, aspects=aspects, themes=themes)


def _analyse_one(item: dict, options: AnalysisOptions, analyzer: Analyzer, engine: str) -> ItemResult:
    try:
        (sentiment,) = analyzer.analyze([item["text"]])
        analysis = _lexicon_analysis(item["text"], sentiment, options, analyzer, engine)
    except AnalysisUnavailable:
        raise
    except Exception:
        return ItemResult.failed(item, "analysis-failed", f"the {analyzer.engine} engine could not analyse this item")
    return ItemResult.analysed(item, analysis)


def _llm_results(
    tenant: str,
    items: list[dict],
    options: AnalysisOptions,
    engine: LlmEngine,
    cache: ResultCache | None,
    analyzer: Analyzer,
    fallback: str,
    deadline: float | None,
) -> tuple[dict[int, ItemResult], Usage]:
    """Cached texts are answered from the cache, repeated texts are sent once, the rest go to the
    LLM; what it leaves unanswered follows the fallback policy."""
    keys = {
        item["row"]: cache_key(
            tenant,
            item["text"],
            engine=engine.engine,
            model=engine.model,
            prompt_version=PROMPT_VERSION,
            aspects=options.aspects,
            themes=options.report,
        )
        for item in items
    }
    known = cache.get_many(keys.values()) if cache is not None else {}
    to_send: dict[str, str] = {}
    for item in items:
        key = keys[item["row"]]
        if key not in known:
            to_send.setdefault(key, item["text"])
    if to_send and engine.available:
        outcome = engine.analyze(to_send, options.aspects, options.report, deadline=deadline)
    else:
        outcome = LlmOutcome(unresolved=dict.fromkeys(to_send, UNAVAILABLE))
    if cache is not None and outcome.analyses:
        cache.put_many(outcome.analyses)
    usage = outcome.usage
    usage.cached_items = len(items) - len(to_send)
    answered = {**known, **outcome.analyses}
    by_row: dict[int, ItemResult] = {}
    unresolved = []
    for item in items:
        analysis = answered.get(keys[item["row"]])
        if analysis is not None:
            by_row[item["row"]] = ItemResult.analysed(item, analysis.for_text(item["text"]))
        elif fallback == "lexicon":
            unresolved.append(item)
        else:
            code = outcome.unresolved.get(keys[item["row"]], UNAVAILABLE)
            by_row[item["row"]] = ItemResult.failed(item, code, _UNRESOLVED_DETAIL[code])
    if unresolved:
        logger.warning("LLM left items unanswered; using the lexicon engine", extra={"items": len(unresolved)})
        by_row.update(_lexicon_results(unresolved, options, analyzer, FALLBACK_ENGINE))
    return by_row, usage


FALLBACK_ENGINE = "lexicon-fallback"
_UNRESOLVED_DETAIL = {
    UNAVAILABLE: "the LLM engine was unavailable for this item",
    INVALID_ANSWER: "the LLM engine gave no valid answer for this item",
}


def store_and_count(
    message: WorkMessage,
    results: list[ItemResult],
    *,
    tasks: TaskRepository,
    result_files: ResultFiles,
    finalizer: FinalizeQueue,
    correlation_id: str | None = None,
    usage: Usage | None = None,
) -> ChunkOutcome:
    """Write this attempt's part, then count the chunk once; ask for finalization when complete.

    The part goes to a key of its own and the counting update names it, so a losing duplicate
    can never overwrite the results that were counted."""
    failed = sum(1 for result in results if result.error is not None)
    processed = len(results) - failed
    attempt = secrets.token_hex(4)
    # Only an LLM chunk has usage to add; a lexicon chunk's update stays as it was.
    spent = usage if usage is not None and (usage.requests or usage.cached_items) else None
    result_files.put_part(message.tenant, message.task_id, message.chunk, attempt, results)
    task = tasks.record_chunk(
        message.tenant,
        message.task_id,
        chunk=message.chunk,
        attempt=attempt,
        processed=processed,
        failed=failed,
        usage=spent,
    )
    counted = task is not None
    if task is None:
        # Already counted (a redelivery) or the task has ended. A redelivery may still owe the
        # task its finalization request if the earlier attempt died right after counting.
        task = tasks.get(message.tenant, message.task_id)
    completed = task is not None and task.needs_finalizing
    if completed:
        finalizer.request(message.tenant, message.task_id, correlation_id)
    if counted:
        metrics.add_metric(name="ItemsAnalysed", unit=MetricUnit.Count, value=processed)
        metrics.add_metric(name="ItemsFailed", unit=MetricUnit.Count, value=failed)
        if spent is not None:
            metrics.add_metric(name="LlmRequests", unit=MetricUnit.Count, value=spent.requests)
            metrics.add_metric(name="LlmInputTokens", unit=MetricUnit.Count, value=spent.input_tokens)
            metrics.add_metric(name="LlmOutputTokens", unit=MetricUnit.Count, value=spent.output_tokens)
            metrics.add_metric(name="LlmCachedItems", unit=MetricUnit.Count, value=spent.cached_items)
        fallbacks = sum(1 for result in results if result.engine == FALLBACK_ENGINE)
        if fallbacks:
            metrics.add_metric(name="LlmFallbackItems", unit=MetricUnit.Count, value=fallbacks)
    return ChunkOutcome(counted=counted, processed=processed, failed=failed, completed=completed)


def process_chunk(
    message: WorkMessage,
    *,
    analyzer: Analyzer,
    tasks: TaskRepository,
    result_files: ResultFiles,
    finalizer: FinalizeQueue,
    correlation_id: str | None = None,
    llm: Callable[[], LlmEngine] | None = None,
    cache: ResultCache | None = None,
    fallback: str = "lexicon",
    deadline: float | None = None,
) -> ChunkOutcome:
    started = time.perf_counter()
    task = tasks.get(message.tenant, message.task_id)
    if task is None or task.status.is_terminal:
        # Cancelled, failed or gone: the chunk is skipped, not analysed.
        logger.info(
            "chunk skipped",
            extra={
                "tenant": message.tenant,
                "task_id": message.task_id,
                "chunk": message.chunk,
                "status": task.status.value if task else "missing",
            },
        )
        return ChunkOutcome(counted=False, processed=0, failed=0, completed=False)
    results, usage = analyse_items(
        message, analyzer, task.options, llm=llm, cache=cache, fallback=fallback, deadline=deadline
    )
    outcome = store_and_count(
        message,
        results,
        tasks=tasks,
        result_files=result_files,
        finalizer=finalizer,
        correlation_id=correlation_id,
        usage=usage,
    )
    metrics.add_metric(name="ChunkLatency", unit=MetricUnit.Milliseconds, value=(time.perf_counter() - started) * 1000)
    logger.info(
        "chunk done",
        extra={
            "tenant": message.tenant,
            "task_id": message.task_id,
            "chunk": message.chunk,
            "processed": outcome.processed,
            "failed": outcome.failed,
            "counted": outcome.counted,
            "completed": outcome.completed,
            "engine": task.options.engine,
            "llm_requests": usage.requests,
            "cached_items": usage.cached_items,
        },
    )
    return outcome
