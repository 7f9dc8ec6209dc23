"""EventBridge: the one module that puts ReviewPulse's events on the stack's event bus.

A task's completion event is built by the notify use case; this module only sends it. PutEvents
can accept a call and still refuse some of its entries (FailedEntryCount): those are sent again a
few times; botocore already retries whole-call failures with backoff.
"""

from __future__ import annotations

import json
from typing import Any

from reviewpulse.observability import MetricUnit, logger, metrics

EVENT_SOURCE = "reviewpulse"
_ENTRY_ATTEMPTS = 3


class EventBus:
    def __init__(self, bus_name: str, eventbridge: Any) -> None:
        self._bus = bus_name
        self._events = eventbridge

    def put(self, detail_type: str, detail: dict[str, Any]) -> bool:
        """Put one event; False (logged, counted) if EventBridge kept refusing it."""
        entry = {
            "EventBusName": self._bus,
            "Source": EVENT_SOURCE,
            "DetailType": detail_type,
            "Detail": json.dumps(detail, separators=(",", ":"), ensure_ascii=False),
        }
        for _ in range(_ENTRY_ATTEMPTS):
            response = self._events.put_events(Entries=[entry])
            if not response.get("FailedEntryCount"):
                return True
        failure = (response.get("Entries") or [{}])[0]
        logger.error(
            "event not delivered to the bus",
            extra={"detail_type": detail_type, "event_id": detail.get("event_id"), "error": failure.get("ErrorCode")},
        )
        metrics.add_metric(name="EventsUndelivered", unit=MetricUnit.Count, value=1)
        return False
