"""Insights end to end: options on a batch, the finalizer's pass over results and input columns,
GET /v1/tasks/{task_id}/insights, insights.json beside the results and in outgoing/ for drops."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.integration.test_pipeline import NEGATIVE, POSITIVE, upload


def product_csv() -> bytes:
    """Two products over two months: PulseFit mostly praised, SwiftClean mostly not; dates written
    MM/DD/YYYY (one of them only readable that way: 01/20/2026), one row without a readable date."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["order_id", "product", "store", "review", "created_at"])
    rows = [
        ("PulseFit", "north", POSITIVE[0], "01/05/2026"),
        ("PulseFit", "north", POSITIVE[1], "01/20/2026"),
        ("PulseFit", "south", NEGATIVE[0], "02/03/2026"),
        ("SwiftClean", "south", NEGATIVE[1], "02/04/2026"),
        ("SwiftClean", "south", NEGATIVE[2], "02/09/2026"),
        ("SwiftClean", "north", POSITIVE[2], "sometime"),
    ]
    for number, (product, store, review, when) in enumerate(rows, start=1):
        writer.writerow([f"o-{number}", product, store, review, when])
    return out.getvalue().encode()


def test_a_batch_grouped_by_product_and_store_over_months(client, poller, s3, bucket):
    # Given a CSV batch asking for insights by product and store, by month of created_at
    options = {"group_by": ["product", "store"], "time_field": "created_at", "time_bucket": "month"}
    task_id = upload(client, "reviews.csv", product_csv(), id_field="order_id", options=options)

    # When the pipeline runs and the insights are asked for
    poller.drain()
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    response = client.call("GET", f"/v1/tasks/{task_id}/insights")

    # Then they are served, linked from the task, and equal insights.json beside the results
    assert task["status"] == "ready" and task["warnings"] == []
    assert task["links"]["insights"] == f"/v1/tasks/{task_id}/insights"
    assert response.status == 200, response.body
    insights = response.json()
    stored = json.loads(s3.get_object(Bucket=bucket, Key=f"results/acme/{task_id}/insights.json")["Body"].read())
    assert stored == insights
    # And each product counts its own rows, with the lexicon's labels
    products = {s["value"]: s for s in insights["segments"][0]["segments"]}
    assert insights["segments"][0]["column"] == "product"
    assert products["PulseFit"]["items"] == 3 and products["PulseFit"]["counts"]["positive"] == 2
    assert products["SwiftClean"]["counts"]["negative"] == 2
    assert products["PulseFit"]["net_sentiment"] > products["SwiftClean"]["net_sentiment"]
    stores = {s["value"]: s["items"] for s in insights["segments"][1]["segments"]}
    assert stores == {"north": 3, "south": 3}
    # And dates read month first (01/20/2026 says so): January 2, February 3, one unreadable
    time = insights["time"]
    assert [(b["start"], b["items"]) for b in time["buckets"]] == [("2026-01-01", 2), ("2026-02-01", 3)]
    assert time["unreadable_dates"] == 1
    assert time["date_order"].startswith("month/day")
    assert insights["overall"]["items"] == 6


def test_an_unknown_column_ends_the_task_ready_with_a_warning(client, poller):
    # Given a batch whose group_by names a column its file does not have
    options = {"group_by": ["region"], "time_field": "created_at"}
    task_id = upload(client, "reviews.csv", product_csv(), id_field="order_id", options=options)

    # When it runs
    poller.drain()

    # Then the results are delivered and the task says what it could not do
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    assert task["status"] == "ready" and task["progress"]["processed"] == 6
    assert [w["code"] for w in task["warnings"]] == ["group-by-column-not-found"]
    insights = client.call("GET", f"/v1/tasks/{task_id}/insights").json()
    assert insights["segments"] == [] and insights["time"] is not None


def test_a_single_text_cannot_be_grouped(client):
    # Given a single text (it has no columns) asking for group_by
    response = client.call("POST", "/v1/tasks", {"text": POSITIVE[0], "options": {"group_by": ["product"]}})
    # Then 400 with a stable code
    assert response.status == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "column-not-found"


