"""The analyst's loop through the CLI, against the local stack: the file is checked before it is
uploaded, what a finished task warns about is printed, the HTML report is written by `analyze
--report`, no file is overwritten without --force, European Excel files go in and come out, times
are bucketed by one rule, drops take the API's options, and the stack's terminal stays quiet."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path

import boto3
import httpx

from tests.local.test_local_stack import NEGATIVE, POSITIVE, run_cli


def write_helpdesk(path, rows=4) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text", "company", "created_at"])
        for i in range(rows):
            writer.writerow([f"t{i}", POSITIVE if i % 2 else NEGATIVE, "acme" if i < 2 else "globex", f"2026-02-1{i}"])


def newest_task(local) -> str:
    listing = run_cli(local, "tasks", "--limit", "1", "--output", "csv")
    lines = listing.stdout.splitlines()
    return lines[1].split(",")[0] if len(lines) > 1 else ""


def test_a_mistyped_column_is_refused_before_the_upload_with_the_one_meant(local, tmp_path):
    # Given a helpdesk export whose column is `company`, and the newest task before
    source = tmp_path / "helpdesk.csv"
    write_helpdesk(source)
    before = newest_task(local)
    # When it is analysed by `Company`, and over a `created` column it does not have
    by_case = run_cli(local, "analyze", str(source), "--group-by", "Company", "--out", str(tmp_path / "a.csv"))
    by_name = run_cli(local, "analyze", str(source), "--time-field", "created", "--out", str(tmp_path / "b.csv"))
    # Then each exits with a usage error naming the column meant, and nothing was uploaded
    assert by_case.returncode == 2 and "Traceback" not in by_case.stderr
    assert "--group-by 'Company'" in by_case.stderr and "did you mean 'company'?" in by_case.stderr
    assert by_name.returncode == 2 and "did you mean 'created_at'?" in by_name.stderr
    assert newest_task(local) == before
    assert not (tmp_path / "a.csv").exists()


def test_with_force_it_runs_and_the_tasks_warning_is_printed(local, tmp_path):
    # Given the same file
    source = tmp_path / "helpdesk.csv"
    write_helpdesk(source)
    # When it is analysed by `Company` anyway
    done = run_cli(
        local, "analyze", str(source), "--group-by", "Company", "--force", "--no-progress",
        "--out", str(tmp_path / "out.csv"),
    )  # fmt: skip
    # Then the task ran, and the warning the finished task carries is on stderr
    assert done.returncode == 0, done.stderr
    assert "(uploaded anyway: --force)" in done.stderr
    assert "warning: group_by column 'Company' is not in the input" in done.stderr
    assert "(group-by-column-not-found)" in done.stderr
    # And `wait` on the finished task prints it again
    waited = run_cli(local, "wait", newest_task(local), "--no-progress", "-o", "json")
    assert waited.returncode == 0 and "(group-by-column-not-found)" in waited.stderr


def test_analyze_report_writes_and_names_the_html_and_never_overwrites_without_force(local, tmp_path):
    # Given a file with segments and dates
    source = tmp_path / "helpdesk.csv"
    write_helpdesk(source)
    # When it is analysed with --report and no file name, from its folder
    done = run_cli(
        local, "analyze", str(source), "--group-by", "company", "--time-field", "created_at", "--report",
        "--no-progress", "--out", str(tmp_path / "helpdesk.results.csv"), cwd=tmp_path,
    )  # fmt: skip
    # Then the report is written beside the results under the input's name, and named on stderr
    assert done.returncode == 0, done.stderr
    report = tmp_path / "helpdesk.report.html"
    assert f"report: {report.resolve()}" in done.stderr
    page = report.read_text()
    assert page.startswith("<!DOCTYPE html>") and "acme" in page and "globex" in page
    # When it runs again with a named report file
    named = tmp_path / "february.html"
    again = run_cli(local, "analyze", str(source), "--report", str(named), "--no-progress", cwd=tmp_path)
    # Then it refuses, before uploading, to overwrite the results file it would write
    assert again.returncode == 2 and "helpdesk.results.csv exists: pass --force" in again.stderr
    assert not named.exists()
    # And with --force it overwrites the results and writes the named report
    forced = run_cli(local, "analyze", str(source), "--report", str(named), "--force", "--no-progress", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert named.read_text().startswith("<!DOCTYPE html>")
    # And `report` and `results --out` refuse to overwrite a file too
    task_id = newest_task(local)
    refused = run_cli(local, "report", task_id, "--out", str(named))
    assert refused.returncode == 2 and "exists: pass --force" in refused.stderr
    assert run_cli(local, "report", task_id, "--out", str(named), "--force").returncode == 0


def test_the_results_csv_keeps_handles_escapes_calls_and_can_keep_everything(local, tmp_path):
    # Given tweets that start with a handle, a bullet, and one cell that would call a program
    source = tmp_path / "tweets.csv"
    with source.open("w", newline="") as handle:
        csv.writer(handle).writerows(
            [["id", "text", "note"], ["1", f"@united {NEGATIVE}", "=cmd|' /C calc'!A0"], ["2", f"- {POSITIVE}", "+1"]]
        )
    escaped, kept = tmp_path / "escaped.csv", tmp_path / "kept.csv"
    # When it is analysed as it is, and with --no-formula-escape
    first = run_cli(local, "analyze", str(source), "--id-field", "id", "--out", str(escaped), "--no-progress")
    second = run_cli(
        local, "analyze", str(source), "--id-field", "id", "--out", str(kept), "--no-progress", "--no-formula-escape"
    )
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    # Then by default the handle, the bullet and the number stay as written and only the call is escaped
    rows = {row["id"]: row for row in csv.DictReader(escaped.open(newline=""))}
    assert rows["1"]["text"] == f"@united {NEGATIVE}" and rows["2"]["text"] == f"- {POSITIVE}"
    assert rows["1"]["note"] == "'=cmd|' /C calc'!A0" and rows["2"]["note"] == "+1"
    # And without escaping every cell is the input's own
    rows = {row["id"]: row for row in csv.DictReader(kept.open(newline=""))}
    assert rows["1"]["note"] == "=cmd|' /C calc'!A0"


def test_one_instant_written_two_ways_lands_in_one_utc_bucket(local, api, tmp_path):
    # Given the same instant written with a spaced offset and with an ISO offset, and one naive time
    source = tmp_path / "times.csv"
    with source.open("w", newline="") as handle:
        csv.writer(handle).writerows(
            [
                ["id", "text", "created_at"],
                ["1", POSITIVE, "2026-02-16 23:48:48 -0800"],
                ["2", NEGATIVE, "2026-02-16T23:48:48-08:00"],
                ["3", POSITIVE, "2026-02-16 23:48:48"],
            ]
        )
    # When it is analysed over created_at by day
    done = run_cli(
        local, "analyze", str(source), "--id-field", "id", "--time-field", "created_at", "--no-progress",
        "--out", str(tmp_path / "out.csv"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    insights = api.get(f"/v1/tasks/{newest_task(local)}/insights").json()
    # Then both aware forms are counted on their UTC date, the naive one on the date written
    buckets = {bucket["start"]: bucket["items"] for bucket in insights["time"]["buckets"]}
    assert buckets == {"2026-02-16": 1, "2026-02-17": 2}


def stack_log(local) -> Path:
    return Path(local["env"]["REVIEWPULSE_STATE"]).parent / "dev.log"


def log_after(local, start: int, expected: str, attempts: int = 120) -> str:
    """The stack's terminal output written after `start`, once it holds `expected` (the functions
    write to it from processes of their own)."""
    for _ in range(attempts):
        text = stack_log(local).read_text(errors="replace")[start:]
        if expected in text:
            return text
        time.sleep(0.5)
    return stack_log(local).read_text(errors="replace")[start:]


def test_the_stacks_terminal_is_quiet_a_refused_key_is_one_line_and_metrics_are_concise(local, api):
    start = len(stack_log(local).read_text(errors="replace"))
    # When a request comes with a wrong key
    refused = httpx.get(f"{local['api_url']}/v1/tasks", headers={"X-Api-Key": "rp_wrong"}, timeout=60)
    assert refused.status_code == 401
    # Then the authorizer says so in one line, without the key, and no traceback is printed
    text = log_after(local, start, "API key refused")
    assert "API key refused" in text and "unknown key" in text and "rp_wrong" not in text
    assert "Traceback" not in text
    # When a task is created (a function that publishes a metric)
    start = len(stack_log(local).read_text(errors="replace"))
    assert api.post("/v1/tasks", json={"text": POSITIVE}).status_code == 202
    # Then its metric is one concise line, not the embedded-metric-format JSON
    text = log_after(local, start, "TasksCreated=1")
    lines = [line for line in text.splitlines() if line.startswith("metrics CreateTaskFunction:")]
    assert any("TasksCreated=1" in line for line in lines), text[-2000:]
    assert '{"_aws"' not in text
    assert "No application metrics to publish" not in text


def test_a_drop_with_boto3_as_the_banner_says_and_a_sidecar_that_names_the_id_and_text(local):
    # Given the credentials, region and bucket the banner and the state file give
    s3 = boto3.client(
        "s3",
        endpoint_url=local["aws_endpoint"],
        region_name=local["region"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    drop = "incoming/local/analyst/feb.csv"
    body = f"ref;comment;product\r\nk1;{POSITIVE};mug\r\nk2;{NEGATIVE};lamp\r\n"
    # When a sidecar names the id and text columns (and the delimiter), then the file is dropped
    sidecar = {"id_field": "ref", "text_field": "comment", "delimiter": ";", "group_by": ["product"]}
    s3.put_object(Bucket=local["bucket"], Key=drop + ".options.json", Body=json.dumps(sidecar).encode())
    s3.put_object(Bucket=local["bucket"], Key=drop, Body=body.encode())
    # Then the drop is ready, and its results carry the ids from that column
    done = "outgoing/local/analyst/feb.csv.done.json"
    for _ in range(600):
        try:
            receipt = json.load(s3.get_object(Bucket=local["bucket"], Key=done)["Body"])
            break
        except s3.exceptions.NoSuchKey:
            time.sleep(0.5)
    else:
        raise AssertionError("no receipt")
    assert receipt["status"] == "ready" and receipt["counts"]["failed"] == 0
    results = s3.get_object(Bucket=local["bucket"], Key="outgoing/local/analyst/feb.csv.results.jsonl")["Body"]
    labels = {item["id"]: item["label"] for item in map(json.loads, results.read().decode().splitlines())}
    assert labels == {"k1": "positive", "k2": "negative"}


def test_a_european_excel_file_in_and_out_of_the_cli(local, tmp_path):
    # Given what Excel writes in Germany or France: semicolons, Windows-1252, decimal commas
    source = tmp_path / "europe.csv"
    lines = ["id;review;price"] + [f"{i};{POSITIVE} Très bon, livré à temps;3,50 €" for i in range(60)]
    source.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    out = tmp_path / "europe.results.csv"
    # When it is analysed for Excel
    done = run_cli(local, "analyze", str(source), "--id-field", "id", "--excel", "--out", str(out), "--no-progress")
    # Then every row was read, in the encoding the task names, and the note is printed
    assert done.returncode == 0, done.stderr
    assert "60 analysed of 60 rows" in done.stdout
    assert "note: the file is not UTF-8: it was read as Windows-1252" in done.stderr
    # And the results are UTF-8 with a BOM, between the input's own semicolons, accents intact
    body = out.read_bytes()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 60 and rows[0]["review"].endswith("Très bon, livré à temps") and rows[0]["price"] == "3,50 €"


def test_an_old_xls_workbook_is_refused_with_how_to_save_it(local, tmp_path):
    workbook = tmp_path / "export.xls"
    workbook.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100))
    done = run_cli(local, "analyze", str(workbook))
    assert done.returncode == 2 and "Excel Workbook (.xlsx)" in done.stderr and "Traceback" not in done.stderr


def write_workbook(path, rows=4) -> None:
    """The helpdesk export saved from Excel as .xlsx: a cover sheet, then the tickets with real dates."""
    import datetime as dt

    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Cover"
    book.active.append(["Helpdesk export"])
    sheet = book.create_sheet("Tickets")
    sheet.append(["id", "text", "company", "created_at"])
    for i in range(rows):
        sheet.append(
            [f"t{i}", POSITIVE if i % 2 else NEGATIVE, "acme" if i < 2 else "globex", dt.date(2026, 2, 10 + i)]
        )
    book.save(path)


def test_an_xlsx_workbook_is_checked_then_analysed_from_its_named_sheet(local, api, tmp_path):
    # Given the helpdesk export as an Excel workbook whose tickets are on its second sheet
    source = tmp_path / "helpdesk.xlsx"
    write_workbook(source)
    before = newest_task(local)
    # When it is analysed by a mistyped column of that sheet
    mistyped = run_cli(local, "analyze", str(source), "--sheet", "Tickets", "--group-by", "Company")
    # Then the sheet's header was checked before anything was uploaded
    assert mistyped.returncode == 2 and "did you mean 'company'?" in mistyped.stderr, mistyped.stderr
    assert newest_task(local) == before
    # When it is analysed by its columns
    out = tmp_path / "helpdesk.results.csv"
    done = run_cli(
        local, "analyze", str(source), "--sheet", "tickets", "--id-field", "id", "--group-by", "company",
        "--time-field", "created_at", "--no-progress", "--out", str(out),
    )  # fmt: skip
    # Then every row comes back with the sheet's own columns, dates as a CSV would hold them
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert [(r["id"], r["company"], r["created_at"]) for r in rows] == [
        ("t0", "acme", "2026-02-10"),
        ("t1", "acme", "2026-02-11"),
        ("t2", "globex", "2026-02-12"),
        ("t3", "globex", "2026-02-13"),
    ]
    insights = api.get(f"/v1/tasks/{newest_task(local)}/insights").json()
    assert sum(b["items"] for b in insights["time"]["buckets"]) == 4 and insights["time"]["unreadable_dates"] == 0


def test_this_period_against_the_last_through_compare_to_and_insights(local, tmp_path):
    # Given last month's export, analysed, and this month's, where one company went sour: acme's
    # 20 items were 16 positive and 4 negative (net +0.6), now 4 and 16 (net -0.6)
    def export(path, acme_mostly: str, acme_rarely: str) -> None:
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", "text", "company"])
            for i in range(40):
                acme = i % 2 == 1
                text = (acme_rarely if i % 10 == 1 else acme_mostly) if acme else POSITIVE
                writer.writerow([f"{path.stem}-{i}", text, "acme" if acme else "globex"])

    january, february = tmp_path / "january.csv", tmp_path / "february.csv"
    export(january, POSITIVE, NEGATIVE)
    export(february, NEGATIVE, POSITIVE)
    first = run_cli(local, "analyze", str(january), "--group-by", "company", "--no-progress", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    baseline = newest_task(local)
    # When this month's is analysed against it, and its insights are asked for
    second = run_cli(
        local, "analyze", str(february), "--group-by", "company", "--compare-to", baseline, "--no-progress",
        "--report", cwd=tmp_path,
    )  # fmt: skip
    assert second.returncode == 0, second.stderr
    task_id = newest_task(local)
    table = run_cli(local, "insights", task_id, env_columns=200)
    as_json = run_cli(local, "insights", task_id, "--output", "json")
    # Then the table leads with what changed since the baseline, acme's fall significant, and no
    # p-value printed as a bare 0
    assert table.returncode == 0, table.stderr
    assert table.stdout.lstrip().startswith(f"changes since {baseline}")
    acme = next(line for line in table.stdout.splitlines() if "segment" in line and "acme" in line)
    assert "yes" in acme and "<0.001" in acme
    assert " 0 " not in table.stdout and "by company (worst first)" in table.stdout
    # And the JSON is the API's insights, whole
    found = json.loads(as_json.stdout)
    assert found["comparison"]["baseline_task_id"] == baseline and found["task_id"] == task_id
    # And the report leads with the comparison, names acme's fall in the executive summary, and
    # prints the adjusted p-value as below 0.001, not as 0
    page = (tmp_path / "february.report.html").read_text()
    assert page.index("Compared with the baseline") < page.index("Label distribution")
    summary = page.split('<p id="comparison-summary">', 1)[1].split("</p>", 1)[0]
    assert "significant" in summary and "company: acme net sentiment -1.20" in summary
    assert "&lt;0.001" in page.split('id="comparison-table"', 1)[1]
    # And its segment chart puts the worst segment first
    chart = page.split("<h2>By company</h2>", 1)[1].split("</svg>", 1)[0]
    assert chart.index(">acme<") < chart.index(">globex<")


def test_two_periods_of_one_file_compared_through_the_cli(local, tmp_path):
    # Given one export of two months in which acme went sour: in March its 20 items were 16
    # positive and 4 negative, in April 4 and 16; globex stays positive
    export = tmp_path / "spring.csv"
    with export.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text", "company", "created_at"])
        for month, (mostly, rarely) in ((3, (POSITIVE, NEGATIVE)), (4, (NEGATIVE, POSITIVE))):
            for i in range(40):
                acme = i % 2 == 1
                text = (rarely if i % 10 == 1 else mostly) if acme else POSITIVE
                writer.writerow([f"{month}-{i}", text, "acme" if acme else "globex", f"2026-0{month}-{i % 28 + 1:02d}"])
    # When it is analysed with the periods split at April's first day
    done = run_cli(
        local, "analyze", str(export), "--group-by", "company", "--time-field", "created_at",
        "--compare-at", "2026-04-01", "--no-progress", "--report", cwd=tmp_path,
    )  # fmt: skip
    # Then the CLI's summary names the periods and acme's fall among the significant changes
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("compared from"))
    assert "2026-03-01..2026-03-28 (40 items) to 2026-04-01..2026-04-28 (40 items) by created_at" in line
    assert "significant changes" in line and "company acme net sentiment +0.60 -> -0.60" in line
    # And `insights` leads with the same periods, and the report with its comparison
    table = run_cli(local, "insights", newest_task(local), env_columns=220)
    assert table.stdout.lstrip().startswith("changes from 2026-03-01..2026-03-28")
    page = (tmp_path / "spring.report.html").read_text()
    assert page.index("Compared between periods") < page.index("Label distribution")
    # And without --time-field the API refuses it before anything runs, naming why
    refused = run_cli(local, "analyze", str(export), "--compare-at", "last-bucket", "--out", "again.csv", cwd=tmp_path)
    assert refused.returncode != 0 and "compare-unavailable" in refused.stderr
