"""Props and lines assets on a real PostgreSQL against the simulator over HTTP: a past day from
the historical snapshots with every event and player proven, line movement kept as history,
the credit budget stopping a run before it calls, and each identity and discrepancy check
firing on the data problem it exists for (and passing on clean data)."""

from __future__ import annotations

from datetime import date, datetime

import httpx
import pytest
import sqlalchemy as sa

from nba_notify.defs.props import assets as props_assets
from nba_notify.defs.props import checks as props_checks
from nba_notify.lib.db.tables.ingest import (
    player_box_scores,
    processor_run_history,
    raw_payloads,
    scrape_events,
)
from nba_notify.lib.db.tables.props import game_lines, odds_api_usage, player_props, prop_events
from nba_notify_tests.props.conftest import INGEST_ASSETS, PROPS_ASSETS, clear_props, ingest_once

PAST = "2026-11-22"  # every game final at the simulator's clock (2026-11-24 15:00 UTC)
TONIGHT = "2026-11-24"
CHECKS = [
    props_checks.prop_events_unambiguous,
    props_checks.props_for_games_not_on_schedule,
    props_checks.prop_players_proven,
    props_checks.books_agree_on_props,
    props_checks.lines_for_games_not_on_schedule,
    props_checks.no_lines_for_postponed_games,
]


@pytest.fixture(scope="module")
def ingested(engine, sim_server):
    ingest_once(engine, sim_server, (PAST, TONIGHT))
    return engine


@pytest.fixture
def db(ingested, sim):
    """The module's ingested league, props tables cleared, the simulator reset (``sim``)."""
    clear_props(ingested)
    return ingested


def rows(db, statement):
    with db.connect() as conn:
        return conn.execute(statement).all()


def scalar(db, statement):
    with db.connect() as conn:
        return conn.execute(statement).scalar_one()


def checks_of(result) -> dict[str, bool]:
    return {e.check_name: e.passed for e in result.get_asset_check_evaluations()}


def sim_odds(sim, **changes) -> dict:
    return httpx.post(sim.url + "/_sim/odds-api/state", json=changes).json()


def test_a_past_day_is_backfilled_from_historical_snapshots_with_every_event_and_player_proven(
    db, sim, materialize
):
    result = materialize(PAST, PROPS_ASSETS + CHECKS)
    assert result.success
    assert all(checks_of(result).values()), checks_of(result)
    truth = sim.control.truth_games(date.fromisoformat(PAST))
    events = rows(db, sa.select(prop_events.c.game_id, prop_events.c.identity))
    assert sorted(e.game_id for e in events) == sorted(g["nba_game_id"] for g in truth)
    assert {e.identity for e in events} == {"mapped"}
    matches = dict(
        rows(
            db, sa.select(player_props.c.player_match, sa.func.count()).group_by(player_props.c.player_match)
        )
    )
    assert set(matches) == {"box_score"} and matches["box_score"] > 0
    # counts are what was written
    written = dict(
        rows(db, sa.select(processor_run_history.c.processor_name, processor_run_history.c.records_processed))
    )
    assert written["player_props"] == scalar(db, sa.select(sa.func.count()).select_from(player_props))
    assert written["game_lines"] == scalar(db, sa.select(sa.func.count()).select_from(game_lines))
    # every answer kept raw, every credit on record and equal to what the API counted
    assert (
        scalar(
            db,
            sa.select(sa.func.count()).select_from(raw_payloads).where(raw_payloads.c.source == "odds_api"),
        )
        == len(truth) + 2
    )
    spent = scalar(db, sa.select(sa.func.sum(odds_api_usage.c.requests_last)))
    assert spent == sim_odds(sim)["used"] == 1 + 30 * len(truth) + 30
    assert "apiKey" not in str(rows(db, sa.select(raw_payloads.c.params)))


def test_line_movement_is_history_and_reprocessing_does_not_duplicate_it(db, sim, materialize):
    props = [PROPS_ASSETS[0], PROPS_ASSETS[2]]
    assert materialize(TONIGHT, props).success
    first = scalar(db, sa.select(sa.func.count()).select_from(player_props))
    sim.control.set_clock(datetime.fromisoformat("2026-11-24T23:30:00+00:00"))  # after the lines moved
    assert materialize(TONIGHT, props).success
    observed = rows(
        db,
        sa.select(player_props.c.book, player_props.c.market, player_props.c.player_name, sa.func.count())
        .group_by(player_props.c.book, player_props.c.market, player_props.c.player_name)
        .having(sa.func.count() > 1),
    )
    assert observed, "a moved line is a second observation, not an overwrite"
    total = scalar(db, sa.select(sa.func.count()).select_from(player_props))
    assert first < total <= 2 * first
    # the opening quotes are still there
    opening = scalar(db, sa.select(sa.func.min(player_props.c.observed_at)))
    assert opening < datetime.fromisoformat("2026-11-24T17:00:00+00:00")
    assert materialize(TONIGHT, [PROPS_ASSETS[2]]).success  # phase 2 again, from the raw store
    assert scalar(db, sa.select(sa.func.count()).select_from(player_props)) == total


