"""Label shares adjusted for an engine's measured errors (Forman 2008) and the headline that says how
sure the labels are (issue 20, §4)."""

from __future__ import annotations

import pytest
from reviewpulse.results.adjusted import adjust, adjusted_shares
from reviewpulse.results.evaluation import EvaluationBuilder
from reviewpulse.results.headline import NOT_MEASURED, headline
from reviewpulse.results.model import ItemResult

LABELS = ["positive", "negative", "neutral"]
# How often each true class (row) is called each label (column): an engine that calls many
# complaints positive, as the lexicon does on tweets.
RATES = {
    "positive": {"positive": 0.85, "negative": 0.05, "neutral": 0.10},
    "negative": {"positive": 0.35, "negative": 0.50, "neutral": 0.15},
    "neutral": {"positive": 0.30, "negative": 0.10, "neutral": 0.60},
}


def engine_counts(truth: dict[str, int]) -> dict[str, int]:
    """What that engine would count, in expectation, on items whose true labels are `truth`."""
    return {called: round(sum(n * RATES[label][called] for label, n in truth.items())) for called in LABELS}


def matrix_from(labelled: dict[str, int]) -> list[list[int]]:
    return [[round(labelled[t] * RATES[t][p]) for p in LABELS] for t in LABELS]


def test_the_adjusted_shares_recover_the_true_shares_the_counts_hide():
    # Given a batch that is truly 20% positive, 65% negative, 15% neutral, counted by that engine
    truth = {"positive": 2000, "negative": 6500, "neutral": 1500}
    counts = engine_counts(truth)
    matrix = matrix_from({"positive": 1000, "negative": 1000, "neutral": 1000})

    # When its shares are adjusted with the confusion matrix measured on labelled rows
    adjusted = adjust(LABELS, matrix, counts)

    # Then the counted shares are far off, and the adjusted ones are the truth, inside their interval
    assert adjusted is not None and adjusted.items == sum(counts.values())
    for share in adjusted.shares:
        true_share = truth[share.label] / sum(truth.values())
        assert abs(share.observed - true_share) > 0.05 or share.label == "neutral"
        assert share.adjusted == pytest.approx(true_share, abs=0.01)
        assert share.ci95[0] <= share.adjusted <= share.ci95[1]
    assert sum(s.adjusted for s in adjusted.shares) == pytest.approx(1, abs=1e-3)


def test_the_interval_includes_the_uncertainty_of_the_matrix():
    # Given the same counts, adjusted with a matrix measured on 30 labelled rows or on 3,000
    counts = engine_counts({"positive": 2000, "negative": 6500, "neutral": 1500})
    few = adjust(LABELS, matrix_from({"positive": 10, "negative": 10, "neutral": 10}), counts)
    many = adjust(LABELS, matrix_from({"positive": 1000, "negative": 1000, "neutral": 1000}), counts)

    # Then the interval from the few is wider for every label
    assert few is not None and many is not None
    for small, large in zip(few.shares, many.shares, strict=True):
        assert small.ci95[1] - small.ci95[0] > large.ci95[1] - large.ci95[0]


def test_shares_are_clipped_to_the_simplex_and_seeded():
    # Given counts the matrix cannot explain (more positive than even an all-positive batch gives)
    rates = [[0.6, 0.4], [0.2, 0.8]]
    # When solved, Then no share is negative and they add up to one
    shares = adjusted_shares(rates, [0.95, 0.05])
    assert min(shares) >= 0 and sum(shares) == pytest.approx(1)
    # And the same inputs give the same interval
    matrix = [[60, 40], [20, 80]]
    first = adjust(["positive", "negative"], matrix, {"positive": 70, "negative": 30})
    assert first == adjust(["positive", "negative"], matrix, {"positive": 70, "negative": 30})


def test_a_headline_gives_the_batchs_own_figures_when_it_has_labelled_rows():
    # Given an evaluation on three labelled rows
    builder = EvaluationBuilder("stars")
    for row, (cell, label) in enumerate([("5", "positive"), ("1", "negative"), ("1", "positive")], start=1):
        builder.add(ItemResult(row=row, id=f"r{row}", label=label, score=0.1, confidence=0.7), cell)
    evaluation = builder.build()

    # When the headline is written, Then it says measured, with those figures and the engine
    measured = headline("lexicon", {"lexicon": 3}, evaluation)
    assert measured.measured is True
    assert (measured.accuracy, measured.macro_f1, measured.evaluated) == (
        evaluation.accuracy,
        evaluation.macro_f1,
        3,
    )
    assert "lexicon engine" in measured.statement and f"{evaluation.accuracy:.0%}" in measured.statement


@pytest.mark.parametrize("engine", ["lexicon", "llm", "auto"])
def test_without_labelled_rows_the_headline_says_plainly_it_was_not_measured(engine):
    # Given no evaluation, When the headline is written
    plain = headline(engine, {engine: 10}, None, model="acme-support@3")

    # Then it says the labels were not measured on the customer's data, naming the engine and model
    assert plain.measured is False and plain.statement.startswith(NOT_MEASURED)
    assert engine in plain.statement and "acme-support@3" in plain.statement
    # And the lexicon's known range is given; the LLM's is not claimed
    assert (plain.known_range is not None) is (engine == "lexicon")
