"""Batch API mode's request lines and answer checks, free of the openai package.

Requests are built by the same prompt code as the synchronous engine's (prompt.batch_messages,
prompt.sentiment_format) and answers pass the same checks (the strict schema, prompt.answered_once
for exact ids, prompt.to_analysis for bounded values and verbatim evidence), so both modes send
and accept alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import ValidationError

from reviewpulse.analysis.llm.prompt import (
    SentimentBatch,
    answered_once,
    batch_messages,
    sentiment_format,
    to_analysis,
)
from reviewpulse.analysis.options import AnalysisOptions
from reviewpulse.analysis.sentiment import Analysis
from reviewpulse.privacy import redact

ENDPOINT = "/v1/chat/completions"
COMPLETION_WINDOW = "24h"


class BatchApiClient(Protocol):
    """The provider's Batch API as the collector uses it (analysis.llm.batch_api.BatchApi)."""

    def submit(self, lines: Sequence[dict], metadata: dict[str, str]) -> tuple[str, str]: ...

    def state(self, batch_id: str) -> BatchState: ...

    def outcomes(self, file_id: str) -> list[RequestOutcome]: ...

    def cancel(self, batch_id: str) -> None: ...


@dataclass(frozen=True)
class BatchState:
    status: str
    output_file_id: str | None
    error_file_id: str | None
    total: int = 0
    completed: int = 0
    failed: int = 0


@dataclass(frozen=True)
class RequestOutcome:
    """One line of an output or error file."""

    custom_id: str
    status_code: int  # 0 when the request never ran (expired, cancelled)
    body: dict | None
    error_code: str | None


def request_line(custom_id: str, model: str, texts: Sequence[str], options: AnalysisOptions) -> dict:
    """One line of a batch input file: the texts under local ids 1..n, as the engine sends them for
    a task on these options (its aspects, its report's themes, personal data replaced by
    placeholders unless the task was allowed to send it). The task's options, whole, so that the
    request and the check of its answer (check_answer) cannot read different ones."""
    items = [(str(n), text) for n, text in enumerate(texts, start=1)]
    body = {
        "model": model,
        "messages": batch_messages(items, options.aspects, options.report, redact_pii=options.redact_pii),
        "response_format": sentiment_format(),
        "temperature": 0,
    }
    return {"custom_id": custom_id, "method": "POST", "url": ENDPOINT, "body": body}


@dataclass
class CheckedAnswer:
    """The analyses one request's answer gives, by position in the request (0-based); empty when
    the answer was truncated, malformed or off-schema (its rows are asked again)."""

    by_position: dict[int, Analysis] = field(default_factory=dict)


def check_answer(
    content: str | None, finish_reason: str | None, texts: Sequence[str], options: AnalysisOptions
) -> CheckedAnswer:
    """An answer's verdicts, under the synchronous engine's checks: schema, exact ids, bounded values,
    quotes mapped back through the same placeholders the request carried (redaction is
    deterministic, so redacting a text again gives the placeholders that were sent)."""
    checked = CheckedAnswer()
    if content is None or finish_reason == "length":
        return checked
    try:
        answer = SentimentBatch.model_validate_json(content)
    except ValidationError:
        return checked
    local = {str(n): n - 1 for n in range(1, len(texts) + 1)}
    for local_id, verdict in answered_once(answer, local).items():
        position = local[local_id]
        text = texts[position]
        redaction = redact(text) if options.redact_pii else None
        checked.by_position[position] = to_analysis(verdict, text, options.aspects, options.report, redaction)
    return checked


def completion_parts(body: Mapping[str, Any] | None) -> tuple[str | None, str | None, int, int]:
    """(content, finish_reason, prompt tokens, completion tokens) of a chat completion body."""
    if not isinstance(body, Mapping):
        return None, None, 0, 0
    usage = body.get("usage") if isinstance(body.get("usage"), Mapping) else {}
    tokens = (_count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens")))
    choices = body.get("choices")
    choice = choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], Mapping) else {}
    message = choice.get("message") if isinstance(choice.get("message"), Mapping) else {}
    content = message.get("content") if isinstance(message.get("content"), str) else None
    finish = choice.get("finish_reason") if isinstance(choice.get("finish_reason"), str) else None
    return content, finish, *tokens


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0
