"""The Odds API (v4) as the simulator serves it under ``/odds-api`` (real base
https://api.the-odds-api.com), over the league's games: events, per-event odds with player
props, featured game lines, and the historical snapshots of each.

Facts reproduced from the real API (see ``nba_notify.lib.clients.odds_api``):
* the key is the ``apiKey`` query parameter: missing -> 401 ``MISSING_KEY``, wrong -> 401
  ``INVALID_KEY``; once the period's credits are spent every costed call is 401
  ``OUT_OF_USAGE_CREDITS``;
* every answer carries ``x-requests-remaining``, ``x-requests-used``, ``x-requests-last``;
  event odds cost *unique markets returned* x regions, featured odds markets x regions,
  historical odds 10x that, historical events 1 (0 when empty), live events 0;
* invalid parameters are 422 with ``{"message", "error_code", "details_url"}``; player markets
  on the featured ``/odds`` endpoint are refused (422 ``INVALID_MARKET``); an unknown event is
  404 ``EVENT_NOT_FOUND``; too frequent calls 429 ``EXCEEDED_FREQ_LIMIT`` (a ``rate_limit``
  fault);
* events are listed from before they are priced until they finish (finished games drop out),
  team names are full names ("Los Angeles Clippers"), ``commence_time`` ISO UTC with ``Z``;
* player props are posted about a day before tip-off (``props_lead_hours``) and pulled at
  tip-off; game lines a week ahead; a line moves once, six hours before tip-off (line
  movement for the history to keep); books differ by half points.

Lines are built around what the league's box score will say (so over/under hit rates come
out near a coin flip), deterministic per seed. Route names: ``odds_api.events``,
``odds_api.event_odds``, ``odds_api.odds``, ``odds_api.historical_events``,
``odds_api.historical_event_odds``, ``odds_api.historical_odds``. Control:
``/_sim/odds-api/state`` (quota, outlier book, renamed players, events not on the schedule).
"""

from __future__ import annotations

import hashlib
import random
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from nba_notify.lib.teams import TEAMS
from nba_notify.sim import league as lg
from nba_notify.sim.faults import faulted
from nba_notify.sim.league import GameState

SPORT = "basketball_nba"
DETAILS_URL = "https://the-odds-api.com/liveapi/guides/v4/api-error-codes.html"
# The Odds API spells the Clippers out; every other team as NBA.com does.
TEAM_NAMES = {t.tricode: t.full_name for t in TEAMS} | {"LAC": "Los Angeles Clippers"}
BOOKS_BY_REGION = {
    "us": ("draftkings", "fanduel", "betmgm"),
    "us2": ("espnbet",),
    "uk": ("williamhill",),
    "eu": ("pinnacle",),
    "au": ("sportsbet",),
}
BOOK_TITLES = {
    "draftkings": "DraftKings",
    "fanduel": "FanDuel",
    "betmgm": "BetMGM",
    "espnbet": "ESPN BET",
    "williamhill": "William Hill",
    "pinnacle": "Pinnacle",
    "sportsbet": "SportsBet",
}
PLAYER_MARKET_STATS = {"player_points": "pts", "player_rebounds": "reb", "player_assists": "ast"}
FEATURED_MARKETS = ("h2h", "spreads", "totals")
KNOWN_MARKETS = set(PLAYER_MARKET_STATS) | set(FEATURED_MARKETS)
PLAYERS_PER_TEAM = 7  # books price the rotation, not the end of the bench
SNAPSHOT_MINUTES = 5
LINE_MOVE_BEFORE_TIP = timedelta(hours=6)


