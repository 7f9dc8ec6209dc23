"""Teaching a model from the LLM: the sample and its labels (analysis/teach.py)."""

from __future__ import annotations

import pytest
from reviewpulse.analysis.options import MAX_TEACH_SAMPLE, MIN_TEACH_SAMPLE
from reviewpulse.analysis.teach import (
    sample_rows,
    teaching_labels,
)


@pytest.mark.parametrize(("total", "n"), [(1000, 200), (250, 200), (10_001, MAX_TEACH_SAMPLE)])
def test_the_sample_is_exactly_n_rows_of_the_file(total, n):
    # Given a file of `total` rows, When the sample of n is chosen
    sample = sample_rows("task-1", total, n)
    # Then it holds exactly n distinct rows, each a row of the file
    assert len(sample) == n
    assert all(1 <= row <= total for row in sample)


def test_a_file_smaller_than_the_sample_is_taught_from_every_row():
    assert sample_rows("task-1", 150, MIN_TEACH_SAMPLE) == frozenset(range(1, 151))


def test_the_sample_is_the_same_on_every_reading_and_differs_by_seed():
    # Given the same seed and file twice (a redelivery), and another seed
    first, again, other = sample_rows("a", 5000, 300), sample_rows("a", 5000, 300), sample_rows("b", 5000, 300)
    # Then the same rows are chosen again, and another task's sample is another one
    assert first == again
    assert first != other


def test_the_sample_is_spread_over_the_file_not_its_first_rows():
    # Given 200 of 10,000 rows, Then each tenth of the file holds some, none more than twice its share
    sample = sample_rows("spread", 10_000, 200)
    per_tenth = [sum(1 for row in sample if t * 1000 < row <= (t + 1) * 1000) for t in range(10)]
    assert min(per_tenth) > 0 and max(per_tenth) < 40


def test_only_the_samples_llm_answers_are_teaching_labels():
    # Given results as (row, engine, label): sample rows by the llm, by a fallback, without a label,
    # and a row outside the sample answered by the llm
    sample = frozenset({1, 2, 3, 5})
    results = [(5, "llm", "negative"), (1, "llm", "positive"), (2, "lexicon-fallback", "neutral"), (3, "llm", None)]
    results.append((4, "llm", "positive"))
    # Then only the sample's llm-answered, labelled rows teach, in row order
    assert [(t.row, t.label) for t in teaching_labels(results, sample)] == [(1, "positive"), (5, "negative")]


def test_the_least_sample_has_room_for_the_trainers_least_rows_of_each_of_four_classes():
    # Given the trainer's least rows per class and the option's least sample
    from reviewpulse.analysis.models.training import MIN_ROWS_PER_CLASS

    # Then the least sample a task may ask for can hold that many rows of each of four classes
    assert MIN_TEACH_SAMPLE >= 4 * MIN_ROWS_PER_CLASS
