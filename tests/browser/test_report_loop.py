"""The analyst's loop in the report, in headless Chromium (issue 22): two periods of one file
compared and leading the page, a trend per segment, categories per segment and over time, and the
reviews behind a category's count and a theme's examples, as escaped text with personal data
replaced. Screenshots are kept in .artifacts/ (git-ignored)."""

from __future__ import annotations

import csv
import io

import pytest
from reviewpulse.results.example_texts import CATEGORY_LISTED
from reviewpulse.results.report_html import MIN_CHART_ITEMS

from tests.browser.test_report_page import ARTIFACTS, browser  # noqa: F401  (the fixture)
from tests.integration.helpers import NEGATIVE, POSITIVE, upload
from tests.integration.test_insights import AIRLINE_COMPLAINTS, AIRLINE_PRAISE

pytestmark = pytest.mark.browser

EMAIL = "jane.doe@example.com"
HOSTILE = "The delivery was late <b>again</b> & again"


def two_months_csv() -> bytes:
    """March: the watch mostly praised; April: the watch mostly panned and late deliveries."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "product", "review", "date"])
    # First by row, so that the category lists them among its first items
    rows = [("2026-03-01", "lamp", f"Awful, the delivery was late. Write to {EMAIL}"), ("2026-03-01", "lamp", HOSTILE)]
    for day in range(1, 29):
        rows.append((f"2026-03-{day:02d}", "watch", POSITIVE[day % 3] if day % 5 else NEGATIVE[day % 3]))
        rows.append((f"2026-03-{day:02d}", "lamp", POSITIVE[day % 3] if day % 2 else NEGATIVE[day % 3]))
        rows.append((f"2026-04-{day:02d}", "watch", NEGATIVE[day % 3] if day % 5 else POSITIVE[day % 3]))
        rows.append((f"2026-04-{day:02d}", "lamp", "The delivery was late, terrible" if day % 2 else POSITIVE[0]))
    for number, (day, product, text) in enumerate(rows, start=1):
        writer.writerow([f"r{number}", product, text, day])
    return out.getvalue().encode()


def test_the_report_leads_with_the_periods_and_reaches_the_reviews_behind_a_number(
    client,
    poller,
    s3,
    bucket,
    browser,  # noqa: F811  (the fixture imported above)
    tmp_path,
):
    # Given one file of two months, compared at April's first day, with a category and themes
    options = {
        "group_by": ["product"],
        "time_field": "date",
        "time_bucket": "week",
        "categories": {"delivery": ["delivery", "delivered"]},
        "compare": {"at": "2026-04-01"},
        "report": True,
    }
    task_id = upload(client, "reviews.csv", two_months_csv(), id_field="id", options=options)
    poller.drain()
    insights = client.call("GET", f"/v1/tasks/{task_id}/insights").json()
    page_file = tmp_path / "report.html"
    page_file.write_bytes(s3.get_object(Bucket=bucket, Key=f"results/acme/{task_id}/report.html")["Body"].read())

    # When Chromium opens it in a laptop-sized window
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(page_file.as_uri())
    page.wait_for_load_state("load")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report-loop.png"), full_page=True)

    # Then the comparison between the periods comes before the label distribution, and names them
    periods = insights["comparison"]["periods"]
    headings = [h.inner_text() for h in page.locator("h2").all()]
    assert headings.index("Compared between periods") < headings.index("Label distribution")
    assert page.locator("#periods").get_attribute("data-at") == periods["at"] == "2026-04-01"
    assert f"({periods['before']['items']} items) (the baseline)" in page.locator("#periods").inner_text()
    watch = next(c for c in insights["comparison"]["changes"] if c["kind"] == "segment" and c["key"] == "watch")
    assert watch["significant"] and watch["change"] < 0
    assert "product: watch net sentiment" in page.locator("#comparison-summary").inner_text()
    # And each listed product has its own trend chart and table, with the API's items per week
    trends = insights["time"]["segments"]
    assert [t["value"] for t in trends] == ["lamp", "watch"]
    assert page.locator("h3.trend").count() == len(trends)
    for index, trend in enumerate(trends):
        cells = page.locator(f"#trend-{index} tbody tr td:nth-child(2)").all()
        assert [int(c.get_attribute("data-value")) for c in cells] == [b["items"] for b in trend["buckets"]]
    # And the category per product and per week shows the API's counts
    (delivery,) = insights["categories"]
    by_segment = page.locator("#categories-by-segment tbody tr").all()
    assert [int(r.locator("td").nth(2).get_attribute("data-value")) for r in by_segment] == [
        s["items"] for s in delivery["segments"]
    ]
    over_time = page.locator("#categories-over-time tbody tr").all()
    assert [r.locator("td").nth(1).inner_text() for r in over_time] == [b["start"] for b in delivery["time"]]
    # And the category's count links to its first items, each of whose entries shows its text
    page.locator("#categories-table a.category-link").click()
    listed = page.locator("p.category-items a.item-link").all()
    assert len(listed) == min(CATEGORY_LISTED, delivery["items"]) and delivery["items"] > CATEGORY_LISTED
    first = page.locator(f'[id="{listed[0].get_attribute("href")[1:]}"]')
    assert "delivery" in first.locator("blockquote.item-text").inner_text().lower()
    # And a theme's example ids reach their reviews too
    theme_ids = {i for t in insights["themes"] for i in t["example_ids"]}
    assert theme_ids
    for item_id in theme_ids:
        entry = page.locator("#examples li", has=page.locator("code", has_text=item_id)).first
        assert entry.locator("blockquote.item-text").inner_text()
    # And texts are escaped and personal data replaced (the task redacts, as by default)
    page_text = page.locator("#examples").inner_text()
    assert EMAIL not in page.content() and "Write to [EMAIL_1]" in page_text
    assert HOSTILE in page_text and page.locator("#examples b").count() == 0
    # And nothing sticks out of the page, and no two date labels of a trend chart overlap
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    for index in range(len(trends)):
        boxes = sorted(
            (t.bounding_box() for t in page.locator(f"#trend-{index}-title ~ text.tick").all()), key=lambda b: b["x"]
        )
        assert boxes and all(a["x"] + a["width"] < b["x"] for a, b in zip(boxes, boxes[1:], strict=False))


def test_the_reports_themes_stand_under_the_categories_they_name_and_the_rest_under_a_plain_heading(
    client,
    poller,
    s3,
    bucket,
    browser,  # noqa: F811  (the fixture imported above)
    tmp_path,
):
    # Given a lexicon batch of airline tickets with themes, and categories of the analyst's own
    texts = [AIRLINE_PRAISE[n % 5] if n % 2 else AIRLINE_COMPLAINTS[n % 5] for n in range(40)]
    data = "id,text\n" + "".join(f'a{number},"{text}"\n' for number, text in enumerate(texts, start=1))
    categories = {
        "delays": ["delay", "late"],
        "baggage": ["bag", "luggage"],
        "staff": ["crew", "agent"],
        "food": ["meal"],
    }
    options = {"engine": "lexicon", "report": True, "categories": categories}
    task_id = upload(client, "tickets.csv", data.encode(), id_field="id", options=options)
    poller.drain()
    insights = client.call("GET", f"/v1/tasks/{task_id}/insights").json()
    page_file = tmp_path / "report.html"
    page_file.write_bytes(s3.get_object(Bucket=bucket, Key=f"results/acme/{task_id}/report.html")["Body"].read())

    # When Chromium opens its report
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(page_file.as_uri())
    page.wait_for_load_state("load")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report-themes.png"), full_page=True)

    # Then each category with themes heads the themes the API lists under it, with their polarity
    grouped = {c["name"]: c["themes"] for c in insights["categories"] if c["themes"]}
    assert set(grouped) == {"delays", "baggage", "staff"}
    assert [h.inner_text() for h in page.locator("#themes h3.theme-category").all()] == list(grouped)
    polarity = {t["phrase"]: t["polarity"] for t in insights["themes"]}
    for name, phrases in grouped.items():
        listed = page.locator(f'#themes ul[data-category="{name}"] > li')
        assert [li.locator(".theme").inner_text() for li in listed.all()] == phrases
        assert [li.locator(".theme-polarity").inner_text() for li in listed.all()] == [polarity[p] for p in phrases]
    # And every other theme is under the plain heading, praise and complaints apart, none lost
    under = {p for phrases in grouped.values() for p in phrases}
    assert page.locator("#themes h3.themes-rest").inner_text() == "Other themes"
    rest = [t for t in insights["themes"] if t["phrase"] not in under]
    for side in ("praise", "complaint"):
        shown = [e.inner_text() for e in page.locator(f"#themes .themes-{side} .theme").all()]
        assert shown == [t["phrase"] for t in rest if t["polarity"] == side]
    assert "legroom" in {t["phrase"] for t in rest}
    # And a grouped theme's example ids still reach their reviews
    first = page.locator('#themes ul[data-category="baggage"] a.item-link').first
    entry = page.locator(f'[id="{first.get_attribute("href")[1:]}"]')
    assert "bags" in entry.locator("blockquote.item-text").inner_text()
    # And nothing sticks out of the page
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_the_segment_bars_run_worst_first_coloured_by_their_sign_and_grey_when_too_few(
    client,
    poller,
    s3,
    bucket,
    browser,  # noqa: F811  (the fixture imported above)
    tmp_path,
):
    # Given airlines: one mostly panned, one mostly praised, one a little better than even, one of
    # too few tickets to read
    plan = {"skyjet": (3, 9), "aerofly": (10, 2), "northair": (7, 5), "tinyair": (MIN_CHART_ITEMS - 8, 1)}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "airline", "text"])
    number = 0
    for airline, (positive, negative) in plan.items():
        for text in [POSITIVE[n % 3] for n in range(positive)] + [NEGATIVE[n % 3] for n in range(negative)]:
            number += 1
            writer.writerow([f"b{number}", airline, text])
    options = {"engine": "lexicon", "group_by": ["airline"]}
    task_id = upload(client, "airlines.csv", out.getvalue().encode(), id_field="id", options=options)
    poller.drain()
    segments = client.call("GET", f"/v1/tasks/{task_id}/insights").json()["segments"][0]["segments"]
    page_file = tmp_path / "report.html"
    page_file.write_bytes(s3.get_object(Bucket=bucket, Key=f"results/acme/{task_id}/report.html")["Body"].read())

    # When Chromium opens its report
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(page_file.as_uri())
    page.wait_for_load_state("load")
    bars = page.locator("#segments-airline-title ~ rect").all()
    labels = [text.text_content() for text in page.locator("#segments-airline-title ~ text").all()]
    fills = [bar.evaluate("bar => getComputedStyle(bar).fill") for bar in bars]

    # Then the bars run from the API's worst net sentiment to its best
    by_value = {s["value"]: s for s in segments}
    worst_first = sorted(by_value, key=lambda value: by_value[value]["net_sentiment"])
    assert [label for label in labels if label in by_value] == worst_first
    # And a bar below zero has one colour, a bar above another, a bar of too few items a third
    signs = {}
    for value, fill in zip(worst_first, fills, strict=True):
        few = by_value[value]["analysed"] < MIN_CHART_ITEMS
        signs.setdefault("few" if few else by_value[value]["net_sentiment"] >= 0, set()).add(fill)
    assert set(signs) == {"few", True, False} and all(len(found) == 1 for found in signs.values())
    assert len({fill for found in signs.values() for fill in found}) == 3
    # And the negative colour is the one the label chart gives negative items
    negative = page.evaluate(
        """() => getComputedStyle([...document.querySelectorAll("rect")].find(
            bar => (bar.querySelector("title")?.textContent || "").startsWith("negative:"))).fill"""
    )
    assert signs[False] == {negative}