def test_too_many_group_by_columns_are_refused(client):
    options = {"group_by": ["a", "b", "c", "d"]}
    response = client.call("POST", "/v1/batches", {"filename": "x.csv", "options": options})
    assert response.status in (400, 422)
    assert response.headers["content-type"].startswith("application/problem+json")


def test_insights_are_tenant_scoped_and_need_a_ready_task(client, other_client, poller):
    # Given a ready task of acme and one still waiting for its upload
    task_id = upload(client, "r.txt", ("\n".join(POSITIVE) + "\n").encode())
    poller.drain()
    waiting = client.call("POST", "/v1/batches", {"filename": "later.csv"}).json()["task"]["task_id"]

    # Then another tenant gets 404 as for a missing task, and an unfinished task 409
    assert other_client.call("GET", f"/v1/tasks/{task_id}/insights").status == 404
    assert client.call("GET", "/v1/tasks/0000000000000000000000000000/insights").status == 404
    not_ready = client.call("GET", f"/v1/tasks/{waiting}/insights")
    assert (not_ready.status, not_ready.json()["code"]) == (409, "task-not-ready")
    # And the owner gets the overall numbers
    assert client.call("GET", f"/v1/tasks/{task_id}/insights").json()["overall"]["counts"]["positive"] == 3


def test_a_drop_gets_its_insights_and_report_in_outgoing(client, poller, s3, bucket):
    # Given a file dropped under incoming/
    s3.put_object(Bucket=bucket, Key="incoming/acme/shop/day.txt", Body="\n".join(NEGATIVE).encode())
    # When it is processed
    poller.drain()
    # Then insights.json and the HTML report are delivered beside its results
    body = s3.get_object(Bucket=bucket, Key="outgoing/acme/shop/day.txt.insights.json")["Body"].read()
    assert json.loads(body)["overall"]["counts"]["negative"] == 3
    page = s3.get_object(Bucket=bucket, Key="outgoing/acme/shop/day.txt.report.html")
    assert page["ContentType"].startswith("text/html")
    assert b'data-metric="items" data-value="3"' in page["Body"].read()


def test_a_lexicon_report_finds_praise_and_complaint_themes_per_batch_and_segment(client, poller):
    # Given a lexicon batch with a report: watches praised for battery life, vacuums panned for
    # their customer service
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "product", "review"])
    praise = ["I love the battery life.", "Battery life is excellent!", "Great battery life, so happy."]
    complaints = ["Customer service was awful.", "Terrible customer service.", "Customer service is horrible."]
    for number, text in enumerate(praise * 2, start=1):
        writer.writerow([f"w{number}", "watch", text])
    for number, text in enumerate(complaints * 2, start=1):
        writer.writerow([f"v{number}", "vacuum", text])
    options = {"engine": "lexicon", "report": True, "group_by": ["product"]}
    task_id = upload(client, "themes.csv", out.getvalue().encode(), id_field="id", options=options)

    # When it runs
    poller.drain()
    insights = client.call("GET", f"/v1/tasks/{task_id}/insights").json()
    task = client.call("GET", f"/v1/tasks/{task_id}").json()

    # Then the batch's themes are the two phrases, with exact counts, ids and a verbatim quote
    themes = {t["phrase"]: t for t in insights["themes"]}
    assert themes["battery life"]["polarity"] == "praise" and themes["battery life"]["count"] == 6
    assert themes["customer service"]["polarity"] == "complaint" and themes["customer service"]["count"] == 6
    assert themes["customer service"]["example"] in complaints
    assert themes["battery life"]["example_ids"] == ["w1", "w2", "w3"]
    # And each segment lists the themes its own items mention
    segments = {s["value"]: s for s in insights["segments"][0]["segments"]}
    assert [(t["phrase"], t["count"]) for t in segments["watch"]["themes"]] == [("battery life", 6)]
    assert [(t["phrase"], t["count"]) for t in segments["vacuum"]["themes"]] == [("customer service", 6)]
    # And the task's report carries the same themes (a lexicon task has none of its own)
    report_themes = {(t["theme"], t["polarity"], t["count"]) for t in task["report"]["themes"]}
    assert {("battery life", "praise", 6), ("customer service", "complaint", 6)} <= report_themes
    assert "battery life" in task["report"]["executive_summary"]


