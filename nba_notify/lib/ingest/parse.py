"""Pure functions from upstream payloads to canonical rows.

Each function validates its payload first (:mod:`nba_notify.lib.ingest.payloads`), so a bad
payload fails as ``PipelineError(VALIDATION)`` naming the field, then maps it to
:class:`SourceGame` / :class:`PlayerLine`:

* a game's identity is the league's: NBA.com's ``gameId``. Each source's games keep their own
  ids here (:class:`SourceGame`); :mod:`nba_notify.lib.ingest.identity` proves which league
  game a BDL id is. The game day (US-Eastern date of the tip-off) is an attribute that changes;
  BDL box score rows carry no game id at all, so their lines name the day and the two teams;
* instants are aware UTC datetimes taken only from UTC fields (NBA.com's ``*Est``/``gameEt``
  fields end in a misleading ``Z`` but are Eastern wall-clock times, so they are never read);
* statuses are one vocabulary: scheduled, live, final, postponed, cancelled;
* a player line exists only for a player who played, in both sources, so the two sources'
  box scores are comparable row for row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from nba_notify.lib.errors import ErrorCategory, PipelineError
from nba_notify.lib.ingest.payloads import (
    BdlBoxScoresPage,
    BdlBoxTeam,
    BdlGame,
    BdlGamesPage,
    NbacBoxScore,
    NbacBoxTeam,
    NbacSchedule,
    NbacScheduleGame,
    NbacScoreboard,
    bdl_status_clock,
    bdl_status_state,
    nbac_status_state,
    utc_timestamp,
    validate,
)

EASTERN = ZoneInfo("America/New_York")

# NBA.com game ids are "00" + season type + season (2 digits) + sequence: "0022500171".
# Preseason (1) and All-Star (3) games get no tip-off notification, and BDL does not list
# them, so keeping them would only manufacture "missing in BDL" discrepancies.
NBAC_SKIPPED_SEASON_TYPES = {"1": "preseason", "3": "all-star"}

SCORED_STATUSES = frozenset({"live", "final"})


def matchup(away: str, home: str) -> str:
    """A game's label for people: ``"PHI@CLE"`` (never an identity: teams meet many times)."""
    return f"{away}@{home}"


def eastern_game_day(tipoff_utc: datetime) -> date:
    """The game day is the US-Eastern calendar date of the tip-off (a 10pm ET West-coast
    game tips off the next day in UTC but belongs to the Eastern day)."""
    return tipoff_utc.astimezone(EASTERN).date()


def season_for_date(d: date) -> int:
    """NBA season start year for a calendar date: Oct-Dec -> that year; Jan-Sep -> the
    previous year. July-September (off-season) belong to the season that just ended: there
    are no games then, and that season's data is what a date in those months asks about.
    (NBA.com's current-season schedule file switches to the new season when it is published
    in August; :class:`~nba_notify.lib.clients.nbac.NbacClient` checks the file's own
    ``seasonYear`` and falls back to the stats route, so this choice is safe.)"""
    return d.year if d.month >= 10 else d.year - 1


@dataclass(frozen=True)
class SourceGame:
    source: str  # "bdl" | "nbac"
    source_game_id: str
    game_date: date  # US-Eastern game day
    season: int  # start year: 2025 for 2025-26
    home_team: str  # tricode
    away_team: str  # tricode
    tipoff_utc: datetime | None  # aware UTC
    status: str  # scheduled | live | final | postponed | cancelled
    home_score: int | None
    away_score: int | None

    @property
    def matchup(self) -> str:
        return matchup(self.away_team, self.home_team)


@dataclass(frozen=True)
class PlayerLine:
    source: str
    # NBA.com lines carry the gameId; BDL box score rows carry no game id (None): they are
    # matched to a game by day and teams.
    source_game_id: str | None
    game_date: date
    home_team: str
    away_team: str
    team: str  # tricode
    player_id: str  # source-specific (BDL id, NBA.com personId)
    player_name: str
    minutes: float | None
    points: int | None
    rebounds: int | None
    assists: int | None


