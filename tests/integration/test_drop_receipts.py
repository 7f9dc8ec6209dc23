"""A dropped file talks back: a `.done.json` receipt after its results, an `.error.json` receipt
when it fails or is refused, and options from a sidecar validated as the API validates them."""

from __future__ import annotations

import hashlib
import json

import pytest
from botocore.exceptions import ClientError
from reviewpulse.aws import add_api_call_listener, remove_api_call_listener

from tests.integration.helpers import NEGATIVE, POSITIVE

CSV = ("review\n" + "\n".join(f'"{text}"' for text in POSITIVE + NEGATIVE) + "\n").encode()


def refused_receipt_key(dropped_key: str) -> str:
    """Where docs/integrations.md says a drop outside a valid tenant folder gets its receipt."""
    return f"outgoing/_refused/{hashlib.sha256(dropped_key.encode()).hexdigest()}.error.json"


def receipt(s3, bucket: str, key: str) -> dict | None:
    try:
        return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except ClientError:
        return None


@pytest.fixture
def writes(runner):
    """Every object the functions write under outgoing/, in order."""
    recorded: list[str] = []

    def listen(service: str, operation: str, params: dict) -> None:
        if service == "s3" and operation in ("PutObject", "CopyObject") and params["Key"].startswith("outgoing/"):
            recorded.append(params["Key"])

    add_api_call_listener(listen)
    yield recorded
    remove_api_call_listener(listen)


def test_a_ready_drop_writes_its_done_receipt_last(client, poller, s3, bucket, writes):
    # Given a file dropped under the tenant's incoming/ prefix
    s3.put_object(Bucket=bucket, Key="incoming/acme/shop/may.csv", Body=CSV)

    # When the pipeline has run
    poller.drain()

    # Then its receipt names the task, the counts and every delivered file, each of which exists
    done = receipt(s3, bucket, "outgoing/acme/shop/may.csv.done.json")
    (task,) = client.call("GET", "/v1/tasks").json()["items"]
    assert done["task_id"] == task["task_id"] and done["status"] == "ready"
    assert done["counts"] == {"total": 6, "processed": 6, "failed": 0}
    assert "shop/may.csv.results.csv" in done["files"] and "shop/may.csv.results.jsonl" in done["files"]
    for name in done["files"]:
        s3.head_object(Bucket=bucket, Key=f"outgoing/acme/{name}")
    # And it was the last object written to outgoing/, and no error receipt exists
    assert writes[-1] == "outgoing/acme/shop/may.csv.done.json" and len(writes) == len(done["files"]) + 1
    assert receipt(s3, bucket, "outgoing/acme/shop/may.csv.error.json") is None


def test_a_failed_drop_writes_an_error_receipt(client, poller, s3, bucket):
    # Given an empty file dropped
    s3.put_object(Bucket=bucket, Key="incoming/acme/empty.csv", Body=b"")
    # When it is split
    poller.drain()
    # Then its error receipt says why, with the task's id
    (task,) = client.call("GET", "/v1/tasks").json()["items"]
    error = receipt(s3, bucket, "outgoing/acme/empty.csv.error.json")
    assert (error["task_id"], error["code"], error["status"]) == (task["task_id"], "empty-file", "error")
    assert error["detail"]


def test_a_drop_for_a_tenant_that_does_not_exist_is_refused_unanalysed(client, poller, s3, bucket, runner):
    # Given files dropped for a tenant with no API key, and under a prefix that is no tenant name
    s3.put_object(Bucket=bucket, Key="incoming/nobody/a.csv", Body=CSV)
    s3.put_object(Bucket=bucket, Key="incoming/Not A Tenant/b.csv", Body=CSV)

    # When the splitter sees them
    poller.drain()

    # Then the unknown tenant's drop gets an error receipt beside its path, with no task
    unknown = receipt(s3, bucket, "outgoing/nobody/a.csv.error.json")
    assert (unknown["code"], unknown["task_id"], unknown["status"]) == ("unknown-tenant", None, "refused")
    # And the one outside any tenant folder gets it in the refused folder, named by its key's hash
    invalid = receipt(s3, bucket, refused_receipt_key("incoming/Not A Tenant/b.csv"))
    assert (invalid["code"], invalid["task_id"], invalid["source"]) == (
        "invalid-tenant",
        None,
        "incoming/Not A Tenant/b.csv",
    )
    # And nothing was analysed: no chunk reached the analyzer
    assert runner.invocations.get("AnalyzeChunkFunction", 0) == 0
    assert client.call("GET", "/v1/tasks").json()["items"] == []


