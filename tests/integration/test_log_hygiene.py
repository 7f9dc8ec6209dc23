"""No customer text in any log line or error message, for valid or invalid input.

A canary string is planted in every position that holds customer data: texts, ids (the client's
own ids and a file's id column: they come from the customer's files, so they count as customer
data), file names, column names and Idempotency-Keys. Then malformed and hostile messages go to
every queue function as SQS events, invalid bodies to every API route as API Gateway proxy
events, and LLM tasks meet failing answers from the fake OpenAI server. Everything is captured:
every logger (the Powertools one and any library's, at INFO; Powertools' own internals at DEBUG,
where its batch processor renders a failed record's exception), stdout and stderr, each
function's returned value and each raised Lambda error with its traceback. The canary must
appear in none of them.
"""

from __future__ import annotations

import copy
import io
import json
import logging
import traceback
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Client, load_event
from tests.integration import test_llm_pipeline
from tests.integration.helpers import results_of, upload

CANARY = "Qzv7Canary"
# The LLM pipeline's fixtures: a fake OpenAI server, and the functions configured to use it.
fake, configure, llm = test_llm_pipeline.fake, test_llm_pipeline.configure, test_llm_pipeline.llm


class Captured:
    """Everything the functions said: log records of every logger, stdout and stderr, and the
    errors and answers they returned."""

    def __init__(self, stream: io.StringIO, capfd: pytest.CaptureFixture[str]) -> None:
        self.stream = stream
        self.capfd = capfd
        self.errors: list[str] = []
        self.output = ""

    def logged(self) -> str:
        return self.stream.getvalue()

    def assert_no_canary(self) -> None:
        out = self.capfd.readouterr()
        self.output += out.out + out.err
        everything = "\n".join([self.logged(), self.output, *self.errors])
        assert everything.strip(), "nothing was captured"
        assert CANARY not in everything, _around(everything, CANARY)


@pytest.fixture
def captured(capfd) -> Iterator[Captured]:
    from reviewpulse.observability import logger

    stream = io.StringIO()
    as_json = logging.StreamHandler(stream)  # the Powertools logger, with its extra fields
    as_json.setFormatter(logger.registered_formatter)
    plain = logging.StreamHandler(stream)  # every other logger, with any traceback it logs
    plain.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    powertools = logging.getLogger("aws_lambda_powertools")
    levels = (root.level, powertools.level)
    root.setLevel(logging.INFO)
    powertools.setLevel(logging.DEBUG)
    root.addHandler(plain)
    logger._logger.addHandler(as_json)
    try:
        yield Captured(stream, capfd)
    finally:
        root.removeHandler(plain)
        logger._logger.removeHandler(as_json)
        root.setLevel(levels[0])
        powertools.setLevel(levels[1])


def _around(text: str, needle: str) -> str:
    at = text.find(needle)
    return text[max(0, at - 300) : at + 100]


def invoke(runner, captured: Captured, function: str, event: dict[str, Any]) -> Any:
    """Invoke as Lambda does; a raised error is kept with its traceback, as Lambda reports it."""
    try:
        result = runner.invoke(function, event)
    except Exception as exc:
        captured.errors.append("".join(traceback.format_exception(exc)))
        return exc
    captured.errors.append(json.dumps(result))
    return result


def sqs_records(event_file: str, bodies: list[str]) -> dict[str, Any]:
    """The sample event of a queue function, with one record per body (real shape, new ids)."""
    event = load_event(event_file)
    template = event["Records"][0]
    records = []
    for n, body in enumerate(bodies):
        record = copy.deepcopy(template)
        record["messageId"] = f"message-{n}"
        record["body"] = body
        records.append(record)
    return {"Records": records}


def _chunk(**fields: Any) -> str:
    message = {
        "tenant": "acme",
        "task_id": "f" * 28,
        "chunk": 0,
        "items": [{"row": 1, "id": CANARY, "text": f"{CANARY} loved it"}],
    }
    return json.dumps({**message, **fields})


