"""Fixtures for the Braze simulator and client tests: the session's simulator and a Currents
receiver per module, both real HTTP servers on loopback, reset before every test."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from nba_notify.lib.web.serve import BackgroundServer
from nba_notify.sim.server import SimServer

CAMPAIGN = "sim-campaign-tipoff"
API_KEY = "sim-braze-key"
CURRENTS_TOKEN = "test-currents-token"


@dataclass
class CurrentsReceiver:
    """A stand-in Currents endpoint: records every POST, answers with scripted statuses."""

    url: str = ""
    posts: list[dict[str, Any]] = field(default_factory=list)
    script: list[int] = field(default_factory=list)  # statuses to answer next, then 200
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        with self.lock:
            self.posts.clear()
            self.script.clear()

    def delivered_event_ids(self) -> list[str]:
        """Event ids of posts answered 2xx, in arrival order (duplicates kept)."""
        with self.lock:
            return [e["id"] for p in self.posts if p["status"] < 300 for e in p["body"]["events"]]


@pytest.fixture(scope="module")
def receiver() -> Iterator[CurrentsReceiver]:
    state = CurrentsReceiver()

    async def currents(request: Request) -> JSONResponse:
        body = await request.json()
        with state.lock:
            status = state.script.pop(0) if state.script else 200
            state.posts.append(
                {"status": status, "authorization": request.headers.get("authorization"), "body": body}
            )
        return JSONResponse({"ok": status < 300}, status_code=status)

    app = Starlette(routes=[Route("/currents", currents, methods=["POST"])])
    with BackgroundServer(app) as server:
        state.url = f"{server.url}/currents"
        yield state


@pytest.fixture
def sim(sim_server: SimServer, receiver: CurrentsReceiver) -> Iterator[SimServer]:
    """The session's simulator (root conftest), reset: frozen clock at the default start, no
    faults, three fans per team, Currents pointed at the receiver. The Braze settings these
    tests change are put back afterwards, since the simulator is shared with other tests."""
    config = sim_server.sim.config
    saved = {name: getattr(config, name) for name in _BRAZE_SETTINGS}
    config.audience_per_team = 3
    config.braze_rate_limit_per_hour = 250_000
    config.braze_send_id_daily_limit = 100
    config.currents_url = receiver.url
    config.currents_token = CURRENTS_TOKEN
    sim_server.sim.reset()
    receiver.clear()
    yield sim_server
    for name, value in saved.items():
        setattr(config, name, value)
    sim_server.sim.reset()


_BRAZE_SETTINGS = (
    "audience_per_team",
    "braze_rate_limit_per_hour",
    "braze_send_id_daily_limit",
    "currents_url",
    "currents_token",
)
