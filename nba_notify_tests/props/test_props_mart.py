"""The mart the platform exists for, on three simulated game days: every closing prop line of a
final game graded against the NBA.com box score, and per player and market the over/under hit
rates overall and over the last 10 games — with the model checks passing."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from nba_notify.lib.quality.audit import build_models
from nba_notify.lib.sqlmodels import load_project, run_check
from nba_notify_tests.props.conftest import PROPS_ASSETS, ingest_once, make_resources, run_assets

FIRST, LAST = "2026-11-20", "2026-11-22"
STAT = {"player_points": "points", "player_rebounds": "rebounds", "player_assists": "assists"}


@pytest.fixture(scope="module")
def graded(engine, sim_server):
    """Three final game days ingested, their props backfilled from the historical snapshots, the
    marts built — once for the module (the tests only read, the last one excepted)."""
    ingest_once(engine, sim_server, (FIRST, LAST))
    budget = {"daily_credit_budget": 10_000}  # a backfill: 30 credits per game (historical)
    props = [PROPS_ASSETS[0], PROPS_ASSETS[2]]
    assert run_assets(make_resources(sim_server.url), FIRST, props, last_day=LAST, odds_api=budget).success
    project = load_project()
    build_models(engine, project, ["player_prop_hit_rates"])
    return project


@pytest.fixture
def db(engine):
    return engine


def query(db, project, sql: str) -> list[sa.Row]:
    with db.connect() as conn:
        return conn.execute(sa.text(sql.format(schema=project.schema))).all()


def test_every_graded_line_agrees_with_the_box_score(db, graded):
    results = query(
        db,
        graded,
        """SELECT r.market, r.closing_line, r.actual, r.result, b.points, b.rebounds, b.assists
           FROM {schema}.player_prop_results AS r
           JOIN player_box_scores AS b ON b.game_id = r.game_id AND b.player_id = r.player_id AND b.source = 'nbac'""",
    )
    assert len(results) > 500
    for row in results:
        assert row.actual == getattr(row, STAT[row.market])
        expected = (
            "over" if row.actual > row.closing_line else "under" if row.actual < row.closing_line else "push"
        )
        assert row.result == expected
    assert {r.market for r in results} == set(STAT)
    overs = sum(r.result == "over" for r in results) / len(results)
    assert 0.3 < overs < 0.7  # lines are set around what happens: neither side wins every time


def test_hit_rates_per_player_and_market_add_up_and_follow_the_last_ten_games(db, graded):
    rates = query(db, graded, "SELECT * FROM {schema}.player_prop_hit_rates")
    assert rates
    for r in rates:
        assert r.overs + r.unders + r.pushes == r.games
        assert r.over_rate == round(Decimal(r.overs) / r.games, 3)
        assert r.last_10_games == min(r.games, 10)
    busiest = max(rates, key=lambda r: r.games)
    history = query(
        db,
        graded,
        f"""SELECT result, game_date FROM {{schema}}.player_prop_results
            WHERE player_id = '{busiest.player_id}' AND market = '{busiest.market}' ORDER BY game_date""",
    )
    window = [h.result for h in history][-10:]
    assert busiest.over_rate_last_10 == round(Decimal(window.count("over")) / len(window), 3)
    assert busiest.last_game_date == history[-1].game_date


def test_the_marts_checks_pass_on_real_data(db, graded):
    for name in ("player_prop_results_one_per_game", "player_prop_hit_rates_consistent"):
        outcome = run_check(db, graded.checks[name])
        assert outcome.passed, (name, outcome.sample_rows)


def test_unproven_players_are_left_out_of_the_mart_not_guessed(db, graded):
    with db.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE player_props SET player_id = NULL, player_match = 'unmapped' WHERE market = 'player_assists'"
            )
        )
    build_models(db, graded, ["player_prop_hit_rates"])
    markets = {
        r.market for r in query(db, graded, "SELECT DISTINCT market FROM {schema}.player_prop_results")
    }
    assert markets == {"player_points", "player_rebounds"}
