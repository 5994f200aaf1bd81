"""The quality domain as the UI and the daemon see it: lineage from the Python assets
through the SQL models, SQL checks as asset checks, the retry sensor and jobs — and the
in-process driver the demo uses, end to end on the real definitions."""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg
import pytest
import sqlalchemy as sa

from nba_notify.definitions import load
from nba_notify.harness.retry_driver import add_recoverable_source_fault, run_retry_tick
from nba_notify.lib.db.tables.quality import scrape_retry_queue
from nba_notify.lib.quality import quality_summary

K = dg.AssetKey


@pytest.fixture(scope="module")
def definitions():
    return load()


def test_lineage_runs_from_scrapes_through_discrepancies_to_the_quality_marts(definitions):
    graph = definitions.resolve_asset_graph()
    # the listing comparison needs only games: a failing box-score feed never stops it
    assert graph.get(K("source_discrepancies")).parent_keys == {K("games")}
    assert graph.get(K("box_score_coverage")).parent_keys == {
        K("games"),
        K("bdl_box_scores_raw"),
        K("nbac_box_scores_raw"),
    }
    assert graph.get(K("scrape_retry_queue")).parent_keys == {
        K("source_discrepancies"),
        K("box_score_coverage"),
    }
    assert {K("source_discrepancies"), K("box_score_coverage")} <= graph.get(
        K("stg_source_discrepancies")
    ).parent_keys
    assert K("scrape_retry_queue") in graph.get(K("stg_retry_queue")).parent_keys
    assert {K("bdl_games_raw"), K("nbac_box_scores_raw")} <= graph.get(K("stg_scrape_attempts")).parent_keys
    assert graph.get(K("team_form_last_10")).parent_keys == {K("game_summary")}
    assert K("stg_phase2_coverage") in graph.get(K("game_summary")).parent_keys
    assert {K("zero_record_audit"), K("zero_record_audit_summary")} == graph.get(
        K("reprocess_plan")
    ).parent_keys
    for mart in ("daily_health_report", "recovery_time_analysis", "zero_record_audit", "phase_completeness"):
        assert graph.get(K(mart)).group_name == "quality"


def test_checks_sensor_and_jobs_are_registered(definitions):
    graph = definitions.resolve_asset_graph()
    checks = graph.asset_check_keys
    assert dg.AssetCheckKey(K("player_box_scores"), "phase2_coverage") in checks
    assert dg.AssetCheckKey(K("source_discrepancies"), "no_games_missing_between_sources") in checks
    assert dg.AssetCheckKey(K("source_discrepancies"), "sources_agree_on_games") in checks
    assert dg.AssetCheckKey(K("box_score_coverage"), "box_scores_published_within_deadline") in checks
    assert dg.AssetCheckKey(K("stg_phase2_coverage"), "phase3_preflight") in checks
    assert dg.AssetCheckKey(K("zero_record_audit_summary"), "zero_record_false_positive_rate") in checks
    assert graph.get_check_spec(dg.AssetCheckKey(K("player_box_scores"), "phase2_coverage")).blocking
    sensor = definitions.resolve_sensor_def("scrape_retry_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    for job in ("retry_scrape_job", "reprocess_job", "analytics_job"):
        definitions.resolve_job_def(job)
    ingest = definitions.resolve_job_def("ingest_job")
    assert {K("source_discrepancies"), K("box_score_coverage")} <= ingest.asset_layer.executable_asset_keys


def test_the_demo_driver_recovers_a_healing_bdl_gap_through_the_real_jobs(db, sim, database_url, monkeypatch):
    monkeypatch.setenv("NBA_NOTIFY_SIM_URL", sim.url)
    definitions = load()  # resources read the simulator's URL from the environment
    now = sim.control.now()
    today = date(2026, 11, 24)
    add_recoverable_source_fault(sim.control, today, now)
    with dg.instance_for_test() as instance:
        ingest = definitions.resolve_job_def("ingest_job").execute_in_process(
            instance=instance, partition_key=today.isoformat(), raise_on_error=False
        )
        assert ingest.success  # no game has started: the coverage gate has nothing to miss
        assert run_retry_tick(definitions, instance) == []
        sim.control.advance(4 * 3600)
        [retry] = run_retry_tick(definitions, instance)
        assert (retry.scraper_name, retry.partition_key, retry.success) == (
            "bdl_games",
            today.isoformat(),
            True,
        )
        assert run_retry_tick(definitions, instance) == []
    with db.connect() as conn:
        [item] = conn.execute(sa.select(scrape_retry_queue)).all()
    assert (item.status, item.attempts, item.recovered_at) == ("recovered", 1, now + timedelta(hours=4))
    summary = quality_summary(db)
    assert summary["retry_queue"]["by_status"]["recovered"] == 1
    assert summary["zero_record_audit"]["false_positive_rate_pct"] == 0
