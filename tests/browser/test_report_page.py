"""The HTML report in a real browser: the system's headless Chromium, driven by Playwright.

Given a task run through the whole pipeline under moto, its report.html is opened from a file (as
a downloaded report or a presigned link is opened: one self-contained document). The page must
load with no console errors and no network requests, show the same numbers as the API, and show
customer text as text. A screenshot is kept in .artifacts/ (git-ignored).
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import sync_playwright
from reviewpulse.results.report_html import MIN_CHART_ITEMS
from reviewpulse.results.report_parts import time_chart

from tests.integration.test_pipeline import NEGATIVE, POSITIVE, upload

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / ".artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HOSTILE_REVIEW = "I love it <script>window.__pwned = true</script> great battery life"
HOSTILE_PRODUCT = '<img src="https://example.invalid/x.png" onerror="window.__pwned = true">'


def batch_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "product", "review", "date"])
    rows = [(p, "watch") for p in POSITIVE] + [(n, "vacuum") for n in NEGATIVE]
    rows += [("The battery life is great, love it", "watch")] * 3 + [("Great battery life, happy", "lamp")]
    rows += [(HOSTILE_REVIEW, HOSTILE_PRODUCT)]
    for number, (text, product) in enumerate(rows, start=1):
        writer.writerow([f"r{number}", product, text, f"2026-01-{number:02d}"])
    return out.getvalue().encode()


@pytest.fixture
def browser():
    assert CHROMIUM.exists(), "the browser test needs Debian's chromium: `make chromium` (or make test) installs it"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def test_the_report_opens_offline_and_shows_the_apis_numbers(client, poller, s3, bucket, browser, tmp_path):
    # Given a ready task with segments, a time axis and themes, one of whose rows is hostile HTML
    options = {"group_by": ["product"], "time_field": "date", "report": True}
    task_id = upload(client, "reviews.csv", batch_csv(), id_field="id", options=options)
    poller.drain()
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    insights = client.call("GET", f"/v1/tasks/{task_id}/insights").json()
    assert task["status"] == "ready"
    # And its report linked from the task, presigned for its own object
    assert urlparse(task["links"]["report"]).path.endswith(f"/results/acme/{task_id}/report.html")
    page_file = tmp_path / "report.html"
    page_file.write_bytes(s3.get_object(Bucket=bucket, Key=f"results/acme/{task_id}/report.html")["Body"].read())

    # When Chromium opens it
    page = browser.new_page()
    requests, errors = [], []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(page_file.as_uri())
    page.wait_for_load_state("load")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)

    # Then it loaded nothing but itself, and nothing complained
    assert requests == [page_file.as_uri()]
    assert errors == []
    # And the headline numbers are the API's
    overall = insights["overall"]
    for metric in ("items", "analysed", "net_sentiment", "mean_score"):
        shown = page.locator(f'#headline [data-metric="{metric}"]').get_attribute("data-value")
        assert float(shown) == pytest.approx(overall[metric]), metric
    # And each segment's row says what the API says
    table = page.locator("#segments-product tbody tr")
    rows = {}
    for index in range(table.count()):
        cells = table.nth(index).locator("td")
        rows[cells.nth(0).inner_text()] = (
            int(cells.nth(1).get_attribute("data-value")),
            float(cells.nth(2).get_attribute("data-value")),
        )
    expected = {s["value"]: (s["items"], s["net_sentiment"]) for s in insights["segments"][0]["segments"]}
    assert rows == expected
    # And the time table has one row per bucket, the themes list the API's top praise
    assert page.locator("#time-table tbody tr").count() == len(insights["time"]["buckets"])
    praise = [t["phrase"] for t in insights["themes"] if t["polarity"] == "praise"]
    assert page.locator(".themes-praise .theme").first.inner_text() == praise[0]
    # And every chart has a title and a table after it
    figures = page.locator("figure").count()
    assert page.locator("figure > svg[role=img] > title").count() == figures >= 3
    assert page.locator("figure + table, figure + details > table").count() == figures
    # And the hostile review and product are shown as text, never run
    assert page.evaluate("window.__pwned") is None
    assert HOSTILE_PRODUCT in page.locator("#segments-product").inner_text()
    assert page.locator("script").count() == 0 and page.locator("img").count() == 0
    # And without labelled rows it says plainly that its labels were not measured on this data
    assert page.locator("#trust").get_attribute("data-measured") == "false"
    assert page.locator("#trust").inner_text().startswith("These labels were not measured on your data")


def labelled_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "product", "review", "stars"])
    rows = [(p, "watch", "5") for p in POSITIVE] + [(n, "vacuum", "1") for n in NEGATIVE]
    rows += [("Not bad at all, it works", "watch", "4"), ("It arrived on Monday", "lamp", "3")]
    rows += [("I love it, works great", "lamp", "2"), ("Fine I guess", "lamp", "great")]
    for number, (text, product, stars) in enumerate(rows, start=1):
        writer.writerow([f"r{number}", product, text, stars])
    return out.getvalue().encode()


def test_a_labelled_batchs_report_shows_its_evaluation_and_says_how_sure_it_is(
    client, poller, s3, bucket, browser, tmp_path
):
    # Given a ready task whose rows carry star ratings (one unreadable), cut by product
    options = {"group_by": ["product"], "label_field": "stars", "report": True}
    task_id = upload(client, "reviews.csv", labelled_csv(), id_field="id", options=options)
    poller.drain()
    task = client.call("GET", f"/v1/tasks/{task_id}").json()
    insights = client.call("GET", f"/v1/tasks/{task_id}/insights").json()
    evaluation = insights["evaluation"]
    page_file = tmp_path / "report.html"
    page_file.write_bytes(s3.get_object(Bucket=bucket, Key=f"results/acme/{task_id}/report.html")["Body"].read())

    # When Chromium opens its report
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(page_file.as_uri())
    page.wait_for_load_state("load")
    page.screenshot(path=str(ARTIFACTS / "report-evaluation.png"), full_page=True)

    # Then it says, visibly, that its labels were measured on the customer's rows, as the task does
    assert errors == []
    trust = page.locator("#trust")
    assert trust.is_visible() and trust.get_attribute("data-measured") == "true"
    assert trust.inner_text() == task["headline"]["statement"] == insights["headline"]["statement"]
    # And the figures are the API's
    for metric in ("accuracy", "macro_f1", "ece"):
        shown = page.locator(f'[data-metric="{metric}"]').get_attribute("data-value")
        assert float(shown) == pytest.approx(evaluation[metric]), metric
    # And the confusion matrix's table is the API's matrix, row by row
    rows = page.locator("#confusion-table tbody tr")
    shown = [
        [int(cell.get_attribute("data-value")) for cell in rows.nth(i).locator("td.num").all()]
        for i in range(rows.count())
    ]
    assert shown == evaluation["confusion"]["matrix"]
    # And the reliability table has one row per bin, with the API's items
    bins = page.locator("#reliability-table tbody tr")
    assert [int(bins.nth(i).locator("td").nth(1).get_attribute("data-value")) for i in range(bins.count())] == [
        b["items"] for b in evaluation["reliability"]
    ]
    # And the counted and adjusted shares are both shown, and named
    adjusted = insights["adjusted"]["overall"]["shares"]
    table = page.locator("#adjusted-table tbody tr")
    first = table.nth(0).locator("td")
    assert first.nth(0).inner_text() == adjusted[0]["label"]
    assert float(first.nth(1).get_attribute("data-value")) == pytest.approx(adjusted[0]["observed"])
    assert float(first.nth(2).get_attribute("data-value")) == pytest.approx(adjusted[0]["adjusted"])
    assert "Counted" in page.locator("#adjusted-table thead").inner_text()
    # And the square charts keep their drawn size (only the wide ones stretch to the page)
    for chart in ("confusion-title", "reliability-title"):
        svg = page.locator(f'figure > svg[aria-labelledby="{chart}"]')
        assert svg.bounding_box()["width"] <= float(svg.get_attribute("width"))
    # And every chart still has a title and a table after it
    figures = page.locator("figure").count()
    assert page.locator("figure > svg[role=img] > title").count() == figures
    assert page.locator("figure + table, figure + details > table").count() == figures


ODD_ID = 'x"<1> &y'  # an item id no HTML id or href could hold as it is


def dated_csv() -> bytes:
    """Five busy days (a dozen mixed reviews each) and one quiet day at the end (one review)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "product", "review", "date"])
    texts = POSITIVE + NEGATIVE + ["The battery died, terrible battery", "Great battery, love it"]
    rows = [(f"2026-03-{day:02d}", texts[(day + n) % len(texts)]) for day in range(2, 7) for n in range(12)]
    rows.append(("2026-03-09", "Awful support and a horrible smell"))
    for number, (day, text) in enumerate(rows, start=1):
        writer.writerow([ODD_ID if number == 1 else f"r{number}", "watch" if number % 2 else "lamp", text, day])
    return out.getvalue().encode()


