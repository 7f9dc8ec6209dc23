"""POST /v1/analyze: up to 25 texts answered in the response, as Comprehend's BatchDetectSentiment
answers them; or, when the engine cannot answer them all within the API's time limit, a task to
follow (the same texts, analysed by the queue workers like any single text).

With llm or auto, each LLM request is reserved against the tenant's monthly budget before it is
sent and settled from the usage after it (usecases.spend, as for a task's requests; there is no
task here to hold a max_cost_usd); the texts a budget has no room for are answered at once by the
lexicon, named lexicon-budget.

Each text's probabilities come from its calibrated confidence, the only probability the engines
give: the chosen label gets the confidence, and the rest (1 - confidence) is shared equally by the
other labels the engine can give. The lexicon never answers `mixed` (analysis/lexicon_analyzer.py), so for
its answers `mixed` is 0 and the rest goes to the two other labels; LLM answers share it among
three. They sum to 1. (With a confidence below that share, another label shows more probability
than the chosen one: the engine's confidence in its label is that low.)
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field, replace

from reviewpulse.analysis.engines.base import Engine, EngineParts, ItemFailure
from reviewpulse.analysis.engines.labels import labels_given_by, stood_in_for_the_llm
from reviewpulse.analysis.engines.registry import engine_for
from reviewpulse.analysis.llm.pricing import Prices
from reviewpulse.analysis.options import AnalysisOptions
from reviewpulse.analysis.sentiment import Analysis, Label, Usage
from reviewpulse.observability import MetricUnit, logger, metrics
from reviewpulse.queues import RowError, WorkItem
from reviewpulse.settings import Settings
from reviewpulse.tasks.model import Task
from reviewpulse.tenants.budgets import BudgetRepository
from reviewpulse.usecases.create_task import NewChunkTask, TaskQueueing, queue_one_chunk_task
from reviewpulse.usecases.spend import TaskSpend

MAX_TEXTS = 25
# API Gateway ends a request at 29 s. LLM requests do not start after START_SECONDS; whatever is
# not answered by ANSWER_SECONDS goes to a task instead (the function's timeout is 29 s).
START_SECONDS = 15.0
ANSWER_SECONDS = 24.0


@dataclass(frozen=True)
class TextSentiment:
    index: int
    label: str
    score: float
    confidence: float
    probabilities: dict[str, float]
    language: str | None
    engine: str
    model: str | None = None  # "model_id@version" when a tenant's model answered


@dataclass(frozen=True)
class TextError:
    index: int
    code: str
    detail: str


@dataclass
class Answered:
    engine: str
    spends_tokens: bool = False  # the engine may call the LLM: its usage is shown
    results: list[TextSentiment] = field(default_factory=list)
    errors: list[TextError] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)


def label_probabilities(label: str, confidence: float, engine: str) -> dict[str, float]:
    """The probability of each label (module docstring): summing to 1, `mixed` 0 for the lexicon."""
    labels = labels_given_by(engine)
    confidence = min(max(confidence, 0.0), 1.0)
    others = [lab.value for lab in labels if lab.value != label]
    share = (1.0 - confidence) / len(others) if others else 0.0
    probabilities = {lab.value: 0.0 for lab in Label}
    probabilities.update(dict.fromkeys(others, share))
    probabilities[label] = confidence
    return {name: round(value, 6) for name, value in probabilities.items()}


def text_errors(texts: list[str], settings: Settings) -> dict[int, TextError]:
    """Texts that cannot be analysed, by index: the same rules and codes as a file's rows."""
    errors = {}
    for index, text in enumerate(texts):
        if not text.strip():
            errors[index] = TextError(index, "empty-text", "the text is empty")
        elif len(text) > settings.max_text_chars:
            detail = f"the text has {len(text)} characters; the maximum is {settings.max_text_chars}"
            errors[index] = TextError(index, "text-too-long", detail)
    return errors


@dataclass(frozen=True)
class AnalyzeNow:
    """Command: answer `tenant`'s `texts` now, with the engine `options` name."""

    tenant: str
    texts: list[str]
    options: AnalysisOptions


