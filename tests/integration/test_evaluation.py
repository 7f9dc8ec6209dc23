"""Evaluation on labelled rows end to end (issue 20, §1): options.label_field on a batch, counted
exactly across chunks and a redelivered chunk, served in the insights and in insights.json."""

from __future__ import annotations

import csv
import io
import json

import boto3

from tests.integration.helpers import NEGATIVE, POSITIVE, results_of, upload
from tests.integration.test_llm_pipeline import configure, fake, llm  # noqa: F401 (fixtures)

NEUTRAL = ["The parcel arrived on Tuesday", "It is a phone case"]
STARS = {"positive": "5", "negative": "1", "neutral": "3"}


def labelled_csv(rows: int) -> tuple[bytes, dict[str, str]]:
    """Reviews with a star rating that mostly agrees with the text; every 7th row's stars say the
    opposite, every 11th row has no stars, every 13th an unreadable rating ("n/a")."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "review", "stars"])
    stars = {}
    for i in range(1, rows + 1):
        kind = ("positive", "negative", "neutral")[i % 3]
        text = {"positive": POSITIVE, "negative": NEGATIVE, "neutral": NEUTRAL}[kind][i % 2]
        given = STARS[kind]
        if i % 7 == 0:
            given = STARS["negative" if kind == "positive" else "positive"]
        if i % 11 == 0:
            given = ""
        if i % 13 == 0:
            given = "n/a"
        stars[f"r{i}"] = given
        writer.writerow([f"r{i}", text, given])
    return out.getvalue().encode(), stars


def test_a_labelled_batch_is_evaluated_exactly_across_chunks(client, poller, stack, runner, s3, bucket, monkeypatch):
    # Given a 60-row CSV with a stars column, split into chunks of 7 rows
    monkeypatch.setenv("CHUNK_MAX_ITEMS", "7")
    content, stars = labelled_csv(60)
    task_id = upload(client, "reviews.csv", content, id_field="id", options={"label_field": "stars"})
    split = next(t for t in poller.triggers if t.function == "SplitFunction")
    while poller.poll_once(split):
        pass

    # When one chunk's message is delivered twice before the pipeline runs to the end
    sqs = boto3.client("sqs")
    from reviewpulse_tools.local.sqs import sqs_event

    url = stack.ref("WorkQueue")
    (message,) = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], MaxNumberOfMessages=1)["Messages"]
    event = sqs_event([message], stack.attribute("WorkQueue", "Arn"))
    assert runner.invoke("AnalyzeChunkFunction", event) == {"batchItemFailures": []}
    assert runner.invoke("AnalyzeChunkFunction", event) == {"batchItemFailures": []}
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    poller.drain()

    # Then the task is ready and its insights carry the evaluation, equal to insights.json
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    assert task["status"] == "ready", task
    insights = client.call("GET", f"/v1/tasks/{task_id}/insights").json()
    stored = json.loads(s3.get_object(Bucket=bucket, Key=f"results/acme/{task_id}/insights.json")["Body"].read())
    assert stored == insights
    evaluation = insights["evaluation"]
    assert evaluation["label_field"] == "stars" and evaluation["scale"] == "stars"

    # And its counts are exactly those of the results against the file's own stars, each row once
    read = {"5": "positive", "3": "neutral", "1": "negative"}
    items = results_of(client, task_id)
    assert len(items) == 60
    labels = evaluation["confusion"]["labels"]
    expected = [[0] * len(labels) for _ in labels]
    for item in items:
        truth = read.get(stars[item["id"]])
        if truth is not None and item.get("label"):
            expected[labels.index(truth)][labels.index(item["label"])] += 1
    assert evaluation["confusion"]["matrix"] == expected
    evaluated = sum(map(sum, expected))
    assert evaluation["accuracy"] == round(sum(expected[i][i] for i in range(len(labels))) / evaluated, 4)
    coverage = evaluation["coverage"]
    assert coverage["rows"] == 60 and coverage["evaluated"] == evaluated
    assert coverage["unlabelled"] == sum(1 for v in stars.values() if v == "")
    # And the unreadable ratings are per-row invalid-label errors, by row and id, and among the values met
    invalid = sorted(int(key[1:]) for key, value in stars.items() if value == "n/a")
    assert [(e["row"], e["code"]) for e in evaluation["errors"]] == [(row, "invalid-label") for row in invalid]
    assert coverage["invalid_label"] == len(invalid)
    assert {v["value"]: v["read_as"] for v in evaluation["values"]} == {
        "5": "positive",
        "3": "neutral",
        "1": "negative",
        "n/a": None,
    }
    # And the task itself says which values it could not read
    (warning,) = task["warnings"]
    assert warning["code"] == "labels-not-read" and f"'n/a' ({len(invalid)})" in warning["detail"]
    # And those rows were still analysed: a bad label never costs a row its sentiment
    assert all(item.get("label") for item in items if stars[item["id"]] == "n/a")
    assert sum(b["items"] for b in evaluation["reliability"]) == evaluated
    # And the results files name exactly those rows invalid-label: the API's and the JSONL's
    # `label_error`, and the CSV's `label_error_code` column
    flagged = [item["row"] for item in items if item.get("label_error")]
    assert flagged == invalid
    assert {item["label_error"]["code"] for item in items if item.get("label_error")} == {"invalid-label"}
    assert all("'n/a'" in item["label_error"]["detail"] for item in items if item.get("label_error"))
    jsonl = s3.get_object(Bucket=bucket, Key=f"results/acme/{task_id}/results.jsonl")["Body"].read().decode()
    assert [json.loads(line)["row"] for line in jsonl.splitlines() if "label_error" in line] == invalid
    body = s3.get_object(Bucket=bucket, Key=f"results/acme/{task_id}/results.csv")["Body"].read().decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [n for n, row in enumerate(rows, start=1) if row["label_error_code"] == "invalid-label"] == invalid
    assert {row["label_error_code"] for row in rows} == {"", "invalid-label"}


def test_a_label_field_the_file_lacks_ends_ready_with_a_warning(client, poller):
    # Given a batch whose label_field is not a column of its file
    content, _ = labelled_csv(5)
    task_id = upload(client, "reviews.csv", content, id_field="id", options={"label_field": "rating"})

    # When it runs, Then it is ready with a warning and no evaluation
    poller.drain()
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    assert task["status"] == "ready"
    assert [w["code"] for w in task["warnings"]] == ["label-field-not-found"]
    assert client.call("GET", f"/v1/tasks/{task_id}/insights").json()["evaluation"] is None


def test_a_single_text_cannot_name_a_label_column(client):
    # Given one text, When it names a label column, Then it is refused: a text has no columns
    response = client.call("POST", "/v1/tasks", {"text": POSITIVE[0], "options": {"label_field": "stars"}})
    assert response.status == 400
    assert response.json()["code"] == "column-not-found"


def test_an_llm_batchs_evaluation_says_what_the_llm_took_and_its_task_says_how_sure_it_is(client, poller, llm):  # noqa: F811
    # Given the llm engine (the fake OpenAI server) on a labelled CSV of 12 rows
    content, stars = labelled_csv(12)
    options = {"engine": "llm", "label_field": "stars"}
    task_id = upload(client, "reviews.csv", content, id_field="id", options=options)

    # When it runs
    poller.drain()

    # Then its evaluation has the LLM's share, tokens and cost per 1,000 items, from the task's own usage
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    assert task["status"] == "ready", task
    evaluation = client.call("GET", f"/v1/tasks/{task_id}/insights").json()["evaluation"]
    figures = evaluation["llm"]
    analysed = task["progress"]["processed"]
    assert figures["items_answered_by_llm"] == task["answered_by"]["llm"] == analysed
    assert figures["share_answered_by_llm"] == 1.0
    tokens = task["usage"]["input_tokens"] + task["usage"]["output_tokens"]
    assert tokens > 0
    assert figures["tokens_per_1000_items"] == round(tokens * 1000 / analysed, 1)
    assert figures["cost_per_1000_items_usd"] == round(task["usage"]["estimated_cost_usd"] * 1000 / analysed, 6)
    # And the task's headline says the labels were measured here, by the llm engine, with these figures
    headline = task["headline"]
    assert headline["measured"] is True and headline["engine"] == "llm"
    assert headline["accuracy"] == evaluation["accuracy"]
    assert headline["evaluated"] == evaluation["coverage"]["evaluated"]


def test_a_batch_without_labels_says_plainly_its_labels_were_not_measured(client, poller):
    # Given a batch without a label column, When it runs
    content, _ = labelled_csv(4)
    task_id = upload(client, "reviews.csv", content, id_field="id")
    poller.drain()

    # Then its task says so, with the lexicon's range on public sets, and there is no evaluation
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    headline = task["headline"]
    assert headline["measured"] is False
    assert headline["statement"].startswith("These labels were not measured on your data")
    assert headline["known_range"]["accuracy_low"] < headline["known_range"]["accuracy_high"]
    insights = client.call("GET", f"/v1/tasks/{task_id}/insights").json()
    assert insights["evaluation"] is None and insights["adjusted"] is None
    assert insights["headline"] == headline


def test_a_drops_sidecar_can_name_the_label_column(client, poller, s3, bucket):
    # Given a dropped labelled file whose sidecar names its label column
    content, stars = labelled_csv(9)
    s3.put_object(
        Bucket=bucket, Key="incoming/acme/rated.csv.options.json", Body=json.dumps({"label_field": "stars"}).encode()
    )
    s3.put_object(Bucket=bucket, Key="incoming/acme/rated.csv", Body=content)

    # When the pipeline runs
    poller.drain()

    # Then its task was evaluated against that column, and the insights beside the drop's results say so
    (task,) = client.call("GET", "/v1/tasks").json()["items"]
    assert task["status"] == "ready" and task["options"]["label_field"] == "stars"
    outgoing = json.loads(s3.get_object(Bucket=bucket, Key="outgoing/acme/rated.csv.insights.json")["Body"].read())
    assert outgoing["evaluation"]["coverage"]["rows"] == 9
    assert outgoing["evaluation"]["coverage"]["unlabelled"] == sum(1 for v in stars.values() if v == "")
