"""The simulated league: a deterministic regular season per (seed, season start year), game state
as a function of the simulated clock, box scores, and the ground truth tests compare against.

Everything here is plain data and pure functions of (seed, season, game, now); the only mutable
state is the set of test/demo overrides (moved, postponed or cancelled games), cleared by reset.
The BDL and NBA.com route modules render these objects into each source's payload shape and
apply the source's data faults through :func:`hidden_games` / :func:`dropped_player_ids`.
"""

from __future__ import annotations

import random
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from nba_notify.lib.teams import TEAMS, Team

EASTERN = ZoneInfo("America/New_York")

SCHEDULED, LIVE, FINAL, POSTPONED, CANCELLED = "scheduled", "live", "final", "postponed", "cancelled"
OVERRIDE_STATUSES = {POSTPONED, CANCELLED, SCHEDULED}

GAMES_PER_SEASON = 1230
MAX_SLATE = 15

# Wall-clock shape of a game (minutes after tip-off): four 30-minute quarters with a 15-minute
# halftime make ~2h15m; each overtime adds 15 minutes.
QUARTER_WALL_MIN = 30
HALFTIME_WALL_MIN = 15
OT_WALL_MIN = 15
QUARTER_CLOCK_S = 12 * 60
OT_CLOCK_S = 5 * 60
REGULATION_WALL = timedelta(minutes=4 * QUARTER_WALL_MIN + HALFTIME_WALL_MIN)


# --------------------------------------------------------------------------------------------
# Data


@dataclass(frozen=True)
class Player:
    nba_id: int  # NBA.com personId
    bdl_id: int
    first_name: str
    last_name: str
    team: str  # tricode
    jersey: str
    position: str  # BDL style: G, F, C, G-F, F-C
    court_position: str  # NBA box score style for starters: PG, SG, SF, PF, C
    height: str
    weight: str
    college: str
    country: str
    draft_year: int | None
    draft_round: int | None
    draft_number: int | None

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True)
class Venue:
    """Where a neutral-site game is played (NBA.com's arena fields)."""

    arena_name: str
    arena_city: str
    arena_state: str
    country: str
    timezone: str


@dataclass(frozen=True)
class ScheduledGame:
    """A game as the league scheduled it (before any override), with its final result."""

    nba_id: str
    bdl_id: int
    season: int
    sequence: int  # 1..1230 in schedule order
    home: Team
    away: Team
    tipoff_utc: datetime
    home_periods: tuple[int, ...]  # final points per period, OT periods included
    away_periods: tuple[int, ...]
    attendance: int
    # What kind of game it is, and how the league labels it (a full-season calendar only; see
    # :mod:`nba_notify.sim.season_shape`). Regular-season games of the plain calendar keep the
    # defaults.
    kind: str = "regular"  # preseason | regular | cup_knockout | cup_final | all_star | play_in | playoffs
    label: str = ""  # NBA.com gameLabel ("Emirates NBA Cup", "East First Round", ...)
    sub_label: str = ""  # gameSubLabel ("East Group B", "Game 5", ...)
    subtype: str = ""  # gameSubtype ("in-season", "in-season-knockout", "Global Games", ...)
    series_game: str = ""  # seriesGameNumber ("Game 3")
    if_necessary: bool = False  # a playoff game 5-7: listed with ifNecessary until needed or dropped
    necessary_from: datetime | None = None  # when an "if necessary" game became necessary
    venue: Venue | None = None  # a neutral site (Mexico City, Paris, Las Vegas, Abu Dhabi)
    # When the league lists the game (None: from the start) and stops listing it (an "if
    # necessary" game of a series that ended early).
    listed_from: datetime | None = None
    listed_until: datetime | None = None
    # A postponement in the season's own timeline: announced at ``postponed_at``; the make-up
    # tip-off (same game ids) is announced at ``makeup_announced_at``.
    postponed_at: datetime | None = None
    makeup_tipoff: datetime | None = None
    makeup_announced_at: datetime | None = None
    # Box score publication after the final buzzer, per source ("bdl", "nbac"); a source absent
    # from ``box_score_never`` publishes. Only a full-season calendar sets these.
    box_score_lag: tuple[tuple[str, int], ...] = ()  # (source, minutes)
    box_score_never: tuple[str, ...] = ()

    def listed_at(self, now: datetime) -> bool:
        return (self.listed_from is None or now >= self.listed_from) and (
            self.listed_until is None or now < self.listed_until
        )

    def box_score_published(self, source: str, ends_at: datetime, now: datetime) -> bool:
        if source in self.box_score_never:
            return False
        lag = dict(self.box_score_lag).get(source)
        return lag is None or now >= ends_at + timedelta(minutes=lag)

    @property
    def overtimes(self) -> int:
        return len(self.home_periods) - 4

    @property
    def home_score(self) -> int:
        return sum(self.home_periods)

    @property
    def away_score(self) -> int:
        return sum(self.away_periods)


@dataclass(frozen=True)
class GameState:
    """A game as it stands at ``now``, overrides applied. Scores are partial while live."""

    game: ScheduledGame
    now: datetime
    tipoff_utc: datetime
    status: str  # scheduled | live | final | postponed | cancelled
    period: int  # 0 before tip-off
    clock_seconds: float  # game clock left in the current period
    halftime: bool
    home_periods: tuple[int, ...]  # points per period so far (all periods, zeros ahead)
    away_periods: tuple[int, ...]
    elapsed_game_seconds: float  # game-clock seconds played so far
    moved: bool = False

    @property
    def nba_id(self) -> str:
        return self.game.nba_id

    @property
    def bdl_id(self) -> int:
        return self.game.bdl_id

    @property
    def season(self) -> int:
        return self.game.season

    @property
    def home(self) -> Team:
        return self.game.home

    @property
    def away(self) -> Team:
        return self.game.away

    @property
    def home_score(self) -> int:
        return sum(self.home_periods)

    @property
    def away_score(self) -> int:
        return sum(self.away_periods)

    @property
    def game_date(self) -> date:
        """The US-Eastern calendar date: what both sources call the game's date."""
        return self.tipoff_utc.astimezone(EASTERN).date()

    @property
    def tipoff_eastern(self) -> datetime:
        return self.tipoff_utc.astimezone(EASTERN)

    @property
    def started(self) -> bool:
        return self.status in (LIVE, FINAL)

    @property
    def total_game_seconds(self) -> int:
        return 4 * QUARTER_CLOCK_S + self.game.overtimes * OT_CLOCK_S

    @property
    def game_code(self) -> str:
        return f"{self.game_date:%Y%m%d}/{self.away.tricode}{self.home.tricode}"

    @property
    def ends_at(self) -> datetime:
        return self.tipoff_utc + game_wall_duration(self.game.overtimes)


