"""The LLM engine: many texts per request, exactly the ids sent, bounded concurrency, a breaker.

Each request carries up to `items_per_request` texts under short ids local to the request. An
answer must carry exactly those ids: ids it misses are asked again, unknown ids are dropped, an
id answered twice is dropped and asked again, and a malformed answer is asked again; a truncated
answer is asked again in halves, and so is a request the provider refuses (400), until the text
it refuses stands alone. 429s, 5xx, timeouts and connection errors are tried again after the
server's Retry-After or an exponential backoff with jitter (tenacity; the SDK's own retries are
off so that no wait can outlast the caller's deadline). A request that still fails counts against
the circuit breaker; while the breaker is open no request is sent. Whatever stays unanswered is
returned as unresolved with a reason, for the caller's fallback policy.

Texts are redacted where their request is built (prompt.sentiment_request, report_request), so no
request sends personal data unless the task was allowed to (`redact_pii=False`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import openai
import tenacity
from pydantic import ValidationError

from reviewpulse.analysis.llm.breaker import HALF_OPEN, OPEN, CircuitBreaker
from reviewpulse.analysis.llm.estimate import estimate_request
from reviewpulse.analysis.llm.outcome import BUDGET_EXHAUSTED, INVALID_ANSWER, UNAVAILABLE, LlmOutcome
from reviewpulse.analysis.llm.pacing import RequestPacer, retry_after_seconds
from reviewpulse.analysis.llm.prompt import (
    BatchReport,
    SentimentBatch,
    answered_once,
    report_format,
    report_request,
    request_groups,
    sentiment_format,
    sentiment_request,
    to_analysis,
)
from reviewpulse.analysis.llm.spend_gate import SpendGate
from reviewpulse.analysis.sentiment import Usage
from reviewpulse.observability import failure_fields, logger
from reviewpulse.privacy import mentions_personal_data

# Answers a request may get (the first included) before its remaining ids count as unanswered.
MAX_ATTEMPTS = 3


class Truncated(Exception):
    pass


class Malformed(Exception):
    pass


class _Refused(Exception):
    """The provider refused this request's content (a content filter, a text too long)."""


# 400s about what the texts say or how long they are: one text may be the cause, so the request
# is asked again in halves. Any other 400 (a parameter or response_format the endpoint does not
# support) would refuse every request alike: it counts as a failure of the provider instead.
_CONTENT_REFUSALS = frozenset(
    {"content_filter", "content_policy_violation", "context_length_exceeded", "string_above_max_length"}
)
# A request is not started with less time than this before the deadline: it could not finish.
MIN_REQUEST_SECONDS = 5.0


# Transport failures worth another try; anything else (401, 403, 404, 400) will not heal by waiting.
_RETRYABLE = (openai.APITimeoutError, openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError)
_RETRYABLE_STATUS = frozenset({408, 409})
# Exponential backoff with jitter between tries when the server names no Retry-After.
_BACKOFF = tenacity.wait_exponential_jitter(multiplier=0.5, max=8.0, jitter=0.5)


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, _RETRYABLE) or (
        isinstance(exc, openai.APIStatusError) and exc.status_code in _RETRYABLE_STATUS
    )


