"""Broken and hostile files: each ends as a task in `error` with a stable code, or `ready` with
every row accounted for (a result or a per-row error). Never stuck, never a crash."""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json

import pytest

from tests.integration.helpers import results_of, upload

FILE_CODES = {
    "empty-file",
    "not-text",
    "unsupported-format",
    "text-column-not-found",
    "id-column-not-found",
    "malformed-file",
}


def csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


CASES: dict[str, tuple[str, bytes, dict]] = {
    "unbalanced quotes": ("a.csv", b'review\n"never closed\nnext row\n', {}),
    "ragged rows": ("a.csv", b"review,rating\nok,5\ntoo,many,fields\nshort\n", {}),
    "no header row": ("a.csv", b"Great phone,5\nTerrible case,1\n", {}),
    "no text column": ("a.csv", b"sku,rating\nA1,5\n", {}),
    "named text column missing": ("a.csv", b"review\nfine\n", {"text_field": "comment"}),
    "named id column missing": ("a.csv", b"review\nfine\n", {"id_field": "order"}),
    "latin-1": ("a.csv", "review\nTrès bien et très content\n".encode("latin-1"), {}),
    "utf-16 with bom": ("a.csv", codecs.BOM_UTF16_LE + "review\nvery good\n".encode("utf-16-le"), {}),
    "utf-8 with bom": ("a.csv", codecs.BOM_UTF8 + b"review\nvery good\n", {}),
    "mixed encodings": ("a.csv", b"review\nbien\n" + "très\n".encode("latin-1") + "çok iyi\n".encode(), {}),
    "binary posing as csv": ("a.csv", bytes(range(256)) * 40, {}),
    "gzip posing as csv": ("a.csv", gzip.compress(b"review\n" + b"great\n" * 10_000), {}),
    "empty": ("a.csv", b"", {}),
    "header only": ("a.csv", b"review\n", {}),
    "whitespace only": ("a.txt", b"   \n\n  \n", {}),
    "10 MB single line": ("a.txt", b"x" * (10 * 1024 * 1024), {}),
    "nul bytes": ("a.csv", b"review\nhello\x00world\n", {}),
    "deeply nested json": ("a.json", b"[" * 10_000 + b"]" * 10_000, {}),
    "json object not array": ("a.json", b'{"text": "hello"}', {}),
    "json number": ("a.json", b"42", {}),
    "truncated json": ("a.json", b'[{"text": "good"}, {"text": "ba', {}),
    "json items of every type": (
        "a.json",
        json.dumps(["ok", 1, None, [1], {"text": 2}, {"text": "fine"}]).encode(),
        {},
    ),
    "jsonl with garbage lines": ("a.jsonl", b'{"text": "good"}\nnot json\n[1,2]\n"plain string"\n', {}),
    "thousands of columns": (
        "a.csv",
        csv_bytes([["review"] + [f"c{i}" for i in range(5000)], ["nice"] + ["x"] * 5000]),
        {},
    ),
    "emoji flood": ("a.txt", ("😀" * 4000 + "\n" + "👍🔥" * 2000 + "\n").encode(), {}),
    "zero-width and rtl": ("a.txt", "good\u200b\u200bproduct\n\u202egnihtemos\u202c bad\n\ufeffnice\n".encode(), {}),
    "html and script": ("a.csv", csv_bytes([["review"], ["<script>alert(1)</script> great"], ["<b>bad</b>"]]), {}),
    "formula injection": (
        "a.csv",
        csv_bytes([["review", "note"], ["great", "=cmd|' /C calc'!A0"], ["@SUM(1)", "+1"]]),
        {},
    ),
    "duplicate header names": ("a.csv", b"review,tag,tag\ngood,a,b\n", {}),
    "huge id": ("a.csv", csv_bytes([["id", "review"], ["x" * 5000, "good"]]), {"id_field": "id"}),
    "crlf line endings": ("a.txt", b"good\r\nbad\r\n", {}),
    "u+0085 inside a line": ("a.txt", "one\u0085still one\n".encode(), {}),
    "lone surrogate escape in json": ("a.json", b'["\\ud800 broken"]', {}),
    "unknown extension": ("a.xml", b"<reviews/>", {}),
    # Issue 9, item 2: values the splitter cannot render, inside one row's other columns.
    "array nested 5,000 deep beside the text": (
        "a.json",
        b'[{"text": "fine", "meta": ' + b"[" * 5000 + b"]" * 5000 + b'}, {"text": "good"}]',
        {},
    ),
    "object nested 50,000 deep beside the text": (
        "a.json",
        b'[{"text": "fine", "meta": ' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_000 + b'}, {"text": "good"}]',
        {},
    ),
    "id nested 5,000 deep": (
        "a.json",
        b'[{"text": "fine", "ref": ' + b"[" * 5000 + b"]" * 5000 + b'}, {"text": "good", "ref": 7}]',
        {"id_field": "ref"},
    ),
    "jsonl value nested 5,000 deep beside the text": (
        "a.jsonl",
        b'{"text": "fine", "meta": ' + b"[" * 5000 + b"]" * 5000 + b'}\n{"text": "good"}\n',
        {},
    ),
    "conversation nested 5,000 deep": (
        "a.json",
        b'[{"id": "c1", "messages": [{"text": "hi", "role": '
        + b"[" * 5000
        + b"]" * 5000
        + b'}]}, {"id": "c2", "messages": [{"text": "thanks"}]}]',
        {"format": "conversations"},
    ),
    "number with a huge exponent beside the text": ("a.json", b'[{"text": "fine", "n": [1e999999]}, "good"]', {}),
    "json integer of 5,000 digits beside the text": ("a.json", b'[{"text": "fine", "n": ' + b"9" * 5000 + b"}]", {}),
    "jsonl integer of 5,000 digits beside the text": ("a.jsonl", b'{"text": "fine", "n": ' + b"9" * 5000 + b"}\n", {}),
    "5,000 digits inside a string": (
        "a.json",
        b'[{"text": "a \\"quoted\\" word \\\\", "n": "' + b"9" * 5000 + b'"}]',
        {},
    ),
}