# -- BDL ------------------------------------------------------------------------------------


def parse_bdl_games(payloads: Sequence[dict[str, Any]]) -> list[SourceGame]:
    """Every page of one ``/v1/games`` fetch -> one game each (a game repeated across pages
    by a shifting cursor is kept once)."""
    games: dict[str, SourceGame] = {}
    for number, payload in enumerate(payloads, start=1):
        page = validate(BdlGamesPage, payload, source=f"bdl games page {number}")
        for game in page.data:
            row = _bdl_game(game)
            games.setdefault(row.source_game_id, row)
    return list(games.values())


def _bdl_game(game: BdlGame) -> SourceGame:
    status = bdl_status_state(game.status, game.period)
    scored = status in SCORED_STATUSES
    return SourceGame(
        source="bdl",
        source_game_id=str(game.id),
        game_date=game.date,
        season=game.season,
        home_team=game.home_team.abbreviation,
        away_team=game.visitor_team.abbreviation,
        tipoff_utc=_bdl_tipoff(game, status),
        status=status,
        home_score=game.home_team_score if scored else None,
        away_score=game.visitor_team_score if scored else None,
    )


def _bdl_tipoff(game: BdlGame, status: str) -> datetime | None:
    if status == "scheduled" and game.status.strip()[:4].isdigit():
        return utc_timestamp(game.status)  # the documented trap: tip-off lives in `status`
    if game.tipoff is not None:
        return game.tipoff
    clock = bdl_status_clock(game.status)
    if clock is not None:  # older responses: "7:30 pm ET" on the game day
        local = datetime.combine(game.date, time(*clock), tzinfo=EASTERN)
        return utc_timestamp(local)
    return None


def parse_bdl_box_scores(payload: dict[str, Any]) -> list[PlayerLine]:
    """``/v1/box_scores?date=`` -> one line per player who played. Rows carry no game id:
    they are keyed by date and teams, exactly like the games."""
    page = validate(BdlBoxScoresPage, payload, source="bdl box scores")
    lines: list[PlayerLine] = []
    for box in page.data:
        home, away = box.home_team.abbreviation, box.visitor_team.abbreviation
        for team in (box.home_team, box.visitor_team):
            lines.extend(_bdl_team_lines(team, box.date, home, away))
    return lines


def _bdl_team_lines(team: BdlBoxTeam, game_date: date, home: str, away: str) -> Iterable[PlayerLine]:
    for line in team.players:
        if not line.minutes:  # "" / None / "0" / "00": did not play
            continue
        yield PlayerLine(
            source="bdl",
            source_game_id=None,
            game_date=game_date,
            home_team=home,
            away_team=away,
            team=team.abbreviation,
            player_id=str(line.player.id),
            player_name=f"{line.player.first_name} {line.player.last_name}".strip(),
            minutes=line.minutes,
            points=line.pts,
            rebounds=line.reb,
            assists=line.ast,
        )


# -- NBA.com --------------------------------------------------------------------------------


def parse_nbac_schedule(payload: dict[str, Any], game_date: date) -> list[SourceGame]:
    """The games of one Eastern game day from a whole-season ``scheduleLeagueV2`` payload."""
    return parse_nbac_schedule_days(payload, [game_date])


