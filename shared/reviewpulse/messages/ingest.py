"""The ingest queue's kinds: S3 notifications, S3's test event, and quoted tasks' split requests."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, TypeAdapter

from reviewpulse.messages import Lenient
from reviewpulse.queues import SplitRequest


class S3ObjectRef(Lenient):
    key: str  # URL-encoded, as S3 writes it (spaces as "+"): decode with unquote_plus
    sequencer: str | None = None


class S3Entity(Lenient):
    object: S3ObjectRef


class S3Record(Lenient):
    event_source: Literal["aws:s3"] = Field(alias="eventSource")
    event_time: str | None = Field(default=None, alias="eventTime")
    response_elements: dict[str, Any] | None = Field(default=None, alias="responseElements")
    s3: S3Entity

    @property
    def request_id(self) -> str | None:
        """S3's request id: the correlation id of a drop whose object carries none of its own."""
        return (self.response_elements or {}).get("x-amz-request-id")


class S3Notification(Lenient):
    """Objects created under the upload and drop prefixes (S3 → the ingest queue, or bare)."""

    records: list[S3Record] = Field(alias="Records", min_length=1)


class S3TestEvent(Lenient):
    """What S3 sends once when a notification is set up: nothing to split."""

    event: Literal["s3:TestEvent"] = Field(alias="Event")


def _ingest_kind(body: Any) -> str | None:
    if isinstance(body, dict):
        if "split_task" in body:
            return "split"
        if "Records" in body:
            return "s3"
        if "Event" in body:
            return "s3-test"
    return None


IngestMessage = Annotated[
    Annotated[S3Notification, Tag("s3")]
    | Annotated[S3TestEvent, Tag("s3-test")]
    | Annotated[SplitRequest, Tag("split")],
    Discriminator(_ingest_kind),
]
INGEST_MESSAGES: TypeAdapter[IngestMessage] = TypeAdapter(IngestMessage)
