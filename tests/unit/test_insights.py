"""The insights builder: segments with their cap and "other", time buckets, aspects, warnings."""

from __future__ import annotations

import pytest
from reviewpulse.analysis.options import AnalysisOptions
from reviewpulse.ingest.readers.rows import Row
from reviewpulse.results.categories import FEW_KEYS, CategoryMatcher, singular
from reviewpulse.results.insights_builder import InsightsBuilder
from reviewpulse.results.model import AspectResult, ItemError, ItemResult


def result(number: int, label: str | None, score: float = 0.0, aspects=None) -> ItemResult:
    if label is None:
        return ItemResult(row=number, id=str(number), error=ItemError(code="empty-text", detail="empty"))
    return ItemResult(row=number, id=str(number), label=label, score=score, aspects=aspects)


def row(number: int, **columns: str) -> Row:
    return Row(number=number, id=str(number), text="t", error=None, columns=columns)


def test_segments_count_every_item_once_with_shares_and_net_sentiment():
    # Given three products: A with 2 positive and 1 negative, B with 1 neutral and 1 failed row
    builder = InsightsBuilder("t1", AnalysisOptions(group_by=["product"]), ["product", "text"])
    feed = [("A", "positive", 0.8), ("A", "positive", 0.6), ("A", "negative", -0.5), ("B", "neutral", 0.0)]
    for number, (product, label, score) in enumerate(feed, start=1):
        builder.add(result(number, label, score), row(number, product=product))
    builder.add(result(5, None), row(5, product="B"))
    builder.add(result(6, "positive", 0.5), row(6, product=""))

    # When the insights are built
    insights = builder.build()

    # Then A comes first with its counts, shares and net sentiment (2 − 1) / 3
    (column,) = insights.segments
    a, b, blank = column.segments
    assert (a.value, a.items, a.analysed, a.counts["positive"], a.counts["negative"]) == ("A", 3, 3, 2, 1)
    assert a.shares["positive"] == round(2 / 3, 4)
    assert a.net_sentiment == round(1 / 3, 4)
    assert a.mean_score == round(0.9 / 3, 4)
    low, high = a.net_sentiment_ci95
    assert low < a.net_sentiment < high
    # And the failed row counts as an item of B but not in its shares; a blank value is null
    assert (b.value, b.items, b.analysed, b.net_sentiment) == ("B", 2, 1, 0.0)
    assert (blank.value, blank.items) == (None, 1)
    assert column.other is None
    # And the overall numbers add up to every row
    assert insights.overall.items == 6
    assert sum(s.items for s in column.segments) == 6


def test_more_values_than_the_cap_fold_into_other_and_nothing_is_lost():
    # Given caps of 3 listed and 5 followed values (the same code path as 200 and 2,000)
    builder = InsightsBuilder("t1", AnalysisOptions(group_by=["store"]), ["store"], max_segments=3, max_tracked=5)
    number = 0
    # store-0 has 10 items, store-1 9, ... store-7 3: eight values, the last three never followed
    for value in range(8):
        for _ in range(10 - value):
            number += 1
            builder.add(result(number, "positive" if value % 2 else "negative"), row(number, store=f"store-{value}"))

    # When built
    (column,) = builder.build().segments

    # Then the three largest are listed and every other item is in "other"
    assert [s.value for s in column.segments] == ["store-0", "store-1", "store-2"]
    assert column.other.items == number - (10 + 9 + 8)
    assert sum(s.items for s in column.segments) + column.other.items == number
    assert column.distinct_values == 6  # five followed, and the rest counted together


def test_time_buckets_read_an_ambiguous_column_in_one_order_and_count_unreadable_dates():
    # Given slash dates where one value (25/03/2026) shows the column is day-first
    builder = InsightsBuilder("t1", AnalysisOptions(time_field="when", time_bucket="month"), ["when"])
    dates = ["03/04/2026", "05/04/2026", "25/03/2026", "not a date", ""]
    for number, value in enumerate(dates, start=1):
        builder.add(result(number, "positive"), row(number, when=value))

    # When built
    time = builder.build().time

    # Then 03/04 and 05/04 are April, 25/03 is March, and the two others are unreadable
    assert [(b.start.isoformat(), b.items) for b in time.buckets] == [("2026-03-01", 1), ("2026-04-01", 2)]
    assert time.unreadable_dates == 2
    assert "day/month" in time.date_order
    assert (time.bucket, time.bucket_source) == ("month", "requested")


