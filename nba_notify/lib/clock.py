"""What time it is: the wall clock in production, the simulator's clock otherwise."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

import httpx

from nba_notify.lib.clients.http import shared_tls_context


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class RemoteSimClock:
    """Reads the simulator's ``/_sim/clock`` so product and simulator agree on "now"."""

    def __init__(self, url: str, timeout: float = 5.0):
        self.url = url
        self._timeout = timeout

    def now(self) -> datetime:
        # the shared TLS context: a fresh one per read cost ~0.2 s (the CA bundle reloaded)
        response = httpx.get(self.url, timeout=self._timeout, verify=shared_tls_context())
        response.raise_for_status()
        return datetime.fromisoformat(response.json()["now"])


def make_clock(url: str | None) -> Clock:
    return RemoteSimClock(url) if url else SystemClock()
