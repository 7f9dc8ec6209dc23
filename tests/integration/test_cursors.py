"""Cursors through API Gateway proxy events: only a cursor the API issued, to this tenant, for this
listing, continues it; everything else is 400 invalid-cursor problem+json, never a 5xx and never
another tenant's data (issue 9, item 1)."""

from __future__ import annotations

import base64
import json

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reviewpulse.api.paging import results_listing
from reviewpulse.cursors import CursorSigner

from tests.conftest import load_event
from tests.integration.helpers import upload
from tests.integration.test_api import assert_problem

# Multi-byte characters in every results line (the ids), so that offsets can land inside one.
ACME_TEXTS = ["Café très bon 👍🏽", "評価は最高です", "Terrible – it broke 😡", "Ünglaublich gut", "fine enough"]
ACME_IDS = ["café-1", "評価-2", "😡-3", "Ü-4", "ß-5"]
GLOBEX_TEXTS = ["globex only: naïve résumé ★", "globex 私の秘密", "globex plain text"]
GLOBEX_IDS = ["globex-★-1", "globex-秘-2", "globex-three"]


def csv_file(ids, texts) -> bytes:
    return ("id,text\n" + "".join(f"{i},{t}\n" for i, t in zip(ids, texts, strict=True))).encode()


def _token(cursor: str) -> bytes:
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))


def _cursor(token: bytes) -> str:
    return base64.urlsafe_b64encode(token).decode().rstrip("=")


@pytest.fixture
def tasks(client, other_client, poller):
    """Two ready batches for acme and one for globex, each with several results lines."""
    ids = {
        "acme-1": upload(client, "a1.csv", csv_file(ACME_IDS, ACME_TEXTS), id_field="id", text_field="text"),
        "acme-2": upload(
            client, "a2.csv", csv_file(ACME_IDS[::-1], ACME_TEXTS[::-1]), id_field="id", text_field="text"
        ),
        "globex": upload(other_client, "g.csv", csv_file(GLOBEX_IDS, GLOBEX_TEXTS), id_field="id", text_field="text"),
    }
    poller.drain()
    for name, task_id in ids.items():
        caller = other_client if name == "globex" else client
        assert caller.call("GET", f"/v1/tasks/{task_id}").json()["status"] == "ready"
    return ids


def results(caller, task_id, cursor=None, limit="1"):
    return caller.call(
        "GET", f"/v1/tasks/{task_id}/results", query={"limit": limit, **({"cursor": cursor} if cursor else {})}
    )


def tasks_page(caller, cursor=None, status=None):
    query = {"limit": "1", **({"cursor": cursor} if cursor else {}), **({"status": status} if status else {})}
    return caller.call("GET", "/v1/tasks", query=query)


