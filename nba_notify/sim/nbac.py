"""NBA.com as the simulator serves it under ``/nbac``:

* ``GET /static/json/staticData/scheduleLeagueV2.json`` (real: https://cdn.nba.com) — the
  current season only (the one containing the clock's date; between seasons the upcoming one);
  route ``nbac.schedule``;
* ``GET /stats/scheduleleaguev2?LeagueID=00&Season=2025-26`` (real: https://stats.nba.com, which
  the simulator serves under its own prefix ``/nbac-stats``, not under the CDN's ``/nbac``) — any
  season, same ``leagueSchedule`` shape; route ``nbac.schedule_season``. Like the real host it
  refuses requests without browser-like headers (``User-Agent``, ``Referer``/``Origin`` on
  www.nba.com): the real one stalls them until they time out, the simulator answers 403 at once;
* ``GET /static/json/liveData/boxscore/boxscore_{gameId}.json`` (real: cdn.nba.com) — live or
  final games; anything else is the CDN's 403 ``AccessDenied`` XML; route ``nbac.boxscore``.

Facts reproduced: ``gameDateEst``/``gameTimeEst``/``gameDateTimeEst`` and ``gameEt`` end in a
literal ``Z`` but are US-Eastern wall-clock times (``gameDateTimeUTC``/``gameTimeUTC`` are the
truth); ``gameStatus`` 1 scheduled, 2 live, 3 final; ``gameId`` is a 10-character string.
Schedules carry an ``ETag`` and answer ``If-None-Match`` with 304.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from nba_notify.lib.teams import TEAMS, Team
from nba_notify.sim import league as lg
from nba_notify.sim.faults import DATA_KINDS, faulted
from nba_notify.sim.league import EASTERN, BoxScore, GameState, PlayerLine, TeamBox

ACCESS_DENIED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
)
_ARENA_IDS = {team.tricode: 100 + i * 7 for i, team in enumerate(TEAMS)}
_OFFICIALS = (
    (1146, "Tony", "Brothers", "25"), (202007, "Nick", "Buchert", "3"), (202049, "Ben", "Taylor", "46"),
    (1626302, "Aaron", "Smith", "51"), (1153, "Scott", "Foster", "48"), (1830, "Marc", "Davis", "8"),
    (2001, "Zach", "Zarba", "15"), (1627541, "Natalie", "Sago", "9"), (203593, "Sean", "Wright", "4"),
    (1627524, "Tyler", "Ford", "39"), (202026, "Kane", "Fitzgerald", "5"), (1628951, "Jenna", "Schroeder", "50"),
)  # fmt: skip


# --------------------------------------------------------------------------------------------
# Formatting helpers


def _z(moment: datetime) -> str:
    """Wall-clock time of ``moment`` with a literal Z, whatever its zone (NBA.com's habit)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _clock(seconds: float) -> str:
    minutes, rest = divmod(max(0.0, seconds), 60)
    return f"PT{int(minutes):02d}M{rest:05.2f}S"


def _status_code(state: GameState) -> int:
    return {lg.LIVE: 2, lg.FINAL: 3}.get(state.status, 1)


def _status_text(state: GameState) -> str:
    if state.status == lg.POSTPONED:
        return "PPD"
    if state.status == lg.CANCELLED:
        return "Cancelled"
    if state.status == lg.SCHEDULED:
        eastern = state.tipoff_eastern
        hour = eastern.hour % 12 or 12
        return f"{hour}:{eastern.minute:02d} {'pm' if eastern.hour >= 12 else 'am'} ET"
    if state.status == lg.FINAL:
        ot = state.game.overtimes
        return "Final" if ot == 0 else "Final/OT" if ot == 1 else f"Final/{ot}OT"
    if state.halftime:
        return "Half"
    label = (
        f"Q{state.period}" if state.period <= 4 else ("OT" if state.period == 5 else f"{state.period - 4}OT")
    )
    seconds = int(state.clock_seconds)
    return f"{label} {seconds // 60:02d}:{seconds % 60:02d}"


def _week_number(season: lg.Season, day: date) -> int:
    opening_monday = season.first_day - timedelta(days=season.first_day.weekday())
    return (day - opening_monday).days // 7 + 1


# --------------------------------------------------------------------------------------------
# Schedule


def _schedule_team(team: Team, score: int, record: tuple[int, int]) -> dict[str, Any]:
    return {
        "teamId": team.nba_id,
        "teamName": team.name,
        "teamCity": team.city,
        "teamTricode": team.tricode,
        "teamSlug": team.slug,
        "wins": record[0],
        "losses": record[1],
        "score": score,
        "seed": 0,
    }


_NO_BROADCASTERS = {
    key: []
    for key in (
        "nationalBroadcasters", "nationalRadioBroadcasters", "nationalOttBroadcasters",
        "homeTvBroadcasters", "homeRadioBroadcasters", "homeOttBroadcasters",
        "awayTvBroadcasters", "awayRadioBroadcasters", "awayOttBroadcasters",
    )
}  # fmt: skip


def schedule_game_json(
    season: lg.Season,
    state: GameState,
    sequence: int,
    home_record: tuple[int, int],
    away_record: tuple[int, int],
) -> dict[str, Any]:
    eastern = state.tipoff_eastern
    utc = state.tipoff_utc.astimezone(UTC)
    day = state.game_date
    midnight_utc = datetime(day.year, day.month, day.day, tzinfo=EASTERN).astimezone(UTC)
    game = state.game
    week = 0 if game.kind == "preseason" else _week_number(season, day)
    arena_name, arena_city, arena_state = (
        (game.venue.arena_name, game.venue.arena_city, game.venue.arena_state)
        if game.venue
        else (state.home.arena_name, state.home.arena_city, state.home.arena_state)
    )
    # Games 5-7 of a series are listed "if necessary" until the series reaches them.
    if_necessary = game.if_necessary and (game.necessary_from is None or state.now < game.necessary_from)
    return {
        "gameId": state.nba_id,
        "gameCode": state.game_code,
        "gameStatus": _status_code(state),
        "gameStatusText": _status_text(state),
        "gameSequence": sequence,
        "gameDateEst": f"{day.isoformat()}T00:00:00Z",
        "gameTimeEst": f"1900-01-01T{eastern:%H:%M}:00Z",
        "gameDateTimeEst": _z(eastern),
        "gameDateUTC": _z(midnight_utc),
        "gameTimeUTC": f"1900-01-01T{utc:%H:%M}:00Z",
        "gameDateTimeUTC": _z(utc),
        "awayTeamTime": _z(state.tipoff_utc.astimezone(ZoneInfo(state.away.timezone))),
        "homeTeamTime": _z(state.tipoff_utc.astimezone(ZoneInfo(state.home.timezone))),
        "day": eastern.strftime("%a"),
        "monthNum": day.month,
        "weekNumber": week,
        "weekName": f"Week {week}" if week else "",
        "ifNecessary": if_necessary,
        "seriesGameNumber": game.series_game,
        "gameLabel": game.label,
        "gameSubLabel": game.sub_label,
        "seriesText": "",
        "arenaName": arena_name,
        "arenaState": arena_state,
        "arenaCity": arena_city,
        "postponedStatus": {lg.POSTPONED: "Y", lg.CANCELLED: "C"}.get(state.status, "N"),
        "branchLink": f"https://app.link.nba.com/{state.nba_id}",
        "gameSubtype": game.subtype,
        "isNeutral": game.venue is not None,
        "broadcasters": {key: [] for key in _NO_BROADCASTERS},
        "homeTeam": _schedule_team(state.home, state.home_score, home_record),
        "awayTeam": _schedule_team(state.away, state.away_score, away_record),
        "pointsLeaders": [],
    }


def build_schedule(sim: Any, route: str, year: int, now: datetime) -> dict[str, Any]:
    """The ``scheduleLeagueV2`` document of one season at ``now``, without the games the
    route's data faults hide. Records count finished games (hidden ones too: the league
    played them)."""
    league = sim.league
    season = league.season(year)
    states = league.season_games(year, now)
    hidden = lg.hidden_games(sim, route, states, now)
    wrong = lg.wrong_scores(sim, route, states, now)
    records = {team.tricode: [0, 0] for team in TEAMS}
    by_day: dict[date, list[dict[str, Any]]] = {}
    for state in states:
        # Records are regular-season records (preseason, All-Star, the Cup final, the
        # postseason do not count); other teams show 0-0.
        counts = state.game.kind in ("regular", "cup_knockout")
        if state.status == lg.FINAL and counts:
            home_won = state.home_score > state.away_score
            records[state.home.tricode][0 if home_won else 1] += 1
            records[state.away.tricode][1 if home_won else 0] += 1
        if state.nba_id in hidden:
            continue
        games = by_day.setdefault(state.game_date, [])
        games.append(
            schedule_game_json(
                season, state, len(games) + 1,
                tuple(records.get(state.home.tricode, (0, 0))), tuple(records.get(state.away.tricode, (0, 0))),
            )
        )  # fmt: skip
        if state.nba_id in wrong:
            games[-1]["homeTeam"]["score"] += wrong[state.nba_id]
    weeks = sorted({_week_number(season, day) for day in season.by_date})
    opening_monday = season.first_day - timedelta(days=season.first_day.weekday())
    return {
        "meta": {
            "version": 1,
            "request": f"http://nba.cloud/league/00/{season.label}/scheduleleaguev2?Format=json",
            "time": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
        },
        "leagueSchedule": {
            "seasonYear": season.label,
            "leagueId": "00",
            "gameDates": [
                {"gameDate": f"{day:%m/%d/%Y} 00:00:00", "games": by_day[day]} for day in sorted(by_day)
            ],
            "weeks": [
                {
                    "weekNumber": week,
                    "weekName": f"Week {week}",
                    "startDate": (opening_monday + timedelta(weeks=week - 1)).isoformat(),
                    "endDate": (opening_monday + timedelta(weeks=week, days=-1)).isoformat(),
                }
                for week in weeks
            ],
            "broadcasterList": [],
        },
    }


class _PayloadCache:
    """Serialized schedules keyed by everything they depend on: season, the moment (to the
    minute while the clock runs), overrides and the data faults in force."""

    def __init__(self, size: int = 8):
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[Any, ...], tuple[bytes, str]] = OrderedDict()
        self._size = size

    def get_or_build(self, key: tuple[Any, ...], build: Any) -> tuple[bytes, str]:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        body = json.dumps(build(), separators=(",", ":")).encode()
        etag = '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'
        with self._lock:
            self._items[key] = (body, etag)
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return body, etag