HOSTILE_ANY = [
    f"not json {CANARY}",
    json.dumps([CANARY, {"text": CANARY}]),
    json.dumps({"text": CANARY}),
    '{"tenant": "' + CANARY * 5000,  # cut off mid-string
    json.dumps(CANARY),
]
HOSTILE_WORK = [
    _chunk(tenant=5, task_id=None, chunk=CANARY),  # wrong types everywhere
    _chunk(items=CANARY),
    _chunk(items=[CANARY, {"row": CANARY, "id": [CANARY]}]),
    _chunk(items=[{"row": 1, "id": CANARY}]),  # neither text nor error
    _chunk(chunk=-1, items=[{"row": "x", "id": CANARY, "text": CANARY * 3000}]),
    _chunk(),  # well formed, for a task that does not exist
    _chunk(tenant=CANARY, task_id=CANARY),
]
HOSTILE_FINALIZE = [
    json.dumps({"tenant": CANARY}),
    json.dumps({"tenant": "acme", "task_id": CANARY}),
    json.dumps({"tenant": ["acme"], "task_id": {"id": CANARY}}),
    json.dumps({"tenant": "acme", "task_id": "f" * 28, "extra": CANARY}),
]


def _s3_body(key: str) -> str:
    body = json.loads(load_event("split.json")["Records"][0]["body"])
    body["Records"][0]["s3"]["object"]["key"] = key
    return json.dumps(body)


HOSTILE_INGEST = [
    _s3_body(f"uploads/acme/{'f' * 28}/{CANARY}.csv"),  # an upload for no task
    _s3_body(f"uploads/acme/{CANARY}/{CANARY}.csv"),
    _s3_body(f"incoming/acme/{CANARY}/{CANARY}.csv"),  # a drop whose object is gone
    _s3_body(f"elsewhere/{CANARY}.csv"),
    json.dumps({"Records": CANARY}),
    json.dumps({"Records": [{"s3": CANARY}]}),
    json.dumps({"Records": [{"s3": {"object": {"key": CANARY}}}]}),
]


def _delivery(**fields) -> str:
    job = {
        "tenant": "acme",
        "webhook_id": "wh_0123456789abcdef",
        "event_id": "evt_" + "0" * 32,
        "detail_type": "Task Ready",
        "detail": {"tenant": "acme"},
        "attempt": 1,
        "first_attempt_at": 1.0,
    }
    return json.dumps({**job, **fields})


HOSTILE_WEBHOOK = [
    _delivery(webhook_id=CANARY),
    _delivery(tenant=CANARY, event_id=CANARY, detail_type=CANARY),
    _delivery(detail={"tenant": "acme", "text": CANARY}),  # a webhook that does not exist
    json.dumps({"detail-type": CANARY, "detail": {"tenant": CANARY, "event_id": CANARY}}),
    json.dumps({"detail-type": "Task Ready", "detail": CANARY}),
]

QUEUE_FUNCTIONS = {
    "DeliverWebhooksFunction": ("deliver_webhooks.json", HOSTILE_ANY + HOSTILE_WEBHOOK),
    "SplitFunction": ("split.json", HOSTILE_ANY + HOSTILE_INGEST),
    "AnalyzeChunkFunction": ("analyze_chunk.json", HOSTILE_ANY + HOSTILE_WORK),
    "LlmAnalyzeChunkFunction": ("analyze_chunk.json", HOSTILE_ANY + HOSTILE_WORK),
    "FinalizeFunction": ("finalize.json", HOSTILE_ANY + HOSTILE_FINALIZE),
    "DeadLetterFunction": ("dead_letter.json", HOSTILE_ANY + HOSTILE_WORK + HOSTILE_FINALIZE),
}