def test_the_reports_charts_span_the_page_name_their_dates_mark_small_buckets_and_link_examples(
    client, poller, s3, bucket, browser, tmp_path
):
    # Given a ready task over six days, the last of one review only, with categories and themes
    options = {
        "group_by": ["product"],
        "time_field": "date",
        "time_bucket": "day",
        "categories": {"delivery": ["delivery"], "battery": ["battery"]},
        "report": True,
    }
    task_id = upload(client, "reviews.csv", dated_csv(), id_field="id", options=options)
    poller.drain()
    insights = client.call("GET", f"/v1/tasks/{task_id}/insights").json()
    page_file = tmp_path / "report.html"
    page_file.write_bytes(s3.get_object(Bucket=bucket, Key=f"results/acme/{task_id}/report.html")["Body"].read())

    # When Chromium opens its report in a laptop-sized window
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(page_file.as_uri())
    page.wait_for_load_state("load")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report-dated.png"), full_page=True)

    # Then every chart is as wide as the text around it, and nothing sticks out of the page
    body_width = page.evaluate("document.body.clientWidth")
    for svg in page.locator("figure > svg").all():
        assert svg.bounding_box()["width"] >= 0.9 * body_width
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    # And the time axis names several dates, each the start of one of the API's buckets, none overlapping
    buckets = {b["start"]: b for b in insights["time"]["buckets"]}
    ticks = page.locator("#time-title ~ text.tick").all()
    assert len(ticks) >= 3
    assert {tick.get_attribute("data-date") for tick in ticks} <= set(buckets)
    boxes = sorted((tick.bounding_box() for tick in ticks), key=lambda box: box["x"])
    assert all(left["x"] + left["width"] < right["x"] for left, right in zip(boxes, boxes[1:], strict=False))
    # And exactly the buckets of too few analysed items are drawn and listed as uncertain
    small = {start for start, b in buckets.items() if b["analysed"] < MIN_CHART_ITEMS}
    assert small and small != set(buckets)
    # (on the batch's own time chart: the trends per segment have their own small buckets)
    drawn = {c.get_attribute("data-date") for c in page.locator("#time-title ~ circle.small-bucket").all()}
    assert drawn == small
    assert page.locator("#time-table tr.small-bucket").count() == len(small)
    # And so are exactly the categories of too few analysed items, in their chart and their table
    few = {c["name"] for c in insights["categories"] if c["analysed"] < MIN_CHART_ITEMS}
    assert few and few != {c["name"] for c in insights["categories"]}
    assert {row.locator("td").first.inner_text() for row in page.locator("#categories-table tr.small").all()} == few
    assert page.locator("#categories-title ~ rect.small").count() == len(few)
    # And every example id of the themes and categories links to an entry on the page holding that id
    named = {i for t in insights["themes"] for i in t["example_ids"]}
    named |= {i for c in insights["categories"] for i in c["example_ids"]}
    assert ODD_ID in named
    links = page.locator("a.item-link").all()
    # (the categories' lists of their first items add links of their own: tests/browser/test_report_loop.py)
    assert named <= {link.inner_text() for link in links}
    for link in links:
        target = page.locator(f'[id="{link.get_attribute("href")[1:]}"]')
        assert target.count() == 1
        assert target.locator("code").inner_text() == link.inner_text()
    # And following one scrolls to its entry
    page.locator("a.item-link", has_text=ODD_ID).first.click()
    assert page.evaluate("decodeURIComponent(location.hash)") == page.locator(
        "a.item-link", has_text=ODD_ID
    ).first.get_attribute("href")


