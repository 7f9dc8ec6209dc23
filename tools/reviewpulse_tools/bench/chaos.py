"""Chaos for the pipeline: at-least-once delivery taken literally, crashes at every step, flaky
and poisonous analysis. `make chaos` runs it at full size; tests/integration/test_chaos.py runs it
scaled down. Everything else is the real thing: handlers, workflows, moto resources.

- every S3 event and SQS message is delivered twice (each batch is handed to its function twice);
- the analyze_chunk function crashes once at each step in turn — before and after a chunk's results
  are written, before and after its counts are recorded — and the finalizer once mid-merge;
- a share of analyzer calls fail transiently (the chunk is retried), and a share of the rows
  are poison (the engine always fails on them: they become per-row errors).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from reviewpulse.analysis.lexicon_analyzer import LexiconAnalyzer
from reviewpulse.usecases.analyze_chunk import AnalysisUnavailable

from reviewpulse_tools.local.sqs import QueuePoller, sqs_event

POISON = "POISON-PILL"
CRASH_STEPS = ("before results write", "after results write", "before count", "after count")


class Crash(BaseException):
    """The function dies: not an Exception, so no handler code can catch it (as with a kill)."""


@dataclass
class ChaosPlan:
    transient_failure_rate: float = 0.10
    seed: int = 7
    crashes_left: list[str] = field(default_factory=lambda: list(CRASH_STEPS))
    finalize_crashes_left: int = 1
    crashed: Counter = field(default_factory=Counter)
    transient_failures: int = 0

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)

    def maybe_crash(self, step: str) -> None:
        if self.crashes_left and self.crashes_left[0] == step:
            self.crashes_left.pop(0)
            self.crashed[step] += 1
            raise Crash(step)


class ChaosAnalyzer:
    engine = "lexicon"

    def __init__(self, plan: ChaosPlan) -> None:
        self.plan = plan
        self.real = LexiconAnalyzer()

    def analyze(self, texts):
        # A transient failure hits a request to the engine (a chunk), not the one-by-one retries
        # that isolate a poison row within it.
        if len(texts) > 1 and self.plan.random.random() < self.plan.transient_failure_rate:
            self.plan.transient_failures += 1
            raise AnalysisUnavailable("transient engine failure")
        if any(POISON in text for text in texts):
            raise ValueError("the engine chokes on this text")
        return self.real.analyze(texts)


class ChaosResultFiles:
    def __init__(self, real: Any, plan: ChaosPlan) -> None:
        self.real, self.plan = real, plan

    def put_part(self, *args: Any) -> None:
        self.plan.maybe_crash("before results write")
        self.real.put_part(*args)
        self.plan.maybe_crash("after results write")

    def put_file(self, *args: Any, **kwargs: Any) -> None:
        if self.plan.finalize_crashes_left:
            self.plan.finalize_crashes_left -= 1
            self.plan.crashed["during finalization"] += 1
            raise Crash("during finalization")
        self.real.put_file(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


class ChaosTasks:
    def __init__(self, real: Any, plan: ChaosPlan) -> None:
        self.real, self.plan = real, plan

    def record_chunk(self, *args: Any, **kwargs: Any) -> Any:
        self.plan.maybe_crash("before count")
        recorded = self.real.record_chunk(*args, **kwargs)
        self.plan.maybe_crash("after count")
        return recorded

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


class TwiceDeliveringPoller(QueuePoller):
    """Hands every batch to its function twice, and counts deliveries, failures and redeliveries
    per message, so the test can check that each failure led to exactly one redelivery."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.receives: Counter = Counter()
        self.failed: Counter = Counter()

    def poll_once(self, trigger, wait_seconds: int = 0) -> int:
        url = self.runner.stack.ref(trigger.queue)
        messages = self.receive(trigger, wait_seconds)
        if not messages:
            return 0
        for message in messages:
            self.receives[message["MessageId"]] += 1
        event = sqs_event(messages, self.runner.stack.attribute(trigger.queue, "Arn"), self.runner.stack.region)
        failed_ids: set[str] = set()
        for _ in range(2):  # the duplicate delivery
            try:
                result = self.runner.invoke(trigger.function, event) or {}
                failed_ids |= {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
            except BaseException as exc:  # a crash fails the whole batch, as in Lambda
                if not isinstance(exc, (Crash, Exception)):
                    raise
                failed_ids |= {m["MessageId"] for m in messages}
        for message in messages:
            if message["MessageId"] in failed_ids:
                self.failed[message["MessageId"]] += 1
                self.failures += 1
                self.sqs.change_message_visibility(
                    QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
            else:
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return len(messages)

    def redelivery_ratio(self) -> float:
        failures = sum(self.failed.values())
        redeliveries = sum(count - 1 for count in self.receives.values())
        return redeliveries / failures if failures else 1.0


def install(runner: Any, plan: ChaosPlan) -> None:
    """Give the real handlers chaotic collaborators (their module-level factories)."""
    from reviewpulse.wiring import result_files, task_repository

    analyze = runner.module("AnalyzeChunkFunction")
    analyze.analyzer = ChaosAnalyzer(plan)
    analyze.result_files = lambda: ChaosResultFiles(result_files(), plan)
    analyze.task_repository = lambda: ChaosTasks(task_repository(), plan)
    finalize = runner.module("FinalizeFunction")
    finalize.result_files = lambda: ChaosResultFiles(result_files(), plan)


def main(argv: list[str] | None = None) -> int:
    """`make chaos`: the full-size run, on moto in this process; prints the figures."""
    import argparse
    import contextlib
    import io
    import json
    import os
    import sys
    import time
    import warnings

    parser = argparse.ArgumentParser(description="the pipeline under chaos, full size")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--chunk-items", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    os.environ.update(
        AWS_ACCESS_KEY_ID="chaos",
        AWS_SECRET_ACCESS_KEY="chaos",
        AWS_DEFAULT_REGION="us-east-1",
        POWERTOOLS_LOG_LEVEL="ERROR",
        POWERTOOLS_METRICS_NAMESPACE="ReviewPulse",
        POWERTOOLS_SERVICE_NAME="reviewpulse",
        CHUNK_MAX_ITEMS=str(args.chunk_items),
    )
    for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL") or n == "AWS_PROFILE"]:
        del os.environ[name]
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    import boto3
    import requests
    from moto import mock_aws
    from reviewpulse.observability import logger

    logger.setLevel("ERROR")  # the figures are the output here, not the functions' logs
    from reviewpulse.tenants.keys import KeyRepository

    from reviewpulse_tools.bench.samples import sample_reviews
    from reviewpulse_tools.local.apigateway import ApiGateway
    from reviewpulse_tools.local.lambda_ import FunctionRunner
    from reviewpulse_tools.local.provision import provision

    texts = sample_reviews()
    rng = random.Random(args.seed)
    rows = [rng.choice(texts).replace("\n", " ") for _ in range(args.rows)]
    poison = set(rng.sample(range(1, args.rows + 1), max(1, args.rows // 100)))
    for row in poison:
        rows[row - 1] = f"{POISON} {rows[row - 1]}"
    with mock_aws(), contextlib.redirect_stdout(io.StringIO()):
        stack = provision(boto3.Session())
        runner = FunctionRunner(stack, {"POWERTOOLS_LOG_LEVEL": "ERROR", "CHUNK_MAX_ITEMS": str(args.chunk_items)})
        gateway = ApiGateway(runner)
        key, _ = KeyRepository(stack.ref("KeysTable"), boto3.client("dynamodb")).create("chaos", "usage-chaos")
        headers = {"X-Api-Key": key, "Content-Type": "application/json"}
        plan = ChaosPlan(seed=args.seed)
        install(runner, plan)
        created = gateway.request(
            "POST", "/v1/batches", headers=headers, body=json.dumps({"filename": "chaos.txt"})
        ).json()
        upload = created["upload"]
        started = time.perf_counter()
        requests.post(
            upload["url"], data=upload["fields"], files={"file": ("chaos.txt", "\n".join(rows).encode())}, timeout=120
        )
        poller = TwiceDeliveringPoller(runner, boto3.client("sqs"))
        poller.drain(max_rounds=100_000)
        elapsed = time.perf_counter() - started
        task_id = created["task"]["task_id"]
        task = gateway.request("GET", f"/v1/tasks/{task_id}", headers=headers).json()
        seen: list[int] = []
        codes: Counter = Counter()
        cursor = None
        while True:
            query = {"limit": "1000", **({"cursor": cursor} if cursor else {})}
            page = gateway.request("GET", f"/v1/tasks/{task_id}/results", headers=headers, query=query).json()
            for item in page["items"]:
                seen.append(item["row"])
                if item.get("error"):
                    codes[item["error"]["code"]] += 1
            cursor = page["next_cursor"]
            if not cursor:
                break
    exactly_once = seen == list(range(1, args.rows + 1))
    report = {
        "rows": args.rows,
        "status": task["status"],
        "progress": task["progress"],
        "every row exactly once": exactly_once,
        "per-row errors": dict(codes),
        "poison rows": len(poison),
        "crashes": dict(plan.crashed),
        "failed deliveries": sum(poller.failed.values()),
        "redelivered / failed": round(poller.redelivery_ratio(), 4),
        "seconds": round(elapsed, 1),
    }
    print(json.dumps(report, indent=2))
    ok = (
        task["status"] == "ready"
        and exactly_once
        and task["progress"]["processed"] + task["progress"]["failed"] == args.rows
    )
    ok = ok and poller.redelivery_ratio() == 1.0
    print("PASS" if ok else "FAIL", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