@pytest.mark.parametrize("function", sorted(QUEUE_FUNCTIONS))
def test_malformed_and_hostile_messages_leave_no_text_in_logs_or_errors(function, runner, captured):
    event_file, bodies = QUEUE_FUNCTIONS[function]
    # Given every malformed and hostile message of this queue, one a batch (so a failing one fails
    # its whole batch, and the Lambda error carries it), and then all in one batch
    for body in bodies:
        # When the function gets it
        outcome = invoke(runner, captured, function, sqs_records(event_file, [body]))
        # Then it either fails as a Lambda error that still says what failed, or reports the
        # record for redelivery, or is done with it
        if isinstance(outcome, Exception):
            assert "RecordFailed" in captured.errors[-1] and " at " in captured.errors[-1]
        else:
            assert set(outcome) == {"batchItemFailures"}
    batch = invoke(runner, captured, function, sqs_records(event_file, bodies))
    # And every record left for redelivery was logged by its message id, with its failure's type
    failures = [json.loads(line) for line in captured.logged().splitlines() if '"record failed' in line]
    for failed in batch["batchItemFailures"]:
        assert any(f["message_id"] == failed["itemIdentifier"] and f["error_type"] for f in failures)
    # And none of it carries the canary
    captured.assert_no_canary()


def test_valid_and_invalid_requests_to_every_route_leave_no_text_in_logs_or_answers(client, gateway, poller, captured):
    # Given requests carrying the canary wherever a client can put customer data
    long_text = f"{CANARY} " * 1000
    invalid = [
        ("POST", "/v1/tasks", {"text": long_text}, None, None),
        ("POST", "/v1/tasks", {"text": CANARY, "id": CANARY * 30}, None, None),
        ("POST", "/v1/tasks", {"text": [CANARY], "id": {"x": CANARY}}, None, None),
        ("POST", "/v1/tasks", {"text": CANARY, "options": {"engine": CANARY, "aspects": [CANARY, CANARY]}}, None, None),
        ("POST", "/v1/tasks", {"text": CANARY, "options": {"aspects": [CANARY * 10]}}, None, None),
        ("POST", "/v1/tasks", {"text": CANARY, "options": {"engine": "llm"}}, None, None),
        ("POST", "/v1/tasks", f'{{"text": "{CANARY}', None, None),
        ("POST", "/v1/tasks", f"text={CANARY}", {"Content-Type": "application/x-www-form-urlencoded"}, None),
        ("POST", "/v1/tasks", {"text": CANARY}, {"Idempotency-Key": f"{CANARY} with spaces"}, None),
        ("POST", "/v1/tasks", {"text": CANARY}, {"Idempotency-Key": CANARY * 100}, None),
        ("POST", "/v1/batches", {"filename": CANARY * 200}, None, None),
        ("POST", "/v1/batches", {"filename": f"{CANARY}.csv", "format": CANARY}, None, None),
        ("POST", "/v1/batches", {"filename": f"{CANARY}.ods"}, None, None),
        ("POST", "/v1/batches", {"filename": "a.csv", "text_field": CANARY * 100, "id_field": [CANARY]}, None, None),
        ("POST", "/v1/batches", {"filename": 5, "format": {"x": CANARY}}, None, None),
        ("GET", f"/v1/tasks/{CANARY}", None, None, None),
        ("GET", f"/v1/tasks/{CANARY}/results", None, None, {"cursor": CANARY, "limit": CANARY}),
        ("GET", "/v1/tasks", None, None, {"cursor": CANARY, "status": CANARY, "limit": CANARY}),
        ("GET", "/v1/tasks", None, None, {"cursor": CANARY * 1000}),
        ("DELETE", f"/v1/tasks/{CANARY}", None, None, {"purge": CANARY}),
        ("PATCH", f"/v1/{CANARY}", {"text": CANARY}, None, None),
        ("POST", "/v1/analyze", {"texts": [CANARY] * 26}, None, None),
        ("POST", "/v1/analyze", {"texts": CANARY}, None, None),
        ("POST", "/v1/analyze", {"texts": [CANARY], "options": {"engine": CANARY}}, None, None),
        ("POST", "/v1/webhooks", {"url": f"http://{CANARY}.example.com/{CANARY}"}, None, None),
        ("POST", "/v1/webhooks", {"url": f"https://10.0.0.1/{CANARY}"}, None, None),
        ("POST", "/v1/webhooks", {"url": f"https://{CANARY}@hooks.example.com/"}, None, None),
        ("POST", "/v1/webhooks", {"url": CANARY * 300}, None, None),
        ("POST", "/v1/webhooks", {"url": [CANARY]}, None, None),
        ("DELETE", f"/v1/webhooks/{CANARY}", None, None, None),
    ]
    # (and an API key that is the canary: the authorizer refuses it without repeating it)
    unknown_key = Client(gateway, CANARY * 3).call("POST", "/v1/tasks", {"text": CANARY})
    assert unknown_key.status == 401
    captured.errors.append(unknown_key.body)
    # When each is sent through API Gateway
    for method, path, body, headers, query in invalid:
        response = client.call(method, path, body, query=query, headers=headers)
        # Then it is refused with a problem that does not quote it
        assert 400 <= response.status < 500, (method, path, response.status)
        assert response.headers["content-type"].startswith("application/problem+json")
        captured.errors.append(response.body)
    # And valid requests and the pipeline behind them log none of it either
    assert client.call("GET", "/health", query={"check": CANARY}).status == 200
    analysed = client.call("POST", "/v1/analyze", {"texts": [f"{CANARY} is lovely", f"{CANARY} " * 2000]})
    assert analysed.status == 200 and CANARY not in analysed.body
    headers = {"Idempotency-Key": f"{CANARY}-retry"}
    task_id = client.call("POST", "/v1/tasks", {"text": f"{CANARY} is lovely", "id": CANARY}, headers=headers).json()
    batch_id = upload(
        client,
        f"{CANARY}.csv",
        f"{CANARY}_id,{CANARY}_text\n{CANARY}-1,{CANARY} great\n{CANARY}-2,\n".encode(),
        text_field=f"{CANARY}_text",
        id_field=f"{CANARY}_id",
    )
    poller.drain()
    assert client.call("GET", f"/v1/tasks/{task_id['task_id']}").json()["status"] == "ready"
    assert [item["id"] for item in results_of(client, batch_id)] == [f"{CANARY}-1", f"{CANARY}-2"]
    # And erasing the tenant's data (its receipt holds counts and names, never what was erased)
    erased = client.call("DELETE", "/v1/tenant/data")
    assert erased.status == 200 and CANARY not in erased.body
    captured.assert_no_canary()


