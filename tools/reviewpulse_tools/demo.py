"""`make demo`: analyse the shipped sample batch on the embedded local default, no AWS account.

The stack runs in this process: moto plays AWS with resources created from template.yaml, and the
real handlers run behind the same authorizer → function routing and SQS event source mapping
that AWS uses. The client side is what a user does: create a batch, upload the file with the
presigned POST, follow the task, read the summary, download the results.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import time
import warnings
from pathlib import Path

from reviewpulse_tools.template import ROOT

DEFAULT_FILE = ROOT / "samples" / "reviews.csv"


def _fake_aws_environment() -> None:
    # moto needs credentials to sign with; these never leave the process.
    for name, value in {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "ReviewPulse",
        "POWERTOOLS_SERVICE_NAME": "reviewpulse",
        # The demo shows the result, not the functions' own logs.
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }.items():
        os.environ[name] = value
    os.environ.pop("AWS_PROFILE", None)
    os.environ.pop("AWS_ENDPOINT_URL", None)


def run(file: Path, out: Path, text_field: str | None, id_field: str | None) -> int:
    _fake_aws_environment()
    # The functions' EMF metric lines (one JSON per invocation) would bury the summary.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    with contextlib.redirect_stdout(io.StringIO()) as function_output:
        status, summary = _run(file, out, text_field, id_field)
    del function_output
    if summary:
        print(summary)
    return status


def _run(file: Path, out: Path, text_field: str | None, id_field: str | None) -> tuple[int, str]:
    import boto3
    import requests
    from moto import mock_aws
    from reviewpulse.tenants.keys import KeyRepository

    from reviewpulse_tools.lambda_runtime import ApiGateway, FunctionRunner, QueuePoller
    from reviewpulse_tools.provision import provision

    with mock_aws():
        started = time.perf_counter()
        stack = provision(boto3.Session())
        runner = FunctionRunner(stack, {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"})
        gateway = ApiGateway(runner)
        poller = QueuePoller(runner, boto3.client("sqs"))
        key, _ = KeyRepository(stack.ref("KeysTable"), boto3.client("dynamodb")).create("demo")
        headers = {"X-Api-Key": key, "Content-Type": "application/json"}
        print(f"local stack ready in {time.perf_counter() - started:.1f}s (tenant 'demo')", file=sys.stderr)

        import json

        body = {
            "filename": file.name,
            **({"text_field": text_field} if text_field else {}),
            **({"id_field": id_field} if id_field else {}),
        }
        created = gateway.request("POST", "/v1/batches", headers=headers, body=json.dumps(body))
        if created.status != 201:
            print(f"reviewpulse: {created.json().get('detail')}", file=sys.stderr)
            return 1, ""
        task_id = created.json()["task"]["task_id"]
        upload = created.json()["upload"]
        with file.open("rb") as handle:
            response = requests.post(
                upload["url"], data=upload["fields"], files={"file": (file.name, handle)}, timeout=300
            )
        response.raise_for_status()
        print(f"uploaded {file.name} ({file.stat().st_size:,} bytes) as task {task_id}", file=sys.stderr)

        task = _follow(gateway, poller, headers, task_id)
        if task["status"] != "ready":
            error = task.get("error") or {}
            print(
                f"reviewpulse: task ended in {task['status']}: {error.get('code')}: {error.get('detail')}",
                file=sys.stderr,
            )
            return 1, ""
        summary = _summary_table(task)
        files = gateway.request("GET", f"/v1/tasks/{task_id}/results", headers=headers, query={"limit": "1"}).json()[
            "files"
        ]
        out.write_bytes(requests.get(files["csv"], timeout=300).content)
        print(f"results: {out} ({task['progress']['total']:,} rows, input columns kept)", file=sys.stderr)
        print(f"done in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return 0, summary


def _follow(gateway, poller, headers, task_id: str) -> dict:
    while True:
        handled = sum(poller.poll_once(trigger) for trigger in poller.triggers)
        task = gateway.request("GET", f"/v1/tasks/{task_id}", headers=headers).json()
        progress = task["progress"]
        total = progress["total"]
        done = progress["processed"] + progress["failed"]
        if total:
            filled = int(30 * done / total)
            print(
                f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total} {task['status']:<10}", end="", file=sys.stderr
            )
        if task["status"] in ("ready", "error") or (handled == 0 and task["status"] == "accepted"):
            print(file=sys.stderr)
            return task


def _summary_table(task: dict) -> str:
    summary, progress = task["summary"], task["progress"]
    lines = [f"{'label':<10} {'count':>7} {'share':>8}"]
    for label, count in summary["counts"].items():
        lines.append(f"{label:<10} {count:>7} {summary['percentages'][label]:>7.1f}%")
    lines.append(f"{'errors':<10} {progress['failed']:>7}")
    mean = summary["mean_score"]
    lines.append(f"mean score {mean:+.3f}" if mean is not None else "mean score n/a")
    lines.append(f"{progress['processed']} analysed of {progress['total']} rows")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="reviewpulse-demo", description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--out", type=Path, default=Path("demo-results.csv"))
    parser.add_argument("--text-field")
    parser.add_argument("--id-field", default=None)
    args = parser.parse_args(argv)
    if not args.file.is_file():
        print(f"reviewpulse: no such file: {args.file}", file=sys.stderr)
        return 2
    id_field = args.id_field or ("order_id" if args.file == DEFAULT_FILE else None)
    return run(args.file, args.out, args.text_field, id_field)


if __name__ == "__main__":
    sys.exit(main())