def _server_wait_or_backoff(state: tenacity.RetryCallState) -> float:
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, openai.APIStatusError):
        server = retry_after_seconds(exc.response.headers)
        if server is not None:
            return server
    return _BACKOFF(state)


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
        pacer: RequestPacer,
        max_retries: int = 3,
        timeout: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client_factory = client_factory
        self.model = model
        self._items_per_request = items_per_request
        self._concurrency = concurrency
        self.breaker = breaker
        self.pacer = pacer  # its throttled counts show how often the provider said 429
        self._max_retries = max_retries
        self._timeout = timeout
        self._clock = clock

    @property
    def available(self) -> bool:
        """False while the breaker is open: callers skip the LLM rather than queue behind it."""
        return self.breaker.state != OPEN

    def analyze(
        self,
        texts: dict[str, str],
        aspects: Sequence[str] = (),
        themes: bool = False,
        *,
        deadline: float | None = None,
        redact_pii: bool = True,
        spend: SpendGate | None = None,
    ) -> LlmOutcome:
        """Analyse texts given by key (keys are the caller's; they never reach the model). No
        request starts, and no retry waits, past `deadline` (this clock's seconds): what is left
        then is unresolved, so the caller can finish inside its own time limit. Personal data is
        replaced by placeholders before it is sent unless `redact_pii` is False. With `spend`, every
        request is reserved against the budgets first and settled after; a request the budgets
        have no room for is not sent, and its texts are unresolved as BUDGET_EXHAUSTED."""
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
        groups = list(request_groups(texts, self._items_per_request))
        job = _Job(client, aspects, themes, outcome, deadline, redact_pii, spend)
        if self.breaker.state == HALF_OPEN:
            # One trial request decides whether the LLM is back; the rest wait for its answer
            # instead of being turned away while it is out.
            self._resolve(job, groups.pop(0))
        if groups:
            with ThreadPoolExecutor(max_workers=min(self._concurrency, len(groups))) as pool:
                for future in [pool.submit(self._resolve, job, group) for group in groups]:
                    future.result()
        return outcome

    def summarize(self, facts: str, *, deadline: float | None = None) -> tuple[str | None, Usage]:
        """An executive summary written from the facts JSON, or None if the model cannot give one
        or it names personal data (a placeholder, or a value the redaction or the detectors find):
        the report then has the template's summary."""
        messages, redaction = report_request(facts)
        try:
            client = self._client_factory()
            completion = self._guarded_create(client, messages, report_format(), deadline)
        except _Refused:
            return None, Usage()
        except Exception as exc:
            logger.error("LLM client unavailable", extra=failure_fields(exc))
            return None, Usage()
        if completion is None:
            return None, Usage()
        usage = _usage_of(completion)
        try:
            summary = BatchReport.model_validate_json(content_of(completion)).summary.strip()
        except (Truncated, Malformed, ValidationError) as exc:
            logger.warning("executive summary unavailable", extra=failure_fields(exc))
            return None, usage
        if summary and mentions_personal_data(summary, redaction):
            logger.warning("executive summary named personal data; not used")
            return None, usage
        return summary or None, usage

    def _resolve(self, job: _Job, group: dict[str, str], attempts_left: int = MAX_ATTEMPTS) -> None:
        pending = dict(group)
        reason = INVALID_ANSWER  # unless the requests themselves fail
        while pending and attempts_left > 0:
            attempts_left -= 1
            local = {str(n): key for n, key in enumerate(pending, start=1)}
            request = sentiment_request(
                [(n, pending[key]) for n, key in local.items()], job.aspects, job.themes, redact_pii=job.redact_pii
            )
            reservation = None
            if job.spend is not None:
                reservation = job.spend.reserve(estimate_request(list(pending.values()), job.aspects, job.themes))
                if reservation is None:
                    reason = BUDGET_EXHAUSTED
                    break
            try:
                completion = self._guarded_create(job.client, request.messages, sentiment_format(), job.deadline)
            except _Refused:
                self._settle(job, reservation, None)
                if len(pending) > 1:
                    # One text may be what the provider refuses: halve until it stands alone.
                    self._halves(job, pending, attempts_left + 1)
                    return
                break
            self._settle(job, reservation, completion)
            if completion is None:
                reason = UNAVAILABLE
                break
            job.outcome.add_usage(*token_counts(completion))
            try:
                answer = SentimentBatch.model_validate_json(content_of(completion))
            except Truncated:
                if len(pending) > 1:
                    # The answer did not fit: ask again in halves, each with the attempts left.
                    self._halves(job, pending, attempts_left)
                    return
                continue
            except (Malformed, ValidationError):
                logger.warning("LLM answer did not match the schema; asking again", extra={"items": len(pending)})
                continue
            for local_id, verdict in answered_once(answer, local).items():
                key = local[local_id]
                job.outcome.analyses[key] = to_analysis(
                    verdict, pending.pop(key), job.aspects, job.themes, request.redactions.get(local_id)
                )
        for key in pending:
            job.outcome.unresolved[key] = reason

    @staticmethod
    def _settle(job: _Job, reservation, completion) -> None:
        """What a reserved request cost: its reported usage, or nothing when it got no answer."""
        if job.spend is not None and reservation is not None:
            job.spend.settle(reservation, *(token_counts(completion) if completion is not None else (0, 0)))

    def _halves(self, job: _Job, pending: dict[str, str], attempts_left: int) -> None:
        keys = list(pending)
        for half in (keys[: len(keys) // 2], keys[len(keys) // 2 :]):
            self._resolve(job, {k: pending[k] for k in half}, attempts_left)

    def _guarded_create(
        self, client: openai.OpenAI, messages: list[dict], response_format: dict, deadline: float | None
    ):
        """The completion, or None when the breaker is open, the deadline has come, or the request
        failed after its retries (which the breaker counts). Raises _Refused on a 400."""
        if not self.breaker.allow():
            return None
        try:
            completion = self._create_with_retries(client, messages, response_format, deadline)
        except _OutOfTime:
            self.breaker.released()
            return None
        except openai.BadRequestError as exc:
            logger.warning("LLM request refused", extra={**failure_fields(exc), "code": str(exc.code)})
            if exc.code in _CONTENT_REFUSALS:
                # The provider is up and judged this content: the breaker hears of a success.
                self.breaker.succeeded()
                raise _Refused() from None
            self.breaker.failed()
            return None
        except openai.APIError as exc:
            logger.warning("LLM request failed", extra=failure_fields(exc))
            self.breaker.failed()
            return None
        self.breaker.succeeded()
        return completion

    def _create_with_retries(
        self, client: openai.OpenAI, messages: list[dict], response_format: dict, deadline: float | None
    ):
        """One request, tried again on 429, 5xx, timeouts and connection errors — after the server's
        Retry-After or an exponential backoff with jitter — while tries and time are left."""

        stopped_by_time = []

        def out_of_time(state: tenacity.RetryCallState) -> bool:
            late = deadline is not None and self._clock() + (state.upcoming_sleep or 0) + MIN_REQUEST_SECONDS > deadline
            if late:
                stopped_by_time.append(True)
            return late

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(_retryable),
            stop=tenacity.stop_after_attempt(self._max_retries + 1) | out_of_time,
            wait=_server_wait_or_backoff,
            reraise=True,
        )
        try:
            return self._attempts(retrying, client, messages, response_format, deadline)
        except openai.APIError:
            if stopped_by_time:
                # The retries were cut short by the deadline, not given up on the provider.
                raise _OutOfTime() from None
            raise

    def _attempts(
        self,
        retrying: tenacity.Retrying,
        client: openai.OpenAI,
        messages: list[dict],
        response_format: dict,
        deadline: float | None,
    ):
        for attempt in retrying:
            with attempt:
                if not self.pacer.wait_turn(None if deadline is None else deadline - MIN_REQUEST_SECONDS):
                    raise _OutOfTime()
                timeout = self._timeout if deadline is None else min(self._timeout, deadline - self._clock())
                sent_at = self._clock()
                try:
                    return client.chat.completions.create(
                        model=self.model,
                        messages=messages,
                        response_format=response_format,
                        temperature=0,
                        timeout=timeout,
                    )
                except openai.RateLimitError as exc:
                    self.pacer.throttled_by(exc.response.headers, sent_at)
                    raise
        raise AssertionError("unreachable: tenacity returns or raises")


class _OutOfTime(Exception):
    pass


@dataclass
class _Job:
    """What every request of one analyze() call shares."""

    client: openai.OpenAI
    aspects: Sequence[str]
    themes: bool
    outcome: LlmOutcome
    deadline: float | None
    redact_pii: bool = True
    spend: SpendGate | None = None


def content_of(completion) -> str:
    """The answer's text; raises Truncated (finish_reason length) or Malformed (no content)."""
    choice = completion.choices[0] if completion.choices else None
    if choice is None or choice.message.content is None:
        raise Malformed("no content")
    if choice.finish_reason == "length":
        raise Truncated()
    return choice.message.content


def token_counts(completion) -> tuple[int, int]:
    usage = completion.usage
    return (usage.prompt_tokens, usage.completion_tokens) if usage else (0, 0)


def _usage_of(completion) -> Usage:
    input_tokens, output_tokens = token_counts(completion)
    return Usage(requests=1, input_tokens=input_tokens, output_tokens=output_tokens)
