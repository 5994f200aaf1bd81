"""Execution tracking: every finished run is recorded once, per entity, from its events —
records, API metrics, memory, classified errors, per-date/per-source results, sync_status —
and failed asset checks alert even when their run succeeded."""

from __future__ import annotations

import json

import dagster as dg
import pytest
import sqlalchemy as sa

from nba_notify.defs.monitoring.sensors import sync_execution_tracker
from nba_notify.defs.resources import PostgresResource
from nba_notify.lib.db.tables.monitoring import (
    alerts,
    sync_error_log,
    sync_execution_history,
    sync_execution_results,
    sync_status,
)
from nba_notify_tests.monitoring.pipeline import run_ingest


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def tick(instance, database_url, cursor=None) -> dg.SensorResult:
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"database": PostgresResource(url=database_url)}
    )
    return sync_execution_tracker(context)


def rows(engine, table, *order):
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(table).order_by(*order)).mappings()]


def test_successful_ingest_run_is_recorded_per_entity_with_metrics(mdb, database_url, instance):
    run = run_ingest(instance)
    assert run.success
    result = tick(instance, database_url)
    history = {r["entity_type"]: r for r in rows(mdb, sync_execution_history, sync_execution_history.c.id)}
    assert set(history) == {"games_schedule", "box_scores"}
    games = history["games_schedule"]
    assert games["run_id"] == run.run_id and games["success"] and games["partition_key"] == "2026-11-20"
    assert games["trigger"] == "schedule"
    assert games["records_processed"] == 12 + 10 + 11
    assert games["api_calls"] == 4 and games["api_retries"] == 1
    assert games["api_p95_ms"] == 120.0  # worst asset's p95
    assert games["api_p50_ms"] == pytest.approx((3 * 40 + 1 * 80) / 4)  # call-weighted
    assert games["cache_hit_ratio"] == pytest.approx((3 * 0.5 + 1 * 1.0) / 4)
    assert games["peak_memory_mb"] == 80.0
    assert games["duration_seconds"] >= 0 and games["execution_end"] >= games["execution_start"]
    assert history["box_scores"]["records_processed"] == 480
    results = rows(mdb, sync_execution_results, sync_execution_results.c.asset_key)
    assert {(r["asset_key"], r["source"], r["partition_key"], r["records_processed"]) for r in results} >= {
        ("bdl_games_raw", "bdl", "2026-11-20", 12),
        ("nbac_schedule_raw", "nbac", "2026-11-20", 10),
        ("games", "derived", "2026-11-20", 11),
    }
    status = {r["entity_type"]: r for r in rows(mdb, sync_status, sync_status.c.entity_type)}
    assert (
        status["games_schedule"]["success_count"] == 1
        and status["games_schedule"]["consecutive_failures"] == 0
    )
    assert status["games_schedule"]["sync_frequency_seconds"] == 900
    # plotted in the Dagster UI: one observation per entity execution
    observed = {e.asset_key.to_user_string(): e.metadata for e in result.asset_events}
    assert observed["monitoring/sync_health/games_schedule"]["dagster/row_count"].value == 33
    assert json.loads(result.cursor)["SUCCESS"]


def test_a_run_is_recorded_once_however_often_it_is_seen(mdb, database_url, instance):
    run_ingest(instance)
    first = tick(instance, database_url)
    again_same_cursor = tick(instance, database_url, cursor=first.cursor)
    from_scratch = tick(instance, database_url, cursor=None)  # e.g. cursor lost
    assert again_same_cursor.asset_events == [] and from_scratch.asset_events == []
    assert len(rows(mdb, sync_execution_history)) == 2
    status = {r["entity_type"]: r for r in rows(mdb, sync_status)}
    assert status["games_schedule"]["success_count"] == 1


