"""`reviewpulse evaluate` against the running local stack (issue 20, §1): each engine over one
labelled file, one table side by side, with the figures each task's evaluation holds."""

from __future__ import annotations

import csv
import io
import re
import subprocess

from tests.local_stack import CLI, ROOT

POSITIVE = ["I love it, works great", "Excellent quality and fast delivery", "Best purchase this year"]
NEGATIVE = ["Terrible, it broke after a day", "Awful support and a horrible smell", "Worst product ever"]


def labelled_file(path) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "review", "stars"])
    rows = [(text, "5") for text in POSITIVE] + [(text, "1") for text in NEGATIVE]
    rows += [("It came on a Tuesday", "3"), ("I love it", "2"), ("Fine", "meh")]
    for number, (text, stars) in enumerate(rows, start=1):
        writer.writerow([f"r{number}", text, stars])
    path.write_text(out.getvalue(), encoding="utf-8")


def test_evaluate_runs_each_engine_over_the_file_and_prints_one_table(local, api, tmp_path):
    # Given a labelled CSV with one unreadable rating
    source = tmp_path / "labelled.csv"
    labelled_file(source)

    # When the lexicon and the (fake) LLM are evaluated on it
    done = subprocess.run(
        [*CLI, "evaluate", str(source), "--label-field", "stars", "--id-field", "id", "--engines", "lexicon,llm"],
        cwd=ROOT,
        env={**local["env"], "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=600,
    )

    # Then it succeeds, and each engine's row shows its task's evaluation
    assert done.returncode == 0, done.stderr
    tasks = dict(re.findall(r"^(\w+): task ([0-9a-f]{28})$", done.stderr, re.MULTILINE))
    assert set(tasks) == {"lexicon", "llm"}
    for engine, task_id in tasks.items():
        evaluation = api.get(f"/v1/tasks/{task_id}/insights").json()["evaluation"]
        (row,) = [line for line in done.stdout.splitlines() if line.strip("│ ").startswith(engine + " ")]
        assert f"{evaluation['accuracy']:.3f}" in row and f"{evaluation['macro_f1']:.3f}" in row
        assert f"{evaluation['coverage']['evaluated']} of 9" in row
        assert evaluation["coverage"]["invalid_label"] == 1
    # And it says how the labels were read, the unreadable one included
    assert "meh→invalid-label (1)" in done.stdout
