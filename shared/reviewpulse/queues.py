"""The work queue: its message shape, and the one module that sends to SQS.

A message carries one chunk of many items, plus the tenant, the task id and the correlation id
(as a message attribute), so a worker needs nothing else to do its part and logs can be joined.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import BaseModel, StringConstraints, model_validator

from reviewpulse.results.model import MessageRef
from reviewpulse.tasks.model import TASK_ID_PATTERN
from reviewpulse.tenants.keys import TENANT_PATTERN

# A message names its task by these two, and workers log them: one of any other shape is
# malformed (and could carry anything), so it fails validation before it is logged.
TenantName = Annotated[str, StringConstraints(pattern=TENANT_PATTERN.pattern)]
TaskId = Annotated[str, StringConstraints(pattern=TASK_ID_PATTERN.pattern)]

CORRELATION_ATTRIBUTE = "correlation_id"
# SendMessageBatch takes at most 10 entries and 256 KiB in total.
_BATCH_ENTRIES = 10
_BATCH_BYTES = 250_000


class RowError(BaseModel):
    code: str
    detail: str = ""


class WorkItem(BaseModel):
    """One row of a chunk: its text to analyse, or the error the splitter found in it."""

    row: int
    id: str
    text: str | None = None
    error: RowError | None = None
    conversation: MessageRef | None = None  # where a chat message sits
    # In the task's teaching sample (options.teach, analysis/teach.py): answered by the LLM even on
    # auto, its answer a teaching label. None (left out of the message) otherwise.
    teach: bool | None = None

    @model_validator(mode="after")
    def _text_or_error(self) -> WorkItem:
        # The splitter sends one or the other; an item with neither is an error of its own, not
        # a reason to fail (and redeliver) its whole chunk.
        if self.text is None and self.error is None:
            self.error = RowError(code="invalid-row", detail="the item carried neither a text nor an error")
        return self


class WorkMessage(BaseModel):
    tenant: TenantName
    task_id: TaskId
    chunk: int
    items: list[WorkItem]

    def body(self) -> str:
        return json.dumps(self.model_dump(exclude_none=True), separators=(",", ":"), ensure_ascii=False)


class FinalizeRequest(BaseModel):
    """Every item of the task is counted: merge its results. Sent by whoever saw it complete."""

    tenant: TenantName
    task_id: TaskId

    def body(self) -> str:
        return self.model_dump_json()


class TaskRef(BaseModel):
    tenant: TenantName
    task_id: TaskId


class SplitRequest(BaseModel):
    """Split a quoted task's file for real: sent to the ingest queue by POST /v1/tasks/{id}/start,
    beside the S3 events that queue carries."""

    split_task: TaskRef
    # options.teach taught first: split the rest of the task's file, now that its model has ended
    # (usecases/teach_first.py). False (left out): a quoted task's file, split for real.
    rest: bool = False
    # A split that ran short of time handed itself on (usecases/split_handoff.py): go on from the
    # checkpoint on its task. False (left out) otherwise.
    resume: bool = False

    def body(self) -> str:
        return self.model_dump_json(exclude_defaults=True)


class QueueSendError(RuntimeError):
    pass


class FinalizeQueue:
    def __init__(self, queue_url: str, sqs: Any) -> None:
        self._url = queue_url
        self._sqs = sqs

    def request(self, tenant: str, task_id: str, correlation_id: str | None) -> None:
        attributes = (
            {CORRELATION_ATTRIBUTE: {"DataType": "String", "StringValue": correlation_id}} if correlation_id else {}
        )
        self._sqs.send_message(
            QueueUrl=self._url,
            MessageBody=FinalizeRequest(tenant=tenant, task_id=task_id).body(),
            MessageAttributes=attributes,
        )


class IngestQueue:
    def __init__(self, queue_url: str, sqs: Any) -> None:
        self._url = queue_url
        self._sqs = sqs

    def request_split(
        self, tenant: str, task_id: str, correlation_id: str | None, *, rest: bool = False, resume: bool = False
    ) -> None:
        attributes = (
            {CORRELATION_ATTRIBUTE: {"DataType": "String", "StringValue": correlation_id}} if correlation_id else {}
        )
        request = SplitRequest(split_task=TaskRef(tenant=tenant, task_id=task_id), rest=rest, resume=resume)
        self._sqs.send_message(QueueUrl=self._url, MessageBody=request.body(), MessageAttributes=attributes)


class WorkQueue:
    """The work queues. Chunks that call the LLM have a queue of their own (an engine says whether
    its chunks do) so that its consumer's concurrency can be capped to the provider's rate limit
    without holding back lexicon work."""

    def __init__(self, queue_url: str, sqs: Any, *, llm_queue_url: str = "") -> None:
        self._url = queue_url
        self._llm_url = llm_queue_url or queue_url
        self._sqs = sqs

    def send(self, messages: Iterable[WorkMessage], correlation_id: str | None, *, llm_queue: bool = False) -> int:
        """Send messages in as few SendMessageBatch calls as the limits allow. Returns the count."""
        url = self._llm_url if llm_queue else self._url
        sent = 0
        batch: list[dict[str, Any]] = []
        batch_bytes = 0
        for message in messages:
            entry = self._entry(message, correlation_id)
            size = len(entry["MessageBody"].encode())
            if batch and (len(batch) == _BATCH_ENTRIES or batch_bytes + size > _BATCH_BYTES):
                sent += self._send_batch(url, batch)
                batch, batch_bytes = [], 0
            batch.append(entry)
            batch_bytes += size
        if batch:
            sent += self._send_batch(url, batch)
        return sent

    def _entry(self, message: WorkMessage, correlation_id: str | None) -> dict[str, Any]:
        entry: dict[str, Any] = {"Id": f"c{message.chunk}", "MessageBody": message.body()}
        if correlation_id:
            entry["MessageAttributes"] = {CORRELATION_ATTRIBUTE: {"DataType": "String", "StringValue": correlation_id}}
        return entry

    def _send_batch(self, url: str, entries: list[dict[str, Any]]) -> int:
        pending = entries
        # Entries SQS rejects as retryable (SenderFault false) are sent again; botocore already
        # retries whole-call failures with backoff.
        for _ in range(3):
            response = self._sqs.send_message_batch(QueueUrl=url, Entries=pending)
            failed = {f["Id"]: f for f in response.get("Failed", [])}
            if not failed:
                return len(entries)
            if any(f.get("SenderFault") for f in failed.values()):
                raise QueueSendError(f"SQS rejected {len(failed)} messages: {sorted(failed)}")
            pending = [e for e in pending if e["Id"] in failed]
        raise QueueSendError(f"SQS kept failing {len(pending)} messages")


def correlation_id_of(message_attributes: dict[str, Any]) -> str | None:
    """The correlation id from a Lambda SQS record's messageAttributes, if it carries one."""
    attribute = message_attributes.get(CORRELATION_ATTRIBUTE) or {}
    return attribute.get("stringValue") or None
