"""The insights' statistics and date reading, against values worked out by hand."""

from __future__ import annotations

from datetime import date

import pytest
from reviewpulse.results.dates import (
    DateOrder,
    SlashDate,
    bucket_for_span,
    bucket_start,
    column_order,
    read_date,
)
from reviewpulse.results.stats import (
    benjamini_hochberg,
    net_sentiment_interval,
    net_sentiment_z_test,
    normal_two_sided_p,
    two_proportion_z_test,
)


def test_the_two_sided_normal_p_value_of_1_96_is_five_percent():
    assert normal_two_sided_p(1.959964) == pytest.approx(0.05, abs=1e-6)
    assert normal_two_sided_p(-2.5758) == pytest.approx(0.01, abs=1e-5)


def test_net_sentiment_interval_is_the_adjusted_multinomial_wald_interval():
    # Given 60 positive and 20 negative of 100, one pseudo-item per class: p+ = 61/103, p− = 21/103,
    # d = 0.388350, var = (p+ + p− − d²) / 103 = 0.0062651, half-width 1.96 × 0.079153 = 0.155135
    low, high = net_sentiment_interval(60, 20, 100)
    assert (low, high) == pytest.approx((0.233214, 0.543485), abs=1e-5)


def test_net_sentiment_interval_is_wide_for_few_items_clipped_and_absent_without_items():
    assert net_sentiment_interval(0, 0, 0) is None
    # One positive item: p+ = 2/4, p− = 1/4, d = 0.25, half-width 1.96 × sqrt(0.6875 / 4) = 0.8126
    low, high = net_sentiment_interval(1, 0, 1)
    assert (low, high) == pytest.approx((-0.562558, 1.0), abs=1e-5)


def test_two_proportion_z_test_matches_the_textbook_example():
    # 30/100 against 20/100: pooled p 0.25, se = sqrt(0.25 × 0.75 × 0.02) = 0.061237, z = 1.633
    test = two_proportion_z_test(30, 100, 20, 100)
    assert test.statistic == pytest.approx(1.63299, abs=1e-4)
    assert test.p_value == pytest.approx(0.10247, abs=1e-4)
    assert two_proportion_z_test(0, 10, 0, 12) is None  # no variance: undefined, not "significant"
    assert two_proportion_z_test(1, 0, 1, 2) is None


def test_net_sentiment_z_test_of_two_batches():
    # d1 = 0.4 (var 0.0064), d2 = 0.1 with 40/30 of 100: var = (0.7 − 0.01) / 100 = 0.0069
    test = net_sentiment_z_test(60, 20, 100, 40, 30, 100)
    assert test.statistic == pytest.approx(0.3 / (0.0064 + 0.0069) ** 0.5, abs=1e-9)


def test_benjamini_hochberg_adjusts_in_the_given_order():
    # Sorted 0.005, 0.01, 0.03, 0.04 → ×4/1, ×4/2, ×4/3, ×4/4 = 0.02, 0.02, 0.04, 0.04 (monotone)
    assert benjamini_hochberg([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert benjamini_hochberg([0.9, 0.8]) == pytest.approx([0.9, 0.9])
    assert benjamini_hochberg([]) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-04", date(2026, 3, 4)),
        ("2026-03-04T23:30:00", date(2026, 3, 4)),
        ("2026-03-04T23:30:00-05:00", date(2026, 3, 5)),  # aware times are bucketed in UTC
        ("2026-03-04T01:00:00Z", date(2026, 3, 4)),
        ("2026/03/04", date(2026, 3, 4)),
        ("04.03.2026", date(2026, 3, 4)),
        ("Wed, 04 Mar 2026 10:00:00 +0000", date(2026, 3, 4)),
        ("1772618400", date(2026, 3, 4)),  # epoch seconds
        ("1772618400000", date(2026, 3, 4)),  # epoch milliseconds
        ("03/04/2026", SlashDate(3, 4, 2026)),
        ("3/4/26", SlashDate(3, 4, 2026)),
        ("", None),
        ("yesterday", None),
        ("2026-02-30", None),
        ("31/31/2026", None),
        ("12", None),
    ],
)
def test_read_date_forms(text, expected):
    assert read_date(text) == expected


