"""EventBridge: the one module that puts ReviewPulse's events on the stack's event bus.

A task's completion event is built by the notify use case; this module only sends it. PutEvents
can accept a call and still refuse some of its entries (FailedEntryCount): those are sent again a
few times; botocore already retries whole-call failures with backoff. An event still refused
raises EventNotDelivered: its caller (the task stream's publisher) fails the stream record, and
the stream delivers it again until the bus takes it.
"""

from __future__ import annotations

import json
from typing import Any

from reviewpulse.observability import MetricUnit, logger, metrics

EVENT_SOURCE = "reviewpulse"
_ENTRY_ATTEMPTS = 3


class EventNotDelivered(Exception):
    """EventBridge kept refusing the event (its error code, never its detail)."""


class EventBus:
    def __init__(self, bus_name: str, eventbridge: Any) -> None:
        self._bus = bus_name
        self._events = eventbridge

    def put(self, detail_type: str, detail: dict[str, Any]) -> None:
        """Put one event; EventNotDelivered (logged, counted) if EventBridge kept refusing it."""
        entry = {
            "EventBusName": self._bus,
            "Source": EVENT_SOURCE,
            "DetailType": detail_type,
            "Detail": json.dumps(detail, separators=(",", ":"), ensure_ascii=False),
        }
        for _ in range(_ENTRY_ATTEMPTS):
            response = self._events.put_events(Entries=[entry])
            if not response.get("FailedEntryCount"):
                return
        code = (response.get("Entries") or [{}])[0].get("ErrorCode")
        logger.error(
            "event refused by the bus",
            extra={"detail_type": detail_type, "event_id": detail.get("event_id"), "error": code},
        )
        metrics.add_metric(name="EventsUndelivered", unit=MetricUnit.Count, value=1)
        raise EventNotDelivered(f"EventBridge refused the entry ({code})")