@dataclass(frozen=True)
class PlayerLine:
    player: Player
    starter: bool
    played: bool
    seconds: int
    pts: int = 0
    fgm: int = 0
    fga: int = 0
    fg3m: int = 0
    fg3a: int = 0
    ftm: int = 0
    fta: int = 0
    oreb: int = 0
    dreb: int = 0
    ast: int = 0
    stl: int = 0
    blk: int = 0
    tov: int = 0
    pf: int = 0
    plus_minus: int = 0
    inactive_reason: str | None = None  # INACTIVE_INJURY etc. (listed, never played)

    @property
    def reb(self) -> int:
        return self.oreb + self.dreb


@dataclass(frozen=True)
class TeamBox:
    team: Team
    score: int
    periods: tuple[int, ...]
    lines: tuple[PlayerLine, ...]  # the whole game-day roster, players who did not play included

    @property
    def played(self) -> tuple[PlayerLine, ...]:
        return tuple(line for line in self.lines if line.played)


@dataclass(frozen=True)
class BoxScore:
    state: GameState
    home: TeamBox
    away: TeamBox


@dataclass
class Season:
    """``games`` are the 1,230 regular-season games (``by_date`` indexes them); a full-season
    calendar adds ``specials`` — preseason, NBA Cup knockout, All-Star, play-in, playoffs —
    with rosters of their non-NBA teams in ``extra_rosters``. ``by_day`` indexes every game
    by its scheduled day, make-up days of postponed games included."""

    year: int
    games: list[ScheduledGame]
    rosters: dict[str, tuple[Player, ...]]
    specials: list[ScheduledGame] = field(default_factory=list)
    extra_rosters: dict[str, tuple[Player, ...]] = field(default_factory=dict)
    by_nba_id: dict[str, ScheduledGame] = field(default_factory=dict)
    by_bdl_id: dict[int, ScheduledGame] = field(default_factory=dict)
    by_date: dict[date, list[ScheduledGame]] = field(default_factory=dict)
    by_day: dict[date, list[ScheduledGame]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.reindex()

    def reindex(self) -> None:
        for index in (self.by_nba_id, self.by_bdl_id, self.by_date, self.by_day):
            index.clear()
        for game in self.games:
            self.by_date.setdefault(game.tipoff_utc.astimezone(EASTERN).date(), []).append(game)
        for game in self.all_games:
            self.by_nba_id[game.nba_id] = game
            self.by_bdl_id[game.bdl_id] = game
            self.by_day.setdefault(game.tipoff_utc.astimezone(EASTERN).date(), []).append(game)
            if game.makeup_tipoff is not None:
                self.by_day.setdefault(game.makeup_tipoff.astimezone(EASTERN).date(), []).append(game)

    @property
    def all_games(self) -> list[ScheduledGame]:
        return [*self.games, *self.specials]

    def roster(self, tricode: str) -> tuple[Player, ...]:
        return self.rosters.get(tricode) or self.extra_rosters[tricode]

    @property
    def label(self) -> str:
        """NBA.com's season label, e.g. "2026-27"."""
        return season_label(self.year)

    @property
    def first_day(self) -> date:
        return min(self.by_date)

    @property
    def last_day(self) -> date:
        return max(self.by_date)


@dataclass(frozen=True)
class Override:
    tipoff_utc: datetime | None = None
    status: str | None = None  # postponed | cancelled | scheduled (= clear a status override)


# --------------------------------------------------------------------------------------------
# Calendar


def season_label(year: int) -> str:
    return f"{year}-{(year + 1) % 100:02d}"


def season_year_of_label(label: str) -> int:
    """ "2025-26" -> 2025; raises ValueError on anything else."""
    head, _, tail = label.partition("-")
    year = int(head)
    if len(head) != 4 or len(tail) != 2 or int(tail) != (year + 1) % 100:
        raise ValueError(f"not a season label: {label!r}")
    return year


def season_year_for(day: date) -> int:
    """The season a date belongs to; from July on, the upcoming one."""
    return day.year if day.month >= 7 else day.year - 1


def _weekday_on_or_after(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def season_bounds(year: int) -> tuple[date, date]:
    """Opening night (first Tuesday from Oct 19) and the last day (second Sunday of April)."""
    opening = _weekday_on_or_after(date(year, 10, 19), 1)
    last = _weekday_on_or_after(date(year + 1, 4, 1), 6) + timedelta(days=7)
    return opening, last


def all_star_break(year: int) -> list[date]:
    """Friday through Wednesday around All-Star Sunday (the Sunday in Feb 14-20): no games."""
    sunday = _weekday_on_or_after(date(year + 1, 2, 14), 6)
    return [sunday + timedelta(days=offset) for offset in range(-2, 4)]


def no_game_days(year: int) -> set[date]:
    thanksgiving = _weekday_on_or_after(date(year, 11, 1), 3) + timedelta(days=21)
    return {thanksgiving, date(year, 12, 24), *all_star_break(year)}


def game_wall_duration(overtimes: int) -> timedelta:
    return REGULATION_WALL + timedelta(minutes=OT_WALL_MIN * overtimes)


# Typical Eastern tip-off slots. Weeknight games start around 7-7:30 pm local time, which in
# Eastern time lands on a handful of shared slots; weekends add afternoon windows.
_WEEKNIGHT_SLOTS = {
    "America/New_York": ((19, 0), (19, 0), (19, 30), (19, 30), (20, 0)),
    "America/Toronto": ((19, 0), (19, 30)),
    "America/Chicago": ((20, 0), (20, 0), (20, 30), (19, 30)),
    "America/Denver": ((21, 0), (21, 0), (20, 0)),
    "America/Phoenix": ((21, 0), (22, 0)),
    "America/Los_Angeles": ((22, 0), (22, 0), (22, 30), (22, 30)),
}
_WEEKEND_AFTERNOON_SLOTS = ((12, 0), (13, 0), (15, 0), (15, 30), (18, 0))
_WEST_AFTERNOON_SLOTS = ((15, 30), (18, 0))
_CHRISTMAS_SLOTS = ((12, 0), (14, 30), (17, 0), (20, 0), (22, 30))


def _tip_slot(rng: random.Random, home: Team, day: date) -> tuple[int, int]:
    weekend = day.weekday() >= 5
    if weekend and rng.random() < 0.4:
        if home.timezone in ("America/Los_Angeles", "America/Phoenix", "America/Denver"):
            return rng.choice(_WEST_AFTERNOON_SLOTS)
        return rng.choice(_WEEKEND_AFTERNOON_SLOTS)
    return rng.choice(_WEEKNIGHT_SLOTS[home.timezone])


def eastern_to_utc(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=EASTERN).astimezone(UTC)


# --------------------------------------------------------------------------------------------
# Season generation


def _matchups(rng: random.Random) -> list[tuple[Team, Team]]:
    """The 1,230 (home, away) pairs of the NBA formula: 4 games against each division rival,
    2 against each team of the other conference, and against the 10 other conference teams
    4 games with six and 3 games with four. The 3-game opponents form a 4-regular graph
    (division d, slot p) -> (d+1, p), (d+1, p+1), (d-1, p), (d-1, p-1), oriented so that every
    team hosts two of them twice: 41 home and 41 away games for everyone."""
    pairs: list[tuple[Team, Team]] = []
    three_game: set[frozenset[str]] = set()
    host_twice: set[tuple[str, str]] = set()  # (host, guest) of the 3-game series
    for conference in ("East", "West"):
        divisions = sorted({t.division for t in TEAMS if t.conference == conference})
        rng.shuffle(divisions)
        slots = []
        for division in divisions:
            members = [t for t in TEAMS if t.division == division]
            rng.shuffle(members)
            slots.append(members)
        for d in range(3):
            for p in range(5):
                here, there = slots[d][p], slots[(d + 1) % 3]
                host_twice.add((here.tricode, there[p].tricode))
                host_twice.add((there[(p + 1) % 5].tricode, here.tricode))
                three_game.add(frozenset((here.tricode, there[p].tricode)))
                three_game.add(frozenset((here.tricode, there[(p + 1) % 5].tricode)))
    for i, a in enumerate(TEAMS):
        for b in TEAMS[i + 1 :]:
            if a.conference != b.conference:
                pairs += [(a, b), (b, a)]
            elif a.division == b.division:
                pairs += [(a, b), (a, b), (b, a), (b, a)]
            elif frozenset((a.tricode, b.tricode)) in three_game:
                host, guest = (a, b) if (a.tricode, b.tricode) in host_twice else (b, a)
                pairs += [(host, guest), (host, guest), (guest, host)]
            else:
                pairs += [(a, b), (a, b), (b, a), (b, a)]
    return pairs


_WEEKDAY_WEIGHT = (8, 6, 10, 4, 9, 7, 7)  # Mon..Sun: light Thursdays, busy Wednesdays/Fridays


def _slate_targets(rng: random.Random, days: list[date], total: int) -> list[int]:
    """How many games each day should get: weekday rhythm with jitter, a small opening night,
    five games on Christmas, a full final day, summing to ``total``."""
    fixed: dict[int, int] = {0: 2, len(days) - 1: MAX_SLATE}
    for i, day in enumerate(days):
        if day.month == 12 and day.day == 25:
            fixed[i] = 5
    targets = [
        fixed.get(i, max(2, min(13, _WEEKDAY_WEIGHT[day.weekday()] + rng.randint(-2, 2))))
        for i, day in enumerate(days)
    ]
    free = [i for i in range(len(days)) if i not in fixed]
    while (diff := total - sum(targets)) != 0:
        i = rng.choice(free)
        if diff > 0 and targets[i] < 13:
            targets[i] += 1
        elif diff < 0 and targets[i] > 1:
            targets[i] -= 1
    return targets


def _assign_days(
    rng: random.Random, pairs: list[tuple[Team, Team]], days: list[date]
) -> list[tuple[date, Team, Team]]:
    """Greedy day-by-day fill: each day takes the most urgent games (teams with many games left
    for the days left) whose teams are free that day, avoiding three games in three days."""
    targets = _slate_targets(rng, days, len(pairs))
    remaining = list(pairs)
    rng.shuffle(remaining)
    left = {t.tricode: 0 for t in TEAMS}
    for home, away in remaining:
        left[home.tricode] += 1
        left[away.tricode] += 1
    played_on: dict[str, set[int]] = defaultdict(set)
    last_met: dict[frozenset[str], int] = {}
    placed: list[tuple[int, Team, Team]] = []
    carry = 0
    for index, _day in enumerate(days):
        days_left = len(days) - index
        want = min(MAX_SLATE, targets[index] + carry)
        urgency = {t: (n / days_left) ** 2 for t, n in left.items()}
        jitter = {id(pair): rng.random() * 0.05 for pair in remaining}

        def priority(
            pair: tuple[Team, Team],
            urgency: dict[str, float] = urgency,
            jitter: dict[int, float] = jitter,
            index: int = index,
        ) -> float:
            h, a = pair[0].tricode, pair[1].tricode
            score = urgency[h] + urgency[a] + jitter[id(pair)]
            for t in (h, a):
                if index - 1 in played_on[t]:
                    score -= 0.15  # back-to-backs happen, but less often
            return -score

        remaining.sort(key=priority)
        used: set[str] = set()
        today: list[int] = []
        for strict in (True, False):
            for position, (home, away) in enumerate(remaining):
                if len(today) >= want:
                    break
                h, a = home.tricode, away.tricode
                if h in used or a in used or position in today:
                    continue
                if any(index - 1 in played_on[t] and index - 2 in played_on[t] for t in (h, a)):
                    continue
                if strict and index - last_met.get(frozenset((h, a)), -99) < 4:
                    continue
                used.update((h, a))
                today.append(position)
            if len(today) >= want:
                break
        carry = want - len(today)
        for position in sorted(today, reverse=True):
            home, away = remaining.pop(position)
            placed.append((index, home, away))
            for t in (home.tricode, away.tricode):
                left[t] -= 1
                played_on[t].add(index)
            last_met[frozenset((home.tricode, away.tricode))] = index
    # Whatever the greedy pass could not place goes on the latest day with room for both teams.
    for home, away in remaining:
        for index in range(len(days) - 1, -1, -1):
            slate = sum(1 for i, _, _ in placed if i == index)
            if (
                slate < MAX_SLATE
                and index not in played_on[home.tricode]
                and index not in played_on[away.tricode]
            ):
                placed.append((index, home, away))
                played_on[home.tricode].add(index)
                played_on[away.tricode].add(index)
                break
        else:  # pragma: no cover - the calendar has far more room than games
            raise RuntimeError("season generation could not place every game")
    return [(days[i], home, away) for i, home, away in placed]


def _split(total: int, weights: Sequence[float]) -> list[int]:
    """Integers proportional to ``weights`` summing exactly to ``total`` (largest remainder)."""
    weight_sum = sum(weights)
    if total <= 0 or weight_sum <= 0:
        return [0] * len(weights)
    raw = [total * w / weight_sum for w in weights]
    parts = [int(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def _final_periods(rng: random.Random) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Final points per period; about 6% of games go to overtime, none end tied."""
    home = max(92, min(134, round(rng.gauss(114, 9))))
    away = max(90, min(132, round(rng.gauss(111, 9))))
    overtimes = 0
    if rng.random() < 0.06:
        overtimes = 1 + (rng.random() < 0.12)
        home = away = min(home, away)
    elif home == away:
        home += rng.choice((-3, -2, -1, 1, 2, 3))
    home_q = _split(home, [rng.uniform(0.75, 1.25) for _ in range(4)])
    away_q = _split(away, [rng.uniform(0.75, 1.25) for _ in range(4)])
    for k in range(overtimes):
        points = rng.randint(6, 16)
        if k == overtimes - 1:
            home_q.append(points)
            away_q.append(points + rng.choice((-6, -4, -3, -2, -1, 1, 2, 3, 5)))
        else:
            home_q.append(points)
            away_q.append(points)
    return tuple(home_q), tuple(away_q)


_FIRST_NAMES = (
    "Aaron Adrian Alec Amari Andre Anthony Ayo Bennett Bilal Brandon Bruno Caleb Cam Cameron "
    "Chris Cody Colin Dalen Damian Darius David Dean Deni Derrick Devin Dillon Dominic Donovan "
    "Dylan Elijah Emeka Eric Evan Franz Gabe Gary Grant Isaac Isaiah Jaden Jalen Jamal Jarrett "
    "Javon Jaylen Jeremy Jonas Jordan Josh Jrue Julian Kai Keegan Kel'el Kevin Keyonte Kris "
    "Kyle Lamar Landry Luka Malik Marcus Mark Max Miles Mikal Moses Nate Nick Nikola Noah "
    "Obi Onyeka Oscar Paolo Patrick Quentin Reed Rui Scottie Shai Stephon Terrence Theo Trey "
    "Tyrese Victor Walker Wendell Xavier Zach Zion"
).split()
_LAST_NAMES = (
    "Adams Allen Anderson Armstrong Bailey Banks Barnes Bates Bell Bennett Booker Boone Bridges "
    "Brooks Brown Bryant Caldwell Carter Castle Clark Coleman Collins Cooper Cunningham Daniels "
    "Davis Dawson Dixon Duncan Edwards Ellis Evans Fields Fleming Ford Foster Fox Garland Gibson "
    "Gordon Graham Grant Green Griffin Hall Hamilton Harper Harris Hart Hayes Henderson Hill "
    "Holiday Holmes Howard Hughes Hunter Jackson James Jenkins Johnson Jones Jordan Keller Kennedy "
    "King Knight Lewis Lively Marshall Martin Mason McBride McCain Miller Mitchell Moore Morgan "
    "Murphy Murray Nelson Nowak Okafor Oliver Owens Parker Patterson Payne Perry Porter Powell "
    "Price Reed Reid Richards Riley Robinson Rogers Ross Russell Sanders Scott Sharpe Simmons "
    "Smith Spencer Stewart Sullivan Taylor Thomas Thompson Torres Turner Vaughn Wagner Walker "
    "Wallace Ward Warren Washington Watson Wells White Williams Wilson Wright Young"
).split()
_COLLEGES = (
    "Duke Kentucky Kansas UCLA Gonzaga Villanova Arizona Michigan Baylor Houston Alabama "
    "Tennessee Auburn Texas Florida Virginia Oregon Iowa Purdue UConn"
).split()
_COUNTRIES = ("USA",) * 12 + ("Canada", "France", "Serbia", "Australia", "Germany", "Nigeria", "Spain")
# Roster slot -> (BDL position, NBA starter position, height range in inches, weight range)
_ROSTER_SLOTS = (
    ("G", "PG", (73, 77), (180, 200)),
    ("G", "SG", (75, 78), (190, 210)),
    ("F", "SF", (78, 80), (210, 225)),
    ("F", "PF", (80, 82), (225, 245)),
    ("C", "C", (82, 85), (240, 265)),
    ("G", "PG", (73, 77), (180, 200)),
    ("G-F", "SG", (76, 79), (195, 215)),
    ("F", "SF", (78, 81), (210, 230)),
    ("F-C", "PF", (80, 83), (225, 250)),
    ("G", "SG", (74, 77), (185, 205)),
    ("C", "C", (82, 85), (240, 265)),
    ("F", "SF", (78, 80), (205, 225)),
    ("G", "PG", (73, 76), (175, 195)),
    ("F-C", "PF", (80, 83), (225, 250)),
    ("G-F", "SF", (77, 79), (200, 215)),
)


def generate_rosters(seed: int) -> dict[str, tuple[Player, ...]]:
    """13-15 players per team, ordered starters first then bench by rotation order. Rosters
    depend on the seed only, so a player keeps his ids from one season to the next."""
    rng = random.Random(f"{seed}:rosters")
    sizes = [rng.randint(13, 15) for _ in TEAMS]
    count = sum(sizes)
    names = rng.sample([(first, last) for first in _FIRST_NAMES for last in _LAST_NAMES], count)
    nba_ids = rng.sample(range(1_626_100, 1_642_999), count)
    bdl_ids = rng.sample(range(17_895_000, 17_999_999), count)
    rosters: dict[str, tuple[Player, ...]] = {}
    k = 0
    for team, size in zip(TEAMS, sizes, strict=True):
        jerseys = rng.sample(["0", "00", *[str(n) for n in range(1, 56)]], size)
        players = []
        for slot in range(size):
            position, court, heights, weights = _ROSTER_SLOTS[slot]
            first, last = names[k]
            inches = rng.randint(*heights)
            drafted = rng.random() < 0.8
            draft_year = rng.randint(2012, 2025) if drafted else None
            draft_round = (1 if rng.random() < 0.75 else 2) if drafted else None
            players.append(
                Player(
                    nba_id=nba_ids[k],
                    bdl_id=bdl_ids[k],
                    first_name=first,
                    last_name=last,
                    team=team.tricode,
                    jersey=jerseys[slot],
                    position=position,
                    court_position=court,
                    height=f"{inches // 12}-{inches % 12}",
                    weight=str(rng.randint(*weights)),
                    college=rng.choice(_COLLEGES),
                    country=rng.choice(_COUNTRIES),
                    draft_year=draft_year,
                    draft_round=draft_round,
                    draft_number=(rng.randint(1, 30) + (30 if draft_round == 2 else 0) if drafted else None),
                )
            )
            k += 1
        rosters[team.tricode] = tuple(players)
    return rosters


def generate_season(seed: int, year: int, rosters: dict[str, tuple[Player, ...]]) -> Season:
    rng = random.Random(f"{seed}:{year}:season")
    opening, last = season_bounds(year)
    skip = no_game_days(year)
    days = [
        opening + timedelta(days=i)
        for i in range((last - opening).days + 1)
        if opening + timedelta(days=i) not in skip
    ]
    dated = _assign_days(rng, _matchups(rng), days)
    timed: list[tuple[datetime, str, Team, Team]] = []
    for day, home, away in dated:
        if day.month == 12 and day.day == 25:
            hour, minute = rng.choice(_CHRISTMAS_SLOTS)
        else:
            hour, minute = _tip_slot(rng, home, day)
        timed.append((eastern_to_utc(day, hour, minute), home.tricode, home, away))
    timed.sort(key=lambda row: (row[0], row[1]))
    bdl_ids = sorted(rng.sample(range(0, 6_000), len(timed)))
    bdl_base = 15_000_000 + (year - 2020) * 640_000 + rng.randrange(50_000)
    games = []
    for index, (tipoff, _, home, away) in enumerate(timed):
        home_periods, away_periods = _final_periods(rng)
        games.append(
            ScheduledGame(
                nba_id=f"002{year % 100:02d}{index + 1:05d}",
                bdl_id=bdl_base + bdl_ids[index],
                season=year,
                sequence=index + 1,
                home=home,
                away=away,
                tipoff_utc=tipoff,
                home_periods=home_periods,
                away_periods=away_periods,
                attendance=rng.randint(15_200, 21_000),
            )
        )
    return Season(year=year, games=games, rosters=rosters)


# --------------------------------------------------------------------------------------------
# State at a moment


def _timeline(game: ScheduledGame, now: datetime) -> tuple[datetime, str | None]:
    """The season's own changes to a game at ``now``: (tip-off, status override or None).
    A postponed game stays on its day as postponed until its make-up date is announced,
    then it is the same game at the make-up tip-off."""
    if game.postponed_at is None or now < game.postponed_at:
        return game.tipoff_utc, None
    if (
        game.makeup_tipoff is not None
        and game.makeup_announced_at is not None
        and now >= game.makeup_announced_at
    ):
        return game.makeup_tipoff, None
    return game.tipoff_utc, POSTPONED


def state_at(game: ScheduledGame, now: datetime, override: Override | None = None) -> GameState:
    tipoff, season_status = _timeline(game, now)
    if override is not None and override.tipoff_utc is not None:
        tipoff = override.tipoff_utc
    moved = tipoff != game.tipoff_utc
    if override is not None and override.status is not None:
        season_status = override.status if override.status != SCHEDULED else None
    periods = len(game.home_periods)
    zeros = (0,) * periods
    base = dict(game=game, now=now, tipoff_utc=tipoff, moved=moved)
    if season_status in (POSTPONED, CANCELLED):
        return GameState(
            **base, status=season_status, period=0, clock_seconds=QUARTER_CLOCK_S,
            halftime=False, home_periods=zeros, away_periods=zeros, elapsed_game_seconds=0.0,
        )  # fmt: skip
    if now < tipoff:
        return GameState(
            **base, status=SCHEDULED, period=0, clock_seconds=QUARTER_CLOCK_S, halftime=False,
            home_periods=zeros, away_periods=zeros, elapsed_game_seconds=0.0,
        )  # fmt: skip
    minutes = (now - tipoff).total_seconds() / 60.0
    if minutes >= game_wall_duration(game.overtimes).total_seconds() / 60.0:
        return GameState(
            **base, status=FINAL, period=periods, clock_seconds=0.0, halftime=False,
            home_periods=game.home_periods, away_periods=game.away_periods,
            elapsed_game_seconds=float(4 * QUARTER_CLOCK_S + game.overtimes * OT_CLOCK_S),
        )  # fmt: skip
    # Live: find the period and how far into it the game clock is.
    halftime = False
    if minutes < 2 * QUARTER_WALL_MIN:
        period, into = int(minutes // QUARTER_WALL_MIN) + 1, (minutes % QUARTER_WALL_MIN) / QUARTER_WALL_MIN
    elif minutes < 2 * QUARTER_WALL_MIN + HALFTIME_WALL_MIN:
        period, into, halftime = 2, 1.0, True
    elif minutes < 4 * QUARTER_WALL_MIN + HALFTIME_WALL_MIN:
        after = minutes - HALFTIME_WALL_MIN
        period, into = int(after // QUARTER_WALL_MIN) + 1, (after % QUARTER_WALL_MIN) / QUARTER_WALL_MIN
    else:
        after = minutes - (4 * QUARTER_WALL_MIN + HALFTIME_WALL_MIN)
        period, into = 5 + int(after // OT_WALL_MIN), (after % OT_WALL_MIN) / OT_WALL_MIN
    period_clock = QUARTER_CLOCK_S if period <= 4 else OT_CLOCK_S
    elapsed = min(period - 1, 4) * QUARTER_CLOCK_S + max(0, period - 5) * OT_CLOCK_S
    elapsed += into * period_clock

    def partial(final: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(
            points if p < period else int(points * into) if p == period else 0
            for p, points in enumerate(final, start=1)
        )

    return GameState(
        **base, status=LIVE, period=period, clock_seconds=round(period_clock * (1.0 - into), 2),
        halftime=halftime, home_periods=partial(game.home_periods),
        away_periods=partial(game.away_periods), elapsed_game_seconds=elapsed,
    )  # fmt: skip


# --------------------------------------------------------------------------------------------
# Box scores


@dataclass(frozen=True)
class _Profile:
    """Per player and game: how his points split and how he shoots (applied to any partial
    total, so live box scores stay consistent with the final one)."""

    three_share: float
    ft_share: float
    fg_miss: float
    three_miss: float
    ft_miss: float


def _shooting(points: int, profile: _Profile) -> dict[str, int]:
    fg3m = min(points // 3, round(points * profile.three_share / 3))
    ftm = min(points - 3 * fg3m, round(points * profile.ft_share))
    rest = points - 3 * fg3m - ftm
    if rest % 2:
        ftm += 1
        rest -= 1
    fg2m = rest // 2
    fgm = fg2m + fg3m
    fg3a = fg3m + round(fg3m * profile.three_miss + (1 if profile.three_miss > 1.6 else 0))
    fga = fgm + round(fgm * profile.fg_miss) + (fg3a - fg3m) // 2
    fga = max(fga, fgm + (fg3a - fg3m))
    fta = ftm + round(ftm * profile.ft_miss)
    return {"pts": points, "fgm": fgm, "fga": fga, "fg3m": fg3m, "fg3a": fg3a, "ftm": ftm, "fta": fta}


_INACTIVE_REASONS = ("INACTIVE_INJURY", "INACTIVE_INJURY", "INACTIVE_PERSONAL", "INACTIVE_GLEAGUE_TWOWAY")


def _final_team_box(
    rng: random.Random, team: Team, roster: tuple[Player, ...], score: int, margin: int, overtimes: int
) -> tuple[list[PlayerLine], list[_Profile]]:
    inactive = rng.randint(0, min(2, len(roster) - 11))
    available = list(roster[: len(roster) - inactive])
    playing = rng.randint(9, min(13, len(available)))
    if rng.random() < 0.25:  # an occasional lineup change
        starter, swap = rng.randint(0, 4), rng.randint(5, min(7, playing - 1))
        available[starter], available[swap] = available[swap], available[starter]
    weights = []
    for i in range(playing):
        if i < 5:
            weights.append(rng.uniform(27, 38))
        else:
            weights.append(max(2.0, rng.uniform(16, 28) - 3.2 * (i - 5)))
    total_seconds = (240 + 25 * overtimes) * 60
    seconds = _split(total_seconds, weights)
    usage = [s * rng.uniform(0.55, 1.45) * (1.25 if i < 5 else 1.0) for i, s in enumerate(seconds)]
    points = _split(score, usage)
    rebounds = _split(rng.randint(38, 52) + 5 * overtimes, [
        s * (1.8 if available[i].position in ("C", "F-C") else 1.2 if "F" in available[i].position else 0.7)
        for i, s in enumerate(seconds)
    ])  # fmt: skip
    profiles = [
        _Profile(
            three_share=rng.uniform(0.1, 0.5) if available[i].position != "C" else rng.uniform(0, 0.15),
            ft_share=rng.uniform(0.08, 0.25),
            fg_miss=rng.uniform(0.7, 1.35),
            three_miss=rng.uniform(1.2, 2.0),
            ft_miss=rng.uniform(0.05, 0.35),
        )
        for i in range(playing)
    ]
    shooting = [_shooting(points[i], profiles[i]) for i in range(playing)]
    team_fgm = sum(s["fgm"] for s in shooting)
    assists = _split(round(team_fgm * rng.uniform(0.52, 0.68)), [
        s * (2.2 if available[i].position == "G" else 1.0) for i, s in enumerate(seconds)
    ])  # fmt: skip
    lines = []
    for i, player in enumerate(available):
        if i >= playing:
            lines.append(PlayerLine(player=player, starter=False, played=False, seconds=0))
            continue
        share = seconds[i] / 2880
        oreb = round(rebounds[i] * rng.uniform(0.15, 0.35))
        lines.append(
            PlayerLine(
                player=player,
                starter=i < 5,
                played=True,
                seconds=seconds[i],
                **shooting[i],
                oreb=oreb,
                dreb=rebounds[i] - oreb,
                ast=assists[i],
                stl=min(5, int(rng.random() * 3.2 * share * 2)),
                blk=min(5, int(rng.random() * (3.0 if player.position in ("C", "F-C") else 1.2) * share * 2)),
                tov=min(6, int(rng.random() * 4.2 * share * 2)),
                pf=min(6, int(rng.random() * 5.5 * share * 2)),
                plus_minus=round(margin * seconds[i] / (total_seconds / 5) + rng.uniform(-6, 6)),
            )
        )
    for player in roster[len(roster) - inactive :]:
        lines.append(
            PlayerLine(
                player=player, starter=False, played=False, seconds=0,
                inactive_reason=rng.choice(_INACTIVE_REASONS),
            )
        )  # fmt: skip
    return lines, profiles


def _scale_line(line: PlayerLine, points: int, fraction: float, profile: _Profile | None) -> PlayerLine:
    if not line.played:
        return line
    seconds = int(line.seconds * fraction)
    if seconds <= 0 and points <= 0:
        return replace(line, played=False, seconds=0, pts=0, fgm=0, fga=0, fg3m=0, fg3a=0, ftm=0,
                       fta=0, oreb=0, dreb=0, ast=0, stl=0, blk=0, tov=0, pf=0, plus_minus=0)  # fmt: skip
    shooting = _shooting(points, profile) if profile else {}
    return replace(
        line,
        seconds=max(seconds, 1),
        **shooting,
        oreb=int(line.oreb * fraction),
        dreb=int(line.dreb * fraction),
        ast=int(line.ast * fraction),
        stl=int(line.stl * fraction),
        blk=int(line.blk * fraction),
        tov=int(line.tov * fraction),
        pf=int(line.pf * fraction),
        plus_minus=int(line.plus_minus * fraction),
    )


def _partial_team_box(
    final: list[PlayerLine], profiles: list[_Profile], team: Team, state: GameState, home: bool
) -> TeamBox:
    periods = state.home_periods if home else state.away_periods
    score = sum(periods)
    if state.status == FINAL:
        return TeamBox(team=team, score=score, periods=periods, lines=tuple(final))
    fraction = state.elapsed_game_seconds / state.total_game_seconds
    played = [line for line in final if line.played]
    points = (
        _split(score, [line.pts for line in played])
        if sum(line.pts for line in played)
        else [0] * len(played)
    )
    lines = [_scale_line(line, points[i], fraction, profiles[i]) for i, line in enumerate(played)] + [
        line for line in final if not line.played
    ]
    return TeamBox(team=team, score=score, periods=periods, lines=tuple(lines))


# --------------------------------------------------------------------------------------------
# The league: seasons, overrides, queries


class League:
    """Deterministic seasons (generated lazily, cached per year) and game state at a moment.

    ``now`` defaults to the attached clock; pass it explicitly for pure use. Game ids are
    NBA.com ``gameId`` strings ("0022600001") or BDL integer ids."""

    def __init__(self, seed: int, clock: Any = None, *, full_season: bool = False):
        self.seed = seed
        # False: the 1,230 regular-season games only (stable fixtures for the product's tests
        # and the demo). True: a season as the league runs it — preseason, NBA Cup, All-Star,
        # play-in, playoffs, postponements, neutral sites, box scores published late or never
        # (:mod:`nba_notify.sim.season_shape`).
        self.full_season = full_season
        self._clock = clock
        self._lock = threading.RLock()
        self._seasons: dict[int, Season] = {}
        self._rosters: dict[str, tuple[Player, ...]] | None = None
        self._overrides: dict[str, Override] = {}
        self._final_boxes: dict[
            str, tuple[list[PlayerLine], list[_Profile], list[PlayerLine], list[_Profile]]
        ] = {}
        self.version = 0  # bumped on every override change: part of payload cache keys

    # seasons -------------------------------------------------------------------------------

    def now(self) -> datetime:
        if self._clock is None:
            raise RuntimeError("League has no clock: pass now=...")
        return self._clock.now()

    @property
    def rosters(self) -> dict[str, tuple[Player, ...]]:
        with self._lock:
            if self._rosters is None:
                self._rosters = generate_rosters(self.seed)
            return self._rosters

    def season(self, year: int) -> Season:
        with self._lock:
            if year not in self._seasons:
                season = generate_season(self.seed, year, self.rosters)
                if self.full_season:
                    from nba_notify.sim.season_shape import shape_season

                    shape_season(self.seed, season)
                self._seasons[year] = season
            return self._seasons[year]

    def current_season_year(self, now: datetime | None = None) -> int:
        """The season containing the clock's (Eastern) date; between seasons, the upcoming one."""
        now = now or self.now()
        return season_year_for(now.astimezone(EASTERN).date())

    def loaded_seasons(self) -> list[int]:
        with self._lock:
            return sorted(self._seasons)

    # overrides -----------------------------------------------------------------------------

    def override(
        self, game_id: str | int, *, tipoff_utc: datetime | None = None, status: str | None = None
    ) -> None:
        """Move a game (``tipoff_utc``) and/or set ``status`` postponed | cancelled (``scheduled``
        lifts a status override). Cleared by :meth:`reset`."""
        game = self.scheduled_game(game_id)
        if game is None:
            raise KeyError(f"unknown game {game_id!r}")
        if status is not None and status not in OVERRIDE_STATUSES:
            raise ValueError(f"status must be one of {sorted(OVERRIDE_STATUSES)}")
        if tipoff_utc is not None and tipoff_utc.tzinfo is None:
            raise ValueError("tipoff_utc must be timezone-aware")
        with self._lock:
            current = self._overrides.get(game.nba_id, Override())
            self._overrides[game.nba_id] = Override(
                tipoff_utc=tipoff_utc.astimezone(UTC) if tipoff_utc else current.tipoff_utc,
                status=status if status is not None else current.status,
            )
            self.version += 1

    def reset(self) -> None:
        with self._lock:
            self._overrides.clear()
            self.version += 1

    def overrides(self) -> dict[str, Override]:
        with self._lock:
            return dict(self._overrides)

    # queries -------------------------------------------------------------------------------

    def scheduled_game(self, game_id: str | int) -> ScheduledGame | None:
        text = str(game_id).strip()
        if len(text) == 10 and text.startswith("00") and text[2] in "123456" and text.isdigit():
            year = 2000 + int(text[3:5])
            return self.season(year).by_nba_id.get(text)
        if text.isdigit():
            bdl_id = int(text)
            year = 2020 + (bdl_id - 15_000_000) // 640_000
            if not 2000 <= year <= 2098:
                return None
            return self.season(year).by_bdl_id.get(bdl_id)
        return None

    def state(self, game: ScheduledGame, now: datetime | None) -> GameState:
        with self._lock:
            override = self._overrides.get(game.nba_id)
        return state_at(game, now or self.now(), override)

    def game(self, game_id: str | int, now: datetime | None = None) -> GameState | None:
        game = self.scheduled_game(game_id)
        return None if game is None else self.state(game, now)

    def games_on(self, day: date, now: datetime | None = None) -> list[GameState]:
        """Games whose (Eastern) date is ``day`` at ``now``, moved games included, in tip-off
        order."""
        now = now or self.now()
        year = season_year_for(day)
        with self._lock:
            overrides = dict(self._overrides)
        candidates = list(dict.fromkeys(self.season(year).by_day.get(day, ())))
        moved_ids = {gid for gid, o in overrides.items() if o.tipoff_utc is not None}
        for gid in moved_ids:
            game = self.scheduled_game(gid)
            if game is not None and game not in candidates:
                candidates.append(game)
        states = [state_at(g, now, overrides.get(g.nba_id)) for g in candidates]
        states = [s for s in states if s.game_date == day and s.game.listed_at(now)]
        return sorted(states, key=lambda s: (s.tipoff_utc, s.home.tricode))

    def season_games(self, year: int, now: datetime | None = None) -> list[GameState]:
        """Every game of a season the league lists at ``now``, in tip-off order."""
        now = now or self.now()
        with self._lock:
            overrides = dict(self._overrides)
        states = [
            state_at(g, now, overrides.get(g.nba_id)) for g in self.season(year).all_games if g.listed_at(now)
        ]
        return sorted(states, key=lambda s: (s.tipoff_utc, s.home.tricode))

    def box_score(self, game_id: str | int | GameState, now: datetime | None = None) -> BoxScore | None:
        """The box score at ``now`` (partial while live); None before tip-off, for postponed or
        cancelled games and unknown ids."""
        state = game_id if isinstance(game_id, GameState) else self.game(game_id, now)
        if state is None or not state.started:
            return None
        game = state.game
        with self._lock:
            cached = self._final_boxes.get(game.nba_id)
        if cached is None:
            rng = random.Random(f"{self.seed}:{game.nba_id}:box")
            margin = game.home_score - game.away_score
            season = self.season(game.season)
            home_lines, home_profiles = _final_team_box(
                rng, game.home, season.roster(game.home.tricode), game.home_score, margin, game.overtimes
            )
            away_lines, away_profiles = _final_team_box(
                rng, game.away, season.roster(game.away.tricode), game.away_score, -margin, game.overtimes
            )
            cached = (home_lines, home_profiles, away_lines, away_profiles)
            with self._lock:
                if len(self._final_boxes) > 4096:
                    self._final_boxes.clear()
                self._final_boxes[game.nba_id] = cached
        home_lines, home_profiles, away_lines, away_profiles = cached
        return BoxScore(
            state=state,
            home=_partial_team_box(home_lines, home_profiles, game.home, state, home=True),
            away=_partial_team_box(away_lines, away_profiles, game.away, state, home=False),
        )


# --------------------------------------------------------------------------------------------
# Data faults: what a source shows of the truth


SOURCES = {
    "bdl": {"listing": ("bdl.games",), "box": ("bdl.box_scores",)},
    "nbac": {"listing": ("nbac.schedule", "nbac.schedule_season"), "box": ("nbac.boxscore",)},
}
ALL_ROUTES = ("bdl.games", "bdl.box_scores", "nbac.schedule", "nbac.schedule_season", "nbac.boxscore")


def _source_of(route: str) -> str:
    return route.split(".", 1)[0]


def _effective_faults(sim: Any, route: str, kind: str, now: datetime) -> list[Any]:
    """Faults in force for ``route``. A game hidden from a source's listing is hidden from its
    box scores too, so box routes also obey the listing routes' drop/lag faults."""
    routes = [route]
    spec = SOURCES.get(_source_of(route))
    if spec and route in spec["box"] and kind in ("drop_games", "lag_games"):
        routes += list(spec["listing"])
    seen: dict[int, Any] = {}
    for name in routes:
        for fault in sim.faults.active(name, kind, now=now):
            seen.setdefault(fault.id, fault)
    return [seen[i] for i in sorted(seen)]


def _targets(sim: Any, fault: Any, kind: str, states_of_day: Iterable[GameState]) -> set[str]:
    """NBA ids of the games a fault picks on one day: its ``game_ids`` (NBA or BDL ids), or
    ``count`` games of its ``date`` chosen by a seeded draw (all of them without ``count``)."""
    params = fault.params
    states = list(states_of_day)
    if "game_ids" in params:
        wanted = {str(g) for g in params["game_ids"]}
        return {s.nba_id for s in states if s.nba_id in wanted or str(s.bdl_id) in wanted}
    if "date" not in params or not states:
        return set()
    day = states[0].game_date.isoformat()
    if str(params["date"]) != day:
        return set()
    ids = sorted(s.nba_id for s in states)
    count = params.get("count")
    if count is None:
        return set(ids)
    rng = random.Random(f"{sim.config.seed}:{fault.id}:{kind}:{day}")
    return set(rng.sample(ids, min(int(count), len(ids))))


def hidden_games(sim: Any, route: str, states: Sequence[GameState], now: datetime) -> dict[str, str]:
    """{nba_id: reason} for the games ``route`` must leave out at ``now`` under ``drop_games``
    and ``lag_games`` faults. ``states`` must hold every game of each day concerned (the seeded
    choice is drawn from the whole day)."""
    drops = _effective_faults(sim, route, "drop_games", now)
    lags = _effective_faults(sim, route, "lag_games", now)
    if not drops and not lags:
        return {}
    by_day: dict[date, list[GameState]] = defaultdict(list)
    for s in states:
        by_day[s.game_date].append(s)
    hidden: dict[str, str] = {}
    for day_states in by_day.values():
        for fault in drops:
            for nba_id in _targets(sim, fault, "drop_games", day_states):
                hidden[nba_id] = "dropped"
        for fault in lags:
            delay = timedelta(hours=float(fault.params.get("delay_hours", 1)))
            picked = _targets(sim, fault, "lag_games", day_states)
            for s in day_states:
                if s.nba_id in picked and now < s.tipoff_utc + delay:
                    hidden.setdefault(s.nba_id, "lagged")
    return hidden


def wrong_scores(sim: Any, route: str, states: Sequence[GameState], now: datetime) -> dict[str, int]:
    """{nba_id: points} added to the home score of started games ``route`` misreports under
    ``wrong_score`` faults (``points``, default 2; ``game_ids`` or ``date``/``count`` as for
    the other data faults)."""
    faults = sim.faults.active(route, "wrong_score", now=now)
    if not faults:
        return {}
    by_day: dict[date, list[GameState]] = defaultdict(list)
    for s in states:
        by_day[s.game_date].append(s)
    started = {s.nba_id for s in states if s.started}
    wrong: dict[str, int] = {}
    for day_states in by_day.values():
        for fault in faults:
            for nba_id in _targets(sim, fault, "wrong_score", day_states) & started:
                wrong[nba_id] = wrong.get(nba_id, 0) + int(fault.params.get("points", 2))
    return wrong


def dropped_player_ids(
    sim: Any, route: str, box: BoxScore, day_states: Sequence[GameState], now: datetime
) -> set[int]:
    """NBA personIds a box score route leaves out of this game under ``drop_players`` faults
    (``fraction`` of the players who played, per team, chosen by a seeded draw)."""
    dropped: set[int] = set()
    for fault in sim.faults.active(route, "drop_players", now=now):
        if box.state.nba_id not in _targets(sim, fault, "drop_players", day_states):
            continue
        fraction = float(fault.params.get("fraction", 0.5))
        rng = random.Random(f"{sim.config.seed}:{fault.id}:drop_players:{box.state.nba_id}")
        for team_box in (box.home, box.away):
            ids = [line.player.nba_id for line in team_box.played]
            dropped.update(rng.sample(ids, int(len(ids) * fraction)))
    return dropped


# --------------------------------------------------------------------------------------------
# Ground truth and control routes


def truth_row(sim: Any, state: GameState, day_states: Sequence[GameState], now: datetime) -> dict[str, Any]:
    box = sim.league.box_score(state) if state.started else None
    row: dict[str, Any] = {
        "nba_game_id": state.nba_id,
        "bdl_game_id": state.bdl_id,
        "season": state.season,
        "date": state.game_date.isoformat(),
        "home": state.home.tricode,
        "away": state.away.tricode,
        "tipoff_utc": state.tipoff_utc.isoformat().replace("+00:00", "Z"),
        "scheduled_tipoff_utc": state.game.tipoff_utc.isoformat().replace("+00:00", "Z"),
        "moved": state.moved,
        "status": state.status,
        "period": state.period,
        "home_score": state.home_score,
        "away_score": state.away_score,
        "home_players": len(box.home.played) if box else 0,
        "away_players": len(box.away.played) if box else 0,
    }
    hidden_from: dict[str, str] = {}
    players_dropped: dict[str, int] = {}
    for route in ALL_ROUTES:
        reason = hidden_games(sim, route, day_states, now).get(state.nba_id)
        if reason:
            hidden_from[route] = reason
        elif box and route in ("bdl.box_scores", "nbac.boxscore"):
            n = len(dropped_player_ids(sim, route, box, day_states, now))
            if n:
                players_dropped[route] = n
    row["hidden_from"] = hidden_from
    row["players_dropped"] = players_dropped
    row["wrong_score_in"] = {
        route: points
        for route in ("bdl.games", "nbac.schedule", "nbac.schedule_season")
        if (points := wrong_scores(sim, route, day_states, now).get(state.nba_id))
    }
    game = state.game
    row["kind"] = game.kind
    row["label"] = game.label
    row["neutral_site"] = game.venue.arena_city if game.venue else None
    row["box_score_published"] = {
        source: state.status == FINAL and game.box_score_published(source, state.ends_at, now)
        for source in ("bdl", "nbac")
    }
    return row


def truth_games(sim: Any, day: date, now: datetime | None = None) -> list[dict[str, Any]]:
    now = now or sim.clock.now()
    states = sim.league.games_on(day, now)
    return [truth_row(sim, s, states, now) for s in states]


def attach(sim: Any) -> League:
    """Give the simulator its league once: ``sim.league``, a cheap ``league`` truth provider
    and a reset hook clearing overrides. Idempotent."""
    if sim.league is None:
        sim.league = League(sim.config.seed, sim.clock, full_season=sim.config.full_season)
        league = sim.league
        sim.truth_providers["league"] = lambda: {
            "seasons_generated": league.loaded_seasons(),
            "overrides": len(league.overrides()),
        }
        sim.reset_hooks.append(league.reset)
    return sim.league


def _parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("times must carry a UTC offset")
    return parsed


def control_routes(sim: Any) -> list[Route]:
    """``GET /truth/games?date=``, ``GET /games/{id}``, ``POST /games/{id}`` (mounted at /_sim)."""
    league = attach(sim)

    async def truth(request: Request) -> JSONResponse:
        raw = request.query_params.get("date")
        try:
            day = date.fromisoformat(raw or "")
        except ValueError:
            return JSONResponse({"error": "date=YYYY-MM-DD is required"}, status_code=400)
        now = sim.clock.now()
        return JSONResponse(
            {"date": day.isoformat(), "now": now.isoformat(), "games": truth_games(sim, day, now)}
        )

    async def game(request: Request) -> JSONResponse:
        game_id = request.path_params["game_id"]
        if request.method == "POST":
            body = await request.json() if await request.body() else {}
            try:
                tipoff = _parse_time(body["tipoff_utc"]) if body.get("tipoff_utc") else None
                league.override(game_id, tipoff_utc=tipoff, status=body.get("status"))
            except KeyError:
                return JSONResponse({"error": f"unknown game {game_id}"}, status_code=404)
            except ValueError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
        now = sim.clock.now()
        state = league.game(game_id, now)
        if state is None:
            return JSONResponse({"error": f"unknown game {game_id}"}, status_code=404)
        return JSONResponse(truth_row(sim, state, league.games_on(state.game_date, now), now))

    return [
        Route("/truth/games", truth, methods=["GET"]),
        Route("/games/{game_id}", game, methods=["GET", "POST"]),
    ]
