"""Summaries, result pages, CSV safety and the bucket's key layout."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from reviewpulse.api.paging import read_results_page
from reviewpulse.cursors import CursorSigner
from reviewpulse.errors import TaskNotReady
from reviewpulse.results.model import ItemError, ItemResult
from reviewpulse.results.store import outgoing_keys, parse_source_key
from reviewpulse.results.summary import SummaryBuilder
from reviewpulse.tasks.model import Task, TaskStatus, TaskType
from reviewpulse.usecases.create_batch import safe_filename
from reviewpulse.usecases.finalize import _safe_cell


def result(row: int, label: str | None, score: float | None = None) -> ItemResult:
    if label is None:
        return ItemResult(row=row, id=str(row), error=ItemError(code="empty-text", detail="the text is empty"))
    return ItemResult(row=row, id=str(row), label=label, score=score, confidence=0.9, engine="lexicon")


def test_summary_counts_analysed_items_only():
    builder = SummaryBuilder()
    for item in [result(1, "positive", 0.8), result(2, "positive", 0.4), result(3, "negative", -0.6), result(4, None)]:
        builder.add(item)
    summary = builder.build()
    assert summary.counts == {"positive": 2, "negative": 1, "neutral": 0, "mixed": 0}
    assert summary.percentages["positive"] == pytest.approx(66.67)
    assert summary.percentages["negative"] == pytest.approx(33.33)
    assert summary.mean_score == pytest.approx(0.2)


def test_summary_of_nothing_has_no_mean():
    summary = SummaryBuilder().build()
    assert summary.mean_score is None and set(summary.percentages.values()) == {0.0}


def test_results_of_a_task_that_is_not_ready_are_refused():
    now = datetime.now(UTC)
    task = Task(
        tenant="t", task_id="a" * 28, type=TaskType.TEXT, status=TaskStatus.PROCESSING, created_at=now, updated_at=now
    )
    with pytest.raises(TaskNotReady):
        read_results_page(task, store=None, signer=CursorSigner(lambda: b"k"), limit=10, cursor=None)


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-2+3", "'-2+3"),
        ("-0.4019", "-0.4019"),
        ("+12", "+12"),
        ("plain text", "plain text"),
        ("", ""),
    ],
)
def test_csv_cells_cannot_become_formulas(cell, safe):
    assert _safe_cell(cell) == safe


def test_source_keys_are_parsed_per_prefix():
    upload = parse_source_key("uploads/acme/" + "a" * 28 + "/r.csv")
    assert (upload.kind, upload.tenant, upload.task_id, upload.filename) == ("uploads", "acme", "a" * 28, "r.csv")
    drop = parse_source_key("incoming/acme/eu/2026/may reviews.csv")
    assert (drop.kind, drop.tenant, drop.task_id, drop.relative_path) == (
        "incoming",
        "acme",
        None,
        "eu/2026/may reviews.csv",
    )
    assert outgoing_keys(drop) == (
        "outgoing/acme/eu/2026/may reviews.csv.results.jsonl",
        "outgoing/acme/eu/2026/may reviews.csv.results.csv",
        "outgoing/acme/eu/2026/may reviews.csv.conversations.jsonl",
    )
    for outside in (
        "results/acme/x/part.jsonl",
        "uploads/acme/r.csv",
        "incoming/acme/",
        "incoming//x.csv",
        "uploads/acme/id/",
    ):
        assert parse_source_key(outside) is None


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\May reviews.csv", "May_reviews.csv"),
        ("...", "upload"),
        ("ünïcode.txt", "n_code.txt"),
    ],
)
def test_upload_names_are_reduced_to_a_safe_base_name(name, safe):
    assert safe_filename(name) == safe


def test_a_page_stops_at_its_byte_budget_and_the_next_page_goes_on_from_there(monkeypatch):
    import boto3
    from moto import mock_aws
    from reviewpulse.results.store import ResultStore

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="results-bucket")
        # Given ten results lines of 100 bytes each
        lines = [f'{{"row":{n},"pad":"{"x" * (82 - len(str(n)))}"}}\n' for n in range(1, 11)]
        assert {len(line) for line in lines} == {100}
        s3.put_object(Bucket="results-bucket", Key="r.jsonl", Body="".join(lines).encode())
        store = ResultStore("results-bucket", s3)
        # When pages of up to 10 lines but 250 bytes are read until the end
        pages, offset = [], 0
        while offset is not None:
            page, offset = store.read_lines("r.jsonl", offset=offset, limit=10, max_bytes=250)
            pages.append(len(page))
        # Then each page stopped at the first line that reached the budget, and every line came once
        assert pages == [3, 3, 3, 1]
        # And a budget smaller than one line still gives one line a page
        assert store.read_lines("r.jsonl", offset=0, limit=10, max_bytes=1)[0] == [lines[0].encode()]
