"""BettingPros' public API as the simulator serves it under ``/bettingpros`` (real base
https://api.bettingpros.com), in the shape the seed system scraped:

* ``GET /v3/events?sport=NBA&date=YYYY-MM-DD`` -> ``{"events": [{id, home, visitor, scheduled,
  status, participants}]}`` (``scheduled`` is wall-clock Eastern, ``"YYYY-MM-DD HH:MM:SS"``);
* ``GET /v3/offers?sport=NBA&market_id=156&event_id=1:2&location=ALL&limit=10&page=N`` ->
  ``{"offers": [...], "_pagination": {page, limit, total_pages, total_items}}``: one offer per
  player and market, ``selections`` over/under, each with ``books[].lines[]`` (``line``,
  ``cost`` in American odds, ``updated``); ``limit`` is capped at 10;
* the key is the ``x-api-key`` header; without the right one: 403 ``{"message": "Forbidden"}``.

Its behaviour is the reason seed 004 lost 21 % of its BettingPros dates (issue 3): answers
that take longer than 30 s (``delay_seconds``, configurable so tests stay fast), Brotli bodies
whenever the client advertises ``br`` (as the real CDN does), and intermittent 5xx
(``error_every``: every N-th request answers 502). Transport faults (``bettingpros.events``,
``bettingpros.offers``) apply on top. Control: ``/_sim/bettingpros/state``.
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
from dataclasses import dataclass, field
from datetime import UTC, date
from typing import Any

import brotli
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from nba_notify.sim import league as lg
from nba_notify.sim import odds_api
from nba_notify.sim.faults import faulted

MARKETS = {156: "player_points", 157: "player_rebounds", 151: "player_assists"}
BOOK_IDS = {"draftkings": 12, "fanduel": 10, "betmgm": 19}
MAX_LIMIT = 10
EVENT_ID_BASE = 30_000


@dataclass
class BettingProsState:
    api_key: str = "sim-bettingpros-key"
    delay_seconds: float = 0.0  # the real API has taken longer than 30 s
    error_every: int = 0  # every N-th request answers 502 (0: never)
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.delay_seconds, self.error_every, self.requests = 0.0, 0, 0


def attach(sim: Any) -> BettingProsState:
    state = getattr(sim, "bettingpros", None)
    if state is None:
        state = BettingProsState()
        sim.bettingpros = state
        sim.reset_hooks.append(state.reset)
    return state


def bp_event_id(state: lg.GameState) -> int:
    return EVENT_ID_BASE + state.game.sequence + 10_000 * (state.season % 100)


def _json(body: Any, request: Request, status: int = 200) -> Response:
    raw = json.dumps(body).encode()
    if "br" in request.headers.get("accept-encoding", ""):
        return Response(
            brotli.compress(raw),
            status_code=status,
            media_type="application/json",
            headers={"content-encoding": "br"},
        )
    return Response(raw, status_code=status, media_type="application/json")


def routes(sim: Any) -> list[Route]:
    league = lg.attach(sim)
    odds = odds_api.attach(sim)
    bp = attach(sim)

    async def gate(request: Request) -> Response | None:
        with bp.lock:
            bp.requests += 1
            n = bp.requests
        if bp.delay_seconds > 0:
            await asyncio.sleep(bp.delay_seconds)
        if request.headers.get("x-api-key") != bp.api_key:
            return _json({"message": "Forbidden"}, request, 403)
        if bp.error_every and n % bp.error_every == 0:
            return _json({"message": "Internal server error"}, request, 502)
        return None

    def day_param(request: Request) -> date:
        return date.fromisoformat(request.query_params.get("date") or "")

    async def events(request: Request) -> Response:
        sim.count("bettingpros.events")
        if (refused := await gate(request)) is not None:
            return refused
        try:
            day = day_param(request)
        except ValueError:
            return _json({"message": "date is required (YYYY-MM-DD)"}, request, 400)
        rows = []
        for state in league.games_on(day, sim.clock.now()):
            rows.append(
                {
                    "id": bp_event_id(state),
                    "sport": "NBA",
                    "home": state.home.tricode,
                    "visitor": state.away.tricode,
                    "scheduled": state.tipoff_eastern.strftime("%Y-%m-%d %H:%M:%S"),
                    "status": state.status,
                    "participants": [
                        {
                            "id": t.tricode,
                            "name": t.full_name,
                            "team": {"abbreviation": t.tricode, "city": t.city},
                        }
                        for t in (state.home, state.away)
                    ],
                }
            )
        return _json({"events": rows, "_parameters": {"sport": "NBA", "date": day.isoformat()}}, request)

    async def offers(request: Request) -> Response:
        sim.count("bettingpros.offers")
        if (refused := await gate(request)) is not None:
            return refused
        params = request.query_params
        try:
            market_id = int(params.get("market_id") or "")
            event_ids = {int(e) for e in (params.get("event_id") or "").split(":") if e}
            limit = max(1, min(MAX_LIMIT, int(params.get("limit") or MAX_LIMIT)))
            page = max(1, int(params.get("page") or 1))
        except ValueError:
            return _json({"message": "market_id, event_id, limit and page must be integers"}, request, 400)
        market = MARKETS.get(market_id)
        now = sim.clock.now()
        rows: list[dict[str, Any]] = []
        if market is not None:
            year = lg.season_year_for(now.astimezone(lg.EASTERN).date())
            for game in league.season(year).games:
                state = league.state(game, now)
                if bp_event_id(state) not in event_ids:
                    continue
                priced = odds_api.player_props(sim, odds, state, now, [market], list(BOOK_IDS))
                rows += _offers(state, market_id, market, priced)
        total_pages = max(1, math.ceil(len(rows) / limit))
        chunk = rows[(page - 1) * limit : page * limit]
        return _json(
            {
                "offers": chunk,
                "_pagination": {
                    "page": page,
                    "limit": limit,
                    "total_pages": total_pages,
                    "total_items": len(rows),
                },
            },
            request,
        )

    return [
        Route("/v3/events", faulted(sim.faults, "bettingpros.events", events, on_rate_limit=_throttled)),
        Route("/v3/offers", faulted(sim.faults, "bettingpros.offers", offers, on_rate_limit=_throttled)),
    ]


def _offers(state: lg.GameState, market_id: int, market: str, priced: dict) -> list[dict[str, Any]]:
    by_player: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for book, markets in priced.items():
        updated, outcomes = markets.get(market, (None, []))
        for outcome in outcomes:
            side = outcome["name"].lower()
            by_player.setdefault(outcome["description"], {}).setdefault(side, []).append(
                {
                    "id": BOOK_IDS[book],
                    "lines": [
                        {
                            "line": outcome["point"],
                            "cost": outcome["price"],
                            "updated": updated.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
                            "active": True,
                        }
                    ],
                }
            )
    offers = []
    for name, sides in sorted(by_player.items()):
        offers.append(
            {
                "event_id": bp_event_id(state),
                "market_id": market_id,
                "participants": [{"id": name.lower().replace(" ", "-"), "name": name, "type": "person"}],
                "selections": [
                    {"selection": side, "label": side.title(), "books": books}
                    for side, books in sorted(sides.items(), key=lambda kv: kv[0] != "over")
                ],
            }
        )
    return offers


def _throttled(retry_after: float, per_minute: int) -> Response:
    return JSONResponse({"message": "Too Many Requests"}, status_code=429)


def control_routes(sim: Any) -> list[Route]:
    """``GET|POST /state`` (mounted at ``/_sim/bettingpros``): delay and intermittent errors."""
    bp = attach(sim)

    async def state(request: Request) -> JSONResponse:
        if request.method == "POST":
            body = await request.json()
            with bp.lock:
                if "delay_seconds" in body:
                    bp.delay_seconds = float(body["delay_seconds"])
                if "error_every" in body:
                    bp.error_every = int(body["error_every"])
        return JSONResponse(
            {"delay_seconds": bp.delay_seconds, "error_every": bp.error_every, "requests": bp.requests}
        )

    return [Route("/state", state, methods=["GET", "POST"])]