def test_the_default_bucket_follows_the_span_of_the_dates():
    builder = InsightsBuilder("t1", AnalysisOptions(time_field="when"), ["when"])
    for number, value in enumerate(["2026-01-01", "2026-01-03", "2026-01-03"], start=1):
        builder.add(result(number, "negative"), row(number, when=value))
    time = builder.build().time
    assert (time.bucket, time.bucket_source) == ("day", "from-span")
    assert [(b.start.isoformat(), b.items, b.net_sentiment) for b in time.buckets] == [
        ("2026-01-01", 1, -1.0),
        ("2026-01-03", 2, -1.0),
    ]


def test_named_aspects_are_counted_among_the_items_that_mention_them():
    builder = InsightsBuilder("t1", AnalysisOptions(aspects=["battery", "price"]), None)
    builder.add(result(1, "positive", aspects=[AspectResult(aspect="battery", label="positive")]), None)
    builder.add(result(2, "negative", aspects=[AspectResult(aspect="battery", label="negative")]), None)
    builder.add(result(3, "negative", aspects=[AspectResult(aspect="battery", label="not_mentioned")]), None)
    battery, price = builder.build().aspects
    assert (battery.aspect, battery.mentioned, battery.net_sentiment) == ("battery", 2, 0.0)
    assert (price.mentioned, price.net_sentiment) == (0, None)


def test_unknown_columns_become_warnings_and_the_rest_is_still_built():
    builder = InsightsBuilder(
        "t1", AnalysisOptions(group_by=["product", "shop"], time_field="date"), ["product", "review"]
    )
    builder.add(result(1, "positive"), row(1, product="A", review="x"))
    insights = builder.build()
    assert [w.code for w in insights.warnings] == ["group-by-column-not-found", "time-field-not-found"]
    assert [c.column for c in insights.segments] == ["product"]
    assert insights.time is None


def test_named_aspects_are_counted_per_segment_and_per_time_bucket_too():
    # Given battery praised on watch items in January and panned on a lamp item in February
    options = AnalysisOptions(aspects=["battery"], group_by=["product"], time_field="when", time_bucket="month")
    builder = InsightsBuilder("t1", options, ["product", "when"])
    feed = [
        ("watch", "2026-01-05", "positive"),
        ("watch", "2026-01-09", "positive"),
        ("lamp", "2026-02-01", "negative"),
    ]
    for number, (product, when, label) in enumerate(feed, start=1):
        aspects = [AspectResult(aspect="Battery", label=label)]  # matched without case
        builder.add(result(number, label, aspects=aspects), row(number, product=product, when=when))

    # When built
    insights = builder.build()

    # Then each segment and each bucket carries the aspect among its own items
    by_product = {s.value: s.aspects[0] for s in insights.segments[0].segments}
    assert (by_product["watch"].mentioned, by_product["watch"].net_sentiment) == (2, 1.0)
    assert (by_product["lamp"].mentioned, by_product["lamp"].net_sentiment) == (1, -1.0)
    by_month = {b.start.isoformat(): b.aspects[0] for b in insights.time.buckets}
    assert by_month["2026-01-01"].counts["positive"] == 2 and by_month["2026-02-01"].counts["negative"] == 1
    assert insights.aspects[0].mentioned == 3


def test_categories_count_the_items_whose_text_holds_one_of_their_terms():
    # Given categories an analyst defines, and airline tickets: two about delays (one negative, one
    # positive), one about baggage and delays, one about neither, one failed row about baggage
    options = AnalysisOptions(
        categories={"delays": ["late", "delayed flight"], "baggage": ["bag", "luggage"], "food": ["meal"]}
    )
    builder = InsightsBuilder("t1", options, ["text"])
    tickets = [
        ("negative", "Our DELAYED\nflight left three hours after boarding"),
        ("positive", "A little late but the crew were lovely"),
        ("negative", "Lost my bag and the flight was late"),
        ("neutral", "Latest booking went through; no baggage issues"),  # latest, baggage: not the terms
    ]
    for number, (label, text) in enumerate(tickets, start=1):
        builder.add(result(number, label), Row(number, str(number), text, None, {"text": text}))
    builder.add(result(5, None), Row(5, "5", "luggage", None, {"text": "luggage"}))
    # When the insights are built
    categories = {c.name: c for c in builder.build().categories}
    # Then each category counts its own items, in the options' order, a phrase across a line break
    # and any case included, whole words only
    assert list(categories) == ["delays", "baggage", "food"]
    delays, baggage, food = categories["delays"], categories["baggage"], categories["food"]
    assert (delays.items, delays.counts["negative"], delays.counts["positive"]) == (3, 2, 1)
    assert delays.net_sentiment == round((1 - 2) / 3, 4) and delays.example_ids == ["1", "2", "3"]
    # And the failed row counts as an item of its category, not in its shares
    assert (baggage.items, baggage.analysed, baggage.example_ids) == (2, 1, ["3", "5"])
    assert (food.items, food.net_sentiment, food.example_ids) == (0, None, [])