@dataclass(frozen=True)
class Answering:
    """POST /v1/analyze's collaborators (wiring.answering builds them): the engines' parts, the
    tenants' monthly budgets where the deployment has them, and how long the LLM may take."""

    parts: EngineParts
    budgets: BudgetRepository | None = None
    start_seconds: float = START_SECONDS
    answer_seconds: float = ANSWER_SECONDS


def analyze_now(command: AnalyzeNow, deps: Answering) -> Answered | None:
    """Every text answered within `answer_seconds` by the engine the options name; None when it
    could not (an LLM too slow, failing, or behind an open breaker): queue a task instead. With
    `budgets`, LLM requests are reserved against the tenant's monthly budget (module docstring)."""
    tenant, texts, options, parts, budgets = command.tenant, command.texts, command.options, deps.parts, deps.budgets
    engine = engine_for(options, parts)
    if budgets is not None and engine.spends_tokens:
        spend = TaskSpend(
            tenant, None, task_limit_usd=None, tasks=None, budgets=budgets, prices=Prices.of(parts.settings)
        )
        engine = engine_for(options, replace(parts, spend=spend))
    errors = text_errors(texts, parts.settings)
    to_analyze = {index: text for index, text in enumerate(texts) if index not in errors}
    answered = Answered(
        engine=engine.name, spends_tokens=engine.spends_tokens, errors=sorted(errors.values(), key=lambda e: e.index)
    )
    if not to_analyze:
        return answered
    analysed = _within(engine, tenant, to_analyze, options, deps.start_seconds, deps.answer_seconds)
    if analysed is None:
        return None
    answers, answered.usage = analysed
    for index in sorted(to_analyze):
        answer = answers.get(index)
        if not engine.spends_tokens and isinstance(answer, ItemFailure):
            answered.errors.append(TextError(index, answer.code, answer.detail))  # as a file's row would
            continue
        if not isinstance(answer, Analysis) or stood_in_for_the_llm(answer):
            # The LLM could not answer it now: a task's workers retry as they do for any task.
            return None
        sentiment = answer.sentiment
        answered.results.append(
            TextSentiment(
                index=index,
                label=sentiment.label.value,
                score=sentiment.score,
                confidence=sentiment.confidence,
                probabilities=label_probabilities(sentiment.label.value, sentiment.confidence, answer.engine),
                language=answer.language or sentiment.language,
                engine=answer.engine,
                model=answer.model,
            )
        )
    answered.errors.sort(key=lambda error: error.index)
    return answered


def _within(
    engine: Engine,
    tenant: str,
    texts: dict[int, str],
    options: AnalysisOptions,
    start_seconds: float,
    answer_seconds: float,
) -> tuple[dict, Usage] | None:
    if not engine.spends_tokens:  # the lexicon: microseconds per text, no thread needed
        chunk = engine.answer(tenant, texts, options)
        return chunk.answers, chunk.usage
    # An LLM request already sent may outlast its deadline: wait for the answer only so long.
    started = time.monotonic()
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="analyze-now")
    future = pool.submit(engine.answer, tenant, texts, options, deadline=started + start_seconds)
    pool.shutdown(wait=False)
    try:
        chunk = future.result(timeout=answer_seconds)
    except FutureTimeout:
        logger.warning("texts not answered in time; a task follows", extra={"texts": len(texts)})
        metrics.add_metric(name="AnalyzeDeferred", unit=MetricUnit.Count, value=1)
        return None
    return chunk.answers, chunk.usage


@dataclass(frozen=True)
class NewTexts:
    """Command: a task of POST /v1/analyze's texts, which were not answered at once."""

    tenant: str
    texts: list[str]
    options: AnalysisOptions
    correlation_id: str | None


def queue_texts_task(command: NewTexts, deps: TaskQueueing) -> Task:
    """A text task of these texts (row i + 1 is text i; texts that cannot be analysed are row
    errors), queued as one chunk like a single text's task."""
    texts = command.texts
    errors = text_errors(texts, deps.settings)
    items = [
        WorkItem(row=index + 1, id=str(index), error=RowError(code=errors[index].code, detail=errors[index].detail))
        if index in errors
        else WorkItem(row=index + 1, id=str(index), text=text)
        for index, text in enumerate(texts)
    ]
    return queue_one_chunk_task(NewChunkTask(command.tenant, items, command.options, command.correlation_id), deps)
