"""`make demo`'s program, run as a user runs it: a fresh process, a file in, a results file out."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The functions the demo runs, started with its stack (REVIEWPULSE_WARM); the other 25 would cost
# most of a minute of CPU and never run. One left out here still runs, after a cold start.
WARM = (
    "AuthorizerFunction,CreateBatchFunction,GetTaskFunction,GetResultsFunction,SplitFunction,"
    "AnalyzeChunkFunction,FinalizeFunction,PublishTaskEventsFunction,DeliverWebhooksFunction"
)


def test_demo_analyses_a_file_end_to_end(tmp_path):
    # Given a small CSV of reviews with an id column
    source = tmp_path / "few.csv"
    source.write_text('ref,comment\nr1,"Love it, perfect fit"\nr2,Broke in a week. Awful.\nr3,\n')
    out = tmp_path / "out.csv"

    # When the demo analyses it
    done = subprocess.run(
        [sys.executable, "-m", "reviewpulse_tools.dev.demo", str(source), "--id-field", "ref", "--out", str(out)],
        cwd=ROOT,
        env={**os.environ, "REVIEWPULSE_WARM": WARM},
        capture_output=True,
        text=True,
        timeout=600,  # it starts a whole stack: over 90 s on a loaded two-core machine
    )

    # Then it succeeds, prints the summary table, and writes one result row per input row
    assert done.returncode == 0, done.stderr
    # And the HTML report beside the results, and says where
    report = tmp_path / "demo-report.html"
    assert str(report.resolve()) in done.stderr
    assert "<h2>Label distribution</h2>" in report.read_text()
    assert "positive" in done.stdout and "2 analysed of 3 rows" in done.stdout
    rows = list(csv.DictReader(out.open()))
    assert [(r["ref"], r["sentiment_label"], r["error_code"]) for r in rows] == [
        ("r1", "positive", ""),
        ("r2", "negative", ""),
        ("r3", "", "empty-text"),
    ]


def test_demo_reports_a_missing_file_in_one_line(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "reviewpulse_tools.dev.demo", str(tmp_path / "nope.csv")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and done.stderr.startswith("reviewpulse: no such file")
