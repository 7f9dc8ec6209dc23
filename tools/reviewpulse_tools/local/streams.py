"""DynamoDB stream event source mappings: the event Lambda hands a stream-triggered function, and
the pollers that feed it from its table's stream as the mapping does (moto keeps the stream).

As Lambda does for a stream: records in order, batches of the mapping's size, its FilterCriteria
applied (records that match no pattern are skipped, never delivered), and a batch that fails is
delivered again, in order, from its first failed record (ReportBatchItemFailures) or whole (a
crash), with every record after it, until it succeeds: the checkpoint never passes a failure.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Any

from reviewpulse_tools.local.lambda_ import FunctionRunner, StackStopping
from reviewpulse_tools.local.provision import StreamTrigger

_log = logging.getLogger("reviewpulse.local")
_MISSING = object()


def streams_client(session: Any) -> Any:
    """A DynamoDB Streams client that reaches moto: botocore would send calls that name a stream
    ARN to an account-specific endpoint, which moto does not answer."""
    from botocore.config import Config

    return session.client("dynamodbstreams", config=Config(account_id_endpoint_mode="disabled"))


def stream_event(records: list[dict[str, Any]], stream_arn: str, region: str = "us-east-1") -> dict[str, Any]:
    """The event Lambda's stream poller hands a function, from GetRecords results."""
    converted = []
    for record in records:
        dynamodb = dict(record["dynamodb"])
        created = dynamodb.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):  # boto3 parses it; the event carries epoch seconds
            dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
        converted.append(
            {
                "eventID": record["eventID"],
                "eventName": record["eventName"],
                "eventVersion": record.get("eventVersion", "1.1"),
                "eventSource": "aws:dynamodb",
                "awsRegion": region,
                "dynamodb": dynamodb,
                "eventSourceARN": stream_arn,
            }
        )
    return {"Records": converted}


def matches(pattern: Any, value: Any) -> bool:
    """Lambda's event filtering, for the forms the template uses: nested keys, lists of exact
    values, and {"anything-but": [...]}."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(matches(p, value.get(k, _MISSING)) for k, p in pattern.items())
    if isinstance(pattern, list):
        for option in pattern:
            if isinstance(option, dict) and "anything-but" in option:
                if value is not _MISSING and value not in option["anything-but"]:
                    return True
            elif value is not _MISSING and value == option:
                return True
        return False
    return bool(pattern == value)


class StreamPoller:
    """Feeds each stream-triggered function from its table's stream, one position per shard."""

    def __init__(self, runner: FunctionRunner, streams: Any) -> None:
        self.runner = runner
        self.streams = streams  # a dynamodbstreams client
        self.triggers = runner.stack.stream_triggers()
        self.failures = 0
        self.crashes: list[Exception] = []
        self._after: dict[tuple[str, str], str | None] = {}  # (function, shard) → last sequence handled
        self._lock = threading.Lock()

    def _records(self, trigger: StreamTrigger, arn: str, shard: str) -> list[dict[str, Any]]:
        position = self._after.get((trigger.function, shard))
        if position is None:
            kind = {"ShardIteratorType": "TRIM_HORIZON"}
        else:
            kind = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": position}
        iterator = self.streams.get_shard_iterator(StreamArn=arn, ShardId=shard, **kind)["ShardIterator"]
        return self.streams.get_records(ShardIterator=iterator, Limit=trigger.batch_size)["Records"]

    def poll_once(self, trigger: StreamTrigger) -> int:
        """One batch per shard; returns how many records the checkpoint passed (0: nothing new, or
        a failure that will be delivered again)."""
        arn = self.runner.stack.attribute(trigger.table, "StreamArn")
        shards = self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        passed = 0
        for shard in (s["ShardId"] for s in shards):
            if trigger.starting_position == "LATEST" and (trigger.function, shard) not in self._after:
                # Only what is written from now on: start after the shard's last record.
                everything = self._records(trigger, arn, shard)
                self._after[(trigger.function, shard)] = (
                    everything[-1]["dynamodb"]["SequenceNumber"] if everything else None
                )
                if not everything:
                    continue
            records = self._records(trigger, arn, shard)
            if not records:
                continue
            event = stream_event(records, arn, self.runner.stack.region)
            wanted = [r for r in event["Records"] if not trigger.filters or any(matches(p, r) for p in trigger.filters)]
            handled_through = len(records)
            if wanted:
                handled_through = self._invoke(trigger, records, {"Records": wanted})
            if handled_through:
                self._after[(trigger.function, shard)] = records[handled_through - 1]["dynamodb"]["SequenceNumber"]
            passed += handled_through
        return passed

    def _invoke(self, trigger: StreamTrigger, records: list[dict[str, Any]], event: dict[str, Any]) -> int:
        """Deliver the batch; how many of `records` (in order) are done with."""
        sequence = [r["dynamodb"]["SequenceNumber"] for r in records]
        try:
            result = self.runner.invoke(trigger.function, event) or {}
        except StackStopping:
            _log.debug("%s: a stream batch left unread: the stack is stopping", trigger.function)
            return 0
        except Exception as exc:
            _log.warning(
                "%s failed on a stream batch of %d: %s", trigger.function, len(event["Records"]), type(exc).__name__
            )
            with self._lock:
                self.crashes.append(exc)
                self.failures += len(event["Records"])
            return 0
        failed = (
            {f.get("itemIdentifier") for f in result.get("batchItemFailures", [])} if trigger.report_failures else set()
        )
        if not failed:
            return len(records)
        with self._lock:
            self.failures += 1
        if not failed <= set(sequence):
            return 0  # an unknown or empty identifier fails the whole batch
        # Delivered again from the first failed record, with every record after it.
        return min(sequence.index(s) for s in failed)

    def poll_all(self) -> int:
        return sum(self.poll_once(trigger) for trigger in self.triggers)

    def run(self, trigger: StreamTrigger, stop: threading.Event, idle_seconds: float = 0.5) -> None:
        """Poll one mapping until `stop` is set; a failed batch waits a second, as Lambda backs off."""
        while not stop.is_set():
            try:
                failures = self.failures
                if self.poll_once(trigger) == 0:
                    stop.wait(1.0 if self.failures > failures else idle_seconds)
            except Exception as exc:  # the endpoint went away or hiccuped: keep polling
                _log.warning("polling the stream of %s failed: %s", trigger.table, exc)
                with self._lock:
                    self.crashes.append(exc)
                stop.wait(1)

    def drain(self, max_rounds: int = 200) -> int:
        """Poll until no mapping's checkpoint moves. Returns the records passed."""
        handled = 0
        for _ in range(max_rounds):
            passed = self.poll_all()
            if passed == 0:
                return handled
            handled += passed
        raise RuntimeError("streams did not drain")


__all__ = ["StreamPoller", "matches", "stream_event"]