def _schedule_response(request: Request, body: bytes, etag: str) -> Response:
    headers = {"ETag": etag, "Cache-Control": "max-age=60"}
    if etag in [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


# --------------------------------------------------------------------------------------------
# Box score


def _player_statistics(line: PlayerLine) -> dict[str, Any]:
    fg2m, fg2a = line.fgm - line.fg3m, line.fga - line.fg3a

    def pct(made: int, attempted: int) -> float:
        return round(made / attempted, 3) if attempted else 0.0

    minutes_calculated = round(line.seconds / 60)
    paint = min(2 * fg2m, 2 * round(fg2m * 0.6))
    return {
        "assists": line.ast,
        "blocks": line.blk,
        "blocksReceived": 0,
        "fieldGoalsAttempted": line.fga,
        "fieldGoalsMade": line.fgm,
        "fieldGoalsPercentage": pct(line.fgm, line.fga),
        "foulsOffensive": 0,
        "foulsDrawn": line.fta // 2,
        "foulsPersonal": line.pf,
        "foulsTechnical": 0,
        "freeThrowsAttempted": line.fta,
        "freeThrowsMade": line.ftm,
        "freeThrowsPercentage": pct(line.ftm, line.fta),
        "minus": float(max(0, -line.plus_minus)),
        "minutes": _clock(line.seconds),
        "minutesCalculated": f"PT{minutes_calculated:02d}M",
        "plus": float(max(0, line.plus_minus)),
        "plusMinusPoints": float(line.plus_minus),
        "points": line.pts,
        "pointsFastBreak": 0,
        "pointsInThePaint": paint,
        "pointsSecondChance": min(line.pts, 2 * line.oreb),
        "reboundsDefensive": line.dreb,
        "reboundsOffensive": line.oreb,
        "reboundsTotal": line.reb,
        "steals": line.stl,
        "threePointersAttempted": line.fg3a,
        "threePointersMade": line.fg3m,
        "threePointersPercentage": pct(line.fg3m, line.fg3a),
        "turnovers": line.tov,
        "twoPointersAttempted": fg2a,
        "twoPointersMade": fg2m,
        "twoPointersPercentage": pct(fg2m, fg2a),
    }


def _player_json(line: PlayerLine, order: int, live: bool) -> dict[str, Any]:
    player = line.player
    row: dict[str, Any] = {"status": "INACTIVE" if line.inactive_reason else "ACTIVE"}
    if line.inactive_reason:
        row["notPlayingReason"] = line.inactive_reason
        row["notPlayingDescription"] = (
            "Injury/Illness" if "INJURY" in line.inactive_reason else "Not With Team"
        )
    row.update(order=order, personId=player.nba_id, jerseyNum=player.jersey)
    if line.starter:
        row["position"] = player.court_position
    row.update(
        starter="1" if line.starter else "0",
        oncourt="1" if live and line.starter else "0",
        played="1" if line.played else "0",
        statistics=_player_statistics(line),
        name=player.name,
        nameI=f"{player.first_name[0]}. {player.last_name}",
        firstName=player.first_name,
        familyName=player.last_name,
    )
    return row


def _team_statistics(team_box: TeamBox, opponent: TeamBox) -> dict[str, Any]:
    lines = [line for line in team_box.lines if line.played]

    def total(attr: str) -> int:
        return sum(getattr(line, attr) for line in lines)

    def pct(made: float, attempted: float) -> float:
        return round(made / attempted, 15) if attempted else 0.0

    fgm, fga, fg3m, fg3a, ftm, fta = (total(a) for a in ("fgm", "fga", "fg3m", "fg3a", "ftm", "fta"))
    fg2m, fg2a = fgm - fg3m, fga - fg3a
    oreb, dreb, ast, tov = total("oreb"), total("dreb"), total("ast"), total("tov")
    seconds = total("seconds")
    bench = sum(line.pts for line in lines if not line.starter)
    paint_made = round(fg2m * 0.6)
    ts_attempts = round(fga + 0.44 * fta, 2)
    score, against = team_box.score, opponent.score
    return {
        "assists": ast,
        "assistsTurnoverRatio": round(ast / tov, 3) if tov else float(ast),
        "benchPoints": bench,
        "biggestLead": max(0, score - against) + 4,
        "biggestLeadScore": f"{against}-{score}",
        "biggestScoringRun": 9,
        "biggestScoringRunScore": f"{against}-{score}",
        "blocks": total("blk"),
        "blocksReceived": sum(line.blk for line in opponent.lines),
        "fastBreakPointsAttempted": 10,
        "fastBreakPointsMade": 5,
        "fastBreakPointsPercentage": 0.5,
        "fieldGoalsAttempted": fga,
        "fieldGoalsEffectiveAdjusted": pct(fgm + 0.5 * fg3m, fga),
        "fieldGoalsMade": fgm,
        "fieldGoalsPercentage": pct(fgm, fga),
        "foulsOffensive": 0,
        "foulsDrawn": sum(line.pf for line in opponent.lines),
        "foulsPersonal": total("pf"),
        "foulsTeam": total("pf"),
        "foulsTechnical": 0,
        "foulsTeamTechnical": 0,
        "freeThrowsAttempted": fta,
        "freeThrowsMade": ftm,
        "freeThrowsPercentage": pct(ftm, fta),
        "leadChanges": 7,
        "minutes": _clock(seconds),
        "minutesCalculated": f"PT{round(seconds / 60):02d}M",
        "points": score,
        "pointsAgainst": against,
        "pointsFastBreak": 10,
        "pointsFromTurnovers": 2 * sum(line.tov for line in opponent.lines),
        "pointsInThePaint": 2 * paint_made,
        "pointsInThePaintAttempted": round(fg2a * 0.6),
        "pointsInThePaintMade": paint_made,
        "pointsInThePaintPercentage": pct(paint_made, round(fg2a * 0.6)),
        "pointsSecondChance": min(score, 2 * oreb),
        "reboundsDefensive": dreb,
        "reboundsOffensive": oreb,
        "reboundsPersonal": oreb + dreb,
        "reboundsTeam": 2,
        "reboundsTeamDefensive": 1,
        "reboundsTeamOffensive": 1,
        "reboundsTotal": oreb + dreb + 2,
        "secondChancePointsAttempted": oreb,
        "secondChancePointsMade": oreb // 2,
        "secondChancePointsPercentage": 0.5 if oreb else 0.0,
        "steals": total("stl"),
        "threePointersAttempted": fg3a,
        "threePointersMade": fg3m,
        "threePointersPercentage": pct(fg3m, fg3a),
        "timeLeading": _clock(min(seconds / 5, 2880) / 2),
        "timesTied": 5,
        "trueShootingAttempts": ts_attempts,
        "trueShootingPercentage": pct(score, 2 * ts_attempts),
        "turnovers": tov,
        "turnoversTeam": 1,
        "turnoversTotal": tov + 1,
        "twoPointersAttempted": fg2a,
        "twoPointersMade": fg2m,
        "twoPointersPercentage": pct(fg2m, fg2a),
    }


def _periods(state: GameState, points: tuple[int, ...]) -> list[dict[str, Any]]:
    shown = max(4, state.period)
    return [
        {"period": p, "periodType": "REGULAR" if p <= 4 else "OVERTIME", "score": points[p - 1]}
        for p in range(1, shown + 1)
    ]


def _box_team(
    state: GameState, team_box: TeamBox, opponent: TeamBox, dropped: set[int], home: bool
) -> dict[str, Any]:
    live = state.status == lg.LIVE
    listed = [line for line in team_box.lines if line.player.nba_id not in dropped]
    points = state.home_periods if home else state.away_periods
    return {
        "teamId": team_box.team.nba_id,
        "teamName": team_box.team.name,
        "teamCity": team_box.team.city,
        "teamTricode": team_box.team.tricode,
        "score": team_box.score,
        "inBonus": "0",
        "timeoutsRemaining": 2 if not live else 4,
        "periods": _periods(state, points),
        "players": [_player_json(line, order, live) for order, line in enumerate(listed, start=1)],
        "statistics": _team_statistics(team_box, opponent),
    }


def _arena(state: GameState) -> dict[str, Any]:
    venue = state.game.venue
    if venue is not None:
        return {
            "arenaId": 9000 + sum(map(ord, venue.arena_name)) % 1000,
            "arenaName": venue.arena_name,
            "arenaCity": venue.arena_city,
            "arenaState": venue.arena_state,
            "arenaCountry": venue.country,
            "arenaTimezone": venue.timezone,
        }
    return {
        "arenaId": _ARENA_IDS.get(state.home.tricode, 0),
        "arenaName": state.home.arena_name,
        "arenaCity": state.home.arena_city,
        "arenaState": state.home.arena_state,
        "arenaCountry": "CA" if state.home.tricode == "TOR" else "US",
        "arenaTimezone": state.home.timezone,
    }


def boxscore_json(box: BoxScore, dropped: set[int], now: datetime) -> dict[str, Any]:
    state = box.state
    home_time = state.tipoff_utc.astimezone(ZoneInfo(state.home.timezone))
    away_time = state.tipoff_utc.astimezone(ZoneInfo(state.away.timezone))
    elapsed = min(now, state.ends_at) - state.tipoff_utc
    officials_at = int(state.nba_id[-4:]) % len(_OFFICIALS)
    crew = [_OFFICIALS[(officials_at + k) % len(_OFFICIALS)] for k in range(4)]
    game = {
        "gameId": state.nba_id,
        "gameTimeLocal": _z(home_time),
        "gameTimeUTC": _z(state.tipoff_utc.astimezone(UTC)),
        "gameTimeHome": _z(home_time),
        "gameTimeAway": _z(away_time),
        "gameEt": _z(state.tipoff_eastern),
        "duration": int(elapsed.total_seconds() // 60),
        "gameCode": state.game_code,
        "gameStatusText": _status_text(state),
        "gameStatus": _status_code(state),
        "regulationPeriods": 4,
        "period": state.period,
        "gameClock": _clock(state.clock_seconds),
        "attendance": state.game.attendance,
        "sellout": "1" if state.game.attendance >= 19_000 else "0",
        "arena": _arena(state),
        "officials": [
            {
                "personId": person_id,
                "name": f"{first} {last}",
                "nameI": f"{first[0]}. {last}",
                "firstName": first,
                "familyName": last,
                "jerseyNum": jersey,
                "assignment": ("OFFICIAL1", "OFFICIAL2", "OFFICIAL3", "ALTERNATE")[k],
            }
            for k, (person_id, first, last, jersey) in enumerate(crew)
        ],
        "homeTeam": _box_team(state, box.home, box.away, dropped, home=True),
        "awayTeam": _box_team(state, box.away, box.home, dropped, home=False),
    }
    return {
        "meta": {
            "version": 1,
            "code": 200,
            "request": f"http://nba.cloud/games/{state.nba_id}/boxscore?Format=json",
            "time": now.astimezone(EASTERN).strftime("%Y-%m-%d %H:%M:%S.%f"),
        },
        "game": game,
    }


# --------------------------------------------------------------------------------------------
# Routes


def _access_denied() -> Response:
    return Response(ACCESS_DENIED, status_code=403, media_type="application/xml")


def _cdn_rate_limited(retry_after: float, per_minute: int) -> Response:
    return Response(
        b"Too Many Requests", status_code=429, headers={"Retry-After": str(max(1, round(retry_after)))}
    )


# What stats.nba.com insists on before it answers (requests without them hang).
STATS_REQUIRED_HEADERS = ("user-agent", "referer", "origin")


def _browser_like(request: Request) -> bool:
    headers = request.headers
    return (
        all(headers.get(name) for name in STATS_REQUIRED_HEADERS)
        and headers["user-agent"].startswith("Mozilla/")
        and "nba.com" in headers["referer"]
        and "nba.com" in headers["origin"]
    )


def _schedule_service(sim: Any) -> Any:
    """One league view and schedule cache per simulator, shared by the CDN and stats hosts."""
    service = getattr(sim, "_nbac_schedules", None)
    if service is not None:
        return service
    league = lg.attach(sim)
    cache = _PayloadCache()

    def schedule_for(request: Request, route: str, year: int) -> Response:
        now = sim.clock.now()
        # A running clock only rebuilds once per simulated minute; a frozen one never does.
        moment = now.replace(second=0, microsecond=0) if sim.clock.rate > 0 else now
        data_faults = tuple(
            (f["id"], f["kind"], f["route"], json.dumps(f["params"], sort_keys=True))
            for f in sim.faults.list()
            if f["kind"] in DATA_KINDS
        )
        key = (route, year, moment, league.version, data_faults)
        body, etag = cache.get_or_build(key, lambda: build_schedule(sim, route, year, moment))
        return _schedule_response(request, body, etag)

    sim._nbac_schedules = (league, schedule_for)
    return sim._nbac_schedules


def routes(sim: Any) -> list[Route]:
    """The CDN (cdn.nba.com): the current season's file and the live box scores."""
    league, schedule_for = _schedule_service(sim)

    async def schedule(request: Request) -> Response:
        sim.count("nbac.schedule")
        return schedule_for(request, "nbac.schedule", league.current_season_year(sim.clock.now()))

    async def boxscore(request: Request) -> Response:
        sim.count("nbac.boxscore")
        now = sim.clock.now()
        state = league.game(request.path_params["game_id"], now)
        if state is None or len(request.path_params["game_id"]) != 10 or not state.started:
            return _access_denied()
        day_states = league.games_on(state.game_date, now)
        if state.nba_id in lg.hidden_games(sim, "nbac.boxscore", day_states, now):
            return _access_denied()
        if not state.game.box_score_published("nbac", state.ends_at, now):
            return _access_denied()  # not published yet (or never, for a few games)
        box = league.box_score(state)
        if box is None:
            return _access_denied()
        dropped = lg.dropped_player_ids(sim, "nbac.boxscore", box, day_states, now)
        return JSONResponse(boxscore_json(box, dropped, now))

    async def not_on_the_cdn(request: Request) -> Response:
        return _access_denied()  # what S3 answers for a key it does not hold

    return [
        Route(
            "/static/json/staticData/scheduleLeagueV2.json",
            faulted(sim.faults, "nbac.schedule", schedule, on_rate_limit=_cdn_rate_limited),
        ),
        Route(
            "/static/json/liveData/boxscore/boxscore_{game_id}.json",
            faulted(sim.faults, "nbac.boxscore", boxscore, on_rate_limit=_cdn_rate_limited),
        ),
        Route("/{path:path}", not_on_the_cdn),
    ]


def stats_routes(sim: Any) -> list[Route]:
    """The stats host (stats.nba.com): any season's schedule."""
    _league, schedule_for = _schedule_service(sim)

    async def schedule_season(request: Request) -> Response:
        sim.count("nbac.schedule_season")
        if not _browser_like(request):
            sim.count("nbac.schedule_season.refused")
            message = "stats.nba.com answers browsers only: send User-Agent, Referer and Origin"
            return JSONResponse({"message": message}, status_code=403)
        params = {k.lower(): v for k, v in request.query_params.items()}
        if params.get("leagueid", "00") != "00":
            return JSONResponse({"message": "The LeagueID property is invalid."}, status_code=400)
        try:
            year = lg.season_year_of_label(params.get("season", ""))
        except ValueError:
            message = "The Season property is required and must be like 2025-26."
            return JSONResponse({"message": message}, status_code=400)
        return schedule_for(request, "nbac.schedule_season", year)

    return [
        Route(
            "/stats/scheduleleaguev2",
            faulted(sim.faults, "nbac.schedule_season", schedule_season, on_rate_limit=_cdn_rate_limited),
        ),
    ]