def bucket_starts(bucket: str, count: int) -> list[date]:
    if bucket == "month":
        return [date(2024 + i // 12, i % 12 + 1, 1) for i in range(count)]
    step = timedelta(days=7 if bucket == "week" else 1)
    return [date(2024, 1, 1) + i * step for i in range(count)]


@pytest.mark.parametrize("bucket", ["day", "week", "month"])
def test_a_long_time_axis_names_its_buckets_dates_without_labels_overlapping(browser, bucket):
    # Given a long series of buckets whose first and last are nearly empty
    starts = bucket_starts(bucket, 120)
    points = [
        (start, ((i % 7) - 3) / 4, (((i % 7) - 3) / 4 - 0.2, ((i % 7) - 3) / 4 + 0.2), 1 if i in (0, 119) else 40)
        for i, start in enumerate(starts)
    ]
    svg = time_chart(points, "A long series", "long-title", bucket=bucket, min_items=MIN_CHART_ITEMS)

    # When Chromium draws its chart at a narrow and at a wide page width
    for width in (480, 1400):
        page = browser.new_page(viewport={"width": width, "height": 800})
        page.set_content(
            f"<style>svg{{width:100%;height:auto}} svg text{{font-size:13px}}</style><figure>{svg}</figure>"
        )

        # Then its ticks are dates of buckets, several, spread over the series, and none overlaps another
        ticks = page.locator("text.tick").all()
        dates = [date.fromisoformat(tick.get_attribute("data-date")) for tick in ticks]
        assert set(dates) <= set(starts) and len(dates) >= 5
        assert dates[0] == starts[0] and dates[-1] >= starts[-1] - (starts[-1] - starts[0]) / 8
        boxes = [tick.bounding_box() for tick in ticks]
        assert all(left["x"] + left["width"] < right["x"] for left, right in zip(boxes, boxes[1:], strict=False))
        assert all(box["x"] >= 0 and box["x"] + box["width"] <= width for box in boxes)
        # And the two nearly empty buckets, and only they, are drawn as uncertain
        assert [c.get_attribute("data-date") for c in page.locator("circle.small-bucket").all()] == [
            starts[0].isoformat(),
            starts[-1].isoformat(),
        ]
        page.close()