def test_classified_failure_is_logged_with_taxonomy_and_downstream_entity_fails(mdb, database_url, instance):
    run = run_ingest(instance, fail_box_scores=True)
    assert not run.success
    tick(instance, database_url)
    history = {r["entity_type"]: r for r in rows(mdb, sync_execution_history)}
    assert history["games_schedule"]["success"] is True  # its assets all materialized
    box = history["box_scores"]
    assert box["success"] is False and box["run_status"] == "FAILURE"
    assert box["error_details"]["missing_assets"] == ["bdl_box_scores_raw", "player_box_scores"]
    [error] = rows(mdb, sync_error_log)
    assert error["entity_type"] == "box_scores" and error["asset_key"] == "bdl_box_scores_raw"
    assert error["error_type"] == "RATE_LIMIT" and error["error_severity"] == "MEDIUM"
    assert error["error_status_code"] == 429 and error["partition_key"] == "2026-11-20"
    assert "rate limit" in error["recovery_suggestion"].lower()
    assert error["error_context"]["details"] == {"url": "http://sim/bdl/v1/box_scores"}
    failed_results = [r for r in rows(mdb, sync_execution_results) if not r["success"]]
    assert [(r["asset_key"], r["error_category"]) for r in failed_results] == [
        ("bdl_box_scores_raw", "RATE_LIMIT")
    ]
    status = {r["entity_type"]: r for r in rows(mdb, sync_status)}
    assert status["box_scores"]["consecutive_failures"] == 1
    assert status["box_scores"]["last_error"].startswith("[RATE_LIMIT]")


def test_unclassified_crash_is_still_logged_with_a_category_and_advice(mdb, database_url, instance):
    run_ingest(instance, crash_unclassified=True)
    tick(instance, database_url)
    errors = [e for e in rows(mdb, sync_error_log) if e["asset_key"] == "bdl_games_raw"]
    assert errors and errors[0]["error_type"] == "API" and errors[0]["error_severity"] == "HIGH"
    assert "KeyError" in errors[0]["error_message"]
    assert "did not raise as_failure" in errors[0]["recovery_suggestion"]


def test_consecutive_failures_accumulate_and_reset_on_success(mdb, database_url, instance):
    cursor = None
    for fail in (True, True, False, True):
        run_ingest(instance, fail_box_scores=fail)
        cursor = tick(instance, database_url, cursor).cursor
    status = {r["entity_type"]: r for r in rows(mdb, sync_status)}
    assert status["box_scores"]["consecutive_failures"] == 1
    assert status["box_scores"]["error_count"] == 3 and status["box_scores"]["success_count"] == 1
    assert status["box_scores"]["records_processed_total"] == 480


def test_failed_error_check_in_a_successful_run_raises_an_alert_and_a_pass_resolves_it(
    mdb, database_url, instance
):
    failing = run_ingest(instance, fail_games_check=True)
    assert failing.success  # the gap of dagster-io/dagster#29896: the run is green
    cursor = tick(instance, database_url).cursor
    [alert] = rows(mdb, alerts)
    assert (alert["rule_key"], alert["entity"], alert["dedupe_key"]) == (
        "asset_check_failed",
        "games",
        "games_have_two_sources",
    )
    assert alert["status"] == "OPEN" and alert["details"]["run_id"] == failing.run_id
    history = {r["entity_type"]: r for r in rows(mdb, sync_execution_history)}
    assert history["games_schedule"]["failed_checks"] == 1
    run_ingest(instance)
    tick(instance, database_url, cursor)
    [alert] = rows(mdb, alerts)
    assert alert["status"] == "RESOLVED" and alert["resolved_by"] == "monitoring"


def test_op_job_mapped_by_name_is_tracked(mdb, database_url, instance):
    @dg.op
    def poll_scoreboard() -> None:
        return None

    @dg.job(name="live_scoreboard_job")
    def live_scoreboard_job() -> None:
        poll_scoreboard()

    assert live_scoreboard_job.execute_in_process(instance=instance).success
    tick(instance, database_url)
    [row] = rows(mdb, sync_execution_history)
    assert row["entity_type"] == "live_scoreboard" and row["success"] and row["trigger"] == "adhoc"


def test_job_mapped_by_name_owns_its_assets(mdb, database_url, instance):
    """live_scoreboard_job materializes the schedule assets every 30 s; those runs count for
    live_scoreboard only, never as games_schedule syncs."""
    from nba_notify_tests.monitoring.pipeline import bdl_games_raw, games, nbac_schedule_raw

    job = dg.define_asset_job("live_scoreboard_job", selection=[bdl_games_raw, nbac_schedule_raw, games])
    defs = dg.Definitions(assets=[bdl_games_raw, nbac_schedule_raw, games], jobs=[job])
    result = defs.resolve_job_def("live_scoreboard_job").execute_in_process(
        instance=instance, partition_key="2026-11-20"
    )
    assert result.success
    tick(instance, database_url)
    [row] = rows(mdb, sync_execution_history)
    assert row["entity_type"] == "live_scoreboard" and row["records_processed"] == 33
