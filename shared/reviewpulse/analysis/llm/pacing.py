"""Keep a worker inside its share of the provider's requests-per-minute limit.

Hooked into the HTTP client, so every request the SDK sends (its own retries included) waits its
turn. Requests are spaced evenly rather than sent in bursts, and a 429 pauses every thread of the
worker until the server's Retry-After has passed, so one throttled request does not become many.
The SDK still does the retrying itself (exponential backoff with jitter, Retry-After honoured).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RequestPacer:
    def __init__(
        self,
        requests_per_minute: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        # 0 means unpaced: only a server-directed pause holds requests back.
        self._interval = _interval(requests_per_minute) if requests_per_minute > 0 else 0.0
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_slot = 0.0
        self._paused_until = 0.0
        self._sent_at: dict[int, float] = {}  # id(request) → when it went, until its response
        self._first_throttled_at: float | None = None
        self.throttled = 0  # 429s seen
        # 429s to requests sent after the first 429 came back: pacing should keep this at zero.
        self.throttled_after_first = 0

    def wait_turn(self) -> None:
        """Block until this request may go: after any pause, and one interval after the last one."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot, self._paused_until)
            self._next_slot = slot + self._interval
        delay = slot - now
        if delay > 0:
            self._sleep(delay)

    def throttled_for(self, seconds: float) -> None:
        """The server said 429: hold every request of this worker back for `seconds`."""
        with self._lock:
            self.throttled += 1
            self._paused_until = max(self._paused_until, self._clock() + seconds)
            # Requests already given a slot inside the pause move behind it.
            self._next_slot = max(self._next_slot, self._paused_until)

    # httpx event hooks: called for every request the SDK sends and every response it gets.
    def on_request(self, request: object) -> None:
        self.wait_turn()
        with self._lock:
            self._sent_at[id(request)] = self._clock()

    def on_response(self, response: object) -> None:
        with self._lock:
            sent_at = self._sent_at.pop(id(getattr(response, "request", None)), None)
        if getattr(response, "status_code", None) != 429:
            return
        with self._lock:
            if self._first_throttled_at is None:
                self._first_throttled_at = self._clock()
            elif sent_at is not None and sent_at > self._first_throttled_at:
                self.throttled_after_first += 1
        headers = getattr(response, "headers", {})
        self.throttled_for(retry_after_seconds(headers))
        # OpenAI-style servers state their limit: never go faster than it from now on.
        limit = _positive_int(headers.get("x-ratelimit-limit-requests")) if hasattr(headers, "get") else None
        if limit:
            with self._lock:
                self._interval = max(self._interval, _interval(limit))


DEFAULT_PAUSE_SECONDS = 1.0
# Requests go at 95% of the limit: exactly at it, clock jitter against the server's own bucket
# would turn into occasional 429s.
HEADROOM = 0.95


def _interval(requests_per_minute: int) -> float:
    return 60.0 / (requests_per_minute * HEADROOM)


def _positive_int(value: object) -> int | None:
    try:
        number = int(str(value))
    except ValueError:
        return None
    return number if number > 0 else None


def retry_after_seconds(headers: object) -> float:
    """The server's requested wait: retry-after-ms, else retry-after in seconds, else a second."""
    get = getattr(headers, "get", None)
    if get is None:
        return DEFAULT_PAUSE_SECONDS
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = get(name)
        if value is None:
            continue
        try:
            seconds = float(value) / divisor
        except ValueError:
            continue
        if 0 < seconds <= 120:
            return seconds
    return DEFAULT_PAUSE_SECONDS
