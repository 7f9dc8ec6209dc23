"""The terminal lists themes beside their counts in count order (make demo printed `started (3)`
above `support (4)`: the API ranks themes by how strongly they lean, not by how many items)."""

from __future__ import annotations

import re

from reviewpulse_cli import analyze

# As the API gives them: each side by z, so counts are out of order within a side.
THEMES = [
    {"theme": "great", "polarity": "praise", "count": 5, "example_ids": []},
    {"theme": "friendly crew", "polarity": "praise", "count": 9, "example_ids": []},
    {"theme": "started", "polarity": "complaint", "count": 3, "example_ids": []},
    {"theme": "support", "polarity": "complaint", "count": 4, "example_ids": []},
    {"theme": "delay", "polarity": "complaint", "count": 4, "example_ids": []},
]


def finished_task() -> dict:
    return {
        "task_id": "01a24865a75a0ce46e91b628021e",
        "summary": {"counts": {"positive": 14, "negative": 11}, "percentages": {"positive": 56.0, "negative": 44.0}},
        "progress": {"total": 25, "processed": 25, "failed": 0},
        "report": {"executive_summary": "Mostly praise.", "themes": THEMES},
    }


def test_analyze_prints_each_sides_themes_most_items_first(capsys) -> None:
    # Given a finished task whose report lists complaints by z: started (3) before support (4)
    # When analyze prints its summary
    analyze._print_summary(finished_task())
    printed = re.findall(r"^\s+(praise|complaint)\s+(.+) \((\d+)\)$", capsys.readouterr().out, re.MULTILINE)
    # Then praise comes first, and each side is in count order (ties by name)
    assert printed == [
        ("praise", "friendly crew", "9"),
        ("praise", "great", "5"),
        ("complaint", "delay", "4"),
        ("complaint", "support", "4"),
        ("complaint", "started", "3"),
    ]
