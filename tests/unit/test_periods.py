"""Periods of one file compared (options.compare), the largest segments' trends, and categories per
segment and over time: the insights builder's second look at each item, with counts worked out by
hand from the rows fed."""

from __future__ import annotations

from datetime import date

from reviewpulse.analysis.options import AnalysisOptions
from reviewpulse.ingest.readers.rows import Row
from reviewpulse.results.insights_builder import InsightsBuilder
from reviewpulse.results.model import ItemError, ItemResult

SCORES = {"positive": 0.5, "negative": -0.5, "neutral": 0.0}


def feed(builder: InsightsBuilder, rows: list[tuple[str, str, str | None, str]]) -> None:
    """Rows of (date, product, label or None for a failed row, text)."""
    for number, (when, product, label, text) in enumerate(rows, start=1):
        if label is None:
            result = ItemResult(row=number, id=f"r{number}", error=ItemError(code="empty-text", detail="empty"))
        else:
            result = ItemResult(row=number, id=f"r{number}", label=label, score=SCORES[label])
        builder.add(
            result, Row(number=number, id=f"r{number}", text=text, error=None, columns={"d": when, "p": product})
        )


def change(comparison, kind: str, key: str | None = None, measure: str = "net_sentiment"):
    (found,) = [c for c in comparison.changes if c.kind == kind and c.key == key and c.measure == measure]
    return found


def test_a_file_is_split_at_a_date_and_the_periods_compared_like_two_tasks():
    # Given January: A 1 positive and 4 negative, B 2 positive; February: A 4 positive and 1
    # negative, B 1 positive and 1 negative; and one row whose date cannot be read
    jan = [(f"2026-01-0{n + 1}", "A", "negative", "late") for n in range(4)]
    jan += [
        ("2026-01-05", "A", "positive", "ok"),
        ("2026-01-06", "B", "positive", "ok"),
        ("2026-01-31", "B", "positive", "ok"),
    ]
    feb = [(f"2026-02-0{n + 1}", "A", "positive", "ok") for n in range(4)]
    feb += [
        ("2026-02-05", "A", "negative", "late"),
        ("2026-02-06", "B", "negative", "x"),
        ("2026-02-28", "B", "positive", "x"),
    ]
    options = AnalysisOptions(group_by=["p"], time_field="d", compare={"at": "2026-02-01"})
    builder = InsightsBuilder("t", options, ["d", "p", "text"])
    feed(builder, [*jan, *feb, ("not a date", "A", "positive", "ok")])

    # When the insights are built
    comparison = builder.build().comparison

    # Then the periods are January (7 items) and February (7), the unreadable row in neither
    periods = comparison.periods
    assert comparison.baseline_task_id is None
    assert (periods.rule, periods.at, periods.field, periods.left_out) == ("date", date(2026, 2, 1), "d", 1)
    assert (periods.before.first, periods.before.last, periods.before.items) == (date(2026, 1, 1), date(2026, 1, 31), 7)
    assert (periods.after.first, periods.after.last, periods.after.items) == (date(2026, 2, 1), date(2026, 2, 28), 7)
    # And net sentiment went from (3 - 4) / 7 to (5 - 2) / 7; A from -3/5 to +3/5; B from 1 to 0
    overall = change(comparison, "overall")
    assert (overall.baseline, overall.current) == (round(-1 / 7, 4), round(3 / 7, 4))
    assert abs(overall.change - 4 / 7) < 1e-3  # the difference of the rounded net sentiments
    a = change(comparison, "segment", "A")
    assert (a.column, a.baseline, a.current, a.change) == ("p", -0.6, 0.6, 1.2)
    b = change(comparison, "segment", "B")
    assert (b.baseline, b.current) == (1.0, 0.0)
    # And the negative share from 4/7 to 2/7, with tests corrected together
    negative = change(comparison, "label", "negative", "share")
    assert (negative.baseline, negative.current) == (round(4 / 7, 4), round(2 / 7, 4))
    tested = [c for c in comparison.changes if c.p_value is not None]
    assert tested and all(c.p_adjusted >= c.p_value for c in tested)
    assert not any("time buckets" in note for note in comparison.notes)


def test_last_bucket_compares_the_last_two_buckets_of_slash_dates_read_once_the_column_is_known():
    # Given day-first slash dates (13/01 decides the order only at the end), monthly buckets:
    # January 2 items, February 3 (all negative), March 2 (both positive)
    rows = [("13/01/2026", "A", "positive", "x"), ("02/01/2026", "A", "positive", "x")]
    rows += [(f"0{n}/02/2026", "A", "negative", "x") for n in (1, 2, 3)]
    rows += [("01/03/2026", "B", "positive", "x"), ("31/03/2026", "B", "positive", "x")]
    options = AnalysisOptions(group_by=["p"], time_field="d", time_bucket="month", compare={"at": "last-bucket"})
    builder = InsightsBuilder("t", options, ["d", "p"])
    feed(builder, rows)

    # When the insights are built
    comparison = builder.build().comparison

    # Then March is compared with February, and January's 2 items are left out
    periods = comparison.periods
    assert (periods.rule, periods.at, periods.left_out) == ("last-bucket", date(2026, 3, 1), 2)
    assert (periods.before.first, periods.before.items, periods.after.last, periods.after.items) == (
        date(2026, 2, 1),
        3,
        date(2026, 3, 31),
        2,
    )
    assert (change(comparison, "overall").baseline, change(comparison, "overall").current) == (-1.0, 1.0)
    # And a segment only one period has is noted, not compared
    assert [c.key for c in comparison.changes if c.kind == "segment"] == []
    assert any("not listed in the baseline" in note for note in comparison.notes)


