"""The Dagster objects: jobs run in-process against the simulator and PostgreSQL, checks carry
the offending rows, sensors alert once per row and request the repair runs."""

from __future__ import annotations

import json

import dagster as dg
import pytest
import sqlalchemy as sa

from nba_notify.definitions import load
from nba_notify.defs.notifications.policy import NotificationPolicyResource
from nba_notify.defs.notifications.sensors import count_mismatch_sensor, stale_pending_sensor
from nba_notify.defs.resources import AlertsResource, BrazeResource, ClockResource, PostgresResource
from nba_notify.harness.notifications import check_results, execute, failed_checks
from nba_notify_tests.notifications.conftest import (
    BRAZE_KEY,
    CAMPAIGN,
    at,
    ledger_rows,
    live_schedules,
    make_braze_client,
)

NYK = "0022600301"
GSW = "0022600302"


@pytest.fixture
def resources(database_url, braze_sim):
    return {
        "database": PostgresResource(url=database_url),
        "clock": ClockResource(url=f"{braze_sim.url}/_sim/clock"),
        "braze": BrazeResource(
            rest_endpoint=f"{braze_sim.url}/braze", api_key=BRAZE_KEY, campaign_id=CAMPAIGN, read_timeout=2.0
        ),
        "alerts": AlertsResource(),
        "notification_policy": NotificationPolicyResource(),
    }


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        yield inst


def materialization(result: dg.ExecuteInProcessResult, key: str) -> dict:
    [event] = [e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(key)]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def open_alerts(db, rule_key: str) -> list[dict]:
    with db.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                sa.text(
                    "SELECT title, dedupe_key, occurrences FROM alerts WHERE rule_key = :r AND status <> 'RESOLVED'"
                ),
                {"r": rule_key},
            ).mappings()
        ]


def test_code_location_has_the_notification_jobs_schedules_sensors_and_checks():
    defs = load()
    repo = defs.get_repository_def()
    jobs = {j.name for j in repo.get_all_jobs()}
    assert {
        "braze_sync_job",
        "full_verify_job",
        "gap_detection_job",
        "reconcile_job",
        "pre_send_check_job",
        "reconcile_counts_job",
        "resolve_unknown_schedule_job",
    } <= jobs
    schedules = {s.name: s.cron_schedule for s in repo.schedule_defs}
    assert schedules["gap_detection_schedule"] == "*/5 * * * *"
    assert schedules["pre_send_check_schedule"] == "*/10 * * * *"
    assert {"stale_pending_sensor", "count_mismatch_sensor"} <= {s.name for s in repo.sensor_defs}
    sync = defs.resolve_assets_def("braze_schedules")
    assert sync.specs_by_key[dg.AssetKey("braze_schedules")].kinds >= {"braze", "postgres"}
    assert sync.specs_by_key[dg.AssetKey("braze_schedules")].group_name == "notifications"
    assert sync.op.pool == "braze"
    checks = {key.name for key in defs.resolve_asset_graph().asset_check_keys}
    assert {
        "missing_schedules",
        "orphaned_schedules",
        "count_mismatch",
        "stale_pending",
        "duplicate_schedules",
        "timing",
        "unmatched_sends",
    } <= checks


def test_sync_job_in_process_schedules_each_game_and_every_check_passes(
    db, games, braze_sim, resources, instance
):
    games.put(NYK, "NYK", "BOS", at(hours=4))
    games.put(GSW, "GSW", "LAL", at(hours=7))
    result = execute("braze_sync_job", resources=resources, instance=instance)
    assert result.success
    assert failed_checks(result) == []
    assert len(check_results(result)) == 8
    meta = materialization(result, "braze_schedules")
    assert meta["created"] == 2 and meta["braze_write_calls"] == 2
    assert len(live_schedules(braze_sim)) == 2
    again = execute("braze_sync_job", resources=resources, instance=instance)
    assert materialization(again, "braze_schedules")["braze_write_calls"] == 0
    # The sends go out; Currents reaches the receiver; Full Verify stays green.
    braze_sim.control.advance(7 * 3600)
    assert {r["state"] for r in ledger_rows(db)} == {"sent"}
    verify = execute("full_verify_job", resources=resources, instance=instance)
    assert verify.success and failed_checks(verify) == []


def test_postponed_game_costs_one_delete_and_moved_game_one_update(db, games, braze_sim, resources, instance):
    games.put(NYK, "NYK", "BOS", at(hours=4))
    games.put(GSW, "GSW", "LAL", at(hours=7))
    execute("braze_sync_job", resources=resources, instance=instance)
    games.set_status(NYK, "postponed")
    games.move(GSW, at(hours=7, minutes=30))
    meta = materialization(
        execute("braze_sync_job", resources=resources, instance=instance), "braze_schedules"
    )
    assert (meta["cancelled"], meta["updated"], meta["braze_write_calls"]) == (1, 1, 2)
    assert [s["game_id"] for s in live_schedules(braze_sim)] == [GSW]


