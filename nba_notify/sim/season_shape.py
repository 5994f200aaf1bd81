"""A season as the league runs it, on top of the 1,230 generated regular-season games.

:func:`shape_season` (used when ``SimConfig.full_season`` is on) leaves every regular-season
game's ids, teams, day and tip-off as generated, and adds what a real NBA season has:

* **preseason** (``001`` ids) two weeks before opening night, two of them at a neutral site
  (Abu Dhabi) and one against a club that is not an NBA franchise;
* **NBA Cup**: group games on the Tuesday and Friday Cup nights of November (labels only),
  knockout quarterfinals at the higher seed, semifinals and the final (``006`` id) at a
  neutral site in Las Vegas; the quarterfinals and semifinals are regular-season (``002``)
  games numbered after the 1,230;
* **neutral-site** regular-season games (Mexico City in November, Paris in January);
* **All-Star weekend** (``003`` ids): Rising Stars on Friday, the All-Star Game on Sunday,
  between teams that are none of the 30 franchises;
* **play-in** (``005``) and **playoffs** (``004``, ``00YY00RSG``: round, series, game) seeded
  from the regular season's results; games 5-7 of a series are listed "if necessary" from the
  moment the series is set and dropped from the listing when the series ends early;
* **postponements**: two winter games postponed on the day (announced 5 h before tip-off) and
  made up weeks later on a day both teams are free — the same game ids, a new day, announced a
  week after the postponement;
* **box scores** published 0-3 h after the final buzzer (per game and source), and a few that
  NBA.com never publishes.

Every choice is drawn from ``random.Random(f"{seed}:{year}:...")`` streams of its own, so the
season is deterministic by seed and the regular season is the one the plain calendar has.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, datetime, timedelta

from nba_notify.lib.teams import TEAMS, Team
from nba_notify.sim.league import (
    EASTERN,
    Player,
    ScheduledGame,
    Season,
    Venue,
    _final_periods,
    all_star_break,
    eastern_to_utc,
    game_wall_duration,
)

LAS_VEGAS = Venue("T-Mobile Arena", "Las Vegas", "NV", "US", "America/Los_Angeles")
MEXICO_CITY = Venue("Arena CDMX", "Mexico City", "", "MX", "America/Mexico_City")
PARIS = Venue("Accor Arena", "Paris", "", "FR", "Europe/Paris")
ABU_DHABI = Venue("Etihad Arena", "Abu Dhabi", "", "AE", "Asia/Dubai")

CUP_LABEL = "Emirates NBA Cup"
GLOBAL_GAMES = "Global Games"
BOX_SCORE_LAG_MAX_MINUTES = 180
NBAC_BOX_SCORES_NEVER_PUBLISHED = 3
POSTPONEMENTS = 2
PLAYOFF_ROUNDS = ("First Round", "Conf. Semifinals", "Conf. Finals", "NBA Finals")
_PLAYOFF_SLOTS = ((19, 0), (19, 30), (20, 0), (21, 30), (22, 0))


def _exhibition_team(tricode: str, name: str, nba_id: int, host: Team | Venue) -> Team:
    """A team that is none of the 30 franchises (All-Star, Rising Stars, an overseas club)."""
    if isinstance(host, Venue):
        arena, city, state, zone = host.arena_name, host.arena_city, host.arena_state, host.timezone
    else:
        arena, city, state, zone = host.arena_name, host.arena_city, host.arena_state, host.timezone
    city_part, _, name_part = name.partition(" ")
    return Team(tricode, city_part, name_part, "", "", nba_id, 0, zone, arena, city, state)


def _bdl_block(year: int) -> int:
    # Above the regular season's ids (base + < 56,000) and inside the season's block of 640,000.
    return 15_000_000 + (year - 2020) * 640_000 + 200_000


def _game(
    rng: random.Random,
    nba_id: str,
    bdl_id: int,
    year: int,
    sequence: int,
    home: Team,
    away: Team,
    tipoff: datetime,
    *,
    home_wins: bool | None = None,
    **fields,
) -> ScheduledGame:
    home_periods, away_periods = _final_periods(rng)
    if home_wins is not None and (sum(home_periods) > sum(away_periods)) != home_wins:
        home_periods, away_periods = away_periods, home_periods
    return ScheduledGame(
        nba_id=nba_id,
        bdl_id=bdl_id,
        season=year,
        sequence=sequence,
        home=home,
        away=away,
        tipoff_utc=tipoff,
        home_periods=home_periods,
        away_periods=away_periods,
        attendance=rng.randint(15_200, 21_000),
        **fields,
    )


def _ends(game: ScheduledGame) -> datetime:
    return game.tipoff_utc + game_wall_duration(game.overtimes)


def _winner(game: ScheduledGame) -> Team:
    return game.home if game.home_score > game.away_score else game.away


def _busy(season: Season) -> dict[date, set[str]]:
    busy: dict[date, set[str]] = {}
    for day, games in season.by_date.items():
        busy[day] = {t for g in games for t in (g.home.tricode, g.away.tricode)}
    return busy


# -- regular season: labels, neutral sites, postponements -------------------------------------


def _cup_groups(rng: random.Random) -> dict[str, str]:
    groups: dict[str, str] = {}
    for conference in ("East", "West"):
        members = sorted((t for t in TEAMS if t.conference == conference), key=lambda t: t.tricode)
        rng.shuffle(members)
        for i, team in enumerate(members):
            groups[team.tricode] = f"{conference} Group {'ABC'[i // 5]}"
    return groups


def _cup_nights(year: int) -> set[date]:
    first = date(year, 10, 31)
    return {first + timedelta(days=i) for i in range(29) if (first + timedelta(days=i)).weekday() in (1, 4)}


def _shape_regular(seed: int, season: Season) -> None:
    year = season.year
    rng = random.Random(f"{seed}:{year}:regular-shape")
    groups = _cup_groups(rng)
    nights = _cup_nights(year)
    games = list(season.games)
    index = {g.nba_id: i for i, g in enumerate(games)}

    def day_of(game: ScheduledGame) -> date:
        return game.tipoff_utc.astimezone(EASTERN).date()

    for i, game in enumerate(games):
        if day_of(game) in nights and game.home.conference == game.away.conference:
            games[i] = replace(
                game, label=CUP_LABEL, sub_label=groups[game.home.tricode], subtype="in-season"
            )

    taken: set[str] = set()

    def pick(candidates: list[ScheduledGame]) -> ScheduledGame:
        options = [g for g in candidates if g.nba_id not in taken]
        choice = rng.choice(options)
        taken.add(choice.nba_id)
        return choice

    mexico = pick([g for g in games if day_of(g).month == 11 and day_of(g).weekday() == 5])
    games[index[mexico.nba_id]] = replace(
        games[index[mexico.nba_id]],
        venue=MEXICO_CITY,
        label=f"NBA Mexico City Game {year}",
        subtype=GLOBAL_GAMES,
    )
    paris = pick([g for g in games if day_of(g).month == 1 and day_of(g).weekday() == 3])
    games[index[paris.nba_id]] = replace(
        games[index[paris.nba_id]], venue=PARIS, label=f"NBA Paris Game {year + 1}", subtype=GLOBAL_GAMES
    )

    busy = _busy(season)
    break_days = set(all_star_break(year))
    last_day = season.last_day
    winter = [g for g in games if day_of(g).month in (1, 2) and day_of(g) not in break_days]
    for _ in range(POSTPONEMENTS):
        game = pick(winter)
        teams = {game.home.tricode, game.away.tricode}
        day = day_of(game) + timedelta(days=21)
        while day < last_day - timedelta(days=2):
            neighbours = busy.get(day, set())
            if day not in break_days and not teams & neighbours:
                break
            day += timedelta(days=1)
        busy.setdefault(day, set()).update(teams)
        postponed_at = game.tipoff_utc - timedelta(hours=5)
        games[index[game.nba_id]] = replace(
            games[index[game.nba_id]],
            postponed_at=postponed_at,
            makeup_tipoff=eastern_to_utc(day, 19, 30),
            makeup_announced_at=postponed_at + timedelta(days=7),
        )
    never = [g for g in games if day_of(g).month in (11, 12, 1, 2, 3) and g.postponed_at is None]
    for _ in range(NBAC_BOX_SCORES_NEVER_PUBLISHED):
        game = pick(never)
        games[index[game.nba_id]] = replace(games[index[game.nba_id]], box_score_never=("nbac",))
    season.games[:] = games


# -- preseason ----------------------------------------------------------------------------------


def _preseason(seed: int, season: Season, opening: date) -> list[ScheduledGame]:
    year = season.year
    rng = random.Random(f"{seed}:{year}:preseason")
    by_tricode = {t.tricode: t for t in TEAMS}
    abu_dhabi = rng.sample(TEAMS, 2)
    club = _exhibition_team("ADL", "Adelaide 36ers", 15019, ABU_DHABI)
    rows: list[tuple[datetime, Team, Team, dict]] = []
    played = {t.tricode: 0 for t in TEAMS}
    first = opening - timedelta(days=17)
    for offset in range(15):
        day = first + timedelta(days=offset)
        used: set[str] = set()
        if offset in (2, 4):  # the same two teams, twice, overseas (noon ET is 8 pm there)
            home, away = abu_dhabi if offset == 2 else abu_dhabi[::-1]
            rows.append(
                (eastern_to_utc(day, 12, 0), home, away,
                 {"venue": ABU_DHABI, "label": "NBA Abu Dhabi Games", "subtype": GLOBAL_GAMES})
            )  # fmt: skip
            used |= {home.tricode, away.tricode}
            played[home.tricode] += 1
            played[away.tricode] += 1
        if offset == 6:
            host = rng.choice([t for t in TEAMS if t.tricode not in used])
            rows.append((eastern_to_utc(day, 19, 0), host, club, {}))
            used.add(host.tricode)
            played[host.tricode] += 1
        if offset in (0, 14) or rng.random() < 0.15:
            continue  # off days
        pool = sorted((t for t in played if t not in used), key=lambda t: (played[t], rng.random()))
        for k in range(0, min(len(pool) - 1, 2 * rng.randint(3, 7)), 2):
            home, away = by_tricode[pool[k]], by_tricode[pool[k + 1]]
            if played[home.tricode] >= 5 or played[away.tricode] >= 5:
                continue
            hour, minute = rng.choice(((19, 0), (19, 30), (20, 0), (22, 0)))
            rows.append((eastern_to_utc(day, hour, minute), home, away, {}))
            played[home.tricode] += 1
            played[away.tricode] += 1
    rows.sort(key=lambda r: (r[0], r[1].tricode))
    base = _bdl_block(year)
    return [
        _game(
            rng,
            f"001{year % 100:02d}{i + 1:05d}",
            base + i,
            year,
            i + 1,
            home,
            away,
            tip,
            kind="preseason",
            **extra,
        )
        for i, (tip, home, away, extra) in enumerate(rows)
    ]


# -- NBA Cup knockout -------------------------------------------------------------------------


def _cup_knockout(seed: int, season: Season) -> list[ScheduledGame]:
    year = season.year
    rng = random.Random(f"{seed}:{year}:cup")
    busy = _busy(season)
    base = _bdl_block(year) + 1_000
    # The Tuesday of the second week of December, then Wednesday, Saturday and the next Tuesday.
    first_tuesday = date(year, 12, 8) + timedelta(days=(1 - date(year, 12, 8).weekday()) % 7)
    for week in range(3):
        tuesday = first_tuesday + timedelta(weeks=week)
        days = {"East": tuesday, "West": tuesday + timedelta(days=1)}
        semis, final = tuesday + timedelta(days=4), tuesday + timedelta(days=7)
        plan = {}
        for conference, quarter in days.items():
            members = [t for t in TEAMS if t.conference == conference]
            rng.shuffle(members)

            def free(team: Team, *on: date) -> bool:
                return all(team.tricode not in busy.get(day, set()) for day in on)

            finalists = [t for t in members if free(t, quarter, semis, final)]
            semifinalists = [t for t in members if free(t, quarter, semis) and t not in finalists[:1]]
            if not finalists or not semifinalists:
                break
            chosen = [finalists[0], semifinalists[0]]
            losers = [t for t in members if free(t, quarter) and t not in chosen][:2]
            if len(losers) < 2:
                break
            plan[conference] = (quarter, chosen, losers)
        if len(plan) == 2:
            break
    else:  # pragma: no cover - every generated season so far has a free week
        return []
    games: list[ScheduledGame] = []
    sequence = len(season.games)
    finalists: list[Team] = []
    for conference in ("East", "West"):
        quarter, (finalist, semifinalist), losers = plan[conference]
        for slot, (winner, loser) in enumerate(((finalist, losers[0]), (semifinalist, losers[1]))):
            home, away = (winner, loser) if rng.random() < 0.6 else (loser, winner)
            sequence += 1
            hour, minute = ((19, 0), (21, 30))[slot]
            games.append(
                _game(
                    rng, f"002{year % 100:02d}{sequence:05d}", base + sequence, year, sequence, home, away,
                    eastern_to_utc(quarter, hour, minute), home_wins=home is winner, kind="cup_knockout",
                    label=CUP_LABEL, sub_label=f"{conference} Quarterfinal", subtype="in-season-knockout",
                )
            )  # fmt: skip
        finalists.append(finalist)
    for slot, conference in enumerate(("East", "West")):
        _, (finalist, semifinalist), _ = plan[conference]
        home, away = (finalist, semifinalist) if rng.random() < 0.5 else (semifinalist, finalist)
        sequence += 1
        hour, minute = ((17, 0), (20, 30))[slot]
        games.append(
            _game(
                rng, f"002{year % 100:02d}{sequence:05d}", base + sequence, year, sequence, home, away,
                eastern_to_utc(semis, hour, minute), home_wins=home is finalist, kind="cup_knockout",
                label=CUP_LABEL, sub_label="Semifinal", subtype="in-season-knockout", venue=LAS_VEGAS,
            )
        )  # fmt: skip
    home, away = finalists if rng.random() < 0.5 else finalists[::-1]
    games.append(
        _game(
            rng, f"006{year % 100:02d}00001", base + 99, year, 1, home, away, eastern_to_utc(final, 20, 30),
            kind="cup_final", label=CUP_LABEL, sub_label="Championship", subtype="in-season-knockout",
            venue=LAS_VEGAS,
        )
    )  # fmt: skip
    return games


# -- All-Star weekend -------------------------------------------------------------------------


def _all_star(seed: int, season: Season) -> tuple[list[ScheduledGame], dict[str, tuple[Player, ...]]]:
    year = season.year
    rng = random.Random(f"{seed}:{year}:all-star")
    host = rng.choice(TEAMS)
    venue = Venue(host.arena_name, host.arena_city, host.arena_state, "CA" if host.tricode == "TOR" else "US",
                  host.timezone)  # fmt: skip
    friday, sunday = all_star_break(year)[0], all_star_break(year)[2]
    teams = {
        "rising": (_exhibition_team("MLO", "Team Melo", 1610616851, host),
                   _exhibition_team("PAU", "Team Pau", 1610616852, host)),
        "all_star": (_exhibition_team("STR", "Team Stars", 1610616853, host),
                     _exhibition_team("WLD", "Team World", 1610616854, host)),
    }  # fmt: skip
    players = [p for roster in season.rosters.values() for p in roster]
    rng.shuffle(players)
    rosters = {}
    for k, team in enumerate(t for pair in teams.values() for t in pair):
        rosters[team.tricode] = tuple(players[12 * k : 12 * (k + 1)])
    base = _bdl_block(year) + 2_000
    games = [
        _game(rng, f"003{year % 100:02d}00001", base + 1, year, 1, *teams["rising"],
              eastern_to_utc(friday, 21, 0), kind="all_star", label="Castrol Rising Stars", venue=venue),
        _game(rng, f"003{year % 100:02d}00002", base + 2, year, 2, *teams["all_star"],
              eastern_to_utc(sunday, 20, 0), kind="all_star", label="NBA All-Star Game", venue=venue),
    ]  # fmt: skip
    return games, rosters


# -- play-in and playoffs ---------------------------------------------------------------------


def _standings(rng: random.Random, season: Season, extra: list[ScheduledGame]) -> dict[str, list[Team]]:
    wins = {t.tricode: 0 for t in TEAMS}
    for game in [*season.games, *(g for g in extra if g.kind == "cup_knockout")]:
        winner = _winner(game)
        if winner.tricode in wins:
            wins[winner.tricode] += 1
    tiebreak = {t.tricode: rng.random() for t in TEAMS}
    return {
        conference: sorted(
            (t for t in TEAMS if t.conference == conference),
            key=lambda t: (-wins[t.tricode], tiebreak[t.tricode]),
        )
        for conference in ("East", "West")
    }


def _postseason(seed: int, season: Season, extra: list[ScheduledGame]) -> list[ScheduledGame]:
    year = season.year
    yy = f"{year % 100:02d}"
    rng = random.Random(f"{seed}:{year}:postseason")
    table = _standings(rng, season, extra)
    base = _bdl_block(year) + 3_000
    last = season.last_day
    season_over = max(_ends(g) for g in season.by_date[last])
    games: list[ScheduledGame] = []

    def add(nba_id: str, home: Team, away: Team, tip: datetime, **fields) -> ScheduledGame:
        game = _game(rng, nba_id, base + len(games), year, len(games) + 1, home, away, tip, **fields)
        games.append(game)
        return game

    seeds: dict[str, list[Team]] = {}
    for c, (conference, day) in enumerate(
        (("East", last + timedelta(days=2)), ("West", last + timedelta(days=3)))
    ):
        ranked = table[conference]
        label = f"{conference} Play-In"
        top = add(f"005{yy}0010{1 + 2 * c}", ranked[6], ranked[7], eastern_to_utc(day, 19, 30),
                  kind="play_in", label="SoFi Play-In Tournament", sub_label=f"{label} 7 vs 8",
                  listed_from=season_over)  # fmt: skip
        bottom = add(f"005{yy}0010{2 + 2 * c}", ranked[8], ranked[9], eastern_to_utc(day, 22, 0),
                     kind="play_in", label="SoFi Play-In Tournament", sub_label=f"{label} 9 vs 10",
                     listed_from=season_over)  # fmt: skip
        loser_top = top.away if _winner(top) is top.home else top.home
        eighth = add(f"005{yy}0020{1 + c}", loser_top, _winner(bottom),
                     eastern_to_utc(last + timedelta(days=5), 19 + 2 * c, 30 if c == 0 else 0),
                     kind="play_in", label="SoFi Play-In Tournament", sub_label=f"{label} 8th seed",
                     listed_from=max(_ends(top), _ends(bottom)))  # fmt: skip
        seeds[conference] = [*ranked[:6], _winner(top), _winner(eighth)]
    set_at = max(_ends(g) for g in games)
    record = {t.tricode: i for conference in table.values() for i, t in enumerate(conference)}

    # Round 1 pairs (1v8, 4v5, 3v6, 2v7) per conference; later rounds pair the feeders' winners.
    series: list[tuple[Team, Team, datetime]] = []
    for conference in ("East", "West"):
        s = seeds[conference]
        series += [(s[0], s[7], set_at), (s[3], s[4], set_at), (s[2], s[5], set_at), (s[1], s[6], set_at)]
    start = last + timedelta(days=6)
    for round_index in range(4):
        winners: list[tuple[Team, datetime]] = []
        for number, (one, two, listed_from) in enumerate(series):
            high, low = (one, two) if record[one.tricode] <= record[two.tricode] else (two, one)
            if round_index == 3:
                high, low = sorted((one, two), key=lambda t: (-sum(1 for g in season.games if _winner(g) is t),
                                                              t.tricode))  # fmt: skip
            conference = "" if round_index == 3 else f"{high.conference} "
            wins = {high.tricode: 0, low.tricode: 0}
            series_games: list[ScheduledGame] = []
            for number_in_series in range(1, 8):
                day = start + timedelta(days=number % 2 + 2 * (number_in_series - 1))
                home, away = (high, low) if number_in_series in (1, 2, 5, 7) else (low, high)
                hour, minute = rng.choice(_PLAYOFF_SLOTS)
                game = add(
                    f"004{yy}00{round_index + 1}{number}{number_in_series}", home, away,
                    eastern_to_utc(day, hour, minute), kind="playoffs",
                    label=f"{conference}{PLAYOFF_ROUNDS[round_index]}", sub_label=f"Game {number_in_series}",
                    series_game=f"Game {number_in_series}", if_necessary=number_in_series >= 5,
                    listed_from=listed_from,
                )  # fmt: skip
                series_games.append(game)
                if max(wins.values()) < 4:
                    wins[_winner(game).tricode] += 1
            decided = next(
                g for k, g in enumerate(series_games)
                if max(sum(1 for x in series_games[: k + 1] if _winner(x) is t) for t in (high, low)) == 4
            )  # fmt: skip
            over = _ends(decided)
            for k, game in enumerate(series_games):
                if game.tipoff_utc > decided.tipoff_utc:
                    games[games.index(game)] = replace(game, listed_until=over)
                elif game.if_necessary:
                    # necessary once the game before it ended with the series still open
                    games[games.index(game)] = replace(game, necessary_from=_ends(series_games[k - 1]))
            winner = high if wins[high.tricode] == 4 else low
            winners.append((winner, over))
        if len(winners) == 1:
            break
        series = [
            (winners[i][0], winners[i + 1][0], max(winners[i][1], winners[i + 1][1]))
            for i in range(0, len(winners), 2)
        ]
        start += timedelta(days=15)
    return games


# -- publication ---------------------------------------------------------------------------------


def _with_box_score_lag(seed: int, game: ScheduledGame) -> ScheduledGame:
    rng = random.Random(f"{seed}:{game.nba_id}:box-lag")
    lag = tuple((source, rng.randint(0, BOX_SCORE_LAG_MAX_MINUTES)) for source in ("bdl", "nbac"))
    return replace(game, box_score_lag=lag)


def shape_season(seed: int, season: Season) -> Season:
    """Turn a generated regular season into a full one, in place (see the module docstring)."""
    _shape_regular(seed, season)
    opening = season.first_day
    specials = _preseason(seed, season, opening)
    specials += _cup_knockout(seed, season)
    all_star, rosters = _all_star(seed, season)
    specials += all_star
    specials += _postseason(seed, season, specials)
    season.games[:] = [_with_box_score_lag(seed, g) for g in season.games]
    season.specials = [_with_box_score_lag(seed, g) for g in specials]
    season.extra_rosters = rosters
    season.reindex()
    return season
