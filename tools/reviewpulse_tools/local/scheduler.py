"""EventBridge Scheduler: the template's rate() schedules, each invoking its function on time."""

from __future__ import annotations

import logging
import re
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from reviewpulse_cli.local_state import LOCAL_ACCOUNT

from reviewpulse_tools.local.template import TEMPLATE_PATH, read_sam_template

_log = logging.getLogger("reviewpulse.local")

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def schedules(template_path=TEMPLATE_PATH) -> list[tuple[str, int]]:
    """(function, period in seconds) for every rate(...) Schedule or ScheduleV2 event."""
    found = []
    for name, resource in read_sam_template(template_path)["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for event in resource["Properties"].get("Events", {}).values():
            if event["Type"] in ("Schedule", "ScheduleV2"):
                match = _RATE.match(event["Properties"].get("ScheduleExpression", ""))
                if match:
                    found.append((name, int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]))
    return found


def scheduled_event(function: str, region: str = "us-east-1") -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler",
        "account": LOCAL_ACCOUNT,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:scheduler:{region}:{LOCAL_ACCOUNT}:schedule/default/{function}"],
        "detail": "{}",
    }


def run_schedule(runner: Any, function: str, period: float, stop: threading.Event) -> None:
    """Invoke `function` every `period` seconds until `stop` is set, as EventBridge Scheduler does."""
    while not stop.wait(period):
        try:
            runner.invoke(function, scheduled_event(function, runner.stack.region))
        except Exception as exc:  # the next tick runs it again, as the schedule would
            _log.warning("scheduled run of %s failed: %s: %s", function, type(exc).__name__, exc)


__all__ = ["run_schedule", "scheduled_event", "schedules"]