def test_issued_cursors_walk_every_result_and_task_once(client, tasks):
    # Given acme's first batch and its task list, read a page of one at a time
    items, cursor = [], None
    while True:
        page = results(client, tasks["acme-1"], cursor).json()
        items += page["items"]
        if not (cursor := page["next_cursor"]):
            break
    listed, cursor = [], None
    while True:
        page = tasks_page(client, cursor, status="ready").json()
        listed += [t["task_id"] for t in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    # Then each row came once, in order, and each of acme's tasks once
    assert [(i["row"], i["id"]) for i in items] == list(enumerate(ACME_IDS, start=1))
    assert sorted(listed) == sorted([tasks["acme-1"], tasks["acme-2"]])


def test_a_results_cursor_replayed_by_another_tenant_is_refused(client, other_client, tasks):
    # Given a results cursor acme was given for its own task
    cursor = results(client, tasks["acme-1"]).json()["next_cursor"]
    # When globex replays it on its own task, it is refused
    response = results(other_client, tasks["globex"], cursor)
    assert_problem(response, 400, "invalid-cursor")
    # And on acme's task it finds no task at all
    assert_problem(results(other_client, tasks["acme-1"], cursor), 404, "not-found")


def test_a_results_cursor_replayed_on_another_task_is_refused(client, tasks):
    # Given a cursor for acme's first batch
    cursor = results(client, tasks["acme-1"]).json()["next_cursor"]
    # When it is used on acme's second batch (same tenant, same file layout), it is refused
    response = results(client, tasks["acme-2"], cursor)
    assert_problem(response, 400, "invalid-cursor")


def test_a_list_cursor_replayed_by_another_tenant_or_with_other_filters_is_refused(client, other_client, tasks):
    # Given acme's task-list cursors, unfiltered and for ready tasks
    unfiltered = tasks_page(client).json()["next_cursor"]
    ready = tasks_page(client, status="ready").json()["next_cursor"]
    assert unfiltered and ready
    # Then globex cannot continue either
    for cursor, status in ((unfiltered, None), (ready, "ready")):
        response = tasks_page(other_client, cursor, status)
        assert_problem(response, 400, "invalid-cursor")
        assert tasks["acme-1"] not in response.body and tasks["acme-2"] not in response.body
    # And acme cannot continue one listing with another's filters
    assert_problem(tasks_page(client, unfiltered, status="ready"), 400, "invalid-cursor")
    assert_problem(tasks_page(client, ready), 400, "invalid-cursor")
    assert_problem(tasks_page(client, ready, status="accepted"), 400, "invalid-cursor")


def test_a_cursor_with_any_byte_changed_is_refused(client, tasks):
    # Given a valid results cursor and a valid list cursor
    for path, query in (
        (f"/v1/tasks/{tasks['acme-1']}/results", {"limit": "1"}),
        ("/v1/tasks", {"limit": "1"}),
    ):
        cursor = client.call("GET", path, query=query).json()["next_cursor"]
        token = _token(cursor)
        # When each of its bytes in turn is changed
        for index in range(len(token)):
            tampered = bytearray(token)
            tampered[index] ^= 0x01
            response = client.call("GET", path, query={**query, "cursor": _cursor(bytes(tampered))})
            # Then it is refused
            assert_problem(response, 400, "invalid-cursor")


def test_a_signed_offset_that_is_not_a_line_start_is_refused(client, stack, bucket, tasks):
    # Given the deployment's own signing key (as a leak would give it) and a result file with
    # multi-byte characters on every line
    key = boto3.client("secretsmanager").get_secret_value(SecretId=stack.ref("CursorSigningSecret"))["SecretString"]
    signer = CursorSigner(lambda: key.encode())
    task_id = tasks["acme-1"]
    second_page = results(client, task_id).json()["next_cursor"]
    line_start = signer.open(second_page, tenant="acme", listing=results_listing(task_id))
    results_file = boto3.client("s3").get_object(Bucket=bucket, Key=f"results/acme/{task_id}/results.jsonl")
    second_line = results_file["Body"].read()[line_start:].split(b"\n")[0]
    assert len(second_line.decode()) < len(second_line)  # it holds multi-byte characters
    # When offsets inside that line (including inside its multi-byte characters) and past the end are signed
    for offset in (*range(line_start + 1, line_start + len(second_line) + 1), 10**9):
        forged = signer.issue(tenant="acme", listing=results_listing(task_id), position=offset)
        response = results(client, task_id, forged)
        # Then each is refused, with no customer text
        assert_problem(response, 400, "invalid-cursor")
        assert not any(value in response.body for value in (*ACME_TEXTS, *ACME_IDS))


def test_the_sample_events_with_another_tenants_or_tasks_cursor_are_refused(runner, client, tasks):
    # Given acme's cursors, and the sample proxy events of the two paging functions (tenant "example")
    ready_list_cursor = tasks_page(client, status="ready").json()["next_cursor"]
    results_cursor = results(client, tasks["acme-1"]).json()["next_cursor"]
    list_event = load_event("list_tasks.json")
    assert list_event["queryStringParameters"]["status"] == "ready"
    results_event = load_event("get_results.json")
    # When "example" sends acme's list cursor, and acme sends its cursor for one task to another
    with_cursor(list_event, ready_list_cursor)
    with_cursor(results_event, results_cursor)
    results_event["requestContext"]["authorizer"].update(tenant="acme", principalId="acme")
    path = f"/v1/tasks/{tasks['acme-2']}/results"
    results_event.update(path=path, pathParameters={"task_id": tasks["acme-2"]})
    results_event["requestContext"]["path"] = f"/{results_event['requestContext']['stage']}{path}"
    # Then each function answers 400 invalid-cursor problem+json
    for function, event in (("ListTasksFunction", list_event), ("GetResultsFunction", results_event)):
        answer = runner.invoke(function, event)
        assert answer["statusCode"] == 400, answer
        assert answer["headers"]["content-type"] == "application/problem+json"
        assert json.loads(answer["body"])["code"] == "invalid-cursor"


def with_cursor(event: dict, cursor: str) -> None:
    event["queryStringParameters"] = {**(event["queryStringParameters"] or {}), "cursor": cursor}
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in event["queryStringParameters"].items()}