@dataclass
class OddsApiState:
    api_key: str = "sim-odds-api-key"
    quota_total: int = 500_000
    used: int = 0
    props_lead_hours: float = 30.0
    lines_lead_days: float = 7.0
    # books go on quoting a game the league postponed until someone takes it down
    quote_postponed: bool = True
    # {"book": "betmgm", "shift": 6.0}: that book's line is off by ``shift`` for every prop
    book_outlier: dict[str, Any] | None = None
    # league name -> how the API spells it (a name no box score carries: an unmapped player)
    renamed_players: dict[str, str] = field(default_factory=dict)
    # events the API lists that are not on the league's schedule (exhibitions, feed errors)
    extra_events: list[dict[str, Any]] = field(default_factory=list)
    event_games: dict[str, str] = field(default_factory=dict)  # event id -> nba game id
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            fresh = OddsApiState()
            for name in ("quota_total", "used", "props_lead_hours", "lines_lead_days", "quote_postponed"):
                setattr(self, name, getattr(fresh, name))
            self.book_outlier = None
            self.renamed_players = {}
            self.extra_events = []

    def as_dict(self) -> dict[str, Any]:
        return {
            "quota_total": self.quota_total,
            "used": self.used,
            "remaining": self.quota_total - self.used,
            "props_lead_hours": self.props_lead_hours,
            "lines_lead_days": self.lines_lead_days,
            "quote_postponed": self.quote_postponed,
            "book_outlier": self.book_outlier,
            "renamed_players": self.renamed_players,
            "extra_events": self.extra_events,
        }


def attach(sim: Any) -> OddsApiState:
    state = getattr(sim, "odds_api", None)
    if state is None:
        state = OddsApiState()
        sim.odds_api = state
        sim.reset_hooks.append(state.reset)
        sim.truth_providers["odds_api"] = lambda: {
            "used": state.used,
            "remaining": state.quota_total - state.used,
        }
    return state


def event_id(seed: int, nba_id: str) -> str:
    return hashlib.md5(f"odds-api:{seed}:{nba_id}".encode()).hexdigest()


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: str | None, name: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise _ApiError(422, f"INVALID_{_snake(name).upper()}", f"Invalid {name} parameter: {value}") from exc
    if parsed.tzinfo is None:
        raise _ApiError(
            422, f"INVALID_{_snake(name).upper()}", f"{name} must be in UTC, e.g. 2026-11-24T00:00:00Z"
        )
    return parsed.astimezone(UTC)


def _snake(name: str) -> str:
    return "".join(f"_{c}" if c.isupper() else c for c in name)


class _ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> Response:
        return JSONResponse(
            {
                "message": self.message,
                "error_code": self.code,
                "details_url": f"{DETAILS_URL}#{self.code.lower()}",
            },
            status_code=self.status,
        )


def _american_to_decimal(price: int) -> float:
    return round(1 + (price / 100 if price > 0 else 100 / -price), 2)


# -- what the books say about a game at a moment ---------------------------------------------


def _final_box(sim: Any, state: GameState):
    final = sim.league.game(state.nba_id, now=state.tipoff_utc + timedelta(hours=8))
    return sim.league.box_score(final) if final is not None else None


def _line_around(actual: float, rng: random.Random, spread: float) -> float:
    return max(0.5, float(int(actual + rng.gauss(0, spread))) + 0.5)


