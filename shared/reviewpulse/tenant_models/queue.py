"""The training queue: one message per model to fit, read by the training function."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, StringConstraints

from reviewpulse.queues import CORRELATION_ATTRIBUTE, TenantName
from reviewpulse.tenant_models.model import MODEL_ID_PATTERN

ModelId = Annotated[str, StringConstraints(pattern=MODEL_ID_PATTERN.pattern)]


class TrainingRequest(BaseModel):
    tenant: TenantName
    model_id: ModelId

    def body(self) -> str:
        return self.model_dump_json()


class TrainingQueue:
    def __init__(self, queue_url: str, sqs: Any) -> None:
        self._url = queue_url
        self._sqs = sqs

    def request(self, request: TrainingRequest, correlation_id: str | None) -> None:
        attributes = (
            {CORRELATION_ATTRIBUTE: {"DataType": "String", "StringValue": correlation_id}} if correlation_id else {}
        )
        self._sqs.send_message(QueueUrl=self._url, MessageBody=request.body(), MessageAttributes=attributes)