def test_a_drop_that_climbs_out_of_its_folder_is_refused_in_the_refused_folder(client, poller, s3, bucket, writes):
    # Given files dropped at keys whose folders are "..", "." or empty (S3 keeps them literally)
    hostile = [
        "incoming/../acme/y.csv",
        "incoming/acme/../other/y.csv",
        "incoming/acme/./y.csv",
        "incoming/acme//y.csv",
    ]
    for key in hostile:
        s3.put_object(Bucket=bucket, Key=key, Body=CSV)

    # When the splitter sees them
    poller.drain()

    # Then each is refused, unanalysed, with its receipt in the refused folder
    assert client.call("GET", "/v1/tasks").json()["items"] == []
    codes = [receipt(s3, bucket, refused_receipt_key(key))["code"] for key in hostile]
    assert codes == ["invalid-tenant", "invalid-path", "invalid-path", "invalid-path"]
    # And nothing written anywhere holds an empty, "." or ".." folder
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="outgoing/").get("Contents", [])]
    assert sorted(listed) == sorted(writes) and len(writes) == len(hostile)
    for key in writes:
        assert not {"", ".", ".."} & set(key.split("/")), key


def test_a_sidecar_carries_the_drops_options_and_is_not_analysed_itself(client, poller, s3, bucket):
    # Given a sidecar with the API's options, written before its file
    options = {"engine": "lexicon", "aspects": ["delivery"], "report": True}
    s3.put_object(Bucket=bucket, Key="incoming/acme/q3.csv.options.json", Body=json.dumps(options).encode())
    s3.put_object(Bucket=bucket, Key="incoming/acme/q3.csv", Body=CSV)

    # When the pipeline runs
    poller.drain()

    # Then one task ran the file with those options (the sidecar made no task of its own)
    (task,) = client.call("GET", "/v1/tasks").json()["items"]
    assert task["filename"] == "q3.csv" and task["status"] == "ready"
    assert task["options"]["aspects"] == ["delivery"] and task["options"]["report"] is True
    assert client.call("GET", f"/v1/tasks/{task['task_id']}").json()["report"] is not None
    assert receipt(s3, bucket, "outgoing/acme/q3.csv.done.json")["task_id"] == task["task_id"]


def test_a_sidecar_names_the_files_format_text_and_id_columns_as_a_batch_request_does(client, poller, s3, bucket):
    # Given a sidecar naming the id and text columns of a file whose name says nothing of its format
    sidecar = {"format": "csv", "text_field": "comment", "id_field": "ref"}
    s3.put_object(Bucket=bucket, Key="incoming/acme/export.dat.options.json", Body=json.dumps(sidecar).encode())
    s3.put_object(Bucket=bucket, Key="incoming/acme/export.dat", Body=b"ref,note,comment\nk1,x,Love it\nk2,y,Awful\n")
    # When the pipeline runs
    poller.drain()
    # Then the task read it as CSV, its texts from `comment` and its ids from `ref`
    (task,) = client.call("GET", "/v1/tasks").json()["items"]
    assert task["status"] == "ready", task
    items = client.call("GET", f"/v1/tasks/{task['task_id']}/results").json()["items"]
    assert [(item["id"], item["label"]) for item in items] == [("k1", "positive"), ("k2", "negative")]


@pytest.mark.parametrize(
    ("sidecar", "named"),
    [
        (b'{"engine": "magic"}', "engine"),
        (b'{"report": true, "colour": "secret-value-123"}', "colour"),
        (b"not json", "not JSON"),
        (b'{"aspects": ["a", "A"]}', "aspects"),
        (b'{"format": "magic"}', "format"),
        (b'{"id_field": ""}', "id_field"),
    ],
)
def test_a_bad_sidecar_fails_the_drop_with_an_error_receipt(client, poller, s3, bucket, sidecar, named):
    # Given a sidecar the API would refuse as a request's options
    s3.put_object(Bucket=bucket, Key="incoming/acme/x.csv.options.json", Body=sidecar)
    s3.put_object(Bucket=bucket, Key="incoming/acme/x.csv", Body=CSV)
    # When the file is split
    poller.drain()
    # Then its task failed with invalid-options, saying which option, never echoing a value
    (task,) = client.call("GET", "/v1/tasks").json()["items"]
    assert task["status"] == "error" and task["error"]["code"] == "invalid-options"
    error = receipt(s3, bucket, "outgoing/acme/x.csv.error.json")
    assert error["code"] == "invalid-options" and named in error["detail"] and error["task_id"] == task["task_id"]
    assert "secret-value-123" not in error["detail"] and "magic" not in error["detail"]


def test_cancelling_a_drop_writes_its_error_receipt_and_purging_removes_it(client, poller, s3, bucket):
    # Given a dropped file whose task is still queued
    s3.put_object(Bucket=bucket, Key="incoming/acme/slow.csv", Body=CSV)
    ingest = next(t for t in poller.triggers if t.queue == "IngestQueue")
    while poller.poll_once(ingest):
        pass
    (task,) = client.call("GET", "/v1/tasks").json()["items"]

    # When its owner cancels it
    assert client.call("DELETE", f"/v1/tasks/{task['task_id']}").status == 200

    # Then the error receipt says so; and purging the task removes the receipt with the results
    key = "outgoing/acme/slow.csv.error.json"
    assert receipt(s3, bucket, key)["code"] == "cancelled"
    assert client.call("DELETE", f"/v1/tasks/{task['task_id']}", query={"purge": "true"}).status == 204
    assert receipt(s3, bucket, key) is None
