"""Special days of a real season, ingested through the real assets from the full-season
simulator (``SimConfig(full_season=True)``) over HTTP: All-Star weekend between teams that are
none of the 30 franchises, preseason against an overseas club, neutral sites, NBA Cup knockout
days, "if necessary" playoff games listed then dropped, a postponed game made up under the same
id. Each must parse and ingest without an error, and the games table must tell the truth."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa

from nba_notify.lib.db.tables.ingest import games, scrape_events
from nba_notify.sim.app import SimConfig
from nba_notify.sim.league import EASTERN, League, ScheduledGame
from nba_notify.sim.server import SimServer

SEASON = 2025
SEED = SimConfig().seed
SCHEDULE = "/nbac/static/json/staticData/scheduleLeagueV2.json"


@pytest.fixture(scope="module")
def season():
    return League(SEED, full_season=True).season(SEASON)


@pytest.fixture(scope="module")
def full_season_sim() -> Iterator[SimServer]:
    with SimServer(SimConfig(full_season=True)) as server:
        yield server


@pytest.fixture
def sim(full_season_sim: SimServer) -> SimServer:
    """Overrides the session simulator for this module: the full-season one, reset."""
    full_season_sim.control.reset()
    return full_season_sim


def day_of(game: ScheduledGame) -> date:
    return game.tipoff_utc.astimezone(EASTERN).date()


def rows(db, *where) -> list:
    with db.connect() as conn:
        return conn.execute(sa.select(games).where(*where)).all()


def ingest(sim, materialize_day, day: date, at: datetime):
    sim.control.set_clock(at)
    result = materialize_day(day.isoformat())
    assert result.success, [e.message for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    return result


def no_failed_scrapes(db) -> None:
    with db.connect() as conn:
        failed = conn.execute(
            sa.select(scrape_events.c.scraper_name, scrape_events.c.error_message).where(
                scrape_events.c.status == "failed"
            )
        ).all()
    assert failed == []


def test_all_star_weekend_with_non_nba_teams_ingests_and_keeps_no_exhibition_game(
    db, sim, season, materialize_day
):
    all_star = [g for g in season.specials if g.kind == "all_star"]
    assert {g.nba_id[:3] for g in all_star} == {"003"}
    assert not {t for g in all_star for t in (g.home.tricode, g.away.tricode)} & set(season.rosters)
    for game in all_star:
        ingest(sim, materialize_day, day_of(game), game.tipoff_utc + timedelta(hours=6))
        # the NBA.com schedule the product read carries the exhibition teams, in the real shape
        listed = {
            g["gameId"]: g
            for d in httpx.get(sim.url + SCHEDULE).json()["leagueSchedule"]["gameDates"]
            for g in d["games"]
        }
        assert listed[game.nba_id]["homeTeam"]["teamTricode"] == game.home.tricode
        assert rows(db, games.c.game_date == day_of(game)) == [], "All-Star games are not the league's games"
    no_failed_scrapes(db)


def test_preseason_day_with_an_overseas_club_ingests_and_keeps_no_preseason_game(
    db, sim, season, materialize_day
):
    club_game = next(
        g for g in season.specials if g.kind == "preseason" and g.away.tricode not in season.rosters
    )
    abroad = next(g for g in season.specials if g.kind == "preseason" and g.venue is not None)
    for game in (club_game, abroad):
        ingest(sim, materialize_day, day_of(game), game.tipoff_utc + timedelta(hours=5))
        assert rows(db, games.c.game_date == day_of(game)) == []
    no_failed_scrapes(db)


def test_neutral_site_and_cup_knockout_games_are_ordinary_games_in_both_sources(
    db, sim, season, materialize_day
):
    neutral = [
        g
        for g in season.all_games
        if g.venue is not None and g.kind in ("regular", "cup_knockout", "cup_final")
    ]
    cities = {g.venue.arena_city for g in neutral}
    assert {"Mexico City", "Paris", "Las Vegas"} <= cities
    final = next(g for g in neutral if g.kind == "cup_final")
    assert final.nba_id.startswith("006")
    for game in (*[g for g in neutral if g.kind == "regular"], final):
        ingest(sim, materialize_day, day_of(game), game.tipoff_utc + timedelta(hours=6))
        (row,) = rows(db, games.c.game_id == game.nba_id)
        assert (row.home_team, row.away_team, row.status) == (game.home.tricode, game.away.tricode, "final")
        assert (row.home_score, row.away_score) == (game.home_score, game.away_score)
        assert row.in_bdl and row.in_nbac and row.listed
    no_failed_scrapes(db)


def test_if_necessary_game_is_listed_then_dropped_when_the_series_ends_early(
    db, sim, season, materialize_day
):
    dropped = next(g for g in season.specials if g.kind == "playoffs" and g.listed_until is not None)
    assert dropped.if_necessary
    day = day_of(dropped)
    # listed while the series is on: a scheduled game like any other
    ingest(sim, materialize_day, day, dropped.listed_until - timedelta(hours=1))
    (row,) = rows(db, games.c.game_id == dropped.nba_id)
    assert (row.status, row.listed) == ("scheduled", True)
    # the series ended: both sources drop it; the row stays, no longer listed (nothing deleted)
    ingest(sim, materialize_day, day, dropped.listed_until + timedelta(hours=1))
    (row,) = rows(db, games.c.game_id == dropped.nba_id)
    assert row.listed is False
    no_failed_scrapes(db)


def test_postponed_game_made_up_weeks_later_keeps_its_game_id(db, sim, season, materialize_day):
    game = next(g for g in season.games if g.postponed_at is not None)
    original, make_up = day_of(game), game.makeup_tipoff.astimezone(EASTERN).date()
    assert (make_up - original).days >= 14
    ingest(sim, materialize_day, original, game.postponed_at + timedelta(minutes=5))
    (row,) = rows(db, games.c.game_id == game.nba_id)
    assert (row.game_date, row.status) == (original, "postponed")
    announced = game.makeup_announced_at + timedelta(hours=1)
    ingest(sim, materialize_day, original, announced)
    ingest(sim, materialize_day, make_up, announced)
    (row,) = rows(db, games.c.game_id == game.nba_id)
    assert (row.game_date, row.status, row.tipoff_utc) == (make_up, "scheduled", game.makeup_tipoff)
    assert row.in_bdl and row.in_nbac and row.bdl_game_id == game.bdl_id
    ingest(sim, materialize_day, make_up, game.makeup_tipoff + timedelta(hours=6))
    (row,) = rows(db, games.c.game_id == game.nba_id)
    assert (row.game_date, row.status, row.home_score) == (make_up, "final", game.home_score)
    assert len(rows(db, games.c.bdl_game_id == game.bdl_id)) == 1
    no_failed_scrapes(db)


def test_box_scores_are_published_within_three_hours_of_the_final(sim, season) -> None:
    game = next(
        g
        for g in season.games
        if g.box_score_lag and not g.box_score_never and dict(g.box_score_lag)["nbac"] > 30
    )
    state = sim.sim.league.game(game.nba_id, game.tipoff_utc + timedelta(days=1))
    lag = timedelta(minutes=dict(game.box_score_lag)["nbac"])
    url = f"/nbac/static/json/liveData/boxscore/boxscore_{game.nba_id}.json"
    sim.control.set_clock(state.ends_at + lag - timedelta(minutes=1))
    assert httpx.get(sim.url + url).status_code == 403
    sim.control.set_clock(state.ends_at + lag)
    assert httpx.get(sim.url + url).json()["game"]["gameStatus"] == 3
    never = next(g for g in season.games if g.box_score_never)
    sim.control.set_clock(datetime(2026, 7, 1, tzinfo=UTC))
    assert (
        httpx.get(sim.url + f"/nbac/static/json/liveData/boxscore/boxscore_{never.nba_id}.json").status_code
        == 403
    )
