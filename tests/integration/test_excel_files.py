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


def sheet_bytes() -> bytes:
    """A helpdesk export as Excel saves it: a cover sheet first, then the tickets with real dates."""
    import datetime as dt

    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Cover"
    book.active.append(["Exported from the helpdesk"])
    tickets = book.create_sheet("Tickets")
    tickets.append(["ticket", "comment", "company", "created_at"])
    rows = [
        (5001, "Great value, love it", "acme", dt.datetime(2026, 2, 16, 23, 48, 48)),
        (5002, "Broken, awful, I hate it", "acme", dt.datetime(2026, 2, 17, 8, 0)),
        (5003, "Excellent quality and fast delivery", "globex", dt.date(2026, 3, 2)),
        (5004, None, "globex", dt.datetime(2026, 3, 3, 12, 30)),
    ]
    for row in rows:
        tickets.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_xlsx_workbook_is_read_from_the_sheet_named_with_its_dates(client, poller, s3, bucket):
    # Given a workbook uploaded as a batch (format told from its name) naming its second sheet,
    # grouped by company over months of a date column
    options = {"sheet": "Tickets", "group_by": ["company"], "time_field": "created_at", "time_bucket": "month"}
    task_id = upload(client, "export.xlsx", sheet_bytes(), id_field="ticket", options=options)
    # When the pipeline runs
    poller.drain()
    # Then every row is counted, the empty comment as its row error
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    assert task["status"] == "ready" and task["format"] == "xlsx" and task["warnings"] == []
    assert task["progress"] == {"total": 4, "processed": 3, "failed": 1}
    items = results_of(client, task_id)
    assert [(i["id"], i.get("label"), (i.get("error") or {}).get("code")) for i in items] == [
        ("5001", "positive", None),
        ("5002", "negative", None),
        ("5003", "positive", None),
        ("5004", None, "empty-text"),
    ]
    # And the dates are read as dates: two rows in February, two in March (a row's error does not
    # take it out of its bucket)
    insights = client.call("GET", f"/v1/tasks/{task_id}/insights").json()
    assert [(b["start"], b["items"]) for b in insights["time"]["buckets"]] == [("2026-02-01", 2), ("2026-03-01", 2)]
    assert insights["time"]["unreadable_dates"] == 0
    companies = {s["value"]: s["items"] for s in insights["segments"][0]["segments"]}
    assert companies == {"acme": 2, "globex": 2}
    # And the results CSV keeps the sheet's columns as the text a CSV export would hold
    body = s3.get_object(Bucket=bucket, Key=f"results/acme/{task_id}/results.csv")["Body"].read().decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [(r["ticket"], r["created_at"]) for r in rows] == [
        ("5001", "2026-02-16 23:48:48"),
        ("5002", "2026-02-17 08:00:00"),
        ("5003", "2026-03-02"),
        ("5004", "2026-03-03 12:30:00"),
    ]


def test_a_sheet_the_workbook_lacks_ends_the_task_in_error_naming_its_sheets(client, poller):
    task_id = upload(client, "export.xlsx", sheet_bytes(), options={"sheet": "Feedback"})
    poller.drain()
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    assert task["status"] == "error" and task["error"]["code"] == "sheet-not-found"
    assert "'Cover', 'Tickets'" in task["error"]["detail"]


def test_a_dropped_workbook_is_read_with_its_sidecar_options(client, poller, s3, bucket):
    # Given a workbook dropped with a sidecar naming its sheet and id column
    s3.put_object(
        Bucket=bucket,
        Key="incoming/acme/helpdesk/export.xlsx.options.json",
        Body=b'{"sheet": "tickets", "id_field": "ticket"}',
    )
    s3.put_object(Bucket=bucket, Key="incoming/acme/helpdesk/export.xlsx", Body=sheet_bytes())
    poller.drain()
    (task,) = client.call("GET", "/v1/tasks").json()["items"]
    assert task["status"] == "ready" and task["progress"] == {"total": 4, "processed": 3, "failed": 1}
    assert [i["id"] for i in results_of(client, task["task_id"])] == ["5001", "5002", "5003", "5004"]


def test_a_csv_that_is_really_a_workbook_says_to_send_it_as_xlsx(client, poller):
    task_id = upload(client, "export.csv", sheet_bytes())
    poller.drain()
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    assert task["status"] == "error" and task["error"]["code"] == "not-text"
    assert "format xlsx" in task["error"]["detail"]