def test_stale_pending_check_fails_with_the_game_in_its_rows_and_sensor_alerts_once(
    db, games, braze_sim, resources, instance
):
    braze_sim.sim.config.currents_url = None  # Currents is down: sends are never confirmed
    games.put(NYK, "NYK", "BOS", at(hours=2))
    execute("braze_sync_job", resources=resources, instance=instance)
    braze_sim.control.advance(3600 + 16 * 60)  # past send_at + 15 min grace
    verify = execute("full_verify_job", resources=resources, instance=instance)
    [stale] = [e for e in check_results(verify) if e.check_name == "stale_pending"]
    assert not stale.passed and NYK in stale.metadata["rows"].value

    context = dg.build_sensor_context(instance=instance, resources=resources)
    request = stale_pending_sensor(context)
    assert isinstance(request, dg.RunRequest) and request.run_key.startswith("stale-pending-")
    [alert] = open_alerts(db, "stale_pending")
    assert NYK in alert["title"]
    cursor = context.cursor
    assert json.loads(cursor)["id"] == ledger_rows(db)[0]["id"]
    again = stale_pending_sensor(
        dg.build_sensor_context(instance=instance, resources=resources, cursor=cursor)
    )
    assert isinstance(again, dg.SkipReason)
    assert open_alerts(db, "stale_pending")[0]["occurrences"] == 1


def test_count_mismatch_sensor_alerts_once_after_it_persists_and_requests_reconcile_counts(
    db, games, braze_sim, resources, instance
):
    games.put(NYK, "NYK", "BOS", at(hours=4))
    execute("braze_sync_job", resources=resources, instance=instance)
    (row,) = ledger_rows(db)
    with db.begin() as conn:  # a ledger row lost behind our back
        conn.execute(sa.text("UPDATE schedule_ledger SET state = 'expired'"))
    # ... and its schedule too (still listed, the sensor would adopt it back: test_foreign_schedules)
    with make_braze_client(braze_sim) as client:
        assert client.delete_schedule(CAMPAIGN, row["braze_schedule_id"]).succeeded
    first = count_mismatch_sensor(ctx := dg.build_sensor_context(instance=instance, resources=resources))
    assert isinstance(first, dg.SkipReason)  # not yet persisted
    braze_sim.control.advance(180)
    second = count_mismatch_sensor(
        ctx2 := dg.build_sensor_context(instance=instance, resources=resources, cursor=ctx.cursor)
    )
    assert isinstance(second, dg.RunRequest) and second.run_key.startswith("count-mismatch-")
    braze_sim.control.advance(120)
    third = count_mismatch_sensor(
        dg.build_sensor_context(instance=instance, resources=resources, cursor=ctx2.cursor)
    )
    assert isinstance(third, dg.SkipReason)
    [alert] = open_alerts(db, "count_mismatch")
    assert alert["occurrences"] == 1
    counts = execute("reconcile_counts_job", resources=resources, instance=instance)
    assert counts.success


def test_repair_jobs_run_and_missing_schedule_check_names_the_game(db, games, braze_sim, resources, instance):
    games.put(NYK, "NYK", "BOS", at(hours=4))
    braze_sim.control.add_fault("status", route="braze.create", params={"code": 400})
    result = execute("braze_sync_job", resources=resources, instance=instance)
    assert not result.success  # a definite failure fails the sync, classified
    gaps = execute("gap_detection_job", resources=resources, instance=instance)
    [missing] = [e for e in check_results(gaps) if e.check_name == "missing_schedules"]
    assert not missing.passed and NYK in missing.metadata["rows"].value
    braze_sim.control.clear_faults()
    for job in ("reconcile_job", "pre_send_check_job", "reconcile_counts_job"):
        assert execute(job, resources=resources, instance=instance).success, job
    assert execute("braze_sync_job", resources=resources, instance=instance).success
    assert failed_checks(execute("gap_detection_job", resources=resources, instance=instance)) == []


def test_operator_resolves_an_unknown_schedule_from_the_ui_job(db, games, braze_sim, resources, instance):
    games.put(NYK, "NYK", "BOS", at(hours=4))
    braze_sim.control.add_fault("timeout_after_apply", route="braze.create", times=1, params={"seconds": 3})
    execute("braze_sync_job", resources=resources, instance=instance)  # ambiguous: the create timed out
    (row,) = ledger_rows(db)
    assert row["state"] == "unknown" and open_alerts(db, "ambiguous_schedule")
    (schedule,) = live_schedules(braze_sim, NYK)  # what the on-call finds on the dashboard
    config = {
        "ops": {
            "resolve_unknown_op": {
                "config": {
                    "intent_key": row["intent_key"],
                    "decision": "exists",
                    "schedule_id": schedule["schedule_id"],
                }
            }
        }
    }
    assert execute(
        "resolve_unknown_schedule_job", resources=resources, instance=instance, run_config=config
    ).success
    (row,) = ledger_rows(db)
    assert row["state"] == "scheduled" and row["braze_schedule_id"] == schedule["schedule_id"]
    again = execute("braze_sync_job", resources=resources, instance=instance)
    assert again.success and materialization(again, "braze_schedules")["braze_write_calls"] == 0
