"""Compose the simulator: one Starlette app, one clock, one fault injector, serving BDL
(``/bdl``), NBA.com (``/nbac``), Braze (``/braze``) and the control plane (``/_sim``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount

from nba_notify.sim.clock import SimClock
from nba_notify.sim.faults import FaultInjector

DEFAULT_START = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


@dataclass
class SimConfig:
    seed: int = 2026
    start: datetime = DEFAULT_START
    rate: float = 0.0  # 0 = frozen clock (tests, demo); 1 = real time (dev)
    bdl_api_key: str = "sim-bdl-key"
    braze_api_key: str = "sim-braze-key"
    braze_campaign_id: str = "sim-campaign-tipoff"
    currents_url: str | None = None  # where Currents batches are POSTed
    currents_token: str = "sim-currents-token"
    audience_per_team: int = 5  # simulated users following each team
    braze_rate_limit_per_hour: int = 250_000
    # Braze: at most 100 new send identifiers per workspace per day; benchmarks raise it.
    braze_send_id_daily_limit: int = 100
    # The campaign template's Connected Content call at send time (the product's send guard):
    # a 200 ``{"send": false}`` aborts the message (Liquid abort_message); anything else sends.
    # None: the template has no guard.
    braze_send_guard_url: str | None = None
    braze_send_guard_token: str | None = None
    # The league's calendar: False, the 1,230 regular-season games only (the fixtures most
    # tests and the demo are written against); True, a season as the league runs it
    # (preseason, NBA Cup, All-Star, play-in, playoffs, postponements, neutral sites, box
    # scores published 0-3 h after the final or never) — see nba_notify/sim/season_shape.py.
    full_season: bool = False


@dataclass
class Simulator:
    """Shared state of every simulated API. API modules attach their own state objects
    (``league``, ``braze``) and register ground-truth and reset hooks."""

    config: SimConfig
    clock: SimClock
    faults: FaultInjector
    request_counts: dict[str, int] = field(default_factory=dict)
    truth_providers: dict[str, Callable[[], Any]] = field(default_factory=dict)
    reset_hooks: list[Callable[[], None]] = field(default_factory=list)
    league: Any = None
    braze: Any = None
    # Requests to the simulator-only control plane (/_sim/...), never reset: a product running
    # in production mode against the simulator must leave this untouched.
    control_plane_requests: int = 0

    @classmethod
    def create(cls, config: SimConfig | None = None) -> Simulator:
        config = config or SimConfig()
        return cls(
            config=config,
            clock=SimClock(config.start, rate=config.rate),
            faults=FaultInjector(seed=config.seed),
        )

    def count(self, route: str) -> None:
        self.request_counts[route] = self.request_counts.get(route, 0) + 1

    def reset(self, start: datetime | None = None) -> None:
        self.faults.reset()
        self.request_counts.clear()
        for hook in self.reset_hooks:
            hook()
        self.clock.set(start or self.config.start, rate=self.config.rate)

    def truth(self) -> dict[str, Any]:
        return {
            "now": self.clock.now().isoformat(),
            "request_counts": dict(self.request_counts),
            **{name: provider() for name, provider in self.truth_providers.items()},
        }


def create_app(sim: Simulator) -> Starlette:
    from nba_notify.sim import bdl, bettingpros, braze, control, nbac, odds_api

    routes = [
        Mount("/bdl", routes=bdl.routes(sim)),
        Mount("/nbac", routes=nbac.routes(sim)),  # cdn.nba.com
        Mount("/nbac-stats", routes=nbac.stats_routes(sim)),  # stats.nba.com
        Mount("/braze", routes=braze.routes(sim)),
        Mount("/odds-api", routes=odds_api.routes(sim)),  # api.the-odds-api.com
        Mount("/bettingpros", routes=bettingpros.routes(sim)),  # api.bettingpros.com
        # before "/_sim": a Mount matches by prefix, so the more specific one goes first
        Mount("/_sim/braze", routes=braze.control_routes(sim)),
        Mount("/_sim/odds-api", routes=odds_api.control_routes(sim)),
        Mount("/_sim/bettingpros", routes=bettingpros.control_routes(sim)),
        Mount("/_sim", routes=control.routes(sim)),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        task = asyncio.create_task(_tick_running_clock(sim))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(_CountControlPlane, sim=sim)])
    app.state.sim = sim
    return app


class _CountControlPlane:
    """Counts requests to ``/_sim/...`` (plain ASGI, so streaming and lifespan pass untouched)."""

    def __init__(self, app: Any, sim: Simulator):
        self.app, self.sim = app, sim

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/_sim"):
            self.sim.control_plane_requests += 1
        await self.app(scope, receive, send)


async def _tick_running_clock(sim: Simulator) -> None:
    """A running clock (rate > 0) still has to fire time-based effects such as deliveries."""
    while True:
        await asyncio.sleep(0.5)
        if sim.clock.rate > 0:
            await asyncio.to_thread(sim.clock.tick)