def test_periods_that_cannot_be_compared_end_ready_with_a_warning():
    one_month = [("2026-01-02", "A", "positive", "x"), ("2026-01-20", "A", "negative", "x")]
    cases = [
        (AnalysisOptions(time_field="d", time_bucket="month", compare={"at": "last-bucket"}), ["d", "p"]),
        (AnalysisOptions(time_field="d", compare={"at": "2026-06-01"}), ["d", "p"]),  # nothing after
        (AnalysisOptions(time_field="d", compare={"at": "2026-06-01"}), ["p"]),  # no such column
    ]
    for options, columns in cases:
        builder = InsightsBuilder("t", options, columns)
        feed(builder, one_month)
        insights = builder.build()
        assert insights.comparison is None
        assert "periods-not-compared" in [w.code for w in insights.warnings]


def test_themes_are_compared_between_the_periods_and_a_new_one_is_named():
    # Given "battery" complaints in both months and "screen" complaints only in February
    jan = [(f"2026-01-0{n}", "A", "negative", "The battery died fast.") for n in range(1, 6)]
    jan += [(f"2026-01-1{n}", "A", "positive", "The strap is comfortable.") for n in range(5)]
    feb = [(f"2026-02-0{n}", "A", "negative", "The battery died fast.") for n in range(1, 3)]
    feb += [(f"2026-02-1{n}", "A", "negative", "The screen cracked.") for n in range(5)]
    feb += [(f"2026-02-2{n}", "A", "positive", "The strap is comfortable.") for n in range(5)]
    options = AnalysisOptions(time_field="d", report=True, compare={"at": "2026-02-01"})
    builder = InsightsBuilder("t", options, ["d", "p"])
    feed(builder, [*jan, *feb])

    insights = builder.build()

    phrases = {t.phrase for t in insights.themes}
    assert {"battery", "screen"} <= phrases
    comparison = insights.comparison
    assert "screen" in comparison.new_themes
    # battery: 5 of 10 analysed items in January, 2 of 12 in February
    battery = change(comparison, "theme", "battery", "share")
    assert (battery.baseline, battery.current) == (0.5, round(2 / 12, 4))


def test_the_largest_segments_have_trends_and_categories_are_cut_by_segment_and_bucket():
    # Given two days of products A and B, and categories "late" and "staff"
    rows = [
        ("2026-03-02", "A", "negative", "Flight was late"),
        ("2026-03-02", "A", "positive", "Staff were lovely"),
        ("2026-03-02", "B", "negative", "late and rude staff"),
        ("2026-03-03", "A", "negative", "late again"),
        ("2026-03-03", "B", None, ""),
        ("2026-03-03", "B", "positive", "fine"),
    ]
    options = AnalysisOptions(
        group_by=["p"], time_field="d", time_bucket="day", categories={"late": ["late"], "staff": ["staff"]}
    )
    builder = InsightsBuilder("t", options, ["d", "p"])
    feed(builder, rows)

    insights = builder.build()

    # Then each product's trend counts its own items per day (A first: the larger)
    trends = {(t.column, t.value): t for t in insights.time.segments}
    assert [(t.value) for t in insights.time.segments] == ["A", "B"]
    a = trends[("p", "A")].buckets
    assert [(b.start.day, b.items, b.counts["positive"], b.counts["negative"]) for b in a] == [
        (2, 2, 1, 1),
        (3, 1, 0, 1),
    ]
    b = trends[("p", "B")].buckets
    assert [(x.start.day, x.items, x.analysed, x.net_sentiment) for x in b] == [(2, 1, 1, -1.0), (3, 2, 1, 1.0)]
    # And "late" (3 items: A twice, B once; days 2 and 3) is cut by product and by day
    late, staff = insights.categories
    assert [(s.column, s.value, s.items, s.counts["negative"]) for s in late.segments] == [
        ("p", "A", 2, 2),
        ("p", "B", 1, 1),
    ]
    assert [(t.start.day, t.items) for t in late.time] == [(2, 2), (3, 1)]
    assert [(s.value, s.items, s.counts["positive"]) for s in staff.segments] == [("A", 1, 1), ("B", 1, 0)]
    assert [(t.start.day, t.items) for t in staff.time] == [(2, 2)]