# What each file must come to: ("error", its code) or ("ready", rows, the per-row error codes).
EXPECTED: dict[str, tuple] = {
    "unbalanced quotes": ("ready", 1, set()),
    "ragged rows": ("ready", 3, {"invalid-row"}),
    "no header row": ("error", "text-column-not-found"),
    "no text column": ("error", "text-column-not-found"),
    "named text column missing": ("error", "text-column-not-found"),
    "named id column missing": ("error", "id-column-not-found"),
    "latin-1": ("ready", 1, set()),  # read as Windows-1252, told from the file (a task note says so)
    "utf-16 with bom": ("ready", 1, set()),
    "utf-8 with bom": ("ready", 1, set()),
    "mixed encodings": ("ready", 3, {"invalid-encoding"}),
    "binary posing as csv": ("error", "not-text"),
    "gzip posing as csv": ("error", "not-text"),
    "empty": ("error", "empty-file"),
    "header only": ("error", "empty-file"),
    "whitespace only": ("error", "empty-file"),
    "10 MB single line": ("ready", 1, {"text-too-long"}),
    "nul bytes": ("error", "not-text"),
    "deeply nested json": ("ready", 1, {"invalid-row"}),
    "json object not array": ("error", "malformed-file"),
    "json number": ("error", "malformed-file"),
    "truncated json": ("error", "malformed-file"),
    "json items of every type": ("ready", 6, {"invalid-row"}),
    "jsonl with garbage lines": ("ready", 4, {"invalid-row"}),
    "thousands of columns": ("ready", 1, set()),
    "emoji flood": ("ready", 2, set()),
    "zero-width and rtl": ("ready", 3, set()),
    "html and script": ("ready", 2, set()),
    "formula injection": ("ready", 2, set()),
    "duplicate header names": ("ready", 1, set()),
    "huge id": ("ready", 1, {"invalid-row"}),
    "crlf line endings": ("ready", 2, set()),
    "u+0085 inside a line": ("ready", 1, set()),
    "lone surrogate escape in json": ("ready", 1, set()),
    "unknown extension": ("error", "unsupported-format"),
    "array nested 5,000 deep beside the text": ("ready", 2, {"invalid-row"}),
    "object nested 50,000 deep beside the text": ("ready", 2, {"invalid-row"}),
    "id nested 5,000 deep": ("ready", 2, {"invalid-row"}),
    "jsonl value nested 5,000 deep beside the text": ("ready", 2, {"invalid-row"}),
    "conversation nested 5,000 deep": ("ready", 2, set()),  # the speaker is dropped, as no one wrote it
    "number with a huge exponent beside the text": ("ready", 2, {"invalid-row"}),
    # ijson would crash the process on it: the file cannot be read, and says so at once.
    "json integer of 5,000 digits beside the text": ("error", "malformed-file"),
    "jsonl integer of 5,000 digits beside the text": ("ready", 1, {"invalid-row"}),
    "5,000 digits inside a string": ("ready", 1, set()),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_a_hostile_file_ends_cleanly(case, client, poller, s3, bucket, monkeypatch):
    filename, content, options = CASES[case]
    if filename.endswith(".xml"):
        # An unsupported upload is refused at the API; as a drop it ends the task in error.
        created = client.call("POST", "/v1/batches", {"filename": filename})
        assert created.status == 415 and created.json()["code"] == "unsupported-format"
        s3.put_object(Bucket=bucket, Key=f"incoming/acme/{filename}", Body=content)
        poller.drain()
        (task,) = client.call("GET", "/v1/tasks").json()["items"]
    else:
        task_id = upload(client, filename, content, **options)
        poller.drain()
        task = client.call("GET", f"/v1/tasks/{task_id}").json()
    assert poller.crashes == []
    expected = EXPECTED[case]
    assert task["status"] == expected[0], task
    if task["status"] == "error":
        assert task["error"]["code"] == expected[1] and task["error"]["code"] in FILE_CODES, task["error"]
        return
    # Every row is accounted for exactly once, as a result or a per-row error
    items = results_of(client, task["task_id"])
    counts = task["progress"]
    assert len(items) == counts["total"] == counts["processed"] + counts["failed"]
    assert [item["row"] for item in items] == list(range(1, len(items) + 1))
    assert counts["failed"] == sum(1 for item in items if item.get("error"))
    assert len(items) == expected[1]
    assert {item["error"]["code"] for item in items if item.get("error")} == expected[2]


def test_formula_cells_are_neutralised_in_the_csv_we_write(client, poller, s3, bucket):
    task_id = upload(client, "f.csv", CASES["formula injection"][1])
    poller.drain()
    body = s3.get_object(Bucket=bucket, Key=f"results/acme/{task_id}/results.csv")["Body"].read().decode()
    rows = list(csv.reader(io.StringIO(body)))
    cells = [cell for row in rows[1:] for cell in row]
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells if cell not in ("+1",)), cells
    assert "'=cmd|' /C calc'!A0" in cells and "'@SUM(1)" in cells
