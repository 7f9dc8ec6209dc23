"""The cold-start benchmark (`make bench`'s coldstart): each function of template.yaml that has a
sample event in events/, imported by a fresh interpreter and answering that event against the local
stack, against a minimal handler on the same framework (an API Gateway one or a queue worker's),
and what that floor itself is made of. The list of functions is read from the template, so a new
function with a sample event is measured without being named here.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from reviewpulse_tools.bench.stack import bench_stack
from reviewpulse_tools.local.template import ROOT

COLD_RUNS = 11
# The quick run measures every QUICK_SAMPLE_EVERY-th function, once (the full run: all, COLD_RUNS times).
# 5 of the 33 by name: both floors' kinds and the rotation sample's replay among them (every 3rd
# had 11 and no rotation); each function's sample event also runs in tests/local's invokes.
QUICK_SAMPLE_EVERY = 8


API_FLOOR = textwrap.dedent(
    """
    import boto3
    from aws_lambda_powertools import Logger, Metrics, Tracer
    from fastapi import FastAPI
    from mangum import Mangum
    logger, metrics, tracer = Logger(), Metrics(), Tracer()
    table = boto3.client("dynamodb")
    app = FastAPI()
    @app.get("/health")
    def health():
        return {"status": "ok"}
    asgi = Mangum(app, lifespan="off")
    @logger.inject_lambda_context
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics(capture_cold_start_metric=True)
    def handler(event, context):
        return asgi(event, context)
    """
)
QUEUE_FLOOR = textwrap.dedent(
    """
    import boto3
    from aws_lambda_powertools import Logger, Metrics, Tracer
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
    logger, metrics, tracer = Logger(), Metrics(), Tracer()
    queue = boto3.client("sqs")
    processor = BatchProcessor(event_type=EventType.SQS)
    def record_handler(record):
        return None
    @logger.inject_lambda_context
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics(capture_cold_start_metric=True)
    def handler(event, context):
        return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    """
)
# Not a floor (the functions are held to QUEUE_FLOOR's): what the least queue function that reads
# its task pays above it. Every first message of a queue function is parsed into a pydantic model
# and reads at least one item of a table; the floor does neither (docs/figures.md, "Cold start").
QUEUE_READER = QUEUE_FLOOR.replace(
    "def record_handler(record):\n    return None\n",
    textwrap.dedent(
        """
        import os
        from pydantic import BaseModel
        class Item(BaseModel):
            row: int
            id: str | None = None
            text: str | None = None
        class Message(BaseModel):
            tenant: str
            task_id: str
            chunk: int
            items: list[Item]
        table = boto3.client("dynamodb")
        def record_handler(record):
            message = Message.model_validate_json(record.body)
            key = {"tenant": {"S": message.tenant}, "task_id": {"S": message.task_id}}
            table.get_item(TableName=os.environ["TASKS_TABLE_NAME"], Key=key, ConsistentRead=True)
        """
    ),
)
READER_ROW = "(reference) queue floor + a pydantic message + one GetItem"
COLD_CHILD = textwrap.dedent(
    """
    import time
    started = time.perf_counter()
    import importlib.util, json, sys, io, contextlib
    spec = importlib.util.spec_from_file_location("app", sys.argv[1])
    module = importlib.util.module_from_spec(spec)
    with contextlib.redirect_stdout(io.StringIO()):
        spec.loader.exec_module(module)
        imported = time.perf_counter()
        class Context:
            function_name = "bench"; memory_limit_in_mb = 512; aws_request_id = "bench"
            invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
            def get_remaining_time_in_millis(self): return 30000
        response = module.handler(json.loads(open(sys.argv[2]).read()), Context())
    answered = time.perf_counter()
    print(json.dumps({"import": imported - started, "total": answered - started, "response": response}, default=str))
    """
)


def cold_events(stack) -> dict[str, Path]:
    """The event each function answers in the cold-start runs: every function of template.yaml
    whose code folder has its sample in events/ (functions/<name>/ answers events/<name>.json)."""
    events = {
        function: ROOT / "events" / f"{stack.function_code_dir(function).name}.json" for function in stack.functions()
    }
    return {function: event for function, event in events.items() if event.exists()}


def floor_kind(event: Path) -> str:
    """Which floor a function is held to: an API Gateway event's (a proxy request, or the
    authorizer's) or a queue worker's (queue, stream, schedule and rotation events alike)."""
    sample = json.loads(event.read_text())
    return "api" if "httpMethod" in sample or "methodArn" in sample else "queue"


def replayed(stack, function: str, event: Path, work: Path) -> Path:
    """The sample event as it reaches this stack's function. A Secrets Manager rotation sample
    names a deployed secret, and a rotation function rotates only its own: its SecretId becomes
    the secret that the template's RotationSchedule gives to this function."""
    sample = json.loads(event.read_text())
    if not {"Step", "SecretId"} <= set(sample):
        return event
    for schedule in stack.template.of_type("AWS::SecretsManager::RotationSchedule").values():
        target = schedule["Properties"].get("RotationLambdaARN", {})
        target = target.get("Fn::GetAtt") if isinstance(target, dict) else None
        if target and (target[0] if isinstance(target, list) else target.split(".")[0]) == function:
            sample["SecretId"] = str(stack.resolver.resolve(schedule["Properties"]["SecretId"]))
    path = work / f"{function}.{event.name}"
    path.write_text(json.dumps(sample))
    return path


