"""Files Excel writes and reads, through the whole pipeline: a semicolon CSV with Excel's `sep=`
line, an explicit delimiter on POST /v1/batches, and a results CSV with a byte-order mark."""

from __future__ import annotations

import csv
import io

from tests.integration.helpers import results_of, upload

EXCEL_EUROPE = (
    "sep=;\r\norder;avis;prix;ville\r\n"
    "A-1;Great value, love it;3,50;Besançon\r\n"
    "A-2;Broken, awful, I hate it;12,00;Zürich\r\n"
).encode()


def test_a_semicolon_file_from_excel_comes_back_whole_with_a_bom(client, poller, s3, bucket):
    # Given Excel's European CSV (sep=; line, semicolons, decimal commas), asked back with a BOM
    task_id = upload(client, "avis.csv", EXCEL_EUROPE, id_field="order", text_field="avis", options={"csv_bom": True})
    # When the pipeline runs
    poller.drain()
    # Then each row is read whole: the sep line is no row, the texts keep their commas
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    assert task["status"] == "ready" and task["progress"] == {"total": 2, "processed": 2, "failed": 0}
    assert [(i["id"], i["label"]) for i in results_of(client, task_id)] == [("A-1", "positive"), ("A-2", "negative")]
    # And the results CSV starts with one BOM, then the input's own columns, accents intact,
    # between the input's own semicolons (what a European Excel shows as columns)
    body = s3.get_object(Bucket=bucket, Key=f"results/acme/{task_id}/results.csv")["Body"].read()
    assert body.startswith(b"\xef\xbb\xbf") and body.count(b"\xef\xbb\xbf") == 1
    assert body.decode("utf-8-sig").splitlines()[0].startswith("order;avis;prix;ville;sentiment_label;")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert [(r["order"], r["avis"], r["prix"], r["ville"]) for r in rows] == [
        ("A-1", "Great value, love it", "3,50", "Besançon"),
        ("A-2", "Broken, awful, I hate it", "12,00", "Zürich"),
    ]


def test_an_explicit_delimiter_reads_a_tab_file_whose_header_has_commas(client, poller):
    # Given a tab-separated file whose header holds more commas than tabs
    data = b"id\treview, as written\r\n1\tgood, solid, cheap\r\n"
    # When the batch names its delimiter
    task_id = upload(client, "t.csv", data, id_field="id", text_field="review, as written", options={"delimiter": "\t"})
    poller.drain()
    # Then the file is read on tabs
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    assert task["status"] == "ready" and task["options"]["delimiter"] == "\t"
    assert [i["id"] for i in results_of(client, task_id)] == ["1"]


def test_a_delimiter_that_is_not_one_of_the_four_is_a_validation_error(client):
    answered = client.call("POST", "/v1/batches", {"filename": "x.csv", "options": {"delimiter": ":"}})
    assert answered.status == 422 and answered.json()["code"] == "validation-error"
    assert any(e["loc"][-1] == "delimiter" for e in answered.json()["errors"])
