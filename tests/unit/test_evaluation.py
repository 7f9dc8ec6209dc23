"""Evaluating an engine on the customer's own labels (issue 20, §1): the label mapping and the figures."""

from __future__ import annotations

import pytest
from reviewpulse.results.evaluation import EvaluationBuilder, read_label, scale_of
from reviewpulse.results.model import ItemError, ItemResult


@pytest.mark.parametrize(
    ("column", "value", "label"),
    [
        # words, any case (values arrive trimmed and case-folded)
        (["positive", "negative"], "positive", "positive"),
        (["positive"], "negative", "negative"),
        (["neutral"], "neutral", "neutral"),
        (["mixed"], "mixed", "mixed"),
        (["pos", "neg"], "pos", "positive"),
        (["pos", "neg"], "neg", "negative"),
        # a column of only 0 and 1 is binary
        (["0", "1"], "1", "positive"),
        (["0", "1"], "0", "negative"),
        (["1"], "1", "positive"),
        # -1, 0, 1
        (["-1", "0", "1"], "-1", "negative"),
        (["-1", "0", "1"], "0", "neutral"),
        (["-1", "0", "1"], "1", "positive"),
        # stars: 1-2 negative, 3 neutral, 4-5 positive
        (["1", "2", "3", "4", "5"], "1", "negative"),
        (["1", "2", "3", "4", "5"], "2", "negative"),
        (["1", "2", "3", "4", "5"], "3", "neutral"),
        (["1", "2", "3", "4", "5"], "4", "positive"),
        (["5.0", "1"], "5.0", "positive"),
        (["1", "5"], "1", "negative"),
        (["4.5", "1"], "4.5", "positive"),  # half stars: below 3 negative, above 3 positive
        (["2.5", "5"], "2.5", "negative"),
        (["neu", "pos"], "neu", "neutral"),
        # anything else is unreadable
        (["1", "2", "3", "4", "5", "0"], "0", None),
        (["1", "5", "7"], "7", None),
        (["good"], "good", None),
        (["4.25", "1"], "4.25", None),  # whole or half stars only
        (["nan"], "nan", None),
    ],
)
def test_the_label_mapping(column, value, label):
    # Given a label column's values, When one of them is read on the column's scale, Then it means this
    assert read_label(value, scale_of(column)) == label


def result(row: int, label: str | None, confidence: float = 0.8) -> ItemResult:
    if label is None:
        return ItemResult(row=row, id=f"r{row}", error=ItemError(code="empty-text", detail=""))
    return ItemResult(row=row, id=f"r{row}", label=label, score=0.0, confidence=confidence, engine="lexicon")


def test_figures_count_each_row_once_and_unreadable_labels_are_per_row_errors():
    # Given rows with stars, a blank label, an unreadable one, and a labelled row that failed
    rows = [
        ("5", "positive", 0.9),
        ("4", "positive", 0.7),
        ("1", "positive", 0.6),  # wrong
        ("2", "negative", 0.8),
        ("3", "negative", 0.55),  # wrong
        ("", "negative", 0.5),  # unlabelled
        ("great", "positive", 0.9),  # invalid-label
        ("5", None, 0.0),  # analysis failed
    ]
    builder = EvaluationBuilder("stars")
    for number, (cell, label, confidence) in enumerate(rows, start=1):
        builder.add(result(number, label, confidence), cell)

    # When the evaluation is built
    evaluation = builder.build()

    # Then every row is counted in exactly one place of the coverage
    coverage = evaluation.coverage
    assert (coverage.rows, coverage.evaluated, coverage.unlabelled) == (8, 5, 1)
    assert (coverage.invalid_label, coverage.analysis_failed) == (1, 1)
    assert coverage.evaluated + coverage.unlabelled + coverage.invalid_label + coverage.analysis_failed == 8
    # And the unreadable label is a per-row error naming its row and id, and listed among the values met
    assert [(e.row, e.id, e.code) for e in evaluation.errors] == [(7, "r7", "invalid-label")]
    assert {v.value: v.read_as for v in evaluation.values} == {
        "5": "positive",
        "4": "positive",
        "1": "negative",
        "2": "negative",
        "3": "neutral",
        "great": None,
    }
    # And the confusion matrix holds the five evaluated rows, truth by row, engine by column
    labels = evaluation.confusion.labels
    cell = {(t, p): evaluation.confusion.matrix[i][j] for i, t in enumerate(labels) for j, p in enumerate(labels)}
    assert cell[("positive", "positive")] == 2
    assert cell[("negative", "positive")] == 1
    assert cell[("negative", "negative")] == 1
    assert cell[("neutral", "negative")] == 1
    assert sum(map(sum, evaluation.confusion.matrix)) == 5
    assert evaluation.accuracy == pytest.approx(3 / 5)
    # And per class: precision among what the engine said, recall among the customer's labels
    classes = {c.label: c for c in evaluation.classes}
    assert classes["positive"].precision == pytest.approx(2 / 3, abs=1e-4) and classes["positive"].recall == 1.0
    assert classes["negative"].precision == 0.5 and classes["negative"].recall == 0.5
    assert classes["neutral"].recall == 0.0 and classes["neutral"].precision is None
    f1 = {"positive": 2 * 2 / (2 + 3), "negative": 2 * 1 / (2 + 2), "neutral": 0.0}
    assert evaluation.macro_f1 == pytest.approx(sum(f1.values()) / 3, abs=1e-4)
    # And the calibration: |accuracy − confidence| per bin, weighted by its items
    bins = {b.low: b for b in evaluation.reliability if b.items}
    assert bins[0.9].items == 1 and bins[0.9].accuracy == 1.0
    assert bins[0.6].items == 1 and bins[0.6].accuracy == 0.0
    expected_ece = (abs(1 - 0.9) + abs(1 - 0.7) + abs(0 - 0.6) + abs(1 - 0.8) + abs(0 - 0.55)) / 5
    assert evaluation.ece == pytest.approx(expected_ece, abs=1e-4)


def test_a_binary_column_is_read_as_binary():
    # Given a 0/1 column (UCI's shape)
    builder = EvaluationBuilder("label")
    for number, (cell, label) in enumerate([("1", "positive"), ("0", "negative"), ("0", "positive")], start=1):
        builder.add(result(number, label), cell)

    # When it is evaluated, Then 1 is positive and 0 negative, and macro-F1 averages those two classes
    evaluation = builder.build()
    assert evaluation.scale == "binary"
    assert evaluation.accuracy == pytest.approx(2 / 3, abs=1e-4)
    assert evaluation.macro_f1 == pytest.approx((2 * 1 / 3 + 2 * 1 / 3) / 2, abs=1e-4)


def test_a_column_with_too_many_distinct_values_counts_the_rest_as_invalid():
    # Given more distinct values than are followed
    builder = EvaluationBuilder("label", max_values=2)
    for number, cell in enumerate(["positive", "negative", "x1", "x2", "positive"], start=1):
        builder.add(result(number, "positive"), cell)

    # When it is evaluated, Then the values past the cap are invalid rows, counted, not dropped
    evaluation = builder.build()
    assert evaluation.coverage.evaluated == 3
    assert evaluation.coverage.invalid_label == 2
    assert [e.row for e in evaluation.errors] == [3, 4]