def sampled(functions: dict[str, Path], every: int) -> dict[str, Path]:
    """Every `every`-th function by name (the quick run's sample: the full run measures all)."""
    return {function: functions[function] for function in sorted(functions)[::every]}


def bench_cold_start(
    runs: int = COLD_RUNS, part_runs: int = 5, floor_once: bool = False, sample_every: int = 1, running=None
) -> dict:
    """`floor_once`: each kind's floor measured once and compared with every function of that kind
    (the quick run: half the interpreters), instead of alternating with each function.
    `sample_every`: only every n-th function of `cold_events` (the quick run)."""
    from reviewpulse.tenants.keys import KeyRepository

    work = Path(tempfile.mkdtemp())
    (work / "api_floor.py").write_text(API_FLOOR)
    (work / "queue_floor.py").write_text(QUEUE_FLOOR)
    (work / "queue_reader.py").write_text(QUEUE_READER)
    (work / "child.py").write_text(COLD_CHILD)
    with bench_stack(running) as running:
        import boto3

        sample_key = json.loads((ROOT / "events" / "authorizer.json").read_text())["headers"]["X-Api-Key"]
        KeyRepository(running.stack.ref("KeysTable"), boto3.client("dynamodb")).add(sample_key, "example")
        # The handlers run in bare interpreters: the domain package and the dependencies come from
        # the same places the layers would put them on sys.path.
        site = next(p for p in sys.path if p.endswith("site-packages"))
        env_base = {
            "PATH": os.environ["PATH"],
            "PYTHONPATH": os.pathsep.join([str(ROOT / "shared"), site]),
            "POWERTOOLS_TRACE_DISABLED": "false",
            "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }

        def once(app: Path, event: Path, function_env: dict) -> float:
            done = subprocess.run(
                [sys.executable, "-S", str(work / "child.py"), str(app), str(event)],
                env={**env_base, **function_env},
                capture_output=True,
                text=True,
                timeout=120,
            )
            if done.returncode != 0:
                raise RuntimeError(f"{app}: {done.stderr[-2000:]}")
            measured = json.loads(done.stdout.strip().splitlines()[-1])
            _check_answered(app, measured["response"])
            return measured["total"]

        results = {}
        aws_env = {k: v for k, v in running.runner.extra_environment.items() if k.startswith("AWS_")}
        floor_env = {**running.stack.function_environment("HealthFunction"), **aws_env}
        floor_runs: dict[str, list[float]] = {"api": [], "queue": []}
        events = cold_events(running.stack)
        for function, event in sampled(events, sample_every).items():
            env = {**running.stack.function_environment(function), **aws_env}
            app = running.stack.function_code_dir(function) / "app.py"
            kind = floor_kind(event)
            floor_app, floor_event = (
                (work / "api_floor.py", ROOT / "events" / "health.json")
                if kind == "api"
                else (work / "queue_floor.py", ROOT / "events" / "analyze_chunk.json")
            )
            # Floor and function alternate, so drift in the machine's speed hits both alike.
            floors, totals = [], []
            for _ in range(runs):
                if not (floor_once and floor_runs[kind]):
                    floors.append(once(floor_app, floor_event, floor_env))
                totals.append(once(app, replayed(running.stack, function, event, work), env))
            floor_runs[kind] += floors
            floors = floors or floor_runs[kind]
            median, floor = statistics.median(totals), statistics.median(floors)
            results[function] = {"median_s": median, "floor_s": floor, "ratio": median / floor}
        if not sample_every > 1:  # the full run: the reference row, against the queue floor
            reader_env = {**floor_env, "TASKS_TABLE_NAME": str(running.stack.ref("TasksTable"))}
            floors, totals = [], []
            for _ in range(runs):
                floors.append(once(work / "queue_floor.py", ROOT / "events" / "analyze_chunk.json", floor_env))
                totals.append(once(work / "queue_reader.py", ROOT / "events" / "analyze_chunk.json", reader_env))
            floor_runs["queue"] += floors
            median, floor = statistics.median(totals), statistics.median(floors)
            results[READER_ROW] = {"median_s": median, "floor_s": floor, "ratio": median / floor}
        floors = {kind: statistics.median(values) for kind, values in floor_runs.items()}
        parts = _floor_parts(env_base, part_runs)
    return {
        "runs": runs,
        "part_runs": part_runs,
        "functions": results,
        "of_functions": len(events),
        "floors": floors,
        "floor_parts": parts,
    }


def _check_answered(app: Path, response: object) -> None:
    """A cold start counts only if the handler did its work: no 5xx from an API function, no
    failed record from a queue function, an Allow from the authorizer (for the sample key)."""
    if not isinstance(response, dict):
        return  # the scheduled functions return nothing
    if "statusCode" in response and int(response["statusCode"]) >= 500:
        raise RuntimeError(f"{app} answered its sample event with {response['statusCode']}: {response}")
    if response.get("batchItemFailures"):
        raise RuntimeError(f"{app} failed records of its sample event: {response['batchItemFailures']}")
    statements = response.get("policyDocument", {}).get("Statement", [])
    if statements and any(statement.get("Effect") != "Allow" for statement in statements):
        raise RuntimeError(f"{app} denied the sample event's key: {response}")


def _floor_parts(env_base: dict, runs: int = 5) -> dict:
    """What the floor itself is made of: each import on its own, in a fresh interpreter."""
    pieces = {
        "python start": "pass",
        "boto3 + one client": "import boto3; boto3.client('sqs', region_name='us-east-1')",
        "Powertools Logger + Metrics": "from aws_lambda_powertools import Logger, Metrics; Logger(); Metrics()",
        "Powertools Tracer (X-Ray SDK)": "from aws_lambda_powertools import Tracer; Tracer()",
        "FastAPI": "import fastapi",
        "Mangum": "import mangum",
        "BatchProcessor": "from aws_lambda_powertools.utilities.batch import BatchProcessor",
        "vaderSentiment + lexicon": "from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer as S; S()",
        # Not in either floor; what every queue function's first message adds (the reference row).
        "pydantic + one model": "from pydantic import BaseModel\nclass M(BaseModel): a: int\nM(a=1)",
        "boto3 + a DynamoDB client": "import boto3; boto3.client('dynamodb', region_name='us-east-1')",
    }
    measured = {}
    for name, code in pieces.items():
        samples = []
        for _ in range(runs):
            script = f"import time; t=time.perf_counter(); {code}; print(time.perf_counter()-t)"
            done = subprocess.run([sys.executable, "-S", "-c", script], env=env_base, capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(f"the floor's part {name!r} failed: {done.stderr[-1000:]}")
            samples.append(float(done.stdout.strip()))
        measured[name] = statistics.median(samples)
    return measured


def report_cold(cold: dict) -> str:
    lines = [
        f"**Cold start**, median of {cold['runs']} fresh interpreters importing the handler and answering one "
        "event from events/ (Tracer on), against a minimal handler on the same framework; "
        f"{len([f for f in cold['functions'] if f != READER_ROW])} of the "
        f"{cold.get('of_functions', len(cold['functions']))} functions with a sample event:",
        "",
        "| function | median | floor | ratio |",
        "|---|---|---|---|",
    ]
    for name, c in cold["functions"].items():
        lines.append(f"| {name} | {c['median_s'] * 1000:.0f} ms | {c['floor_s'] * 1000:.0f} ms | {c['ratio']:.2f}× |")
    lines += [
        "",
        f"The floor's parts, each imported alone (median of {cold['part_runs']}): "
        + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in cold["floor_parts"].items()),
    ]
    return "\n".join(lines)
