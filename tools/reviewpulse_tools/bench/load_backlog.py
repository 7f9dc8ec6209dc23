"""Where a load run's backlog is after the load stops, and how fast it drains (bench/load.py):
a greenlet samples every queue's depth on the stack's SQS endpoint (ApproximateNumberOfMessages
waiting, ...NotVisible in flight, ...Delayed coming back after a failure) when the load stops and
every SAMPLE_SECONDS of the settle phase, with the 1-minute load average and the cores the
stack's processes used since the sample before (load_cpu.py); the report puts beside them how
many invocations each worker function started in each interval (the invocation records), and
the time the last task ended (its `updated_at`, from the checks' final reads).

GetQueueAttributes is one cheap call per queue (moto counts the messages it holds); nine queues
every 15 s add nothing a load run would notice.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import gevent
from reviewpulse_cli.local_state import LOCAL_CREDENTIALS, REGION

from reviewpulse_tools.bench import load_cpu
from reviewpulse_tools.local.lambda_ import Invocation

SAMPLE_SECONDS = 15.0
ATTRIBUTES = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)
# The functions fed by queues or the tasks table's stream: their invocations per interval are the drain.
WORKERS = (
    "SplitFunction",
    "AnalyzeChunkFunction",
    "FinalizeFunction",
    "PublishTaskEventsFunction",
    "DeliverWebhooksFunction",
    "DeadLetterFunction",
)


@dataclass(frozen=True)
class Sample:
    at: float  # seconds after the load stopped
    depths: dict[str, tuple[int, int, int]]  # queue (short name) -> waiting, in flight, delayed
    load: float  # 1-minute load average
    cores: float | None  # cores the stack's processes used since the sample before (None: unknown)


def short_name(queue_url: str) -> str:
    """`.../reviewpulse-local-WorkQueue` -> `WorkQueue` (the template's logical id)."""
    return queue_url.rsplit("/", 1)[-1].rsplit("-", 1)[-1]


@dataclass
class BacklogSampler:
    endpoint: str  # the stack's SQS endpoint (its state file's aws_endpoint)
    pids: tuple[int | None, int | None, int | None] = (None, None, None)  # stack, AWS, DynamoDB processes
    every: float = SAMPLE_SECONDS
    samples: list[Sample] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    _greenlet: Any = None

    def __post_init__(self) -> None:
        import boto3

        self._sqs = boto3.client(
            "sqs",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
        self._urls: list[str] = []

    def _cpu(self) -> dict[int, float] | None:
        """CPU seconds of each of the stack's processes (None: no stack process known)."""
        stack, aws, dynamodb = self.pids
        if stack is None:
            return None
        cpu = load_cpu.sample(stack, aws, dynamodb)
        if cpu.stack is None:
            return None
        named = {stack: cpu.stack, aws or -1: cpu.aws or 0.0, dynamodb or -2: cpu.dynamodb or 0.0}
        return {**cpu.environments, **named}

    def sample(self, origin: float, before: tuple[float, dict[int, float] | None] | None) -> tuple[float, Any]:
        """One sample of every queue; `before`: (when, the stack's CPU by process) of the last one."""
        if not self._urls:
            self._urls = sorted(self._sqs.list_queues().get("QueueUrls", []))
        depths = {}
        for url in self._urls:
            try:
                found = self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(ATTRIBUTES))["Attributes"]
            except Exception as exc:  # a busy endpoint's hiccup: that queue is missing from this sample
                self.errors[type(exc).__name__] += 1
                continue
            depths[short_name(url)] = tuple(int(found.get(name, 0)) for name in ATTRIBUTES)
        now, cpu = time.monotonic(), self._cpu()
        cores = None
        if before is not None and before[1] is not None and cpu is not None and now > before[0]:
            # Processes started since count whole; one that exited (a crash) loses its last interval.
            was = before[1]
            cores = sum(max(0.0, seconds - was.get(pid, 0.0)) for pid, seconds in cpu.items()) / (now - before[0])
        self.samples.append(Sample(now - origin, depths, os.getloadavg()[0], cores))
        return now, cpu

    def start(self, origin: float) -> None:
        """Sample now (`origin`: when the load stopped, monotonic) and every `every` s until stop()."""

        def loop() -> None:
            last = None
            while True:
                last = self.sample(origin, last)
                gevent.sleep(self.every)

        self._greenlet = gevent.spawn(loop)
        gevent.sleep(0)  # the first sample now, as the load stops

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill()


def last_ended(final: dict[str, dict], load_stopped: float) -> str:
    """When the last task ended, from its `updated_at` (`load_stopped`: wall clock, seconds)."""
    ended = [
        datetime.fromisoformat(body["updated_at"]).timestamp() for body in final.values() if body.get("updated_at")
    ]
    if not ended:
        return "no task ended"
    return f"the last of {len(ended)} tasks ended {max(ended) - load_stopped:.0f} s after the load stopped"


def table(samples: list[Sample], records: list[Invocation], load_stopped: float) -> str:
    """Each queue's depth (waiting+in flight, +delayed) per sample, and the worker functions'
    invocations started between one sample and the next; queues empty in every sample left out."""
    if not samples:
        return "backlog: not sampled"
    queues = sorted({q for s in samples for q, d in s.depths.items() if any(d)})
    workers = [w for w in WORKERS if any(r.function == w and r.started >= load_stopped for r in records)]
    header = f"{'s after':>7} " + " ".join(f"{q.replace('DeadLetterQueue', 'DLQ')[:14]:>14}" for q in queues)
    header += " " + " ".join(f"{w.removesuffix('Function')[:9]:>9}" for w in workers) + f" {'cores':>5} {'load':>5}"
    lines = [
        "backlog after the load: each queue's messages waiting+in flight(+delayed, a failure's retry), "
        "then each worker's invocations started since the sample before, the cores the stack used, the load average",
        header,
    ]
    edges = [load_stopped + s.at for s in samples]
    for i, s in enumerate(samples):
        cells = []
        for q in queues:
            waiting, flight, delayed = s.depths.get(q, (0, 0, 0))
            cells.append(f"{waiting}+{flight}" + (f"+{delayed}" if delayed else "") if q in s.depths else "?")
        start = edges[i - 1] if i else None
        counts = Counter(
            r.function for r in records if start is not None and start <= r.started < edges[i] and r.function in workers
        )
        line = f"{s.at:>7.0f} " + " ".join(f"{c:>14}" for c in cells)
        line += " " + " ".join(f"{(counts[w] if start is not None else '-'):>9}" for w in workers)
        line += f" {'-' if s.cores is None else f'{s.cores:.2f}':>5} {s.load:>5.1f}"
        lines.append(line)
    return "\n".join(lines)