# 2026-02-16 23:48:48 at UTC-8 is 2026-02-17 07:48:48 UTC, in every form the reader accepts.
AWARE_LATE_EVENING = [
    "2026-02-16T23:48:48-08:00",
    "2026-02-16 23:48:48 -0800",
    "2026-02-16 23:48:48-08",
    "2026-02-16T23:48:48.125-0800",
    "2026/02/16 23:48:48 -08:00",
    "16.02.2026 23:48:48 -0800",
    "16.02.2026 23:48-08:00",
    "Mon, 16 Feb 2026 23:48:48 -0800",
    "2026-02-17T07:48:48Z",
    "2026-02-17 07:48:48 UTC",
    "1771314528",  # epoch seconds are UTC
    "1771314528000",
]


@pytest.mark.parametrize("text", AWARE_LATE_EVENING)
def test_an_aware_time_is_bucketed_on_its_utc_date_whatever_its_form(text):
    assert read_date(text) == date(2026, 2, 17)


@pytest.mark.parametrize(
    ("text", "order"),
    [("02/16/2026 23:48:48 -0800", DateOrder.MONTH_FIRST), ("16/02/2026 11:48:48 PM -08:00", DateOrder.DAY_FIRST)],
)
def test_an_aware_slash_date_is_bucketed_on_its_utc_date_once_the_order_is_known(text, order):
    assert read_date(text).read(order) == date(2026, 2, 17)


@pytest.mark.parametrize(
    "text",
    ["2026-02-16 23:48:48", "2026-02-16T23:48", "16.02.2026 23:48", "2026/02/16 23:48:48", "2026-02-16 11:48 PM"],
)
def test_a_time_without_an_offset_is_bucketed_on_the_date_written(text):
    assert read_date(text) == date(2026, 2, 16)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-02-17 00:30 +0200", date(2026, 2, 16)),  # east of UTC, just after midnight: the day before
        ("2026-12-31T23:30:00-01:00", date(2027, 1, 1)),  # across a year
        ("2026-02-16T24:30+01:00", None),  # no such time: unreadable, not guessed
        ("2026-02-16T10:00+25:00", None),
    ],
)
def test_offsets_move_a_date_both_ways_and_impossible_times_are_unreadable(text, expected):
    assert read_date(text) == expected


def test_slash_dates_are_read_in_the_order_the_whole_column_allows():
    assert column_order(first_over_12=3, second_over_12=0)[0] is DateOrder.DAY_FIRST
    assert column_order(first_over_12=0, second_over_12=2)[0] is DateOrder.MONTH_FIRST
    order, note = column_order(first_over_12=0, second_over_12=0)
    assert order is DateOrder.MONTH_FIRST and "assumed" in note
    order, note = column_order(first_over_12=1, second_over_12=5)
    assert order is DateOrder.MONTH_FIRST and "mixes" in note
    assert SlashDate(3, 4, 2026).read(DateOrder.DAY_FIRST) == date(2026, 4, 3)
    assert SlashDate(3, 4, 2026).read(DateOrder.MONTH_FIRST) == date(2026, 3, 4)
    assert SlashDate(13, 4, 2026).read(DateOrder.MONTH_FIRST) is None


def test_buckets_start_on_mondays_and_first_days_and_follow_the_span():
    assert bucket_start(date(2026, 3, 4), "week") == date(2026, 3, 2)  # a Wednesday → its Monday
    assert bucket_start(date(2026, 3, 4), "month") == date(2026, 3, 1)
    assert bucket_for_span(date(2026, 1, 1), date(2026, 2, 1)) == "day"
    assert bucket_for_span(date(2026, 1, 1), date(2026, 9, 1)) == "week"
    assert bucket_for_span(date(2023, 1, 1), date(2026, 1, 1)) == "month"