def parse_nbac_schedule_days(payload: dict[str, Any], days: Iterable[date]) -> list[SourceGame]:
    """The games on any of ``days`` (Eastern game days) from a whole-season payload.

    Games are validated one by one, and only those that can be on those days — in a
    ``gameDates`` bucket within a day of one, or anywhere with a UTC tip-off on such a date or
    the next — because a 180-date backfill parses the same ~1,300-game file 180 times. Errors
    still name the full path (``leagueSchedule.gameDates.41.games.2.homeTeam.teamTricode``)."""
    wanted = set(days)
    if not wanted:
        return []
    schedule = validate(NbacSchedule, payload, source="nbac schedule").leagueSchedule
    # An Eastern game day's tip-offs fall on that UTC date or the next one.
    utc_days = {d.isoformat() for day in wanted for d in (day, day + timedelta(days=1))}
    games: dict[str, SourceGame] = {}
    for i, bucket in enumerate(schedule.gameDates):
        near = any(abs((bucket.gameDate - day).days) <= 1 for day in wanted)
        for j, raw in enumerate(bucket.games):
            # Far buckets only matter for a game filed under a stale date after a move:
            # pick those out by their raw UTC tip-off, without validating the whole season.
            if not near and str(raw.get("gameDateTimeUTC", ""))[:10] not in utc_days:
                continue
            row = _validated_schedule_game(raw, i, j, bucket.gameDate, schedule.seasonYear)
            if row is not None and row.game_date in wanted:
                games.setdefault(row.source_game_id, row)
    return list(games.values())


def parse_nbac_schedule_ids(payload: dict[str, Any], game_ids: Iterable[str]) -> dict[str, SourceGame]:
    """Where the season file has these games now, wherever they moved: ``{gameId: game}``.
    An id the file no longer carries (or carries as a game we skip) is absent from the result."""
    wanted = set(game_ids)
    if not wanted:
        return {}
    schedule = validate(NbacSchedule, payload, source="nbac schedule").leagueSchedule
    found: dict[str, SourceGame] = {}
    for i, bucket in enumerate(schedule.gameDates):
        for j, raw in enumerate(bucket.games):
            if str(raw.get("gameId", "")) not in wanted:
                continue
            row = _validated_schedule_game(raw, i, j, bucket.gameDate, schedule.seasonYear)
            if row is not None:
                found.setdefault(row.source_game_id, row)
    return found


def _skipped_season_type(raw: Any) -> bool:
    """A preseason or All-Star game, told by its raw id before anything else is validated:
    their teams may be none of the 30 franchises (Rising Stars, All-Star teams, overseas
    clubs), which is no payload error for games we never keep."""
    game_id = raw.get("gameId") if isinstance(raw, dict) else None
    return (
        isinstance(game_id, str)
        and len(game_id) == 10
        and game_id.isdigit()
        and (game_id[2] in NBAC_SKIPPED_SEASON_TYPES)
    )


def _validated_schedule_game(raw: Any, i: int, j: int, bucket_day: date, season: int) -> SourceGame | None:
    if _skipped_season_type(raw):
        return None
    game = validate(
        NbacScheduleGame,
        raw,
        source="nbac schedule",
        at=("leagueSchedule", "gameDates", i, "games", j),
    )
    return _nbac_schedule_game(game, bucket_day, season)


def _nbac_schedule_game(game: NbacScheduleGame, bucket_day: date, season: int) -> SourceGame | None:
    if game.gameId[2] in NBAC_SKIPPED_SEASON_TYPES:
        return None
    home, away = game.homeTeam.teamTricode, game.awayTeam.teamTricode
    if not home or not away:
        return None  # playoff slot whose opponent is not known yet: nothing to notify
    if (game.gameStatusText or "").strip().upper() == "TBD":
        # tip-off time not set yet: the placeholder instant is not a tip-off, the bucket's
        # date is the game day
        tipoff, day = None, bucket_day
    else:
        tipoff, day = game.gameDateTimeUTC, eastern_game_day(game.gameDateTimeUTC)
    return _nbac_game(
        game.gameId,
        day,
        season,
        home,
        away,
        tipoff,
        game.gameStatus,
        game.gameStatusText,
        game.homeTeam.score,
        game.awayTeam.score,
    )


