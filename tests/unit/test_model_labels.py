"""Reading a customer's label column (analysis/labels.py) and the checks a model's labels pass
before any fitting (usecases/train_model.py), as tables."""

from __future__ import annotations

import pytest
from reviewpulse.analysis.labels import LabelScheme, SchemeFinder
from reviewpulse.analysis.models.training import MIN_ROWS_PER_CLASS, check_rows
from reviewpulse.errors import TrainingDataRejected
from reviewpulse.ingest.readers import Row, RowError
from reviewpulse.usecases.train_model import MAX_UNREADABLE_SHARE, ModelRefused, collect_labelled_rows


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        (["Positive", " NEGATIVE ", "neutral", "Mixed"], ["positive", "negative", "neutral", "mixed"]),
        (["pos", "neg", "NEU"], ["positive", "negative", "neutral"]),
        (["1", "0", "-1"], ["positive", "neutral", "negative"]),
        (["0", "1", "1"], ["negative", "positive", "positive"]),  # a 0/1 column is binary
        (["1", "2", "3", "4", "5"], ["negative", "negative", "neutral", "positive", "positive"]),
        (["2.5", "3.5", "5"], ["negative", "positive", "positive"]),
    ],
)
def test_each_usual_shape_of_a_label_column_is_read(column, expected):
    # Given a label column of one usual shape; When its scheme reads each value
    scheme = LabelScheme.for_values(column)
    # Then each value gets its documented label
    assert [scheme.read(value).value for value in column] == expected


@pytest.mark.parametrize("value", ["great", "7", "0.5", "", "nan", "inf", "positive-ish"])
def test_values_outside_the_mapping_are_unreadable(value):
    # Given a stars column, a -1/0/1 column and a words column
    for column in (["1", "5", value], ["-1", "1", value], ["positive", value]):
        # Then a value none of the shapes names reads as nothing
        assert LabelScheme.for_values(column).read(value) is None, (column, value)


@pytest.mark.parametrize(
    "column",
    [
        ["Positive", "neg", "n/a"],
        ["1", "0", "-1", ""],
        ["0", "1", "1", "great"],
        ["1", "2", "3", "4", "5"],
        ["1", "0", "7"],
        ["-1", "1", "0.5"],
        ["nan", "inf", "positive"],
        [],
    ],
)
def test_the_scheme_found_value_by_value_is_the_scheme_of_the_whole_column(column):
    # Given a label column, When it is fed to the finder one value at a time (the finalizer's pass)
    finder = SchemeFinder()
    for value in column:
        finder.add(value)
    # Then it finds the scheme the whole column is read with
    assert finder.scheme() == LabelScheme.for_values([v for v in column if v.strip()])


def rows(*pairs: tuple[str | None, str], error: int = 0) -> list[Row]:
    made = [Row(i + 1, str(i + 1), text, None, {"label": label}) for i, (text, label) in enumerate(pairs)]
    made += [
        Row(len(made) + i + 1, "x", None, RowError("empty-text", "no text"), {"label": "pos"}) for i in range(error)
    ]
    return made


def labelled(per_class: dict[str, int]) -> list[tuple[str, str]]:
    return [(f"text {label} {i}", label) for label, n in per_class.items() for i in range(n)]


def test_rows_are_counted_by_what_became_of_them():
    # Given labelled rows, an unlabelled one and two rows with errors
    found = rows(*labelled({"pos": 3, "neg": 2}), ("no label here", " "), error=2)
    # When they are collected
    collected = collect_labelled_rows(found, "label")
    # Then each row is counted once, and only labelled rows with a text are kept
    assert collected.counts_dict() == {
        "label_negative": 2,
        "label_positive": 3,
        "row_errors": 2,
        "rows": 8,
        "unlabelled": 1,
    }
    assert len(collected.texts) == len(collected.labels) == 5