def test_a_batch_compared_with_an_earlier_one_of_the_same_tenant(client, other_client, poller, s3, bucket):
    # Given a ready baseline batch grouped by product
    options = {"group_by": ["product"], "report": True}
    baseline = upload(client, "jan.csv", product_csv(), id_field="order_id", options=options)
    poller.drain()

    # When a later batch grouped by product and store is compared with it
    later_options = {"group_by": ["product", "store"], "compare_to": baseline}
    task_id = upload(client, "feb.csv", product_csv(), id_field="order_id", options=later_options)
    poller.drain()
    insights = client.call("GET", f"/v1/tasks/{task_id}/insights").json()

    # Then the comparison names the baseline, compares labels and products, and nothing changed
    comparison = insights["comparison"]
    assert comparison["baseline_task_id"] == baseline
    kinds = {(c["kind"], c["key"]) for c in comparison["changes"]}
    assert {("label", "positive"), ("segment", "PulseFit"), ("overall", None)} <= kinds
    assert all(c["change"] == 0 and not c["significant"] for c in comparison["changes"])
    # And what only one of them has is noted, not compared
    assert any("'store' is not in the baseline" in note for note in comparison["notes"])
    # And the report shows the comparison
    page = s3.get_object(Bucket=bucket, Key=f"results/acme/{task_id}/report.html")["Body"].read().decode()
    assert "Compared with the baseline" in page and baseline in page


def test_compare_to_must_name_a_ready_task_of_the_callers(client, other_client, poller):
    # Given a ready task of acme, one of acme's still waiting for its file
    ready = upload(client, "r.txt", ("\n".join(POSITIVE) + "\n").encode())
    poller.drain()
    waiting = client.call("POST", "/v1/batches", {"filename": "later.csv"}).json()["task"]["task_id"]

    def create(api, baseline):
        return api.call("POST", "/v1/batches", {"filename": "x.csv", "options": {"compare_to": baseline}})

    # Then another tenant naming acme's task gets 404 as for a missing one
    for response in (create(other_client, ready), create(client, "0" * 28), create(client, "not-an-id")):
        assert (response.status, response.json()["code"]) == (404, "not-found")
    # And a baseline that is not ready answers 409
    assert (create(client, waiting).status, create(client, waiting).json()["code"]) == (409, "task-not-ready")
    # And a ready one of the caller's is accepted, also for a single text
    assert create(client, ready).status == 201
    text = client.call("POST", "/v1/tasks", {"text": POSITIVE[0], "options": {"compare_to": ready}})
    assert text.status == 202


def test_conversations_are_grouped_by_speaker_and_their_trajectories_reported(client, poller, s3, bucket):
    # Given chat conversations (customer and agent), grouped by speaker
    conversations = [
        {
            "conversation_id": "c1",
            "messages": [
                {"speaker": "customer", "text": "This is terrible, my order arrived broken and I am furious"},
                {"speaker": "agent", "text": "We will send a replacement today, free of charge"},
                {"speaker": "customer", "text": "Thank you so much, that is wonderful, great service!"},
            ],
        },
        {
            "conversation_id": "c2",
            "messages": [
                {"speaker": "customer", "text": "I love the design, it is beautiful"},
                {"speaker": "customer", "text": "But the battery is awful, a horrible and useless product"},
            ],
        },
    ]
    content = "".join(json.dumps(c) + "\n" for c in conversations).encode()
    task_id = upload(client, "chats.jsonl", content, format="conversations", options={"group_by": ["speaker"]})

    # When it runs
    poller.drain()

    # Then each speaker is a segment, with the messages it wrote
    insights = client.call("GET", f"/v1/tasks/{task_id}/insights").json()
    speakers = {s["value"]: s["items"] for s in insights["segments"][0]["segments"]}
    assert speakers == {"customer": 4, "agent": 1}
    # And the report charts each conversation's trajectory, with a table row per conversation
    page = s3.get_object(Bucket=bucket, Key=f"results/acme/{task_id}/report.html")["Body"].read().decode()
    assert "<h2>Conversations</h2>" in page
    assert page.count("<tr><td>c1</td>") == 1 and page.count("<tr><td>c2</td>") == 1


