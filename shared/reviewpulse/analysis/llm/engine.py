"""The LLM engine: many texts per request, exactly the ids sent, bounded concurrency, a breaker.

Each request carries up to `items_per_request` texts under short ids local to the request. An
answer must carry exactly those ids: ids it misses are asked again, unknown ids are dropped, an
id answered twice is dropped and asked again, and a malformed answer is asked again; a truncated
answer is asked again in halves. Transport failures are retried by the SDK (backoff with jitter,
Retry-After honoured); a request that still fails counts against the circuit breaker, and while
the breaker is open no request is sent. Whatever stays unanswered is returned as unresolved with
a reason, for the caller's fallback policy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import openai
from pydantic import ValidationError

from reviewpulse.analysis.base import Usage
from reviewpulse.analysis.llm.breaker import OPEN, CircuitBreaker
from reviewpulse.analysis.llm.outcome import INVALID_ANSWER, UNAVAILABLE, LlmOutcome
from reviewpulse.analysis.llm.pacing import RequestPacer
from reviewpulse.analysis.llm.prompt import (
    REPORT_FORMAT,
    REPORT_PROMPT,
    SENTIMENT_FORMAT,
    BatchReport,
    SentimentBatch,
    batch_messages,
    looks_like_instructions,
    to_analysis,
)
from reviewpulse.observability import failure_fields, logger

# Answers a request may get (the first included) before its remaining ids count as unanswered.
MAX_ATTEMPTS = 3
# Keeps one request well inside a small model's context window whatever the texts' lengths.
MAX_REQUEST_CHARS = 40_000


class _Truncated(Exception):
    pass


class _Malformed(Exception):
    pass


class LlmEngine:
    engine = "llm"

    def __init__(
        self,
        client_factory: Callable[[], openai.OpenAI],
        *,
        model: str,
        items_per_request: int,
        concurrency: int,
        breaker: CircuitBreaker,
        pacer: RequestPacer | None = None,
    ) -> None:
        self._client_factory = client_factory
        self.pacer = pacer  # its throttled count shows how often the provider said 429
        self.model = model
        self._items_per_request = items_per_request
        self._concurrency = concurrency
        self.breaker = breaker

    @property
    def available(self) -> bool:
        """False while the breaker is open: callers skip the LLM rather than queue behind it."""
        return self.breaker.state != OPEN

    def analyze(self, texts: dict[str, str], aspects: Sequence[str] = (), themes: bool = False) -> LlmOutcome:
        """Analyse texts given by key (keys are the caller's; they never reach the model)."""
        outcome = LlmOutcome()
        if not texts:
            return outcome
        try:
            client = self._client_factory()
        except Exception as exc:  # the key could not be read (Secrets Manager/SSM down, no key)
            logger.error("LLM client unavailable", extra=failure_fields(exc))
            self.breaker.failed()
            outcome.unresolved.update(dict.fromkeys(texts, UNAVAILABLE))
            return outcome
        groups = list(_groups(texts, self._items_per_request))
        with ThreadPoolExecutor(max_workers=min(self._concurrency, len(groups))) as pool:
            for future in [pool.submit(self._resolve, client, group, aspects, themes, outcome) for group in groups]:
                future.result()
        return outcome

    def summarize(self, facts: str) -> tuple[str | None, Usage]:
        """An executive summary written from the facts JSON, or None if the model cannot give one."""
        messages = [{"role": "system", "content": REPORT_PROMPT}, {"role": "user", "content": facts}]
        try:
            client = self._client_factory()
        except Exception as exc:
            logger.error("LLM client unavailable", extra=failure_fields(exc))
            return None, Usage()
        completion = self._guarded_create(client, messages, REPORT_FORMAT)
        if completion is None:
            return None, Usage()
        usage = _usage_of(completion)
        try:
            return BatchReport.model_validate_json(_content(completion)).summary.strip() or None, usage
        except (_Truncated, _Malformed, ValidationError) as exc:
            logger.warning("executive summary unavailable", extra=failure_fields(exc))
            return None, usage

    def _resolve(
        self,
        client: openai.OpenAI,
        group: dict[str, str],
        aspects: Sequence[str],
        themes: bool,
        outcome: LlmOutcome,
        attempts_left: int = MAX_ATTEMPTS,
    ) -> None:
        pending = dict(group)
        reason = INVALID_ANSWER  # unless the requests themselves fail
        while pending and attempts_left > 0:
            attempts_left -= 1
            local = {str(n): key for n, key in enumerate(pending, start=1)}
            messages = batch_messages([(n, pending[key]) for n, key in local.items()], aspects, themes)
            completion = self._guarded_create(client, messages, SENTIMENT_FORMAT)
            if completion is None:
                reason = UNAVAILABLE
                break
            outcome.add_usage(*_token_counts(completion))
            try:
                answer = SentimentBatch.model_validate_json(_content(completion))
            except _Truncated:
                if len(pending) > 1:
                    # The answer did not fit: ask again in halves, each with the attempts left.
                    keys = list(pending)
                    for half in (keys[: len(keys) // 2], keys[len(keys) // 2 :]):
                        self._resolve(client, {k: pending[k] for k in half}, aspects, themes, outcome, attempts_left)
                    return
                continue
            except (_Malformed, ValidationError):
                logger.warning("LLM answer did not match the schema; asking again", extra={"items": len(pending)})
                continue
            for local_id, verdict in _exact(answer, local).items():
                key = local[local_id]
                outcome.analyses[key] = to_analysis(verdict, pending.pop(key), aspects, themes)
        for key in pending:
            outcome.unresolved[key] = reason

    def _guarded_create(self, client: openai.OpenAI, messages: list[dict], response_format: dict):
        """The completion, or None when the breaker is open or the request failed after the SDK's
        own retries (which the breaker counts)."""
        if not self.breaker.allow():
            return None
        try:
            completion = client.chat.completions.create(
                model=self.model, messages=messages, response_format=response_format, temperature=0
            )
        except openai.BadRequestError as exc:
            # The provider refused this request as malformed: it is up, so the breaker is not told.
            logger.warning("LLM request refused", extra=failure_fields(exc))
            self.breaker.succeeded()
            return None
        except openai.APIError as exc:
            logger.warning("LLM request failed", extra=failure_fields(exc))
            self.breaker.failed()
            return None
        self.breaker.succeeded()
        return completion


def _groups(texts: dict[str, str], size: int) -> Iterator[dict[str, str]]:
    """Requests of at most `size` texts and MAX_REQUEST_CHARS characters; a text that reads like
    instructions to the model goes alone, so it can influence no other text's result."""
    group: dict[str, str] = {}
    chars = 0
    for key, text in texts.items():
        if looks_like_instructions(text):
            yield {key: text}
            continue
        if group and (len(group) >= size or chars + len(text) > MAX_REQUEST_CHARS):
            yield group
            group, chars = {}, 0
        group[key] = text
        chars += len(text)
    if group:
        yield group


def _exact(answer: SentimentBatch, sent: dict[str, str]) -> dict:
    """The verdicts whose id was sent and answered once; unknown and repeated ids are dropped."""
    seen: dict[str, int] = {}
    for verdict in answer.items:
        seen[verdict.id] = seen.get(verdict.id, 0) + 1
    return {v.id: v for v in answer.items if v.id in sent and seen[v.id] == 1}


def _content(completion) -> str:
    choice = completion.choices[0] if completion.choices else None
    if choice is None or choice.message.content is None:
        raise _Malformed("no content")
    if choice.finish_reason == "length":
        raise _Truncated()
    return choice.message.content


def _token_counts(completion) -> tuple[int, int]:
    usage = completion.usage
    return (usage.prompt_tokens, usage.completion_tokens) if usage else (0, 0)


def _usage_of(completion) -> Usage:
    input_tokens, output_tokens = _token_counts(completion)
    return Usage(requests=1, input_tokens=input_tokens, output_tokens=output_tokens)
