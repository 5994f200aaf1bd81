"""The phase-2 coverage gate (blocking) and the phase-3/4 pre-flight (seed 004 C2): partial
data never reaches the game summary and team form."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import dagster as dg
import sqlalchemy as sa

from nba_notify.defs.quality.checks import phase2_coverage
from nba_notify.defs.resources import PostgresResource
from nba_notify.defs.sql.factory import sql_asset_check, sql_model_asset
from nba_notify.lib.db.tables.ingest import games, processor_run_history
from nba_notify.lib.quality.audit import build_models
from nba_notify.lib.quality.coverage import day_coverage, games_due, load_day_coverage
from nba_notify.lib.quality.discrepancies import BoxScoreDeadline
from nba_notify.lib.sqlmodels import load_project, run_check
from nba_notify_tests.quality.conftest import INGEST_ASSETS

DAY = "2026-11-22"


def test_coverage_is_measured_per_source_against_the_other_sources_box_score():
    coverage = day_coverage(
        date(2026, 11, 22),
        ["g1", "g2"],
        {"bdl": {"g1": 20, "g2": 9}, "nbac": {"g1": 20, "g2": 18}},
    )
    bdl, nbac = coverage.sources
    assert (bdl.processed_games, bdl.expected_players, bdl.processed_players) == (2, 38, 29)
    assert nbac.player_ratio == 1.0 and round(bdl.player_ratio, 3) == 0.763
    assert not coverage.passed() and coverage.passed(threshold=0.75)
    assert [(r.game_id, r.source, r.expected_players, r.processed_players) for r in coverage.shortfall] == [
        ("g2", "bdl", 18, 9)
    ]
    assert day_coverage(date(2026, 11, 22), [], {}).passed()  # no final game yet: nothing expected


def downstream_run(run_pipeline, project):
    """Phase 2 with its gate, then the SQL models built on it, in one run."""
    sql_assets = [
        sql_model_asset(project, project.models[n]) for n in ("stg_player_box_scores", "game_summary")
    ]
    return run_pipeline(DAY, assets=[*INGEST_ASSETS, phase2_coverage, *sql_assets])


def built(result) -> set[str]:
    return {m.asset_key.to_user_string() for m in result.get_asset_materialization_events()}


def test_the_gate_blocks_phase_3_below_90_percent_and_lets_it_run_above(db, sim, run_pipeline):
    project = load_project()
    build_models(db, project, ["stg_games", "stg_phase2_coverage"])
    sim.control.add_fault("drop_players", "bdl.box_scores", params={"date": DAY, "count": 2, "fraction": 0.5})

    blocked = downstream_run(run_pipeline, project)

    [gate] = [e for e in blocked.get_asset_check_evaluations() if e.check_name == "phase2_coverage"]
    assert not gate.passed and gate.metadata["bdl_player_coverage"].value < 0.9
    assert "expected_players" in gate.metadata["shortfall"].value
    assert "player_box_scores" in built(blocked)
    assert {"stg_player_box_scores", "game_summary"}.isdisjoint(built(blocked))

    sim.control.clear_faults()
    allowed = downstream_run(run_pipeline, project)

    [gate] = [e for e in allowed.get_asset_check_evaluations() if e.check_name == "phase2_coverage"]
    assert gate.passed and gate.metadata["lowest_coverage"].value == 1.0
    assert {"stg_player_box_scores", "game_summary"} <= built(allowed)
    with db.connect() as conn:
        finals = conn.execute(
            sa.select(sa.func.count()).select_from(games).where(games.c.status == "final")
        ).scalar_one()
        summarized = conn.execute(
            sa.text("SELECT count(*) FROM analytics.game_summary WHERE game_date = :d"), {"d": DAY}
        ).scalar_one()
    assert summarized == finals > 0


def test_the_sql_view_and_the_gate_agree_on_coverage(db, sim, run_pipeline):
    sim.control.add_fault("drop_players", "nbac.boxscore", params={"date": DAY, "count": 3, "fraction": 0.6})
    run_pipeline(DAY, assets=INGEST_ASSETS)
    build_models(db, load_project(), ["stg_phase2_coverage"])
    with db.connect() as conn:
        python = load_day_coverage(conn, date.fromisoformat(DAY))
        sql = conn.execute(
            sa.text("SELECT * FROM analytics.stg_phase2_coverage WHERE game_date = :d"), {"d": DAY}
        ).one()
    bdl, nbac = python.sources
    assert (sql.expected_games, sql.bdl_games, sql.nbac_games) == (
        bdl.expected_games,
        bdl.processed_games,
        nbac.processed_games,
    )
    assert (sql.expected_players, sql.bdl_players, sql.nbac_players) == (
        bdl.expected_players,
        bdl.processed_players,
        nbac.processed_players,
    )
    assert sql.coverage_ok == python.passed() is False
    assert round(sql.lowest_coverage, 6) == round(python.lowest_ratio, 6)


def test_the_preflight_stops_phase_3_while_a_days_box_scores_failed_to_process(
    db, database_url, run_pipeline
):
    run_pipeline(DAY, assets=INGEST_ASSETS)
    with db.begin() as conn:  # a later re-processing of the day failed
        conn.execute(
            processor_run_history.insert().values(
                processor_name="player_box_scores",
                data_date=date.fromisoformat(DAY),
                run_id="r",
                status="failed",
                records_processed=0,
                started_at=datetime.now(UTC),
                finished_at=datetime.now(UTC),
                duration_seconds=0.1,
            )
        )
    project = load_project()
    build_models(db, project, ["stg_phase2_coverage", "stg_player_box_scores", "stg_games"])
    outcome = run_check(db, project.checks["phase3_preflight"])
    assert not outcome.passed and outcome.offending_count == 1

    assets = [sql_model_asset(project, project.models[n]) for n in ("stg_phase2_coverage", "game_summary")]
    job = dg.Definitions(
        assets=assets,
        asset_checks=[sql_asset_check(project, project.checks["phase3_preflight"])],
        resources={"database": PostgresResource(url=database_url)},
        jobs=[dg.define_asset_job("analytics", selection=[a.key for a in assets])],
    ).resolve_job_def("analytics")
    result = job.execute_in_process(raise_on_error=False)
    [preflight] = result.get_asset_check_evaluations()
    assert not preflight.passed
    assert "stg_phase2_coverage" in built(result) and "game_summary" not in built(result)


def test_a_box_score_not_yet_published_is_not_expected_by_the_gate_until_its_deadline():
    day = date(2026, 11, 24)
    tipoff = datetime(2026, 11, 25, 0, 30, tzinfo=UTC)  # 19:30 ET
    deadline = BoxScoreDeadline(hours_after_final=4.0)
    finals = {"0022600301": tipoff, "0022600302": tipoff}
    players = {
        "bdl": {"0022600301": 26, "0022600302": 25},
        "nbac": {"0022600301": 26},
    }  # NBA.com lags one game

    lagging = day_coverage(
        day, games_due(day, finals, players, tipoff + timedelta(hours=4), deadline), players
    )
    assert lagging.final_games == ("0022600301",) and lagging.passed()

    overdue_at = deadline.deadline(day, tipoff)
    overdue = day_coverage(day, games_due(day, finals, players, overdue_at, deadline), players)
    assert overdue.final_games == ("0022600301", "0022600302") and not overdue.passed()