def test_a_run_over_the_daily_credit_budget_stops_before_calling_with_the_reason(db, sim, materialize):
    result = materialize(PAST, [PROPS_ASSETS[0]], odds_api={"daily_credit_budget": 20})
    assert not result.success
    counts = sim.control.state()["request_counts"]
    assert counts.get("odds_api.historical_events") == 1 and "odds_api.historical_event_odds" not in counts
    [event] = rows(db, sa.select(scrape_events).where(scrape_events.c.scraper_name == "odds_api_props"))
    assert (event.status, event.error_category) == ("failed", "RATE_LIMIT")
    details = event.error_details["error"]["details"]
    assert details["reason"] == "daily_credit_budget" and details["planned"] > 20 - details["spent_today"]
    assert "nothing was called" in event.error_message


def test_identity_checks_fail_on_an_event_off_the_schedule_and_a_name_no_box_score_carries(
    db, sim, materialize
):
    [game] = sim.control.truth_games(date.fromisoformat(PAST))[:1]
    # the game's leading scorer: surely in the books' rotation
    real_name = scalar(
        db,
        sa.select(player_box_scores.c.player_name)
        .where(player_box_scores.c.game_id == game["nba_game_id"], player_box_scores.c.source == "nbac")
        .order_by(player_box_scores.c.points.desc())
        .limit(1),
    )
    sim_odds(
        sim,
        renamed_players={real_name: "Somebody Else"},
        extra_events=[
            {
                "id": "feedcafe00000000000000000000beef",
                "commence_time": game["tipoff_utc"].replace("+00:00", "Z"),
                "home_team": "Seattle SuperSonics",
                "away_team": "Boston Celtics",
                "priced_as": game["nba_game_id"],
            }
        ],
    )
    result = materialize(PAST, PROPS_ASSETS + CHECKS)
    outcome = checks_of(result)
    assert outcome["props_for_games_not_on_schedule"] is False
    assert outcome["prop_players_proven"] is False
    assert outcome["prop_events_unambiguous"] and outcome["books_agree_on_props"]
    flagged = rows(
        db,
        sa.select(player_props.c.player_match, player_props.c.player_id).where(
            player_props.c.player_name == "Somebody Else", player_props.c.game_id == game["nba_game_id"]
        ),
    )
    assert flagged and set(flagged) == {("unmapped", None)}  # kept, flagged, never guessed
    off = rows(
        db, sa.select(prop_events).where(prop_events.c.source_event_id == "feedcafe00000000000000000000beef")
    )
    assert off[0].identity == "unmapped" and off[0].game_id is None


def test_books_far_apart_fail_their_own_check(db, sim, materialize):
    sim_odds(sim, book_outlier={"book": "betmgm", "shift": 6.0})
    outcome = checks_of(materialize(PAST, PROPS_ASSETS + CHECKS))
    assert outcome["books_agree_on_props"] is False
    assert outcome["prop_players_proven"] and outcome["props_for_games_not_on_schedule"]


def test_bettingpros_props_arrive_despite_slow_answers_5xx_and_brotli_and_are_proven(db, sim, materialize):
    httpx.post(
        sim.url + "/_sim/bettingpros/state", json={"delay_seconds": 0.05, "error_every": 3}
    ).raise_for_status()
    result = materialize(TONIGHT, [props_assets.bettingpros_props_raw, PROPS_ASSETS[2]])
    assert result.success
    [event] = rows(db, sa.select(scrape_events).where(scrape_events.c.scraper_name == "bettingpros_props"))
    assert event.status == "success" and event.retries > 0 and event.pages_fetched > 3
    found = dict(
        rows(
            db,
            sa.select(player_props.c.player_match, sa.func.count())
            .where(player_props.c.source == "bettingpros")
            .group_by(player_props.c.player_match),
        )
    )
    assert found and set(found) <= {"team_recent", "unmapped"}  # tonight: no box score yet
    assert found.get("team_recent", 0) > 0
    events = rows(db, sa.select(prop_events.c.identity).where(prop_events.c.source == "bettingpros"))
    assert events and {e.identity for e in events} == {"mapped"}


def test_a_book_still_quoting_a_postponed_game_fails_the_lines_check(db, sim, materialize):
    day = "2026-11-25"  # tomorrow: lines are up, props not yet; a day no other test here uses
    [game] = sim.control.truth_games(date.fromisoformat(day))[:1]
    httpx.post(f"{sim.url}/_sim/games/{game['nba_game_id']}", json={"status": "postponed"}).raise_for_status()
    assert materialize(day, INGEST_ASSETS).success  # the league's word reaches games
    outcome = checks_of(materialize(day, [PROPS_ASSETS[1], PROPS_ASSETS[3], *CHECKS[4:]]))
    assert outcome == {"no_lines_for_postponed_games": False, "lines_for_games_not_on_schedule": True}
    postponed = rows(db, sa.select(game_lines.c.book).where(game_lines.c.game_id == game["nba_game_id"]))
    assert postponed  # still quoted by the books, and flagged