def test_a_cursor_too_long_to_be_ours_is_invalid_cursor_not_a_validation_error(client, tasks):
    assert_problem(tasks_page(client, "A" * 5000), 400, "invalid-cursor")
    assert_problem(results(client, tasks["acme-1"], "A" * 5000), 400, "invalid-cursor")


@pytest.fixture
def issued(client, other_client, tasks):
    """Every kind of cursor the API hands out, by (tenant, listing kind, task, status filter)."""
    return {
        ("acme", "results", tasks["acme-1"], None): results(client, tasks["acme-1"]).json()["next_cursor"],
        ("acme", "results", tasks["acme-2"], None): results(client, tasks["acme-2"]).json()["next_cursor"],
        ("globex", "results", tasks["globex"], None): results(other_client, tasks["globex"]).json()["next_cursor"],
        ("acme", "tasks", None, None): tasks_page(client).json()["next_cursor"],
        ("acme", "tasks", None, "ready"): tasks_page(client, status="ready").json()["next_cursor"],
    }


# The fixtures are built once for all examples: every example only reads.
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_cursor_from_anyone_never_errors_and_never_crosses_tenants(client, other_client, tasks, issued, data):
    # Given every cursor the API handed out (each tenant's results and lists), arbitrary strings,
    # and those cursors with arbitrary bytes changed
    callers = {"acme": client, "globex": other_client}
    origin = data.draw(st.sampled_from(sorted(issued, key=str)))
    cursor = data.draw(
        st.one_of(
            st.just(issued[origin]),
            st.text(min_size=1, max_size=300),
            st.binary(min_size=1, max_size=300).map(_cursor),
            st.tuples(st.integers(min_value=0), st.integers(min_value=1, max_value=255)).map(
                lambda change: _flip(issued[origin], *change)
            ),
        )
    )
    # When any tenant sends it to any listing
    caller = data.draw(st.sampled_from(sorted(callers)))
    target = data.draw(
        st.sampled_from(
            [("results", task_id, None) for task_id in tasks.values()]
            + [("tasks", None, None), ("tasks", None, "ready"), ("tasks", None, "accepted")]
        )
    )
    kind, task_id, status = target
    if kind == "results":
        response = results(callers[caller], task_id, cursor)
    else:
        response = tasks_page(callers[caller], cursor, status)
    # Then it never fails on our side
    assert response.status < 500, response.body
    if (caller, *target) == origin and cursor == issued[origin]:
        # And only the very cursor issued for this caller and listing continues it
        assert response.status == 200
    elif kind == "results" and (caller == "globex") != (task_id == tasks["globex"]):
        assert_problem(response, 404, "not-found")  # another tenant's task does not exist for you
    else:
        assert_problem(response, 400, "invalid-cursor")
    # And nothing of another tenant comes back
    foreign = (
        [tasks["globex"], *GLOBEX_TEXTS, *GLOBEX_IDS]
        if caller == "acme"
        else [tasks["acme-1"], tasks["acme-2"], *ACME_TEXTS, *ACME_IDS]
    )
    body = json.dumps(response.json(), ensure_ascii=False)
    assert not any(value in body for value in foreign)


def _flip(cursor: str, index: int, mask: int) -> str:
    token = bytearray(_token(cursor))
    token[index % len(token)] ^= mask
    return _cursor(bytes(token))
