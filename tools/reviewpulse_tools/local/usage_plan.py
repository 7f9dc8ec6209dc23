"""API Gateway's usage plan on localhost: the per-key throttle (a token bucket of `rateLimit`
requests a second and `burstLimit` at once) and quota (requests per calendar period), as the
template's AWS::ApiGateway::UsagePlan sets them; the local API Gateway (apigateway.py) asks it
before each keyed request and answers 429 with its refusal."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal


@dataclass(frozen=True)
class Quota:
    """A usage plan's quota: `limit` requests per calendar period (UTC), `offset` fewer in the
    period the plan started in (API Gateway's QuotaSettings)."""

    limit: int
    period: Literal["DAY", "WEEK", "MONTH"] = "DAY"
    offset: int = 0

    def bounds(self, at: float) -> tuple[float, float]:
        """The epoch seconds at which the period holding `at` starts and ends. API Gateway does not
        document when a week starts; here it is Monday (ISO 8601)."""
        moment = datetime.fromtimestamp(at, UTC)
        day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        if self.period == "DAY":
            start, end = day, day + timedelta(days=1)
        elif self.period == "WEEK":
            start = day - timedelta(days=day.weekday())
            end = start + timedelta(days=7)
        else:
            start = day.replace(day=1)
            end = (
                start.replace(year=start.year + 1, month=1)
                if start.month == 12
                else start.replace(month=start.month + 1)
            )
        return start.timestamp(), end.timestamp()


@dataclass(frozen=True)
class Refusal:
    """Why a request was refused, in the words of the template's gateway responses."""

    detail: str
    retry_after: int  # seconds


class UsagePlanThrottle:
    """A usage plan as API Gateway applies it per API key (the authorizer's usageIdentifierKey):
    a token bucket holding `burst` requests, refilled at `rate` a second, and an optional quota of
    requests per period. A refused request consumes neither. Written here because API Gateway's
    usage plan is what it emulates; the clock (epoch seconds) is a parameter so tests need no timing."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.time, quota: Quota | None = None
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.quota = quota
        self._buckets: dict[str, tuple[float, float]] = {}  # key → (tokens, when counted)
        self._used: dict[str, tuple[float, int]] = {}  # key → (start of the quota period, requests in it)
        self._first_period = quota.bounds(clock())[0] if quota else None
        self._lock = threading.Lock()

    @classmethod
    def of_template(cls, settings: dict[str, Any], clock: Callable[[], float] = time.time) -> UsagePlanThrottle | None:
        throttle, quota = settings.get("throttle"), settings.get("quota")
        if not throttle:
            return None
        return cls(
            rate=float(throttle["RateLimit"]),
            burst=int(throttle["BurstLimit"]),
            clock=clock,
            quota=Quota(int(quota["Limit"]), quota.get("Period", "DAY"), int(quota.get("Offset", 0)))
            if quota
            else None,
        )

    def admit(self, usage_key: str) -> bool:
        return self.check(usage_key) is None

    def check(self, usage_key: str) -> Refusal | None:
        """None if the request may pass (and it is counted), or why not."""
        with self._lock:
            now = self.clock()
            tokens, then = self._buckets.get(usage_key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + max(0.0, now - then) * self.rate)
            self._buckets[usage_key] = (tokens, now)
            if tokens < 1:
                return Refusal("Request rate limit exceeded; retry later.", max(1, math.ceil((1 - tokens) / self.rate)))
            if self.quota is not None:
                start, end = self.quota.bounds(now)
                period, used = self._used.get(usage_key, (start, 0))
                used = used if period == start else 0
                limit = self.quota.limit - (self.quota.offset if start == self._first_period else 0)
                if used >= limit:
                    resets = datetime.fromtimestamp(end, UTC).isoformat().replace("+00:00", "Z")
                    return Refusal(f"Request quota exceeded; it resets at {resets}.", max(1, math.ceil(end - now)))
                self._used[usage_key] = (start, used + 1)
            self._buckets[usage_key] = (tokens - 1, now)
            return None


# API Gateway compresses with these codings; any other preferred one means no compression.