def player_props(
    sim: Any, odds: OddsApiState, state: GameState, at: datetime, markets: list[str], books: list[str]
) -> dict:
    """``{book: {market: (last_update, [outcomes])}}`` of a game's props as priced at ``at``."""
    result: dict[str, dict[str, tuple[datetime, list[dict[str, Any]]]]] = {}
    opened = state.tipoff_utc - timedelta(hours=odds.props_lead_hours)
    if state.status != lg.SCHEDULED or not opened <= at < state.tipoff_utc:
        return result
    box = _final_box(sim, state)
    if box is None:
        return result
    moved = at >= state.tipoff_utc - LINE_MOVE_BEFORE_TIP
    updated = state.tipoff_utc - LINE_MOVE_BEFORE_TIP if moved else opened
    rotation = [
        line
        for team_box in (box.home, box.away)
        for line in sorted(team_box.played, key=lambda pl: -pl.seconds)[:PLAYERS_PER_TEAM]
    ]
    for market in markets:
        stat = PLAYER_MARKET_STATS.get(market)
        if stat is None:
            continue
        for line in rotation:
            name = line.player.name
            rng = random.Random(f"{sim.config.seed}:{state.nba_id}:{line.player.nba_id}:{market}")
            actual = getattr(line, stat)
            consensus = _line_around(actual, rng, max(1.5, actual * 0.25) if stat == "pts" else 1.6)
            if moved:
                consensus = max(0.5, consensus + rng.choice((-1.0, -0.5, 0.0, 0.5, 1.0)))
            for book in books:
                brng = random.Random(
                    f"{sim.config.seed}:{state.nba_id}:{line.player.nba_id}:{market}:{book}:{moved}"
                )
                point = max(0.5, consensus + brng.choice((-0.5, 0.0, 0.0, 0.5)))
                if odds.book_outlier and odds.book_outlier.get("book") == book:
                    point = max(0.5, point + float(odds.book_outlier.get("shift", 6.0)))
                over = -110 + 5 * brng.randint(-3, 3)
                under = -220 - over
                shown = odds.renamed_players.get(name, name)
                outcomes = result.setdefault(book, {}).setdefault(market, (updated, []))[1]
                outcomes.append({"name": "Over", "description": shown, "price": over, "point": point})
                outcomes.append({"name": "Under", "description": shown, "price": under, "point": point})
    return result


def game_lines(
    sim: Any, odds: OddsApiState, state: GameState, at: datetime, markets: list[str], books: list[str]
) -> dict:
    result: dict[str, dict[str, tuple[datetime, list[dict[str, Any]]]]] = {}
    quoted = state.status == lg.SCHEDULED or (state.status == lg.POSTPONED and odds.quote_postponed)
    opened = state.tipoff_utc - timedelta(days=odds.lines_lead_days)
    if not quoted or not opened <= at < state.tipoff_utc:
        return result
    game = state.game
    rng = random.Random(f"{sim.config.seed}:{state.nba_id}:lines")
    margin = game.home_score - game.away_score
    spread = -(round((margin + rng.gauss(0, 9)) * 2) / 2) or -0.5
    total = round((game.home_score + game.away_score + rng.gauss(0, 12)) * 2) / 2 + 0.5
    moved = at >= state.tipoff_utc - LINE_MOVE_BEFORE_TIP
    if moved:
        spread += rng.choice((-1.0, -0.5, 0.5, 1.0))
        total += rng.choice((-2.0, -1.0, 1.0, 2.0))
    updated = state.tipoff_utc - LINE_MOVE_BEFORE_TIP if moved else opened
    home, away = TEAM_NAMES[state.home.tricode], TEAM_NAMES[state.away.tricode]
    for book in books:
        brng = random.Random(f"{sim.config.seed}:{state.nba_id}:lines:{book}:{moved}")
        book_spread = spread + brng.choice((-0.5, 0.0, 0.5))
        fav = -110 - round(abs(book_spread) * 12)
        dog = max(100, -fav - 20)
        home_ml, away_ml = (fav, dog) if book_spread < 0 else (dog, fav)
        by_market = {
            "h2h": [{"name": home, "price": home_ml}, {"name": away, "price": away_ml}],
            "spreads": [
                {"name": home, "price": -110, "point": book_spread},
                {"name": away, "price": -110, "point": -book_spread},
            ],
            "totals": [
                {"name": "Over", "price": -110, "point": total + brng.choice((-0.5, 0.0, 0.5))},
                {"name": "Under", "price": -110, "point": total},
            ],
        }
        by_market["totals"][1]["point"] = by_market["totals"][0]["point"]
        for market in markets:
            if market in by_market:
                result.setdefault(book, {})[market] = (updated, by_market[market])
    return result


