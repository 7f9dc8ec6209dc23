"""The provider's Batch API through the OpenAI SDK: upload a JSONL of requests (purpose batch),
create a batch on /v1/chat/completions with a 24 h window, read its state and its output and error
files, cancel it."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import openai

from reviewpulse.analysis.llm.batch_requests import COMPLETION_WINDOW, ENDPOINT, BatchState, RequestOutcome


class BatchApi:
    """The four calls Batch API mode makes, on a client from `client_factory` (key rotation aware)."""

    def __init__(self, client_factory: Callable[[], openai.OpenAI]) -> None:
        self._client = client_factory

    def submit(self, lines: Sequence[dict], metadata: dict[str, str]) -> tuple[str, str]:
        """Upload the requests and start a batch: (batch id, input file id)."""
        client = self._client()
        data = b"".join(json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode() + b"\n" for line in lines)
        uploaded = client.files.create(file=("requests.jsonl", data, "application/jsonl"), purpose="batch")
        batch = client.batches.create(
            input_file_id=uploaded.id, endpoint=ENDPOINT, completion_window=COMPLETION_WINDOW, metadata=metadata
        )
        return batch.id, uploaded.id

    def state(self, batch_id: str) -> BatchState:
        batch = self._client().batches.retrieve(batch_id)
        counts = batch.request_counts
        return BatchState(
            status=batch.status,
            output_file_id=batch.output_file_id,
            error_file_id=batch.error_file_id,
            total=counts.total if counts else 0,
            completed=counts.completed if counts else 0,
            failed=counts.failed if counts else 0,
        )

    def outcomes(self, file_id: str) -> list[RequestOutcome]:
        """Every line of an output or error file."""
        text = self._client().files.content(file_id).text
        outcomes = []
        for line in text.split("\n"):
            if not line.strip():
                continue
            record = json.loads(line)
            response = record.get("response") or {}
            error = record.get("error") or {}
            body = response.get("body") if isinstance(response.get("body"), dict) else None
            status = int(response.get("status_code") or 0)
            code = None
            if status != 200:
                # An unrun request names its reason in `error`; a failed one in its response body.
                code = error.get("code") or ((body or {}).get("error") or {}).get("type")
            outcomes.append(RequestOutcome(str(record.get("custom_id")), status, body, code))
        return outcomes

    def cancel(self, batch_id: str) -> None:
        try:
            self._client().batches.cancel(batch_id)
        except openai.APIStatusError as exc:
            if exc.status_code not in (400, 404, 409):  # already finished or gone: nothing to stop
                raise