def _nbac_game(
    game_id: str,
    day: date,
    season: int,
    home: str,
    away: str,
    tipoff: datetime | None,
    game_status: int,
    status_text: str | None,
    home_score: int | None,
    away_score: int | None,
) -> SourceGame:
    status = nbac_status_state(game_status, status_text)
    scored = status in SCORED_STATUSES
    return SourceGame(
        source="nbac",
        source_game_id=game_id,
        game_date=day,
        season=season,
        home_team=home,
        away_team=away,
        tipoff_utc=tipoff,
        status=status,
        home_score=home_score if scored else None,
        away_score=away_score if scored else None,
    )


def parse_nbac_scoreboard(payload: dict[str, Any]) -> list[SourceGame]:
    """liveData ``todaysScoreboard_00.json`` / stats ScoreboardV3 -> games (``gameTimeUTC``
    is a full instant here, unlike in the schedule file)."""
    body = payload.get("scoreboard") if isinstance(payload, dict) else None
    if isinstance(body, dict) and isinstance(body.get("games"), list):
        # drop preseason and All-Star games before validation (see _skipped_season_type)
        payload = {
            **payload,
            "scoreboard": {**body, "games": [g for g in body["games"] if not _skipped_season_type(g)]},
        }
    board = validate(NbacScoreboard, payload, source="nbac scoreboard").scoreboard
    games: dict[str, SourceGame] = {}
    for game in board.games:
        home, away = game.homeTeam.teamTricode, game.awayTeam.teamTricode
        if game.gameId[2] in NBAC_SKIPPED_SEASON_TYPES or not home or not away:
            continue
        day = eastern_game_day(game.gameTimeUTC)
        row = _nbac_game(
            game.gameId,
            day,
            season_for_date(day),
            home,
            away,
            game.gameTimeUTC,
            game.gameStatus,
            game.gameStatusText,
            game.homeTeam.score,
            game.awayTeam.score,
        )
        games.setdefault(row.source_game_id, row)
    return list(games.values())


def parse_nbac_box_score(payload: dict[str, Any], game_date: date) -> list[PlayerLine]:
    """A liveData box score -> one line per player who played (``played == "1"``)."""
    game = validate(NbacBoxScore, payload, source="nbac box score").game
    if game.gameTimeUTC is not None and eastern_game_day(game.gameTimeUTC) != game_date:
        raise PipelineError(
            ErrorCategory.VALIDATION,
            f"nbac box score: field 'game.gameTimeUTC' puts game {game.gameId} on "
            f"{eastern_game_day(game.gameTimeUTC)}, not the requested {game_date}",
            details={
                "source": "nbac box score",
                "fields": [{"field": "game.gameTimeUTC", "problem": "game day mismatch", "type": "game_day"}],
                "game_id": game.gameId,
            },
        )
    home, away = game.homeTeam.teamTricode, game.awayTeam.teamTricode
    lines: list[PlayerLine] = []
    for team in (game.homeTeam, game.awayTeam):
        lines.extend(_nbac_team_lines(team, game.gameId, game_date, home, away))
    return lines


def _nbac_team_lines(
    team: NbacBoxTeam, game_id: str, game_date: date, home: str, away: str
) -> Iterable[PlayerLine]:
    for player in team.players:
        stats = player.statistics
        played = player.played == "1" if player.played is not None else bool(stats.minutes)
        if not played:
            continue
        yield PlayerLine(
            source="nbac",
            source_game_id=game_id,
            game_date=game_date,
            home_team=home,
            away_team=away,
            team=team.teamTricode,
            player_id=str(player.personId),
            player_name=player.name,
            minutes=stats.minutes,
            points=stats.points,
            rebounds=stats.reboundsTotal,
            assists=stats.assists,
        )


__all__ = [
    "EASTERN",
    "PlayerLine",
    "SourceGame",
    "eastern_game_day",
    "matchup",
    "parse_bdl_box_scores",
    "parse_bdl_games",
    "parse_nbac_box_score",
    "parse_nbac_schedule",
    "parse_nbac_schedule_days",
    "parse_nbac_schedule_ids",
    "parse_nbac_scoreboard",
    "season_for_date",
]
