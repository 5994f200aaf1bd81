"""The simulator's controllable clock: frozen (tests, demo) or running at a rate (dev).

Everything time-dependent in the simulator (game status, Braze deliveries) reads this clock,
and the product reads it too through ``/_sim/clock`` so both agree on "now"."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Listener = Callable[[datetime, datetime], None]


class SimClock:
    def __init__(self, start: datetime, rate: float = 0.0):
        if start.tzinfo is None:
            raise ValueError("SimClock needs an aware datetime")
        self._lock = threading.RLock()
        self._base = start.astimezone(UTC)
        self._base_monotonic = time.monotonic()
        self._rate = rate
        self._listeners: list[Listener] = []

    def now(self) -> datetime:
        with self._lock:
            elapsed = (time.monotonic() - self._base_monotonic) * self._rate
            return self._base + timedelta(seconds=elapsed)

    @property
    def rate(self) -> float:
        return self._rate

    def set(self, when: datetime, rate: float | None = None) -> datetime:
        if when.tzinfo is None:
            raise ValueError("clock times must be timezone-aware")
        with self._lock:
            old = self.now()
            self._base = when.astimezone(UTC)
            self._base_monotonic = time.monotonic()
            if rate is not None:
                self._rate = rate
            new = self._base
        self._notify(old, new)
        return new

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            return self.set(self.now() + delta)

    def subscribe(self, listener: Listener) -> None:
        """Called with (old, new) after every explicit move; a running clock is also polled
        by :meth:`tick` from the server's background task."""
        self._listeners.append(listener)

    def tick(self) -> None:
        """Let listeners observe a running clock's progress."""
        now = self.now()
        self._notify(now, now)

    def _notify(self, old: datetime, new: datetime) -> None:
        for listener in list(self._listeners):
            listener(old, new)
