"""The simulated league: a realistic, deterministic season and game state driven by the clock."""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest

from nba_notify.lib.teams import TEAMS, team_by_bdl_id, team_by_nba_id, team_by_tricode
from nba_notify.sim.league import (
    CANCELLED,
    EASTERN,
    FINAL,
    LIVE,
    POSTPONED,
    SCHEDULED,
    League,
    all_star_break,
    generate_rosters,
    generate_season,
    season_year_for,
)

SEASONS = (2025, 2026)
ET_SLOTS = {"12:00", "13:00", "14:30", "15:00", "15:30", "17:00", "18:00", "19:00", "19:30", "20:00",
            "20:30", "21:00", "22:00", "22:30"}  # fmt: skip
FAR_FUTURE = datetime(2030, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def league() -> League:
    return League(seed=2026)


def test_teams_table_matches_both_sources_ids() -> None:
    assert len(TEAMS) == 30
    assert team_by_tricode("bkn").nba_id == 1610612751
    assert team_by_nba_id(1610612747).tricode == "LAL"
    assert team_by_bdl_id(13).full_name == "LA Clippers"
    assert [t.tricode for t in sorted(TEAMS, key=lambda t: t.bdl_id)][:5] == [
        "ATL",
        "BOS",
        "BKN",
        "CHA",
        "CHI",
    ]
    assert Counter(t.conference for t in TEAMS) == {"East": 15, "West": 15}


@pytest.mark.parametrize("year", SEASONS)
def test_season_has_1230_games_82_per_team_half_at_home(league: League, year: int) -> None:
    games = league.season(year).games
    assert len(games) == 1230
    played, hosted = Counter(), Counter()
    for game in games:
        played.update((game.home.tricode, game.away.tricode))
        hosted[game.home.tricode] += 1
        assert game.home != game.away
    assert set(played.values()) == {82}
    assert set(hosted.values()) == {41}


@pytest.mark.parametrize("year", SEASONS)
def test_no_team_plays_twice_on_one_day(league: League, year: int) -> None:
    seen: dict[str, set[date]] = defaultdict(set)
    for game in league.season(year).games:
        day = game.tipoff_utc.astimezone(EASTERN).date()
        for team in (game.home.tricode, game.away.tricode):
            assert day not in seen[team], f"{team} twice on {day}"
            seen[team].add(day)


@pytest.mark.parametrize("year", SEASONS)
def test_season_runs_late_october_to_mid_april_with_empty_all_star_break(league: League, year: int) -> None:
    season = league.season(year)
    assert date(year, 10, 19) <= season.first_day <= date(year, 10, 25)
    assert date(year + 1, 4, 8) <= season.last_day <= date(year + 1, 4, 15)
    break_days = all_star_break(year)
    assert len(break_days) >= 5 and all(d.month == 2 for d in break_days)
    assert all((b - a).days == 1 for a, b in zip(break_days, break_days[1:], strict=False))
    assert not any(season.by_date.get(d) for d in break_days)
    assert not season.by_date.get(date(year, 12, 24)), "Christmas Eve is dark"
    thanksgiving = max(
        d for d in (date(year, 11, 22) + timedelta(days=i) for i in range(7)) if d.weekday() == 3
    )
    assert not season.by_date.get(thanksgiving)
    assert len(season.by_date[date(year, 12, 25)]) == 5


@pytest.mark.parametrize("year", SEASONS)
def test_daily_slates_hold_1_to_15_games_sharing_tipoff_slots(league: League, year: int) -> None:
    season = league.season(year)
    sizes = [len(games) for games in season.by_date.values()]
    assert min(sizes) >= 1 and max(sizes) <= 15
    assert len(set(sizes)) >= 8, "slates vary from light to heavy nights"
    shared = 0
    for games in season.by_date.values():
        slots = Counter(g.tipoff_utc.astimezone(EASTERN).strftime("%H:%M") for g in games)
        assert set(slots) <= ET_SLOTS
        shared += any(n >= 2 for n in slots.values())
    assert shared / len(season.by_date) > 0.8


def test_tipoffs_are_eastern_wall_clock_converted_to_utc_across_dst(league: League) -> None:
    for game in league.season(2026).games:
        eastern = game.tipoff_utc.astimezone(EASTERN)
        offset = -4 if eastern.dst() else -5
        assert game.tipoff_utc.utcoffset() == timedelta(0)
        assert (eastern.replace(tzinfo=None) - game.tipoff_utc.replace(tzinfo=None)) == timedelta(
            hours=offset
        )
    october = [
        g for g in league.season(2026).games if g.tipoff_utc.astimezone(EASTERN).date() < date(2026, 11, 1)
    ]
    december = [g for g in league.season(2026).games if g.tipoff_utc.astimezone(EASTERN).month == 12]
    seven_pm = lambda g: g.tipoff_utc.astimezone(EASTERN).strftime("%H:%M") == "19:00"  # noqa: E731
    assert {g.tipoff_utc.strftime("%H:%M") for g in october if seven_pm(g)} == {"23:00"}  # EDT
    assert {g.tipoff_utc.strftime("%H:%M") for g in december if seven_pm(g)} == {"00:00"}  # EST


def test_ids_and_game_codes_have_the_sources_formats(league: League) -> None:
    games = league.season(2026).games
    assert games[0].nba_id == "0022600001" and games[-1].nba_id == "0022601230"
    assert len({g.nba_id for g in games}) == len({g.bdl_id for g in games}) == 1230
    assert all(10_000_000 <= g.bdl_id < 100_000_000 for g in games)
    assert {g.bdl_id for g in games}.isdisjoint({g.bdl_id for g in league.season(2025).games})
    state = league.game(games[0].nba_id, FAR_FUTURE)
    assert re.fullmatch(r"\d{8}/[A-Z]{6}", state.game_code)
    assert state.game_code.endswith(state.away.tricode + state.home.tricode)
    assert league.game(games[0].bdl_id, FAR_FUTURE).nba_id == games[0].nba_id
    assert league.game("0022609999", FAR_FUTURE) is None


def test_rosters_have_13_to_15_players_with_distinct_ids() -> None:
    rosters = generate_rosters(2026)
    players = [p for roster in rosters.values() for p in roster]
    assert set(rosters) == {t.tricode for t in TEAMS}
    assert all(13 <= len(roster) <= 15 for roster in rosters.values())
    assert len({p.nba_id for p in players}) == len({p.bdl_id for p in players}) == len(players)
    assert len({p.name for p in players}) == len(players)
    assert all(1_000_000 <= p.nba_id < 10_000_000 for p in players)
    assert {p.nba_id for p in players}.isdisjoint({p.bdl_id for p in players})


def test_same_seed_same_season_other_seed_differs() -> None:
    rosters = generate_rosters(7)
    first, again = generate_season(7, 2026, rosters), generate_season(7, 2026, rosters)
    other = generate_season(8, 2026, generate_rosters(8))

    def key(season):  # everything a source shows of the season
        return [
            (g.nba_id, g.bdl_id, g.home.tricode, g.away.tricode, g.tipoff_utc, g.home_periods)
            for g in season.games
        ]

    assert key(first) == key(again)
    assert key(first) != key(other)


def test_season_generation_speed_is_reported() -> None:
    started = time.perf_counter()
    generate_season(11, 2026, generate_rosters(11))
    print(f"\nseason generation: {time.perf_counter() - started:.3f}s")


def test_game_goes_from_scheduled_to_live_to_final_with_the_clock(league: League) -> None:
    game = league.season(2026).by_date[date(2026, 11, 24)][0]
    tip = game.tipoff_utc
    before = league.game(game.nba_id, tip - timedelta(minutes=1))
    assert (before.status, before.period, before.home_score, before.away_score) == (SCHEDULED, 0, 0, 0)
    first = league.game(game.nba_id, tip + timedelta(minutes=10))
    later = league.game(game.nba_id, tip + timedelta(minutes=110))
    assert (first.status, first.period) == (LIVE, 1) and 0 < first.clock_seconds < 720
    assert later.status == LIVE and later.period == 4
    assert first.home_score + first.away_score < later.home_score + later.away_score
    half = league.game(game.nba_id, tip + timedelta(minutes=65))
    assert half.halftime and half.period == 2
    final = league.game(game.nba_id, tip + timedelta(hours=2, minutes=16 + 15 * game.overtimes))
    assert final.status == FINAL
    assert (final.home_score, final.away_score) == (game.home_score, game.away_score)
    assert league.game(game.nba_id, tip + timedelta(hours=2, minutes=14)).status == LIVE


def test_final_scores_are_plausible_never_tied_and_overtime_follows_a_tie(league: League) -> None:
    games = league.season(2025).games
    for game in games:
        assert game.home_score != game.away_score
        assert 85 <= min(game.home_score, game.away_score) and max(game.home_score, game.away_score) <= 170
        if game.overtimes:
            assert sum(game.home_periods[:4]) == sum(game.away_periods[:4])
    overtime_share = sum(1 for g in games if g.overtimes) / len(games)
    assert 0.02 < overtime_share < 0.12


def test_box_scores_add_up_to_team_scores_and_minutes(league: League) -> None:
    for game in league.season(2025).games[::37]:
        box = league.box_score(game.nba_id, FAR_FUTURE)
        for team_box, score in ((box.home, game.home_score), (box.away, game.away_score)):
            assert sum(line.pts for line in team_box.lines) == team_box.score == score
            assert 9 <= len(team_box.played) <= 13
            assert sum(line.seconds for line in team_box.lines) == (240 + 25 * game.overtimes) * 60
            assert 30 <= sum(line.reb for line in team_box.lines) <= 70
            assert 10 <= sum(line.ast for line in team_box.lines) <= 45
            for line in team_box.lines:
                assert line.pts == 2 * (line.fgm - line.fg3m) + 3 * line.fg3m + line.ftm
                assert line.fga >= line.fgm and line.fg3a >= line.fg3m and line.fta >= line.ftm


def test_live_box_score_matches_the_partial_score(league: League) -> None:
    game = league.season(2026).by_date[date(2026, 11, 24)][2]
    for minutes in (5, 40, 100):
        now = game.tipoff_utc + timedelta(minutes=minutes)
        state = league.game(game.nba_id, now)
        box = league.box_score(game.nba_id, now)
        assert state.status == LIVE
        assert sum(line.pts for line in box.home.lines) == box.home.score == state.home_score
        assert sum(line.pts for line in box.away.lines) == box.away.score == state.away_score
        assert sum(line.seconds for line in box.home.lines) <= 240 * 60 * minutes / 100
    assert league.box_score(game.nba_id, game.tipoff_utc - timedelta(seconds=1)) is None


def test_override_moves_postpones_and_resets(league: League) -> None:
    private = League(seed=2026)
    game = private.season(2026).by_date[date(2026, 11, 24)][0]
    now = datetime(2026, 11, 24, 15, tzinfo=UTC)
    new_tip = datetime(2026, 11, 26, 0, 30, tzinfo=UTC)  # Nov 25, 7:30 pm ET
    private.override(game.nba_id, tipoff_utc=new_tip)
    assert game.nba_id not in {s.nba_id for s in private.games_on(date(2026, 11, 24), now)}
    moved = [s for s in private.games_on(date(2026, 11, 25), now) if s.nba_id == game.nba_id]
    assert moved and moved[0].moved and moved[0].tipoff_utc == new_tip
    private.override(game.bdl_id, status=POSTPONED)
    assert private.game(game.nba_id, FAR_FUTURE).status == POSTPONED
    assert private.box_score(game.nba_id, FAR_FUTURE) is None
    private.override(game.nba_id, status=CANCELLED)
    assert private.game(game.nba_id, now).status == CANCELLED
    private.reset()
    restored = private.game(game.nba_id, now)
    assert (restored.status, restored.tipoff_utc, restored.moved) == (SCHEDULED, game.tipoff_utc, False)
    with pytest.raises(ValueError):
        private.override(game.nba_id, status="final")


def test_current_season_follows_the_eastern_date() -> None:
    assert season_year_for(date(2026, 11, 24)) == 2026
    assert season_year_for(date(2026, 4, 30)) == 2025
    assert season_year_for(date(2026, 8, 1)) == 2026  # between seasons: the upcoming one
    league = League(seed=1)
    assert league.current_season_year(datetime(2026, 7, 1, 3, tzinfo=UTC)) == 2025  # still June 30 in ET


# -- a season as the league runs it (SimConfig.full_season) ------------------------------------


@pytest.fixture(scope="module")
def full_league() -> League:
    return League(seed=2026, full_season=True)


def test_full_season_keeps_every_regular_game_and_adds_the_special_ones(
    league: League, full_league: League
) -> None:
    plain, full = league.season(2026), full_league.season(2026)
    assert [(g.nba_id, g.bdl_id, g.home, g.away, g.tipoff_utc) for g in full.games] == [
        (g.nba_id, g.bdl_id, g.home, g.away, g.tipoff_utc) for g in plain.games
    ]
    kinds = Counter(g.kind for g in full.specials)
    assert kinds["preseason"] >= 30 and kinds["play_in"] == 6 and kinds["all_star"] == 2
    assert kinds["cup_knockout"] == 6 and kinds["cup_final"] == 1 and 4 * 15 <= kinds["playoffs"] <= 7 * 15
    prefix = {"preseason": "001", "all_star": "003", "playoffs": "004", "play_in": "005", "cup_final": "006"}
    assert all(g.nba_id.startswith(prefix.get(g.kind, "002")) for g in full.specials)
    ids = [g.nba_id for g in full.all_games]
    assert len(ids) == len(set(ids)) and len({g.bdl_id for g in full.all_games}) == len(ids)
    assert all(full_league.scheduled_game(g.nba_id) is g for g in full.specials[::7])
    assert all(full_league.scheduled_game(g.bdl_id) is g for g in full.specials[::7])
    again = League(seed=2026, full_season=True).season(2026)
    assert [(g.nba_id, g.tipoff_utc, g.home_periods, g.listed_until) for g in again.specials] == [
        (g.nba_id, g.tipoff_utc, g.home_periods, g.listed_until) for g in full.specials
    ]


def test_full_season_never_has_a_team_twice_on_one_day(full_league: League) -> None:
    season = full_league.season(2025)
    seen: dict[str, set[date]] = defaultdict(set)
    for game in season.all_games:
        if game.listed_until is not None:
            continue  # an if-necessary game never played
        state = full_league.game(game.nba_id, FAR_FUTURE)
        for team in (game.home.tricode, game.away.tricode):
            assert state.game_date not in seen[team], f"{team} twice on {state.game_date}"
            seen[team].add(state.game_date)


def test_playoff_series_end_at_four_wins_and_drop_their_if_necessary_games(full_league: League) -> None:
    season = full_league.season(2025)
    series: dict[str, list] = defaultdict(list)
    for game in season.specials:
        if game.kind == "playoffs":
            series[game.nba_id[:9]].append(game)
    assert len(series) == 15
    for games in series.values():
        played = [g for g in games if g.listed_until is None]
        winners = Counter(g.home.tricode if g.home_score > g.away_score else g.away.tricode for g in played)
        assert max(winners.values()) == 4 and 4 <= len(played) <= 7
        decided_at = max(g.tipoff_utc for g in played)
        for dropped in (g for g in games if g.listed_until is not None):
            assert dropped.if_necessary and dropped.tipoff_utc > decided_at
            assert dropped.listed_at(dropped.listed_until - timedelta(seconds=1))
            assert not dropped.listed_at(dropped.listed_until)


def test_a_postponed_game_is_made_up_later_under_the_same_ids(full_league: League) -> None:
    game = next(g for g in full_league.season(2025).games if g.postponed_at is not None)
    original = game.tipoff_utc.astimezone(EASTERN).date()
    assert full_league.game(game.nba_id, game.postponed_at - timedelta(minutes=1)).status == SCHEDULED
    postponed = full_league.game(game.nba_id, game.postponed_at)
    assert (postponed.status, postponed.game_date) == (POSTPONED, original)
    made_up = full_league.game(game.bdl_id, game.makeup_announced_at)
    assert (made_up.status, made_up.tipoff_utc, made_up.nba_id) == (
        SCHEDULED,
        game.makeup_tipoff,
        game.nba_id,
    )
    assert made_up.nba_id in {
        s.nba_id for s in full_league.games_on(made_up.game_date, game.makeup_announced_at)
    }
    assert made_up.nba_id not in {s.nba_id for s in full_league.games_on(original, game.makeup_announced_at)}
    assert full_league.game(game.nba_id, FAR_FUTURE).status == FINAL
