"""Summaries, refused result pages and safe upload names."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from reviewpulse.api.paging import read_results_page
from reviewpulse.cursors import CursorSigner
from reviewpulse.errors import TaskNotReady
from reviewpulse.results.model import ItemError, ItemResult
from reviewpulse.results.summary_builder import SummaryBuilder
from reviewpulse.tasks.model import Task, TaskStatus, TaskType
from reviewpulse.usecases.create_batch import safe_filename


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
        read_results_page(task, result_files=None, signer=CursorSigner(lambda: b"k"), limit=10, cursor=None)


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
