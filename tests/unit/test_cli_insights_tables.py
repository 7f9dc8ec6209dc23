"""`reviewpulse insights`'s tables of the trends per segment and the categories per segment, from
insights the builder makes."""

from __future__ import annotations

import json

from reviewpulse.analysis.options import AnalysisOptions
from reviewpulse.results.insights_builder import InsightsBuilder
from reviewpulse_cli.insights import print_tables

from tests.unit.test_periods import feed


def test_the_tables_show_each_segments_trend_and_each_category_per_segment(capsys, monkeypatch):
    # Given insights of two products over two days, with a category
    monkeypatch.setenv("COLUMNS", "200")
    rows = [
        ("2026-03-02", "A", "negative", "late"),
        ("2026-03-02", "A", "negative", "late"),
        ("2026-03-03", "A", "positive", "fine"),
        ("2026-03-03", "B", "positive", "late"),
    ]
    options = AnalysisOptions(group_by=["p"], time_field="d", time_bucket="day", categories={"late": ["late"]})
    builder = InsightsBuilder("t", options, ["d", "p"])
    feed(builder, rows)
    found = json.loads(builder.build().to_json())

    # When they are printed as tables
    print_tables(found)
    out = capsys.readouterr().out

    # Then A's trend reads -1.00 over 2 items, then +1.00 over 1; B's only the second day
    trend = out.split("trend per segment", 1)[1]
    a_row = next(line for line in trend.splitlines() if " A " in line)
    assert a_row.index("-1.00 (2)") < a_row.index("+1.00 (1)")
    assert "+1.00 (1)" in next(line for line in trend.splitlines() if " B " in line)
    # And "late" is -1.00 over A's 2 items and +1.00 over B's 1
    late = next(line for line in out.split("categories by p", 1)[1].splitlines() if "late" in line)
    assert late.index("-1.00 (2)") < late.index("+1.00 (1)")
