"""A circuit breaker for the LLM requests of one worker.

Closed: requests go; `failures` failed requests in a row open it. Open: nothing goes for
`reset_seconds`. Then half-open: one trial request goes; its success closes the breaker, its
failure opens it again. (pybreaker holds its lock for the whole wrapped call, which would make
the worker's concurrent requests run one at a time, so the state machine lives here.)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"


class CircuitBreaker:
    def __init__(self, failures: int, reset_seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._max_failures = failures
        self._reset_seconds = reset_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._state = CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trial_out = False

    @property
    def state(self) -> str:
        with self._lock:
            if self._state == OPEN and self._clock() - self._opened_at >= self._reset_seconds:
                return HALF_OPEN
            return self._state

    def allow(self) -> bool:
        """May a request go now? In half-open state only the one trial may."""
        with self._lock:
            if self._state == OPEN:
                if self._clock() - self._opened_at < self._reset_seconds:
                    return False
                self._state, self._trial_out = HALF_OPEN, False
            if self._state == HALF_OPEN:
                if self._trial_out:
                    return False
                self._trial_out = True
            return True

    def succeeded(self) -> None:
        with self._lock:
            self._state, self._failures, self._trial_out = CLOSED, 0, False

    def released(self) -> None:
        """An allowed request ended with no verdict on the provider (the caller ran out of time)."""
        with self._lock:
            self._trial_out = False

    def failed(self) -> None:
        with self._lock:
            self._failures += 1
            if self._state == HALF_OPEN or self._failures >= self._max_failures:
                self._state, self._opened_at, self._trial_out = OPEN, self._clock(), False
