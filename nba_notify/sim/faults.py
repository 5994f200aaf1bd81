"""On-demand faults for the simulator, per route, deterministic from a seed.

Two families:

* transport faults, applied around any route by :func:`faulted` — latency, 5xx status,
  read timeouts, rate limiting, truncated or malformed bodies, Brotli-encoded bodies;
* data faults, read by the route handlers themselves through :meth:`FaultInjector.active` —
  e.g. ``drop_games`` (a source silently returns fewer games), ``lag_games`` (a game appears
  only later) or ``wrong_score`` (a source misreports a score), and Braze's ``timeout_after_apply``, ``list_lag`` or ``new_id_on_update``.

Route names are dotted (``bdl.games``, ``nbac.schedule``, ``braze.create``); a fault's
``route`` is an fnmatch pattern over them. ``times`` limits how many requests a fault hits.
"""

from __future__ import annotations

import asyncio
import fnmatch
import itertools
import json
import random
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import brotli
from starlette.requests import Request
from starlette.responses import Response

TRANSPORT_KINDS = {"latency", "status", "timeout", "rate_limit", "truncate", "malformed", "brotli"}
DATA_KINDS = {
    "drop_games",
    "lag_games",
    "timeout_after_apply",
    "list_lag",
    "new_id_on_update",
    "drop_players",
    "duplicate_delivery",  # Braze Currents re-sends a delivered batch (at-least-once)
    "wrong_score",  # a source reports a started game's home score off by ``points``
}
FAULT_KINDS = TRANSPORT_KINDS | DATA_KINDS


@dataclass
class Fault:
    kind: str
    route: str = "*"
    times: int | None = None
    probability: float = 1.0
    params: dict[str, Any] = field(default_factory=dict)
    id: int = 0
    hits: int = 0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {sorted(FAULT_KINDS)}")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be within [0, 1]")

    def matches(self, route: str) -> bool:
        return fnmatch.fnmatchcase(route, self.route)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class FaultInjector:
    def __init__(self, seed: int = 0):
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)
        self._rng = random.Random(seed)
        self._seed = seed
        # rate limiting state per fault id: timestamps (monotonic) of recent requests
        self._windows: dict[int, deque[float]] = {}

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            fault.id = next(self._ids)
            self._faults.append(fault)
            return fault

    def clear(self, route: str | None = None, kind: str | None = None) -> int:
        with self._lock:
            keep = [
                f
                for f in self._faults
                if (route is not None and f.route != route) or (kind is not None and f.kind != kind)
            ]
            removed = len(self._faults) - len(keep)
            self._faults = keep
            return removed

    def reset(self) -> None:
        with self._lock:
            self._faults.clear()
            self._windows.clear()
            self._rng = random.Random(self._seed)

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.as_dict() for f in self._faults]

    def take(self, route: str, kind: str) -> Fault | None:
        """The first matching fault of ``kind`` for this request, consuming one use."""
        with self._lock:
            for fault in self._faults:
                if fault.kind != kind or not fault.matches(route):
                    continue
                if fault.times is not None and fault.hits >= fault.times:
                    continue
                if fault.probability < 1.0 and self._rng.random() >= fault.probability:
                    continue
                fault.hits += 1
                return fault
            return None

    def active(self, route: str, kind: str, now: datetime | None = None) -> list[Fault]:
        """Data faults currently in force (not consumed per request). A fault with
        ``params["until"]`` (ISO time) heals once the simulated clock passes it."""
        with self._lock:
            result = []
            for fault in self._faults:
                if fault.kind != kind or not fault.matches(route):
                    continue
                until = fault.params.get("until")
                if until and now is not None and now >= datetime.fromisoformat(until):
                    continue
                result.append(fault)
            return result

    def rate_limited(self, route: str) -> tuple[Fault, float] | None:
        """If a ``rate_limit`` fault (``per_minute``) is exceeded, return it and the seconds
        until a slot frees up; otherwise record the request and return None."""
        with self._lock:
            for fault in self._faults:
                if fault.kind != "rate_limit" or not fault.matches(route):
                    continue
                per_minute = int(fault.params.get("per_minute", 60))
                window = self._windows.setdefault(fault.id, deque())
                now = time.monotonic()
                while window and now - window[0] >= 60.0:
                    window.popleft()
                if len(window) >= per_minute:
                    fault.hits += 1
                    return fault, 60.0 - (now - window[0])
                window.append(now)
            return None


RateLimitResponder = Callable[[float, int], Response]
Handler = Callable[[Request], Awaitable[Response]]


def faulted(
    injector: FaultInjector,
    route: str,
    handler: Handler,
    *,
    on_rate_limit: RateLimitResponder,
) -> Handler:
    """Wrap a route handler with the transport faults in force for ``route``."""

    async def wrapped(request: Request) -> Response:
        limited = injector.rate_limited(route)
        if limited is not None:
            fault, retry_after = limited
            return on_rate_limit(retry_after, int(fault.params.get("per_minute", 60)))
        if (fault := injector.take(route, "latency")) is not None:
            await asyncio.sleep(float(fault.params.get("ms", 200)) / 1000.0)
        if (fault := injector.take(route, "status")) is not None:
            code = int(fault.params.get("code", 503))
            body = fault.params.get("body") or {"error": f"simulated {code}"}
            return Response(json.dumps(body), status_code=code, media_type="application/json")
        if (fault := injector.take(route, "timeout")) is not None:
            # Hold the request longer than any sane client read timeout.
            await asyncio.sleep(float(fault.params.get("seconds", 30)))
        response = await handler(request)
        if (fault := injector.take(route, "truncate")) is not None:
            cut = max(1, len(response.body) // 2)
            response = _with_body(response, response.body[:cut])
        if (fault := injector.take(route, "malformed")) is not None:
            response = _with_body(response, b'{"data": [{"id": 1,, "oops": }')
        if (fault := injector.take(route, "brotli")) is not None:
            response = _with_body(response, brotli.compress(response.body), encoding="br")
        return response

    return wrapped


def _with_body(response: Response, body: bytes, encoding: str | None = None) -> Response:
    headers = {
        k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-encoding")
    }
    if encoding:
        headers["content-encoding"] = encoding
    return Response(body, status_code=response.status_code, headers=headers)