def test_no_categories_asked_means_none_listed():
    builder = InsightsBuilder("t1", AnalysisOptions(), ["text"])
    builder.add(result(1, "positive"), Row(1, "1", "late bag", None, {"text": "late bag"}))
    assert builder.build().categories == []


def airline_tickets(count: int) -> list[tuple[str, str]]:
    """Generated tickets: complaints about delays and lost bags and a rude agent, praise for the
    cabin crew and the legroom (labels as an engine would give them)."""
    complaints = [
        "Flight delays again, we waited for hours",
        "Lost bags at the carousel, nobody knew where",
        "The gate agent was rude about our bags",
        "More delays and no explanation",
        "Checked bags arrived damaged",
    ]
    praise = [
        "The cabin crew were lovely",
        "Legroom was generous and seats comfy",
        "Cabin crew made the trip",
        "Smooth boarding and friendly cabin crew",
        "Great legroom on the new plane",
    ]
    return [
        ("positive", praise[n % len(praise)]) if n % 2 else ("negative", complaints[n % len(complaints)])
        for n in range(count)
    ]


def test_themes_found_without_an_llm_are_grouped_under_the_categories_they_name():
    # Given generated airline tickets with themes asked for, and categories named in the singular
    categories = {
        "delays": ["delay", "late"],
        "baggage": ["bag", "luggage"],
        "staff": ["crew", "agent"],
        "food": ["meal"],
    }
    builders = [
        InsightsBuilder("t1", AnalysisOptions(report=True, categories=categories), ["text"]),
        InsightsBuilder("t2", AnalysisOptions(report=True), ["text"]),
    ]
    for number, (label, text) in enumerate(airline_tickets(120), start=1):
        for builder in builders:
            builder.add(result(number, label), Row(number, str(number), text, None, {"text": text}))
    # When the insights are built, with the categories and without
    insights, plain = (builder.build() for builder in builders)
    grouped = {c.name: c.themes for c in insights.categories}
    phrases = [t.phrase for t in insights.themes]
    # Then the batch's themes are the same with categories or without: none is dropped
    assert phrases == [t.phrase for t in plain.themes] and plain.categories == []
    # And a theme in the plural is under the category that names it in the singular
    assert "delays" in grouped["delays"] and "bags" in grouped["baggage"]
    # And a phrase that holds a term is under its category, however many categories it names
    assert {"cabin crew", "agent"} <= set(grouped["staff"])
    # And the category lists them in the themes' order, and a theme naming no category is under none
    for name, listed in grouped.items():
        assert listed == [p for p in phrases if p in listed], name
    assert "legroom" in phrases and all("legroom" not in listed for listed in grouped.values())
    assert grouped["food"] == []


@pytest.mark.parametrize("filler_terms", [0, FEW_KEYS + 1])
def test_category_terms_match_as_words_whatever_their_punctuation_or_case(filler_terms):
    # Given terms with punctuation inside or before them, one without any word character, one in
    # another case (the matcher skips a category whose terms' first words a text lacks, told by
    # substrings for a few terms and by the text's words for many: a category of filler terms)
    categories = {"wifi": ["wi-fi"], "handle": ["@united"], "sad": [":("], "street": ["STRASSE"]}
    matcher = CategoryMatcher(
        categories | ({"filler": [f"zz{i}" for i in range(filler_terms)]} if filler_terms else {})
    )
    # When texts are matched; Then each is in the categories whose terms it holds as whole words
    assert matcher.of("The Wi-Fi dropped twice") == ["wifi"]
    assert matcher.of("wifi and wi fi are other words") == []
    assert matcher.of("Thanks @United :(") == ["handle", "sad"]
    assert matcher.of("thanks united") == []
    assert matcher.of("Die Hauptstraße ist laut, die Straße auch") == ["street"]
    # And a theme's plural words count as their singulars
    assert [singular(w) for w in ("batteries", "boxes", "delays", "glass", "status", "bus")] == [
        "battery",
        "box",
        "delay",
        "glass",
        "status",
        "bus",
    ]
