"""`reviewpulse insights`'s tables of the trends per segment and the categories per segment, from
insights the builder makes."""

from __future__ import annotations

import json

from reviewpulse.analysis.options import AnalysisOptions
from reviewpulse.ingest.readers.rows import Row
from reviewpulse.results.insights_builder import InsightsBuilder
from reviewpulse_cli.insights import print_tables

from tests.unit.test_insights import airline_tickets, result
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


def test_the_themes_table_names_the_categories_each_theme_is_under(capsys, monkeypatch):
    # Given insights of generated airline tickets with themes, and categories that some themes name
    monkeypatch.setenv("COLUMNS", "200")
    categories = {"delays": ["delay"], "baggage": ["bag"], "staff": ["crew", "agent"]}
    builder = InsightsBuilder("t", AnalysisOptions(report=True, categories=categories), ["text"])
    for number, (label, text) in enumerate(airline_tickets(120), start=1):
        builder.add(result(number, label), Row(number, str(number), text, None, {"text": text}))
    found = json.loads(builder.build().to_json())
    under = {phrase: c["name"] for c in found["categories"] for phrase in c["themes"]}
    assert under and set(under) != {t["phrase"] for t in found["themes"]}

    # When they are printed as tables
    print_tables(found)
    themes = capsys.readouterr().out.split("themes", 1)[1].splitlines()

    # Then each theme's row names the category it is under, or none
    for theme in found["themes"]:
        out_rows = [line for line in themes if f" {theme['phrase']} " in line]
        assert out_rows, theme["phrase"]
        assert out_rows[0].rstrip(" │|").endswith(under.get(theme["phrase"], "-")), out_rows[0]
