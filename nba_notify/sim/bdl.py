"""The BallDontLie (BDL) API as the simulator serves it under ``/bdl`` (real base
https://api.balldontlie.io): ``GET /v1/games`` and ``GET /v1/box_scores``.

Facts reproduced from the real API:
* the key goes in ``Authorization: <key>`` (no "Bearer"); anything else is 401;
* cursor paging: ``meta.next_cursor`` is absent on the last page; ``per_page`` 25 by default,
  at most 100;
* a scheduled game's ``status`` is its ISO UTC tip-off and its scores are 0; live games say
  "1st Qtr" ... "4th Qtr", "Halftime", "OT"; finished ones "Final";
* ``date`` is sometimes "YYYY-MM-DD", sometimes "YYYY-MM-DDT00:00:00.000Z" (varies per game);
* ``/v1/box_scores`` rows carry no game id (match by date + teams), only live/final games
  appear, and players who did not play are listed with ``"min": "00"``;
* 429 bodies are ``{"error": ...}`` with no rate-limit headers.

Route names for faults and request counts: ``bdl.games``, ``bdl.box_scores``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from nba_notify.lib.teams import Team
from nba_notify.sim import league as lg
from nba_notify.sim.faults import faulted
from nba_notify.sim.league import BoxScore, GameState, PlayerLine

DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 100
MAX_RANGE_DAYS = 400

_LIVE_STATUS = {1: "1st Qtr", 2: "2nd Qtr", 3: "3rd Qtr", 4: "4th Qtr"}
# BDL lists regular-season (NBA Cup games included) and postseason games; preseason and
# All-Star games are not in its /v1/games.
UNLISTED_KINDS = frozenset({"preseason", "all_star"})
POSTSEASON_KINDS = frozenset({"play_in", "playoffs"})


def team_json(team: Team) -> dict[str, Any]:
    return {
        "id": team.bdl_id,
        "conference": team.conference,
        "division": team.division,
        "city": team.city,
        "name": team.name,
        "full_name": team.full_name,
        "abbreviation": team.tricode,
    }


def _utc_iso(state: GameState, millis: bool) -> str:
    text = state.tipoff_utc.strftime("%Y-%m-%dT%H:%M:%S")
    return text + (".000Z" if millis else "Z")


def _status_and_time(state: GameState) -> tuple[str, str | None]:
    if state.status == lg.SCHEDULED:
        return _utc_iso(state, millis=False), None
    if state.status == lg.POSTPONED:
        return "Postponed", None
    if state.status == lg.CANCELLED:
        return "Cancelled", None
    if state.status == lg.FINAL:
        return "Final", "Final"
    if state.halftime:
        return "Halftime", "Half"
    if state.period <= 4:
        status = _LIVE_STATUS[state.period]
    else:
        status = "OT" if state.period == 5 else f"{state.period - 4}OT"
    seconds = int(state.clock_seconds)
    return status, f"{seconds // 60}:{seconds % 60:02d}"


def _game_fields(state: GameState) -> dict[str, Any]:
    status, clock = _status_and_time(state)
    day = state.game_date.isoformat()
    # The real API serves both spellings of the date; which one is stable per game.
    long_date = state.bdl_id % 3 == 0
    return {
        "date": f"{day}T00:00:00.000Z" if long_date else day,
        "datetime": _utc_iso(state, millis=True),
        "season": state.season,
        "status": status,
        "period": state.period,
        "time": clock,
        "postseason": state.game.kind in POSTSEASON_KINDS,
        "home_team_score": state.home_score,
        "visitor_team_score": state.away_score,
    }


def game_json(state: GameState) -> dict[str, Any]:
    return {
        "id": state.bdl_id,
        **_game_fields(state),
        "home_team": team_json(state.home),
        "visitor_team": team_json(state.away),
    }


def _pct(made: int, attempted: int) -> float | None:
    return round(made / attempted, 3) if attempted else None


def player_line_json(line: PlayerLine) -> dict[str, Any]:
    player = line.player
    minutes = max(1, round(line.seconds / 60)) if line.played else 0
    return {
        "min": str(minutes) if line.played else "00",
        "fgm": line.fgm,
        "fga": line.fga,
        "fg_pct": _pct(line.fgm, line.fga),
        "fg3m": line.fg3m,
        "fg3a": line.fg3a,
        "fg3_pct": _pct(line.fg3m, line.fg3a),
        "ftm": line.ftm,
        "fta": line.fta,
        "ft_pct": _pct(line.ftm, line.fta),
        "oreb": line.oreb,
        "dreb": line.dreb,
        "reb": line.reb,
        "ast": line.ast,
        "stl": line.stl,
        "blk": line.blk,
        "turnover": line.tov,
        "pf": line.pf,
        "pts": line.pts,
        "player": {
            "id": player.bdl_id,
            "first_name": player.first_name,
            "last_name": player.last_name,
            "position": player.position,
            "height": player.height,
            "weight": player.weight,
            "jersey_number": player.jersey,
            "college": player.college,
            "country": player.country,
            "draft_year": player.draft_year,
            "draft_round": player.draft_round,
            "draft_number": player.draft_number,
            "team_id": None,  # filled by the caller (the player's team in this game)
        },
    }


def box_score_json(box: BoxScore, dropped: set[int]) -> dict[str, Any]:
    def side(team_box: Any) -> dict[str, Any]:
        players = []
        for line in team_box.lines:
            if line.inactive_reason or line.player.nba_id in dropped:
                continue
            row = player_line_json(line)
            row["player"]["team_id"] = team_box.team.bdl_id
            players.append(row)
        return {**team_json(team_box.team), "players": players}

    return {**_game_fields(box.state), "home_team": side(box.home), "visitor_team": side(box.away)}


def _error(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _too_many_requests(retry_after: float, per_minute: int) -> Response:
    # The real API sends no X-RateLimit-* or Retry-After headers with its 429s.
    return _error("Too many requests, please slow down.", 429)


def _list_param(request: Request, name: str) -> list[str]:
    return request.query_params.getlist(f"{name}[]") + request.query_params.getlist(name)


def routes(sim: Any) -> list[Route]:
    league = lg.attach(sim)

    def authorized(request: Request) -> bool:
        return request.headers.get("authorization") == sim.config.bdl_api_key

    def candidate_states(request: Request, now: Any) -> list[GameState]:
        """Every game the filters' dates/seasons cover (whole days, before the team filter, so
        data faults draw their games from complete days)."""
        dates = [date.fromisoformat(d) for d in _list_param(request, "dates")]
        start, end = request.query_params.get("start_date"), request.query_params.get("end_date")
        seasons = [int(s) for s in _list_param(request, "seasons")]
        states: list[GameState] = []
        if dates:
            for day in sorted(set(dates)):
                states += league.games_on(day, now)
        elif start or end:
            first = (
                date.fromisoformat(start)
                if start
                else date.fromisoformat(end) - timedelta(days=MAX_RANGE_DAYS)
            )
            last = date.fromisoformat(end) if end else first + timedelta(days=MAX_RANGE_DAYS)
            if (last - first).days > MAX_RANGE_DAYS:
                raise ValueError(f"date range longer than {MAX_RANGE_DAYS} days")
            day = first
            while day <= last:
                states += league.games_on(day, now)
                day += timedelta(days=1)
        else:
            for year in sorted(set(seasons)) or [league.current_season_year(now)]:
                states += league.season_games(year, now)
        if seasons:
            states = [s for s in states if s.season in seasons]
        return [s for s in states if s.game.kind not in UNLISTED_KINDS]

    async def games(request: Request) -> Response:
        sim.count("bdl.games")
        if not authorized(request):
            return _error("Unauthorized", 401)
        now = sim.clock.now()
        try:
            per_page = int(request.query_params.get("per_page", DEFAULT_PER_PAGE))
            cursor = request.query_params.get("cursor")
            after = int(cursor) if cursor not in (None, "") else None
            team_ids = {int(t) for t in _list_param(request, "team_ids")}
            states = candidate_states(request, now)
        except ValueError as exc:
            return _error(f"invalid query parameter: {exc}", 400)
        per_page = max(1, min(MAX_PER_PAGE, per_page))
        hidden = lg.hidden_games(sim, "bdl.games", states, now)
        rows = sorted(
            (
                s
                for s in states
                if s.nba_id not in hidden
                and (not team_ids or s.home.bdl_id in team_ids or s.away.bdl_id in team_ids)
            ),
            key=lambda s: s.bdl_id,
        )
        if after is not None:
            rows = [s for s in rows if s.bdl_id > after]
        page = rows[:per_page]
        meta: dict[str, Any] = {"per_page": per_page}
        if len(rows) > per_page:
            meta["next_cursor"] = page[-1].bdl_id
        wrong = lg.wrong_scores(sim, "bdl.games", states, now)
        data = [game_json(s) for s in page]
        for row, state in zip(data, page, strict=True):
            row["home_team_score"] += wrong.get(state.nba_id, 0)
        return JSONResponse({"data": data, "meta": meta})

    async def box_scores(request: Request) -> Response:
        sim.count("bdl.box_scores")
        if not authorized(request):
            return _error("Unauthorized", 401)
        raw = request.query_params.get("date")
        try:
            day = date.fromisoformat(raw or "")
        except ValueError:
            return _error("date is required (YYYY-MM-DD)", 400)
        now = sim.clock.now()
        states = [s for s in league.games_on(day, now) if s.game.kind not in UNLISTED_KINDS]
        hidden = lg.hidden_games(sim, "bdl.box_scores", states, now)
        data = []
        for state in states:
            if not state.started or state.nba_id in hidden:
                continue
            if not state.game.box_score_published("bdl", state.ends_at, now):
                continue
            box = league.box_score(state)
            if box is None:
                continue
            dropped = lg.dropped_player_ids(sim, "bdl.box_scores", box, states, now)
            data.append(box_score_json(box, dropped))
        return JSONResponse({"data": data})

    return [
        Route("/v1/games", faulted(sim.faults, "bdl.games", games, on_rate_limit=_too_many_requests)),
        Route(
            "/v1/box_scores",
            faulted(sim.faults, "bdl.box_scores", box_scores, on_rate_limit=_too_many_requests),
        ),
    ]
