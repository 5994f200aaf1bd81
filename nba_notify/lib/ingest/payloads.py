"""Validated shapes of the upstream payloads: only the fields we use, extras ignored.

Every field is checked (and normalised) here, at the boundary, so a surprise in a payload
surfaces as ``PipelineError(VALIDATION)`` naming the exact field path
(``data.3.home_team.abbreviation``) — never as a KeyError three calls deeper.

Field-level normalisers live here too (tip-off timestamps, minutes, status texts, team
tricodes); :mod:`nba_notify.lib.ingest.parse` turns validated models into canonical rows.

Real shapes, checked against captured responses (``/work/shared/realdata``) and public docs:

* BDL ``GET /v1/games``: ``{"data": [{id, date, season, status, period, time, postseason,
  home_team_score, visitor_team_score, datetime?, home_team: {abbreviation...},
  visitor_team: {...}}], "meta": {"next_cursor"?: int, "per_page": int}}``. ``status`` holds
  the ISO UTC tip-off for scheduled games, "1st Qtr"/"Halftime"/... while live, "Final".
* BDL ``GET /v1/box_scores``: ``{"data": [{date, season, status, home_team_score,
  visitor_team_score, home_team: {abbreviation, players: [{min, pts, reb, ast,
  player: {id, first_name, last_name}}]}, visitor_team: {...}}]}`` — no game id.
* NBA.com ``scheduleLeagueV2``: ``{"leagueSchedule": {"seasonYear": "2025-26", "gameDates":
  [{"gameDate": "10/21/2025 00:00:00", "games": [{gameId, gameStatus, gameStatusText,
  gameDateTimeUTC, gameDateEst (Eastern wall clock with a misleading Z), gameTimeUTC
  ("1900-01-01T..." — a time only), homeTeam: {teamTricode, score}, awayTeam}]}]}}``.
* NBA.com liveData box score: ``{"game": {gameId, gameStatus, gameTimeUTC, homeTeam:
  {teamTricode, score, players: [{personId, name, played, statistics: {minutes
  ("PT34M12.00S"), points, reboundsTotal, assists}}]}, awayTeam}}``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)

from nba_notify.lib.errors import PipelineError, validation_error_from_pydantic
from nba_notify.lib.teams import team_by_tricode

# -- field normalisers (pure; raise ValueError so pydantic names the field) -----------------


def known_tricode(value: str) -> str:
    """The canonical tricode of one of the 30 teams; anything else is a payload error."""
    try:
        return team_by_tricode(value).tricode
    except KeyError:
        raise ValueError(f"unknown team tricode {value!r}") from None


FIRST_TIMESTAMP_YEAR, LAST_TIMESTAMP_YEAR = 1900, 2200


def utc_timestamp(value: Any) -> datetime:
    """An ISO-8601 instant as an aware UTC datetime. A naive value is taken as UTC because
    only fields documented as UTC (``gameDateTimeUTC``, ``gameTimeUTC``, BDL ``status``/
    ``datetime``) use this type — never the Eastern ``*Est``/``gameEt`` fields."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"not an ISO-8601 timestamp: {value!r}") from None
    else:
        raise ValueError(f"expected an ISO-8601 timestamp string, got {type(value).__name__}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    # Beyond these years it is no tip-off, and converting it to UTC or Eastern could overflow.
    if not FIRST_TIMESTAMP_YEAR <= parsed.year <= LAST_TIMESTAMP_YEAR:
        raise ValueError(f"timestamp year out of range: {value!r:.40}")
    return parsed.astimezone(UTC)


_ISO_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$")


def iso_minutes(value: Any) -> float | None:
    """NBA.com liveData minutes: ISO-8601 durations ("PT34M12.00S" -> 34.2). Empty -> None."""
    if value is None or value == "":
        return None
    match = _ISO_DURATION.match(value.strip()) if isinstance(value, str) else None
    if match is None or not any(match.groups()):  # "PT" alone is no duration
        raise ValueError(f"not an ISO-8601 duration like 'PT34M12.00S': {value!r}")
    hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return round(hours * 60 + minutes + seconds / 60, 2)


# A game with any number of overtimes is far below this; anything above is not minutes.
MAX_MINUTES = 1000

_CLOCK_MINUTES = re.compile(r"^(\d{1,3})(?::(\d{1,2}))?$")


def bdl_minutes(value: Any) -> float | None:
    """BDL minutes: "34", "34:12" (-> 34.2), "" / None (did not play -> None)."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not 0 <= value <= MAX_MINUTES:  # also NaN, and ints too big for a float
            raise ValueError(f"minutes out of range: {value!r:.40}")
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"expected minutes as a string, got {type(value).__name__}")
    text = value.strip()
    if text == "":
        return None
    match = _CLOCK_MINUTES.match(text)
    if not match:
        raise ValueError(f"minutes not in 'MM' or 'MM:SS' form: {value!r}")
    minutes, seconds = int(match.group(1)), int(match.group(2) or 0)
    if seconds >= 60:
        raise ValueError(f"seconds out of range in minutes {value!r}")
    return round(minutes + seconds / 60, 2)


_BDL_DAY = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:T00:00:00(?:\.0+)?Z)?$")


def bdl_game_day(value: Any) -> date:
    """BDL ``date``: "2024-04-04" or "2024-04-04T00:00:00.000Z" — both the US-Eastern game
    day. The midnight-UTC form is a date in disguise, not an instant: converting it to
    Eastern time would move every game to the previous day."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not (match := _BDL_DAY.match(value.strip())):
        raise ValueError(f"expected 'YYYY-MM-DD' or 'YYYY-MM-DDT00:00:00.000Z', got {value!r}")
    return date.fromisoformat(match.group(1))


def schedule_day(value: Any) -> date:
    """``gameDates[].gameDate``: "10/21/2025 00:00:00" on the real feed; ISO accepted too."""
    if not isinstance(value, str):
        raise ValueError(f"expected a date string, got {type(value).__name__}")
    text = value.strip()
    for fmt in ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise ValueError(f"expected 'MM/DD/YYYY HH:MM:SS', got {value!r}") from None


_SEASON_YEAR = re.compile(r"^(\d{4})-(\d{2})$")


def season_start_year(value: Any) -> int:
    """NBA.com ``seasonYear`` "2025-26" -> 2025."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not isinstance(value, str) or not (match := _SEASON_YEAR.match(value.strip())):
        raise ValueError(f"expected a season like '2025-26', got {value!r}")
    start, end = int(match.group(1)), int(match.group(2))
    if (start + 1) % 100 != end:
        raise ValueError(f"inconsistent season {value!r}")
    return start


def nba_game_id(value: Any) -> str:
    """NBA.com game ids are 10-digit strings ("0022500171"); an int has lost its zeros."""
    if not isinstance(value, str) or not re.fullmatch(r"\d{10}", value):
        raise ValueError(f"expected a 10-digit game id string, got {value!r}")
    return value


# -- status vocabularies --------------------------------------------------------------------

STATUSES = ("scheduled", "live", "final", "postponed", "cancelled")

_POSTPONED = re.compile(r"\b(ppd|postponed)\b", re.IGNORECASE)
_CANCELLED = re.compile(r"\b(cancell?ed|cncl)\b", re.IGNORECASE)
_FINAL = re.compile(r"^final\b", re.IGNORECASE)  # "Final", "Final/OT", "Final/2OT"
_LIVE = re.compile(
    r"(qtr|quarter|half|\bot\b|\d+ot\b|overtime|^end of|^start of|^q[1-4]\b|in progress)",
    re.IGNORECASE,
)
_ET_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})\s*([ap])\.?m\.?(?:\s*e[sd]?t)?$", re.IGNORECASE)


def bdl_status_state(status: str, period: int | None = None) -> str:
    """Classify BDL's overloaded ``status``. Scheduled games carry their ISO UTC tip-off
    there (older responses: an Eastern clock time such as "7:00 pm ET")."""
    text = status.strip()
    if _POSTPONED.search(text):
        return "postponed"
    if _CANCELLED.search(text):
        return "cancelled"
    if _FINAL.match(text):
        return "final"
    if _looks_like_timestamp(text) or _ET_CLOCK.match(text):
        return "scheduled"
    if _LIVE.search(text) or (period or 0) > 0:
        return "live"
    raise ValueError(f"unrecognised game status {status!r}")


def bdl_status_clock(status: str) -> tuple[int, int] | None:
    """(hour, minute) of an Eastern clock-time status like "7:30 pm ET", else None."""
    match = _ET_CLOCK.match(status.strip())
    if not match:
        return None
    hour, minute, half = int(match.group(1)), int(match.group(2)), match.group(3).lower()
    if not 1 <= hour <= 12 or minute > 59:
        return None
    return (hour % 12 + (12 if half == "p" else 0), minute)


def _looks_like_timestamp(text: str) -> bool:
    if not re.match(r"^\d{4}-\d{2}-\d{2}T", text):
        return False
    try:
        utc_timestamp(text)
    except ValueError:
        return False
    return True


def nbac_status_state(game_status: int, status_text: str | None) -> str:
    """NBA.com ``gameStatus`` 1 scheduled / 2 live / 3 final, except that a postponed or
    cancelled game keeps ``gameStatus`` 1 and says so only in ``gameStatusText`` ("PPD",
    "Postponed", "Cancelled"). ``postponedStatus`` is deliberately ignored: a season feed
    has been seen marking every game "Y"."""
    text = (status_text or "").strip()
    if _POSTPONED.search(text):
        return "postponed"
    if _CANCELLED.search(text):
        return "cancelled"
    return {1: "scheduled", 2: "live", 3: "final"}[game_status]


def _check_bdl_status(value: str) -> str:
    bdl_status_state(value)
    return value


def _optional_tricode(value: str | None) -> str | None:
    return known_tricode(value) if value else None


Tricode = Annotated[str, AfterValidator(known_tricode)]
OptionalTricode = Annotated[str | None, AfterValidator(_optional_tricode)]
UtcTimestamp = Annotated[datetime, BeforeValidator(utc_timestamp)]
IsoMinutes = Annotated[float | None, BeforeValidator(iso_minutes)]
BdlMinutes = Annotated[float | None, BeforeValidator(bdl_minutes)]
BdlGameDay = Annotated[date, BeforeValidator(bdl_game_day)]
ScheduleDay = Annotated[date, BeforeValidator(schedule_day)]
SeasonYear = Annotated[int, BeforeValidator(season_start_year)]
NbaGameId = Annotated[str, BeforeValidator(nba_game_id)]
BdlStatus = Annotated[str, AfterValidator(_check_bdl_status)]
NbacGameStatus = Literal[1, 2, 3]


class Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


# -- BDL ------------------------------------------------------------------------------------


class BdlTeam(Payload):
    abbreviation: Tricode


class BdlGame(Payload):
    id: int
    date: BdlGameDay
    season: int
    status: BdlStatus
    period: int | None = None
    postseason: bool | None = None
    home_team_score: int | None = None
    visitor_team_score: int | None = None
    # Newer responses carry the tip-off instant here for every state; older ones do not.
    tipoff: UtcTimestamp | None = Field(default=None, alias="datetime")
    home_team: BdlTeam
    visitor_team: BdlTeam


class BdlMeta(Payload):
    # absent on the last page
    next_cursor: int | str | None = None
    per_page: int | None = None


class BdlGamesEnvelope(Payload):
    """What the client needs to page: rows are checked by :class:`BdlGamesPage` later."""

    data: list[Any]
    meta: BdlMeta


class BdlGamesPage(Payload):
    data: list[BdlGame]
    meta: BdlMeta


class BdlPlayer(Payload):
    id: int
    first_name: str
    last_name: str


class BdlPlayerLine(Payload):
    minutes: BdlMinutes = Field(alias="min")
    pts: int | None
    reb: int | None
    ast: int | None
    player: BdlPlayer


class BdlBoxTeam(Payload):
    abbreviation: Tricode
    players: list[BdlPlayerLine]


class BdlBoxScore(Payload):
    date: BdlGameDay
    season: int | None = None
    status: BdlStatus
    period: int | None = None
    home_team_score: int | None = None
    visitor_team_score: int | None = None
    home_team: BdlBoxTeam
    visitor_team: BdlBoxTeam


class BdlBoxScoresPage(Payload):
    data: list[BdlBoxScore]


# -- NBA.com --------------------------------------------------------------------------------


class NbacTeam(Payload):
    """``teamTricode`` must be present; empty/null means a not-yet-known opponent (playoff
    "TBD" slots), which the parser skips. A non-empty unknown tricode is an error."""

    teamTricode: OptionalTricode
    score: int | None = None


class NbacScheduleGame(Payload):
    gameId: NbaGameId
    gameStatus: NbacGameStatus
    gameStatusText: str | None = None
    gameDateTimeUTC: UtcTimestamp
    homeTeam: NbacTeam
    awayTeam: NbacTeam


class NbacScheduleGameDate(Payload):
    gameDate: ScheduleDay
    # validated one game at a time, only around the requested day (see parse_nbac_schedule):
    # a full season is ~1,300 games and a backfill parses it once per date.
    games: list[dict[str, Any]]


class NbacLeagueSchedule(Payload):
    seasonYear: SeasonYear
    gameDates: list[NbacScheduleGameDate]


class NbacSchedule(Payload):
    leagueSchedule: NbacLeagueSchedule


class NbacScheduleSeasonOnly(Payload):
    """Just enough to tell which season a schedule file holds."""

    class _League(Payload):
        seasonYear: SeasonYear

    leagueSchedule: _League


class NbacPlayerStatistics(Payload):
    minutes: IsoMinutes
    points: int
    reboundsTotal: int
    assists: int


class NbacBoxPlayer(Payload):
    personId: int
    name: str
    played: str | None = None  # "1" / "0"
    statistics: NbacPlayerStatistics


class NbacBoxTeam(Payload):
    teamTricode: Tricode
    score: int | None = None
    players: list[NbacBoxPlayer] = []


class NbacBoxGame(Payload):
    gameId: NbaGameId
    gameStatus: NbacGameStatus
    gameStatusText: str | None = None
    gameTimeUTC: UtcTimestamp | None = None
    homeTeam: NbacBoxTeam
    awayTeam: NbacBoxTeam


class NbacBoxScore(Payload):
    game: NbacBoxGame


class NbacScoreboardGame(Payload):
    gameId: NbaGameId
    gameStatus: NbacGameStatus
    gameStatusText: str | None = None
    gameTimeUTC: UtcTimestamp
    homeTeam: NbacTeam
    awayTeam: NbacTeam


class NbacScoreboardBody(Payload):
    gameDate: date | None = None
    games: list[NbacScoreboardGame]


class NbacScoreboard(Payload):
    """liveData ``todaysScoreboard_00.json`` and stats ScoreboardV3 share this shape."""

    scoreboard: NbacScoreboardBody


# -- validation entry point -----------------------------------------------------------------

M = TypeVar("M", bound=BaseModel)


class _PrefixedErrors:
    """A ValidationError seen from further up the document (``at`` prepended to every
    location), so a game validated on its own is still reported by its full path."""

    def __init__(self, exc: ValidationError, at: Sequence[str | int]):
        self._exc, self._at = exc, tuple(at)

    def errors(self) -> list[dict[str, Any]]:
        return [{**err, "loc": (*self._at, *err.get("loc", ()))} for err in self._exc.errors()]


def validate(model: type[M], data: Any, *, source: str, at: Sequence[str | int] = ()) -> M:
    """``model.model_validate(data)``, failing as ``PipelineError(VALIDATION)`` whose message
    and ``details["fields"]`` name the offending field path."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error: PipelineError = validation_error_from_pydantic(_PrefixedErrors(exc, at), source=source)
        raise error from exc
