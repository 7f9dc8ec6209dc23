"""The local gateway's usage plan (token bucket and quota, as API Gateway applies them per API key)
and its choice of response coding, with a test clock: no timing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from reviewpulse_tools.local.apigateway import Quota, UsagePlanThrottle, api_settings, chosen_coding


class Clock:
    def __init__(self, at: datetime) -> None:
        self.now = at.timestamp()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


NOON = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # a Monday


def test_a_burst_at_one_instant_admits_exactly_the_burst():
    # Given a plan of 2 a second with a burst of 5, and a clock that does not move
    plan = UsagePlanThrottle(rate=2, burst=5, clock=Clock(NOON))
    # When 8 requests arrive at once
    answers = [plan.check("key-a") for _ in range(8)]
    # Then the first 5 pass and exactly the 3 over the burst are refused, each told to retry in 1 s
    assert [a is None for a in answers] == [True] * 5 + [False] * 3
    assert {a.retry_after for a in answers[5:]} == {1}
    assert all("rate limit" in a.detail for a in answers[5:])


def test_the_bucket_refills_at_the_rate_and_never_above_the_burst():
    clock = Clock(NOON)
    plan = UsagePlanThrottle(rate=2, burst=3, clock=clock)
    assert [plan.admit("k") for _ in range(4)] == [True, True, True, False]
    # Half a second at 2 a second is one token back
    clock.advance(0.5)
    assert [plan.admit("k") for _ in range(2)] == [True, False]
    # An hour refills the bucket to its burst, not beyond
    clock.advance(3600)
    assert [plan.admit("k") for _ in range(4)] == [True, True, True, False]


def test_a_slow_rate_says_how_long_until_the_next_token():
    plan = UsagePlanThrottle(rate=0.1, burst=1, clock=Clock(NOON))
    assert plan.check("k") is None
    assert plan.check("k").retry_after == 10


def test_keys_have_buckets_of_their_own():
    plan = UsagePlanThrottle(rate=1, burst=1, clock=Clock(NOON))
    assert [plan.admit("a"), plan.admit("a"), plan.admit("b")] == [True, False, True]


def test_a_daily_quota_refuses_until_midnight_utc_and_then_resets():
    # Given a plan with a quota of 3 a day and a generous rate
    clock = Clock(NOON)
    plan = UsagePlanThrottle(rate=100, burst=100, clock=clock, quota=Quota(limit=3, period="DAY"))
    assert [plan.check("k") is None for _ in range(3)] == [True] * 3
    # When a fourth comes at noon
    refused = plan.check("k")
    # Then it is refused until midnight UTC, twelve hours away, and says so
    assert refused is not None and refused.retry_after == 12 * 3600
    assert "2026-12-01T00:00:00Z" in refused.detail
    # And a refused request did not count: one second before midnight it is still refused
    clock.advance(12 * 3600 - 1)
    assert plan.check("k").retry_after == 1
    # When the day turns, the quota is whole again
    clock.advance(1)
    assert [plan.check("k") is None for _ in range(4)] == [True, True, True, False]


def test_the_offset_lowers_only_the_first_period():
    clock = Clock(NOON)
    plan = UsagePlanThrottle(rate=100, burst=100, clock=clock, quota=Quota(limit=3, period="DAY", offset=2))
    assert [plan.admit("k") for _ in range(2)] == [True, False]
    clock.advance(86_400)
    assert [plan.admit("k") for _ in range(4)] == [True, True, True, False]


@pytest.mark.parametrize(
    ("period", "at", "start", "end"),
    [
        ("DAY", NOON, datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)),
        (
            "WEEK",
            datetime(2026, 12, 3, 8, tzinfo=UTC),
            datetime(2026, 11, 30, tzinfo=UTC),
            datetime(2026, 12, 7, tzinfo=UTC),
        ),
        (
            "MONTH",
            datetime(2026, 12, 31, 23, tzinfo=UTC),
            datetime(2026, 12, 1, tzinfo=UTC),
            datetime(2027, 1, 1, tzinfo=UTC),
        ),
    ],
)
def test_quota_periods_are_utc_calendar_periods(period, at, start, end):
    assert Quota(limit=1, period=period).bounds(at.timestamp()) == (start.timestamp(), end.timestamp())


def test_the_plan_comes_from_the_template_with_its_parameters():
    settings = api_settings(parameters={"ThrottleRateLimit": 3, "QuotaLimit": 7, "QuotaPeriod": "WEEK"})
    plan = UsagePlanThrottle.of_template(settings)
    assert (plan.rate, plan.burst, plan.quota) == (3.0, 40, Quota(limit=7, period="WEEK"))
    assert settings["minimum_compression_size"] == 1024


@pytest.mark.parametrize(
    ("accept", "coding"),
    [
        ("gzip", "gzip"),
        ("gzip, deflate, br", "gzip"),
        ("deflate, gzip", "deflate"),
        ("br;q=1.0, gzip;q=0.8", None),  # the preferred coding is one API Gateway lacks
        ("gzip;q=0.5, deflate;q=0.9", "deflate"),
        ("identity", None),
        ("gzip;q=0", None),
        ("*", "gzip"),
        ("", None),
        (None, None),
        ("GZIP", "gzip"),
        ("gzip;q=abc, deflate", "deflate"),
    ],
)
def test_the_coding_is_the_clients_preferred_one_when_api_gateway_has_it(accept, coding):
    assert chosen_coding(accept) == coding


@pytest.mark.parametrize(
    ("pair", "says"),
    [
        ("Nope=1", "no parameter 'Nope'"),
        ("ThrottleRateLimit=fast", "must be a number"),
        ("ThrottleRateLimit=0", "at least 1"),
        ("QuotaPeriod=YEAR", "one of DAY, WEEK, MONTH"),
        ("ThrottleRateLimit", "NAME=VALUE"),
    ],
)
def test_dev_refuses_a_parameter_override_cloudformation_would_refuse(capsys, pair, says):
    from reviewpulse_cli.main import main

    # Before it starts anything: the check comes first, and the answer is one line and exit 2
    assert main(["dev", "--parameter-overrides", pair]) == 2
    error = capsys.readouterr().err
    assert says in error and error.count("\n") == 1
