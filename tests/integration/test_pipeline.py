"""The whole batch path in-process: presigned upload → S3 event → split → work queue → analyze →
finalize, with every handler invoked as Lambda would invoke it."""

from __future__ import annotations

import codecs
import csv
import io
import json
import logging

import boto3
import pytest
import requests

from tests.integration.helpers import NEGATIVE, POSITIVE, Unavailable, results_of, stored_csv, upload


def review_csv(rows: int) -> tuple[bytes, dict[str, str]]:
    """A CSV with an id column, a text column and a rating; every 10th row is negative. Three rows
    are unusable: an empty text, a text over the limit, and one with bytes that are not UTF-8."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["sku", "review", "rating"])
    expected = {}
    for i in range(1, rows + 1):
        text = (NEGATIVE if i % 10 == 0 else POSITIVE)[i % 3]
        if i == 17:
            text = ""
        elif i == 18:
            text = "long " * 1001
        expected[f"sku-{i}"] = "negative" if i % 10 == 0 else "positive"
        writer.writerow([f"sku-{i}", text, str(i % 5 + 1)])
    data = out.getvalue().encode()
    # Row 19's review gets a Latin-1 byte in the middle of a file that says it is UTF-8 (its BOM;
    # without one, a file of ASCII and Latin-1 bytes is read as Windows-1252, see test_readers).
    data = data.replace(b"sku-19,", b"sku-19,\xe9", 1)
    return codecs.BOM_UTF8 + data, expected


def test_a_thousand_row_csv_comes_back_row_for_row(client, poller, s3, bucket, monkeypatch):
    # Given a 1,000-row CSV, split into chunks of 64 items
    monkeypatch.setenv("CHUNK_MAX_ITEMS", "64")
    content, expected = review_csv(1000)
    task_id = upload(client, "reviews.csv", content, id_field="sku")

    # When the pipeline runs to completion
    poller.drain()

    # Then the counts are exact: 997 analysed, 3 per-row errors
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    assert task["status"] == "ready"
    assert task["progress"] == {"total": 1000, "processed": 997, "failed": 3}
    # And every input row has exactly one result, in input order, with the row's own id
    items = results_of(client, task_id, limit=300)
    assert [item["row"] for item in items] == list(range(1, 1001))
    assert [item["id"] for item in items] == [f"sku-{i}" for i in range(1, 1001)]
    errors = {item["id"]: item["error"]["code"] for item in items if item.get("error")}
    assert errors == {"sku-17": "empty-text", "sku-18": "text-too-long", "sku-19": "invalid-encoding"}
    # And the labels are the ones the texts call for
    for item in items:
        if not item.get("error"):
            assert item["label"] == expected[item["id"]], item
    # And the summary adds up to the results
    analysed = [item for item in items if not item.get("error")]
    for label in ("positive", "negative", "neutral", "mixed"):
        assert task["summary"]["counts"][label] == sum(1 for item in analysed if item["label"] == label)
    assert task["summary"]["mean_score"] == pytest.approx(sum(i["score"] for i in analysed) / len(analysed), abs=1e-3)

    # And the CSV keeps the input's columns, joined to the right rows, followed by the analysis
    rows = stored_csv(s3, bucket, task_id)
    assert list(rows[0])[:3] == ["sku", "review", "rating"]
    assert "sentiment_label" in rows[0] and "error_code" in rows[0]
    assert len(rows) == 1000
    for row, item in zip(rows, items, strict=True):
        assert row["sku"] == item["id"]
        assert row["sentiment_label"] == (item.get("label") or "")
        assert row["error_code"] == (item["error"]["code"] if item.get("error") else "")
    assert rows[99]["rating"] == str(100 % 5 + 1)


def test_json_jsonl_and_text_files(client, poller):
    # Given one file of each other format, each with one unusable row
    json_file = json.dumps(
        [
            {"ref": "a1", "comment": POSITIVE[0], "meta": {"stars": 5}},
            {"ref": "a2", "comment": NEGATIVE[0]},
            {"ref": "a3"},
        ]
    ).encode()
    jsonl_file = ("\n".join([json.dumps({"text": POSITIVE[1]}), "{broken", json.dumps(NEGATIVE[1])]) + "\n").encode()
    txt_file = f"{POSITIVE[2]}\n\n{NEGATIVE[2]}\n".encode()
    json_task = upload(client, "a.json", json_file, id_field="ref")
    jsonl_task = upload(client, "b.jsonl", jsonl_file)
    txt_task = upload(client, "c.txt", txt_file)

    # When the pipeline runs
    poller.drain()

    # Then each file's rows come back once each, with the bad row as a per-row error
    outcomes = {}
    for task_id in (json_task, jsonl_task, txt_task):
        task = client.call("GET", f"/v1/tasks/{task_id}").json()
        assert task["status"] == "ready", task
        assert task["progress"] == {"total": 3, "processed": 2, "failed": 1}
        outcomes[task_id] = [(i["id"], i.get("label") or i["error"]["code"]) for i in results_of(client, task_id)]
    assert outcomes[json_task] == [("a1", "positive"), ("a2", "negative"), ("a3", "invalid-row")]
    assert outcomes[jsonl_task] == [("1", "positive"), ("2", "invalid-row"), ("3", "negative")]
    assert outcomes[txt_task] == [("1", "positive"), ("2", "empty-text"), ("3", "negative")]


@pytest.mark.parametrize(
    ("filename", "content", "code"),
    [
        ("binary.csv", b"\x00\x01\x02\x03PK\x03\x04" * 200, "not-text"),
        ("empty.csv", b"", "empty-file"),
        ("header-only.csv", b"review,rating\n", "empty-file"),
        ("no-text-column.csv", b"a,b\n1,2\n", "text-column-not-found"),
        ("object.json", b'{"text": "not an array"}', "malformed-file"),
    ],
)
def test_unusable_files_end_the_task_in_error(client, poller, filename, content, code):
    task_id = upload(client, filename, content)
    poller.drain()
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    assert task["status"] == "error"
    assert task["error"]["code"] == code and task["error"]["detail"]


def test_a_dropped_file_gets_its_own_task_and_outgoing_results(client, other_client, poller, s3, bucket, stack):
    # Given a file dropped under the tenant's incoming/ prefix by another system
    content = "review\n" + "\n".join(f'"{text}"' for text in POSITIVE + NEGATIVE) + "\n"
    s3.put_object(Bucket=bucket, Key="incoming/acme/shop/may reviews.csv", Body=content.encode())

    # When the pipeline runs, and the same S3 event is delivered a second time afterwards
    sqs = boto3.client("sqs")
    notifications = [
        message["Body"]
        for message in poller.receive(next(t for t in poller.triggers if t.queue == "IngestQueue"))
        if "s3:TestEvent" not in message["Body"]
    ]
    poller.drain()
    for body in notifications:
        sqs.send_message(QueueUrl=stack.ref("IngestQueue"), MessageBody=body)
    poller.drain()

    # Then exactly one drop task exists for that tenant, ready, with six results
    tasks = client.call("GET", "/v1/tasks").json()["items"]
    assert [(t["type"], t["status"], t["filename"]) for t in tasks] == [("drop", "ready", "may reviews.csv")]
    assert tasks[0]["progress"] == {"total": 6, "processed": 6, "failed": 0}
    # And its results sit beside the input's path under outgoing/
    outgoing = (
        s3.get_object(Bucket=bucket, Key="outgoing/acme/shop/may reviews.csv.results.csv")["Body"].read().decode()
    )
    rows = list(csv.DictReader(io.StringIO(outgoing)))
    assert [r["sentiment_label"] for r in rows] == ["positive"] * 3 + ["negative"] * 3
    s3.head_object(Bucket=bucket, Key="outgoing/acme/shop/may reviews.csv.results.jsonl")
    # And another tenant sees none of it
    assert other_client.call("GET", "/v1/tasks").json()["items"] == []


def test_a_dropped_file_of_unknown_format_ends_in_error(client, poller, s3, bucket):
    s3.put_object(Bucket=bucket, Key="incoming/acme/report.ods", Body=b"PK\x03\x04")
    poller.drain()
    (task,) = client.call("GET", "/v1/tasks").json()["items"]
    assert task["status"] == "error" and task["error"]["code"] == "unsupported-format"


def test_chunks_that_keep_failing_are_dead_lettered_and_the_task_still_ends(client, poller, runner, stack, monkeypatch):
    # Given an analyzer that always fails, and a file of 5 rows in chunks of 2
    monkeypatch.setenv("CHUNK_MAX_ITEMS", "2")
    runner.module("AnalyzeChunkFunction").analyzer = Unavailable()
    task_id = upload(client, "reviews.txt", ("\n".join(POSITIVE[:2] + [""] + NEGATIVE[:2]) + "\n").encode())

    # When the queues drain (each chunk is tried maxReceiveCount times, then redriven)
    poller.drain()

    # Then every chunk went through the dead-letter function and the task is ready
    redrive = json.loads(
        boto3.client("sqs").get_queue_attributes(QueueUrl=stack.ref("WorkQueue"), AttributeNames=["RedrivePolicy"])[
            "Attributes"
        ]["RedrivePolicy"]
    )
    # three chunks, each delivered and failed maxReceiveCount times before the redrive
    assert poller.failures == 3 * int(redrive["maxReceiveCount"])
    assert runner.invocations["DeadLetterFunction"] >= 1
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    assert task["status"] == "ready"
    assert task["progress"] == {"total": 5, "processed": 0, "failed": 5}
    # And each row says why, the splitter's own error kept
    codes = [item["error"]["code"] for item in results_of(client, task_id)]
    assert codes == ["dead-lettered", "dead-lettered", "empty-text", "dead-lettered", "dead-lettered"]


def test_a_redelivered_chunk_is_counted_once(client, runner, stack, poller):
    # Given a text task whose work message is delivered twice (SQS is at-least-once)
    task_id = client.call("POST", "/v1/tasks", {"text": POSITIVE[0]}).json()["task_id"]
    sqs = boto3.client("sqs")
    from reviewpulse_tools.local.sqs import sqs_event

    messages = sqs.receive_message(QueueUrl=stack.ref("WorkQueue"), MessageAttributeNames=["All"])["Messages"]
    event = sqs_event(messages, stack.attribute("WorkQueue", "Arn"))

    # When the analyze function handles both deliveries
    first = runner.invoke("AnalyzeChunkFunction", event)
    second = runner.invoke("AnalyzeChunkFunction", event)

    # Then both succeed, and the item is counted once
    assert first == second == {"batchItemFailures": []}
    poller.drain()  # the finalizer
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    assert task["progress"] == {"total": 1, "processed": 1, "failed": 0}
    assert task["status"] == "ready"


def test_a_duplicated_upload_event_does_not_split_twice(client, poller, stack, runner, monkeypatch):
    monkeypatch.setenv("CHUNK_MAX_ITEMS", "2")
    task_id = upload(client, "r.txt", ("\n".join(POSITIVE + NEGATIVE) + "\n").encode())
    sqs = boto3.client("sqs")
    # Deliver the ingest queue's messages twice before any worker runs
    messages = []
    while batch := sqs.receive_message(QueueUrl=stack.ref("IngestQueue"), MaxNumberOfMessages=10).get("Messages"):
        messages += batch
    for message in messages:
        for _ in range(2):
            sqs.send_message(QueueUrl=stack.ref("IngestQueue"), MessageBody=message["Body"])
        sqs.delete_message(QueueUrl=stack.ref("IngestQueue"), ReceiptHandle=message["ReceiptHandle"])
    poller.drain()
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    assert task["progress"] == {"total": 6, "processed": 6, "failed": 0}
    assert [i["row"] for i in results_of(client, task_id)] == list(range(1, 7))


@pytest.fixture
def log_lines():
    """Every record the Powertools logger emits during the test, as parsed JSON."""
    from reviewpulse.observability import logger

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger._logger.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        logger._logger.removeHandler(handler)


def test_correlation_id_follows_the_request_and_no_text_is_logged(client, poller, log_lines, capfd):
    # Given a batch whose rows carry distinctive text
    secret_rows = [f"Zanzibar-{n} is lovely" for n in range(5)] + ["", "Zanzibar " * 2000]
    created = client.call("POST", "/v1/batches", {"filename": "s.txt"})
    post = created.json()["upload"]
    correlation_id = post["fields"]["x-amz-meta-correlation-id"]
    requests.post(post["url"], data=post["fields"], files={"file": ("s.txt", "\n".join(secret_rows).encode())})

    # When the workers run
    poller.drain()

    # Then split and analyze logs carry the API request's correlation id
    by_function: dict[str, set] = {}
    for line in log_lines():
        by_function.setdefault(line.get("function_name", "").rsplit("-", 1)[-1], set()).add(line.get("correlation_id"))
    assert by_function["SplitFunction"] == {correlation_id}
    assert by_function["AnalyzeChunkFunction"] == {correlation_id}
    # And no customer text, and not the API key, appears in any log line or anything else
    # written to stdout/stderr
    secrets = ("Zanzibar", client.api_key)
    assert not any(secret in json.dumps(line) for line in log_lines() for secret in secrets)
    captured = capfd.readouterr()
    assert not any(secret in captured.out + captured.err for secret in secrets)