def test_categories_defined_on_the_batch_are_counted_in_the_insights(client, poller):
    # Given airline tickets and two categories of the analyst's own, named on the batch
    tickets = [
        ("t1", "The flight was delayed and the staff were rude"),
        ("t2", "Lost my luggage, awful service"),
        ("t3", "Great crew, we landed early"),
        ("t4", "Delayed again, and my BAG never arrived"),
    ]
    data = "id,text\n" + "".join(f'{ticket},"{text}"\n' for ticket, text in tickets)
    options = {"categories": {"delays": ["delayed", "late"], "baggage": ["bag", "luggage"], "food": ["meal"]}}
    task_id = upload(client, "tickets.csv", data.encode(), id_field="id", options=options)
    # When the pipeline runs
    poller.drain()
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    insights = client.call("GET", f"/v1/tasks/{task_id}/insights").json()
    # Then the task keeps the categories, and each counts the tickets whose text holds one of its terms
    assert task["status"] == "ready" and task["options"]["categories"] == options["categories"]
    found = {c["name"]: (c["items"], c["example_ids"]) for c in insights["categories"]}
    assert found == {"delays": (2, ["t1", "t4"]), "baggage": (2, ["t2", "t4"]), "food": (0, [])}


def test_too_many_categories_are_refused(client):
    options = {"categories": {f"c{i}": ["x"] for i in range(21)}}
    response = client.call("POST", "/v1/batches", {"filename": "x.csv", "options": options})
    assert response.status == 422 and response.json()["code"] == "validation-error"


AIRLINE_COMPLAINTS = [
    "Awful flight delays again, we waited for hours",
    "Terrible: lost bags at the carousel",
    "The gate agent was rude about our bags, awful",
    "Horrible delays and no explanation",
    "Checked bags arrived damaged, terrible",
]
AIRLINE_PRAISE = [
    "The cabin crew were lovely",
    "Great legroom and comfy seats",
    "The cabin crew made the trip, wonderful",
    "Smooth boarding and friendly cabin crew",
    "Great legroom on the new plane",
]


def test_themes_are_grouped_under_the_categories_they_name_in_insights_json(client, poller, s3, bucket):
    # Given a lexicon batch of airline tickets with themes, and categories named in the singular
    texts = [AIRLINE_PRAISE[n % 5] if n % 2 else AIRLINE_COMPLAINTS[n % 5] for n in range(40)]
    data = "id,text\n" + "".join(f'a{number},"{text}"\n' for number, text in enumerate(texts, start=1))
    categories = {"delays": ["delay", "late"], "baggage": ["bag", "luggage"], "staff": ["crew", "agent"]}
    options = {"engine": "lexicon", "report": True, "categories": categories}
    task_id = upload(client, "tickets.csv", data.encode(), id_field="id", options=options)
    # When the pipeline runs
    poller.drain()
    insights = client.call("GET", f"/v1/tasks/{task_id}/insights").json()
    stored = json.loads(s3.get_object(Bucket=bucket, Key=f"results/acme/{task_id}/insights.json")["Body"].read())
    # Then insights.json and the API list under each category the themes that name it, plurals included
    grouped = {c["name"]: c["themes"] for c in insights["categories"]}
    assert grouped == {c["name"]: c["themes"] for c in stored["categories"]}
    assert "delays" in grouped["delays"] and "bags" in grouped["baggage"] and "cabin crew" in grouped["staff"]
    # And every theme stays in the batch's themes, those under no category too
    phrases = {t["phrase"] for t in insights["themes"]}
    assert {p for listed in grouped.values() for p in listed} < phrases
    assert "legroom" in phrases


@pytest.mark.parametrize(
    "compare",
    [{"at": "2026-13-01"}, {"at": "last-week"}, {"at": "2026-04-01", "by": "month"}, "2026-04-01", {}],
)
def test_a_malformed_compare_is_refused_like_every_other_option(client, compare):
    # Given a batch whose options.compare is no date, no last-bucket, not an object, or has extra fields
    options = {"time_field": "created_at", "compare": compare}
    # When it is created
    response = client.call("POST", "/v1/batches", {"filename": "x.csv", "options": options})
    # Then it is refused as every malformed option is: 422 validation-error naming the option,
    # without echoing the value
    problem = response.json()
    assert response.status == 422 and problem["code"] == "validation-error"
    assert "compare" in json.dumps(problem) and "last-week" not in json.dumps(problem)