def test_a_column_the_mapping_cannot_read_is_refused_naming_a_few_values():
    # Given a column where more than MAX_UNREADABLE_SHARE of the labels are unreadable
    bad = int(60 * MAX_UNREADABLE_SHARE) + 1
    found = rows(*labelled({"positive": 30, "negative": 30 - bad}), *((f"row {i}", f"meh{i}") for i in range(bad)))
    # When collected, Then the model is refused with some of the values named (never the texts)
    with pytest.raises(ModelRefused) as refused:
        collect_labelled_rows(found, "label")
    assert refused.value.code == "unreadable-labels"
    assert "'meh0'" in refused.value.detail and "text positive" not in refused.value.detail
    assert refused.value.counts["unreadable_labels"] == bad


def test_a_few_unreadable_labels_are_left_out_counted_and_named():
    # Given 60 readable labels and one value no shape reads (a stray "not_relevant")
    found = rows(*labelled({"5": 30, "1": 30}), ("a tweet about stocks", "not_relevant"))
    # When collected
    collected = collect_labelled_rows(found, "label")
    # Then that row is left out, counted, and its value named in the notes
    assert collected.counts_dict() == {"label_negative": 30, "label_positive": 30, "rows": 61, "unreadable_labels": 1}
    assert len(collected.texts) == 60 and "'not_relevant'" in collected.notes[0]


@pytest.mark.parametrize(
    ("found", "code"),
    [
        (rows(error=5), "no-training-rows"),
        (rows(("text", "")), "no-training-rows"),
        (rows(*labelled({"pos": 50})), "one-class-only"),
        (rows(*labelled({"pos": MIN_ROWS_PER_CLASS, "neg": MIN_ROWS_PER_CLASS - 1})), "too-few-per-class"),
    ],
    ids=["only-errors", "no-labels", "one-class", "too-few"],
)
def test_labels_that_cannot_make_a_model_are_refused_before_fitting(found, code):
    # When the collected labels are checked by the learning library, Then they are refused with
    # the stable code
    collected = collect_labelled_rows(found, "label")
    with pytest.raises(TrainingDataRejected) as refused:
        check_rows(collected.texts, collected.labels)
    assert refused.value.code == code


def test_the_documented_minimum_per_class_is_enough():
    # Given exactly the minimum in each of two classes; Then the labels pass
    collected = collect_labelled_rows(rows(*labelled({"pos": MIN_ROWS_PER_CLASS, "neg": MIN_ROWS_PER_CLASS})), "label")
    counts = check_rows(collected.texts, collected.labels)
    assert counts == {"positive": MIN_ROWS_PER_CLASS, "negative": MIN_ROWS_PER_CLASS}


@pytest.mark.parametrize(
    "column",
    [
        ["5", "4", "3", "2", "1", "0"],  # a 0 among stars
        ["1", "5", "7"],  # a 7 among stars
        ["-1", "2", "5"],  # a -1 among stars
        ["4.5", "2.5", "1"],  # half stars
        ["neu", "Pos", "NEG", "mixed", "meh"],
        ["1", "0", "-1"],
        ["1", "0"],
        ["positive", "1"],  # a number in a column of words
    ],
)
def test_an_evaluation_and_training_read_a_column_the_same_way(column):
    # Given a label column (one row per value, each with a text)
    from reviewpulse.results.evaluation import EvaluationBuilder
    from reviewpulse.results.model import ItemResult

    found = rows(*((f"text {i}", value) for i, value in enumerate(column)))
    # When the finalizer's evaluation reads it, and training reads it
    builder = EvaluationBuilder("label")
    for n, value in enumerate(column, start=1):
        result = ItemResult(row=n, id=str(n), label="positive", score=0.5, confidence=0.9, engine="lexicon")
        builder.add(result, value)
    read_by_evaluation = {v.value.casefold(): v.read_as for v in builder.build().values}
    try:
        collected = collect_labelled_rows(found, "label")
    except ModelRefused:  # more unreadable labels than training takes: then only the share differs
        scheme = LabelScheme.for_values(column)
        read_by_training = {v.casefold(): (label.value if (label := scheme.read(v)) else None) for v in column}
    else:
        read_by_training = dict.fromkeys((v.casefold() for v in column), None)
        for text, label in zip(collected.texts, collected.labels, strict=True):
            read_by_training[column[int(text.split()[1])].casefold()] = label
    # Then every value means the same label to both (or is unreadable to both)
    assert read_by_evaluation == read_by_training
