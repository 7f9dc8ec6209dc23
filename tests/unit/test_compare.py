"""A batch compared with an earlier one: changes, tests, the correction, new themes, notes."""

from __future__ import annotations

from reviewpulse.analysis.options import AnalysisOptions
from reviewpulse.ingest.readers.rows import Row
from reviewpulse.results.compare import compare
from reviewpulse.results.insights import Theme
from reviewpulse.results.insights_builder import InsightsBuilder
from reviewpulse.results.model import ItemResult
from reviewpulse.results.stats import benjamini_hochberg, net_sentiment_z_test


def insights_of(batch: dict[str, tuple[int, int]], options: AnalysisOptions, columns: list[str]):
    """`batch`: product -> (positive items, negative items)."""
    builder = InsightsBuilder("t", options, columns)
    number = 0
    for product, (positive, negative) in batch.items():
        for label, count in (("positive", positive), ("negative", negative)):
            for _ in range(count):
                number += 1
                result = ItemResult(row=number, id=str(number), label=label, score=0.5 if label == "positive" else -0.5)
                builder.add(result, Row(number, str(number), "x", None, {"product": product, "store": "s"}))
    return builder.build()


def test_a_large_shift_is_significant_and_a_small_one_is_not():
    # Given a baseline where watches were loved (90/10) and lamps so-so (50/50), and a batch
    # where watches fell to 40/60 and lamps moved a little (52/48)
    options = AnalysisOptions(group_by=["product"])
    before = insights_of({"watch": (90, 10), "lamp": (50, 50)}, options, ["product"])
    after = insights_of({"watch": (40, 60), "lamp": (52, 48)}, options, ["product"])

    # When compared
    comparison = compare(after, before, "baseline-id")

    # Then the watch's net sentiment change (−0.2 − 0.8 = −1.0) is significant, the lamp's is not
    segments = {c.key: c for c in comparison.changes if c.kind == "segment"}
    assert segments["watch"].change == -1.0 and segments["watch"].significant
    assert segments["lamp"].change == 0.04 and not segments["lamp"].significant
    # And the p-values are the net sentiment z-test's, adjusted together by Benjamini-Hochberg
    raw = net_sentiment_z_test(40, 60, 100, 90, 10, 100).p_value
    assert segments["watch"].p_value == round(raw, 6)
    tested = [c for c in comparison.changes if c.p_value is not None]
    assert [c.p_adjusted for c in tested] == [round(p, 6) for p in benjamini_hochberg([c.p_value for c in tested])]
    # And each label's share is compared too
    labels = {c.key: c for c in comparison.changes if c.kind == "label"}
    assert labels["positive"].baseline == 0.7 and labels["positive"].current == 0.46
    assert labels["positive"].significant
    assert comparison.baseline_task_id == "baseline-id"
    assert "Benjamini-Hochberg" in comparison.method


def test_only_what_both_have_is_compared_and_the_rest_is_noted():
    # Given a baseline grouped by store with the aspect price, and a batch by product with battery
    before = insights_of({"watch": (5, 5)}, AnalysisOptions(group_by=["store"], aspects=["price"]), ["store"])
    after = insights_of({"watch": (5, 5)}, AnalysisOptions(group_by=["product"], aspects=["battery"]), ["product"])
    comparison = compare(after, before, "b")
    notes = " | ".join(comparison.notes)
    assert "'product' is not in the baseline" in notes
    assert "baseline's group_by column 'store'" in notes
    assert "aspect 'battery' is not in the baseline" in notes
    assert not [c for c in comparison.changes if c.kind in ("segment", "aspect")]


def test_themes_not_among_the_baselines_are_new():
    options = AnalysisOptions()
    before = insights_of({"x": (10, 10)}, options, ["product"])
    after = insights_of({"x": (10, 10)}, options, ["product"])
    theme = {"polarity": "complaint", "count": 6, "positive": 0, "negative": 6, "z": -2.0, "example_ids": []}
    before.themes = [Theme(phrase="customer service", example=None, **{**theme, "negative": 2})]
    after.themes = [
        Theme(phrase="customer service", example=None, **theme),
        Theme(phrase="lid", example=None, **theme),
    ]
    comparison = compare(after, before, "b")
    assert comparison.new_themes == ["lid"]
    (service,) = [c for c in comparison.changes if c.kind == "theme"]
    assert (service.baseline, service.current) == (0.1, 0.3)  # 2 of 20, then 6 of 20 items