@pytest.mark.parametrize(
    ("script", "always", "fallback"),
    [
        (
            ["malformed", "schema", "truncated", "missing", "extra", "duplicate", "status:500", "refused"],
            None,
            "lexicon",
        ),
        ([], "schema", "fail"),
        ([], "malformed", "lexicon"),
        ([], "refused", "fail"),
    ],
    ids=["every fault once", "always the wrong shape", "never JSON", "always refused"],
)
def test_failing_llm_answers_leave_no_text_in_logs(client, poller, llm, configure, captured, script, always, fallback):
    # Given an LLM that answers wrongly as scripted, and a batch whose every text, id and aspect
    # evidence holds the canary, with a report (whose summary request fails alike)
    configure(LLM_FALLBACK=fallback, LLM_MAX_RETRIES="0")
    llm.script(script)
    llm.always = always
    rows = [f"{CANARY}-{n},The battery of {CANARY} is great {n}" for n in range(6)]
    content = ("sku,review\n" + "\n".join(rows) + "\n").encode()
    options = {"engine": "llm", "aspects": ["battery"], "report": True}
    # When the pipeline runs
    task_id = upload(client, "r.csv", content, id_field="sku", options=options)
    poller.drain()
    # Then the task still ends with every row once
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    assert task["status"] == "ready" and task["progress"]["processed"] + task["progress"]["failed"] == 6
    assert llm.stats().requests > 0
    captured.assert_no_canary()