def _bookmakers(priced: dict, odds_format: str) -> list[dict[str, Any]]:
    books = []
    for book, markets in priced.items():
        market_rows = []
        for key, (updated, outcomes) in markets.items():
            rows = [
                {**o, "price": _american_to_decimal(o["price"])} if odds_format == "decimal" else dict(o)
                for o in outcomes
            ]
            market_rows.append({"key": key, "last_update": _iso(updated), "outcomes": rows})
        books.append(
            {
                "key": book,
                "title": BOOK_TITLES[book],
                "last_update": _iso(max(u for u, _ in markets.values())),
                "markets": market_rows,
            }
        )
    return books


# -- routes -----------------------------------------------------------------------------------


def routes(sim: Any) -> list[Route]:
    league = lg.attach(sim)
    odds = attach(sim)

    def authorize(request: Request) -> None:
        key = request.query_params.get("apiKey")
        if not key:
            raise _ApiError(401, "MISSING_KEY", "API key is missing. Add apiKey=... to the query string.")
        if key != odds.api_key:
            raise _ApiError(
                401, "INVALID_KEY", "API key is not valid or is not associated with a subscription."
            )

    def charge_check(cost: int) -> None:
        if cost > 0 and odds.used >= odds.quota_total:
            raise _ApiError(401, "OUT_OF_USAGE_CREDITS", "Usage quota has been reached.")

    def answer(body: Any, cost: int) -> Response:
        with odds.lock:
            odds.used += cost
            used, remaining = odds.used, odds.quota_total - odds.used
        headers = {
            "x-requests-used": str(used),
            "x-requests-remaining": str(max(0, remaining)),
            "x-requests-last": str(cost),
        }
        return JSONResponse(body, headers=headers)

    def regions_of(request: Request) -> list[str]:
        raw = request.query_params.get("regions")
        if not raw:
            raise _ApiError(422, "MISSING_REGION", "Missing regions parameter, e.g. regions=us")
        regions = [r.strip() for r in raw.split(",") if r.strip()]
        unknown = [r for r in regions if r not in BOOKS_BY_REGION]
        if unknown:
            raise _ApiError(422, "INVALID_REGION", f"Invalid region(s): {','.join(unknown)}")
        return list(dict.fromkeys(regions))

    def markets_of(request: Request, *, featured_only: bool) -> list[str]:
        markets = [m.strip() for m in (request.query_params.get("markets") or "h2h").split(",") if m.strip()]
        unknown = [m for m in markets if m not in KNOWN_MARKETS]
        if unknown:
            raise _ApiError(422, "INVALID_MARKET", f"Invalid market(s): {','.join(unknown)}")
        if featured_only and any(m not in FEATURED_MARKETS for m in markets):
            raise _ApiError(
                422,
                "INVALID_MARKET",
                "Markets not supported by this endpoint. Use the event odds endpoint for player and additional markets.",
            )
        return list(dict.fromkeys(markets))

    def odds_format_of(request: Request) -> str:
        value = request.query_params.get("oddsFormat", "decimal")
        if value not in ("american", "decimal"):
            raise _ApiError(422, "INVALID_ODDS_FORMAT", f"Invalid oddsFormat: {value}")
        return value

    def books_of(regions: list[str]) -> list[str]:
        return [b for r in regions for b in BOOKS_BY_REGION[r]]

    def listed(at: datetime, first: datetime | None, last: datetime | None) -> list[GameState]:
        """Games the API lists at ``at``: not finished, within the commence filters."""
        lo = first or at - timedelta(hours=6)
        hi = last or at + timedelta(days=14)
        day, last_day = (
            (lo - timedelta(days=1)).astimezone(lg.EASTERN).date(),
            hi.astimezone(lg.EASTERN).date(),
        )
        states: list[GameState] = []
        while day <= last_day:
            states += [s for s in league.games_on(day, at) if lo <= s.tipoff_utc <= hi]
            day += timedelta(days=1)
        return [s for s in states if s.status in (lg.SCHEDULED, lg.LIVE, lg.POSTPONED)]

    def event_json(state: GameState) -> dict[str, Any]:
        eid = event_id(sim.config.seed, state.nba_id)
        odds.event_games[eid] = state.nba_id
        return {
            "id": eid,
            "sport_key": SPORT,
            "sport_title": "NBA",
            "commence_time": _iso(state.tipoff_utc),
            "home_team": TEAM_NAMES[state.home.tricode],
            "away_team": TEAM_NAMES[state.away.tricode],
        }

    def events_at(request: Request, at: datetime) -> list[dict[str, Any]]:
        first = _parse_time(request.query_params.get("commenceTimeFrom"), "commenceTimeFrom")
        last = _parse_time(request.query_params.get("commenceTimeTo"), "commenceTimeTo")
        rows = [event_json(s) for s in listed(at, first, last)]
        for extra in odds.extra_events:
            commence = _parse_time(extra["commence_time"], "commence_time")
            if (first is None or commence >= first) and (last is None or commence <= last):
                rows.append(_public(extra))
        return sorted(rows, key=lambda e: (e["commence_time"], e["id"]))

    def game_of(eid: str, at: datetime) -> GameState:
        nba_id = odds.event_games.get(eid)
        if nba_id is None:
            for year in {lg.season_year_for(at.astimezone(lg.EASTERN).date()), *league.loaded_seasons()}:
                for game in league.season(year).games:
                    odds.event_games.setdefault(event_id(sim.config.seed, game.nba_id), game.nba_id)
            nba_id = odds.event_games.get(eid)
        state = league.game(nba_id, at) if nba_id else None
        if state is None:
            raise _ApiError(404, "EVENT_NOT_FOUND", f"Event not found: {eid}")
        return state

    def snapshot(at: datetime) -> dict[str, str]:
        stamp = at.replace(second=0, microsecond=0)
        stamp -= timedelta(minutes=stamp.minute % SNAPSHOT_MINUTES)
        step = timedelta(minutes=SNAPSHOT_MINUTES)
        return {
            "timestamp": _iso(stamp),
            "previous_timestamp": _iso(stamp - step),
            "next_timestamp": _iso(stamp + step),
        }

    def event_odds_body(request: Request, at: datetime, *, historical: bool) -> tuple[dict[str, Any], int]:
        regions, markets = regions_of(request), markets_of(request, featured_only=False)
        fmt = odds_format_of(request)
        eid = request.path_params["event_id"]
        extra = next((e for e in odds.extra_events if e.get("id") == eid), None)
        # an event not on the schedule is priced like the real game it names in ``priced_as``
        state = game_of(eid, at) if extra is None else league.game(extra["priced_as"], at)
        if state is None:
            raise _ApiError(404, "EVENT_NOT_FOUND", f"Event not found: {eid}")
        books = books_of(regions)
        priced = player_props(sim, odds, state, at, markets, books)
        for book, by_market in game_lines(sim, odds, state, at, markets, books).items():
            priced.setdefault(book, {}).update(by_market)
        returned = {m for by_market in priced.values() for m in by_market}
        cost = len(returned) * len(regions) * (10 if historical else 1)
        charge_check(max(cost, 1))
        identity = event_json(state) if extra is None else _public(extra)
        return {**identity, "bookmakers": _bookmakers(priced, fmt)}, cost

    def featured_body(
        request: Request, at: datetime, *, historical: bool
    ) -> tuple[list[dict[str, Any]], int]:
        regions, markets = regions_of(request), markets_of(request, featured_only=True)
        fmt = odds_format_of(request)
        cost = len(markets) * len(regions) * (10 if historical else 1)
        charge_check(cost)
        first = _parse_time(request.query_params.get("commenceTimeFrom"), "commenceTimeFrom")
        last = _parse_time(request.query_params.get("commenceTimeTo"), "commenceTimeTo")
        rows = []
        for state in listed(at, first, last):
            priced = game_lines(sim, odds, state, at, markets, books_of(regions))
            rows.append({**event_json(state), "bookmakers": _bookmakers(priced, fmt)})
        return rows, cost

    def historical_at(request: Request) -> datetime:
        raw = request.query_params.get("date")
        try:
            at = _parse_time(raw, "date")
        except _ApiError as exc:
            raise _ApiError(422, "INVALID_HISTORICAL_TIMESTAMP", exc.message) from exc
        if at is None:
            raise _ApiError(
                422, "MISSING_HISTORICAL_TIMESTAMP", "Missing date parameter, e.g. date=2026-11-24T12:00:00Z"
            )
        if at > sim.clock.now():
            raise _ApiError(422, "INVALID_HISTORICAL_TIMESTAMP", "date is in the future")
        return at

    def handler(name: str, body_of):
        async def handle(request: Request) -> Response:
            sim.count(f"odds_api.{name}")
            try:
                authorize(request)
                body, cost = body_of(request)
            except _ApiError as error:
                return error.response()
            return answer(body, cost)

        return faulted(sim.faults, f"odds_api.{name}", handle, on_rate_limit=_too_frequent)

    def live_events(request: Request):
        return events_at(request, sim.clock.now()), 0

    def historical_events(request: Request):
        at = historical_at(request)
        rows = events_at(request, at)
        charge_check(1 if rows else 0)
        return {**snapshot(at), "data": rows}, 1 if rows else 0

    def live_event_odds(request: Request):
        return event_odds_body(request, sim.clock.now(), historical=False)

    def historical_event_odds(request: Request):
        at = historical_at(request)
        body, cost = event_odds_body(request, at, historical=True)
        return {**snapshot(at), "data": body}, cost

    def live_odds(request: Request):
        return featured_body(request, sim.clock.now(), historical=False)

    def historical_odds(request: Request):
        at = historical_at(request)
        rows, cost = featured_body(request, at, historical=True)
        return {**snapshot(at), "data": rows}, cost

    base, hist = f"/v4/sports/{SPORT}", f"/v4/historical/sports/{SPORT}"
    return [
        Route(f"{base}/events", handler("events", live_events)),
        Route(f"{base}/events/{{event_id}}/odds", handler("event_odds", live_event_odds)),
        Route(f"{base}/odds", handler("odds", live_odds)),
        Route(f"{hist}/events", handler("historical_events", historical_events)),
        Route(f"{hist}/events/{{event_id}}/odds", handler("historical_event_odds", historical_event_odds)),
        Route(f"{hist}/odds", handler("historical_odds", historical_odds)),
    ]


def _public(extra: dict[str, Any]) -> dict[str, Any]:
    return {"sport_key": SPORT, "sport_title": "NBA", **{k: v for k, v in extra.items() if k != "priced_as"}}


def _too_frequent(retry_after: float, per_minute: int) -> Response:
    return _ApiError(
        429,
        "EXCEEDED_FREQ_LIMIT",
        "Requests are being sent too frequently. Space out requests over several seconds.",
    ).response()


def control_routes(sim: Any) -> list[Route]:
    """``GET|POST /state`` (mounted at ``/_sim/odds-api``): read or change quota and behaviour."""
    odds = attach(sim)
    settable = {
        "quota_total", "used", "props_lead_hours", "lines_lead_days", "quote_postponed",
        "book_outlier", "renamed_players", "extra_events",
    }  # fmt: skip

    async def state(request: Request) -> JSONResponse:
        if request.method == "POST":
            body = await request.json()
            unknown = set(body) - settable
            if unknown:
                return JSONResponse({"error": f"unknown settings {sorted(unknown)}"}, status_code=400)
            with odds.lock:
                for name, value in body.items():
                    setattr(odds, name, value)
        return JSONResponse(odds.as_dict())

    return [Route("/state", state, methods=["GET", "POST"])]
