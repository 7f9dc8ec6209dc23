"""Keep a worker inside its share of the provider's requests-per-minute limit.

Every request the engine sends (retries included) first waits its turn here. Requests are spaced
evenly rather than sent in bursts, and a 429 holds every thread of the worker back until the
server's Retry-After has passed — including threads already waiting for a turn, which look again
after they wake — so one throttled request does not become many.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

DEFAULT_PAUSE_SECONDS = 1.0
# Requests go at 95% of the limit: exactly at it, clock jitter against the server's own bucket
# would turn into occasional 429s.
HEADROOM = 0.95


def _interval(requests_per_minute: float) -> float:
    return 60.0 / (requests_per_minute * HEADROOM)


class RequestPacer:
    def __init__(
        self,
        requests_per_minute: int,
        *,
        workers: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        # The deployment's limit, shared evenly by `workers` analyzers; 0 means unpaced until a
        # server states its limit.
        self._workers = max(1, workers)
        self._interval = _interval(requests_per_minute / self._workers) if requests_per_minute > 0 else 0.0
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_slot = 0.0
        self._paused_until = 0.0
        self._first_throttled_at: float | None = None
        self.throttled = 0  # 429s seen
        # 429s to requests sent after the first 429 came back: pacing should keep this at zero.
        self.throttled_after_first = 0

    def wait_turn(self, deadline: float | None = None) -> bool:
        """Block until this request may go: after any pause, one interval after the last request.
        False, without waiting, when its turn would come after `deadline`."""
        while True:
            with self._lock:
                now = self._clock()
                slot = max(now, self._next_slot, self._paused_until)
                if deadline is not None and slot > deadline:
                    return False
                self._next_slot = slot + self._interval
            if slot > now:
                self._sleep(slot - now)
            with self._lock:
                # A 429 that came back while this thread slept moves its turn behind the pause.
                if self._clock() >= self._paused_until:
                    return True

    def throttled_by(self, headers: Mapping[str, str], sent_at: float) -> None:
        """A request sent at `sent_at` got 429: pause this worker for the server's Retry-After, and
        never go faster than a limit the server states (x-ratelimit-limit-requests, the whole
        deployment's, so this worker's share of it)."""
        with self._lock:
            now = self._clock()
            self.throttled += 1
            if self._first_throttled_at is None:
                self._first_throttled_at = now
            elif sent_at > self._first_throttled_at:
                self.throttled_after_first += 1
            self._paused_until = max(self._paused_until, now + (retry_after_seconds(headers) or DEFAULT_PAUSE_SECONDS))
            limit = _positive_int(headers.get("x-ratelimit-limit-requests"))
            if limit:
                self._interval = max(self._interval, _interval(limit / self._workers))


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The server's requested wait: retry-after-ms, else retry-after in seconds; None if neither."""
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) / divisor
        except ValueError:
            continue
        if 0 < seconds <= 600:
            return seconds
    return None


def _positive_int(value: object) -> int | None:
    try:
        number = int(str(value))
    except ValueError:
        return None
    return number if number > 0 else None
