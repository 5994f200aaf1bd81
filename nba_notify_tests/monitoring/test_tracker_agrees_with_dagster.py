"""The tracker agrees with Dagster (issue 9, symptom 5): a run Dagster marks FAILURE — also one
failed only by a blocking asset check — is a failure in execution history, consecutive-failure
counts and the dashboard; an error's class is written once; an entity not expected to run (no
game on) is not a warning. Real ingest assets and checks against the simulator over HTTP, a
real PostgreSQL, the tracker read through the public Dagster instance API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import sqlalchemy as sa

from nba_notify.defs.monitoring.sensors import sync_execution_tracker
from nba_notify.defs.resources import PostgresResource
from nba_notify.lib.db.tables.ingest import games
from nba_notify.lib.db.tables.monitoring import sync_error_log, sync_execution_history, sync_status
from nba_notify.lib.monitoring.health import health_overview
from nba_notify_tests.quality import conftest as quality_fixtures

# the quality domain's fixtures: the real ingest assets and checks against the simulator
quality_resources = quality_fixtures.quality_resources
run_pipeline = quality_fixtures.run_pipeline
instance = quality_fixtures.instance

DAY = "2026-11-22"  # two days before the simulator's clock: every game is final


def tick(instance, database_url, cursor=None) -> dg.SensorResult:
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"database": PostgresResource(url=database_url)}
    )
    return sync_execution_tracker(context)


def history(engine, entity: str) -> list[dict]:
    h = sync_execution_history
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(sa.select(h).where(h.c.entity_type == entity).order_by(h.c.id)).mappings()
        ]


def status_of(engine, entity: str) -> dict:
    with engine.connect() as conn:
        return dict(
            conn.execute(sa.select(sync_status).where(sync_status.c.entity_type == entity)).mappings().one()
        )


def overview(engine) -> dict:
    with engine.connect() as conn:
        return health_overview(conn, datetime.now(UTC))


def test_a_run_failed_by_a_blocking_check_is_a_failure_in_history_counts_and_dashboard(
    mdb, sim, run_pipeline, instance, database_url
):
    # BDL's box scores list half the players of two games: the coverage gate (blocking) fails
    sim.control.add_fault("drop_players", "bdl.box_scores", params={"date": DAY, "count": 2, "fraction": 0.5})
    cursor = None
    runs = []
    for _ in range(2):
        result = run_pipeline(DAY)
        [gate] = [e for e in result.get_asset_check_evaluations() if e.check_name == "phase2_coverage"]
        assert not gate.passed
        assert instance.get_run_by_id(result.run_id).status == dg.DagsterRunStatus.FAILURE
        # every asset of the entity materialized: only the check failed the run
        assert "player_box_scores" in {
            m.asset_key.to_user_string() for m in result.get_asset_materialization_events()
        }
        runs.append(result.run_id)
        cursor = tick(instance, database_url, cursor).cursor

    executions = history(mdb, "box_scores")
    assert [(e["run_id"], e["run_status"], e["success"]) for e in executions] == [
        (run_id, "FAILURE", False) for run_id in runs
    ]
    [error] = executions[-1]["error_details"]["errors"]
    assert error["category"] == "VALIDATION" and "phase2_coverage" in error["message"]
    status = status_of(mdb, "box_scores")
    assert status["consecutive_failures"] == 2 and status["error_count"] == 2 and status["success_count"] == 0
    assert status["last_success_at"] is None
    assert status["last_error"].startswith(
        "[VALIDATION] blocking check phase2_coverage failed on player_box_scores"
    )

    box = overview(mdb)["sync_entities"]["box_scores"]
    assert box["status"] == "WARNING" and box["consecutive_failures"] == 2
    assert box["last_successful_sync"] is None and "last run failed (2 in a row)" in box["reasons"]


def test_a_failed_run_is_never_recorded_as_all_success(mdb, sim, run_pipeline, instance, database_url):
    """Whatever failed it, a run Dagster marks FAILURE leaves at least one failed execution."""
    sim.control.add_fault("drop_players", "bdl.box_scores", params={"date": DAY, "count": 2, "fraction": 0.5})
    failed = run_pipeline(DAY)
    assert not failed.success
    sim.control.clear_faults()
    passed = run_pipeline(DAY)
    assert passed.success
    tick(instance, database_url)
    with mdb.connect() as conn:
        by_run = dict(
            conn.execute(
                sa.select(
                    sync_execution_history.c.run_id, sa.func.bool_and(sync_execution_history.c.success)
                ).group_by(sync_execution_history.c.run_id)
            ).all()
        )
    assert by_run == {failed.run_id: False, passed.run_id: True}
    status = status_of(mdb, "box_scores")
    assert (status["consecutive_failures"], status["success_count"], status["error_count"]) == (0, 1, 1)


def test_last_error_carries_its_class_once(mdb, sim, run_pipeline, instance, database_url):
    sim.control.add_fault("status", "bdl.box_scores", params={"code": 503})
    assert not run_pipeline(DAY).success
    tick(instance, database_url)
    last_error = status_of(mdb, "box_scores")["last_error"]
    assert last_error.startswith("[API] ") and last_error.count("[API]") == 1, last_error
    with mdb.connect() as conn:
        messages = conn.execute(sa.select(sync_error_log.c.error_message)).scalars().all()
    assert messages and not any(m.startswith("[") for m in messages)


def test_a_fresh_install_with_no_game_on_is_not_a_warning_for_the_live_scoreboard(
    mdb, sim, run_pipeline, instance, database_url
):
    assert run_pipeline(DAY).success  # the day's games are all final: nothing is on
    tick(instance, database_url)
    body = overview(mdb)
    live = body["sync_entities"]["live_scoreboard"]
    assert live["status"] == "HEALTHY" and live["reasons"] == [], live
    assert (live["expected_to_run"], live["idle_reason"]) == (False, "no game on")
    # nothing is blamed for not running: the syncs that ran are fresh, the rest are not due yet
    not_running = [
        (name, reason)
        for name, entity in body["sync_entities"].items()
        for reason in entity["reasons"]
        if "no executions" in reason or "no successful sync" in reason
    ]
    assert not_running == []
    if not body["active_alerts"]:  # (a data check the day fails would rightly warn)
        assert body["overall_status"] == "HEALTHY", body["sync_entities"]


def test_a_game_on_without_a_live_sync_is_a_warning(mdb, database_url):
    """The other side: once a game is on, a live scoreboard that does not run is reported."""
    now = datetime.now(UTC)
    with mdb.begin() as conn:
        conn.execute(
            sa.insert(games).values(
                game_id="0022600999",
                game_date=now.date(),
                tipoff_utc=now - timedelta(minutes=20),
                status="live",
                home_team="BOS",
                away_team="NYK",
                in_bdl=True,
                in_nbac=True,
            )
        )
    live = overview(mdb)["sync_entities"]["live_scoreboard"]
    assert live["expected_to_run"] is True
    assert live["status"] == "WARNING" and live["reasons"] == ["no executions recorded"]
