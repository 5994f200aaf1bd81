"""Manual sync: every trigger is audited (who, why, priority), dispatched as a run of the
entity's assets carrying its Dagster priority, and its outcome written back."""

from __future__ import annotations

import dagster as dg
import pytest
import sqlalchemy as sa

from nba_notify import cli
from nba_notify.defs.monitoring.manual import manual_sync_dispatcher, manual_sync_job
from nba_notify.defs.monitoring.sensors import sync_execution_tracker
from nba_notify.defs.resources import PostgresResource
from nba_notify.lib.db.tables.monitoring import manual_sync_audit
from nba_notify_tests.monitoring.pipeline import ASSETS, CHECKS


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def audit(engine) -> list[dict]:
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(sa.select(manual_sync_audit).order_by(manual_sync_audit.c.id)).mappings()
        ]


def dispatch(instance, database_url) -> dg.SensorResult:
    defs = dg.Definitions(assets=[*ASSETS], asset_checks=[*CHECKS], sensors=[manual_sync_dispatcher])
    context = dg.build_sensor_context(
        instance=instance,
        repository_def=defs.get_repository_def(),
        resources={"database": PostgresResource(url=database_url)},
    )
    return manual_sync_dispatcher(context)


def sync(*args: str) -> int:
    return cli.main(["sync", *args])


def test_cli_request_is_audited_and_dispatched_by_priority(mdb, database_url, instance):
    assert (
        sync("--entity", "games_schedule", "--date", "2026-11-20", "--reason", "routine", "--by", "ana") == 0
    )
    assert (
        sync(
            "--entity",
            "box_scores",
            "--date",
            "2026-11-20",
            "--priority",
            "high",
            "--reason",
            "late stats",
            "--by",
            "bo",
        )
        == 0
    )
    assert (
        sync(
            "--entity",
            "games_schedule",
            "--date",
            "2026-11-19",
            "--priority",
            "EMERGENCY",
            "--reason",
            "tip-off moved, push at risk",
            "--by",
            "oncall",
        )
        == 0
    )
    rows = audit(mdb)
    assert [(r["entity_type"], r["priority"], r["triggered_by"], r["status"]) for r in rows] == [
        ("games_schedule", "NORMAL", "ana", "REQUESTED"),
        ("box_scores", "HIGH", "bo", "REQUESTED"),
        ("games_schedule", "EMERGENCY", "oncall", "REQUESTED"),
    ]
    assert (
        rows[2]["trigger_reason"] == "tip-off moved, push at risk"
        and rows[2]["trigger_timestamp"] is not None
    )

    requests = dispatch(instance, database_url).run_requests
    assert [r.tags["dagster/priority"] for r in requests] == ["100", "50", "0"]
    emergency = requests[0]
    assert emergency.partition_key == "2026-11-19"
    assert sorted(k.to_user_string() for k in emergency.asset_selection) == [
        "bdl_games_raw",
        "games",
        "nbac_schedule_raw",
    ]
    assert emergency.tags["nba_notify/manual_sync_id"] == rows[2]["request_id"]
    assert emergency.tags["nba_notify/triggered_by"] == "oncall"
    assert sorted(k.to_user_string() for k in requests[1].asset_selection) == [
        "bdl_box_scores_raw",
        "player_box_scores",
    ]


def test_dispatched_run_outcome_and_records_are_written_back(mdb, database_url, instance):
    assert (
        sync(
            "--entity",
            "box_scores",
            "--date",
            "2026-11-20",
            "--priority",
            "EMERGENCY",
            "--reason",
            "r",
            "--by",
            "oncall",
        )
        == 0
    )
    [request] = dispatch(instance, database_url).run_requests
    # what the daemon does with the run request
    run = dg.materialize(
        [*ASSETS],
        selection=request.asset_selection,
        partition_key=request.partition_key,
        tags=request.tags,
        instance=instance,
    )
    assert run.success
    again = dispatch(instance, database_url)  # run exists now: no second launch, row -> QUEUED
    assert again.run_requests == []
    [row] = audit(mdb)
    assert row["status"] == "QUEUED" and row["run_id"] == run.run_id
    sync_execution_tracker(
        dg.build_sensor_context(instance=instance, resources={"database": PostgresResource(url=database_url)})
    )
    [row] = audit(mdb)
    assert row["status"] == "SUCCEEDED" and row["records_processed"] == 480
    assert row["completion_timestamp"] is not None


def test_request_that_cannot_run_here_is_rejected_with_the_reason(mdb, database_url, instance):
    assert sync("--entity", "notifications_sync", "--reason", "r", "--by", "x") == 0
    assert sync("--entity", "games_schedule", "--reason", "no date given", "--by", "x") == 0
    assert dispatch(instance, database_url).run_requests == []
    reasons = [(r["status"], r["error_details"]["reason"]) for r in audit(mdb)]
    assert reasons == [
        ("REJECTED", "no assets of notifications_sync are defined in this deployment"),
        ("REJECTED", "games_schedule is partitioned by game date: pass --date YYYY-MM-DD"),
    ]


def test_invalid_request_is_refused_and_not_audited(mdb, capsys):
    assert sync("--entity", "box_scores", "--date", "20-11-2026", "--reason", "r", "--by", "x") == 2
    assert sync("--entity", "box_scores", "--reason", "  ", "--by", "x") == 2
    assert "date must be YYYY-MM-DD" in capsys.readouterr().err
    assert audit(mdb) == []
    with pytest.raises(SystemExit):
        sync("--entity", "tournaments", "--reason", "r", "--by", "x")


def test_manual_sync_job_from_the_ui_writes_a_request(mdb, database_url, instance):
    result = manual_sync_job.execute_in_process(
        instance=instance,
        run_config={
            "ops": {
                "request_sync": {
                    "config": {
                        "entity": "box_scores",
                        "date": "2026-11-20",
                        "priority": "HIGH",
                        "reason": "from UI",
                        "triggered_by": "ui-user",
                    }
                }
            }
        },
        resources={"database": PostgresResource(url=database_url)},
    )
    assert result.success
    [row] = audit(mdb)
    assert (row["entity_type"], row["priority"], row["triggered_by"], row["status"]) == (
        "box_scores",
        "HIGH",
        "ui-user",
        "REQUESTED",
    )


# -- hostile or stale requests (issue 11): refused at request time, isolated at dispatch -------


def tick(instance, database_url):
    """What the daemon does with the sensor: evaluate it and resolve its run requests against
    the definitions (an unknown partition key fails here, for the whole tick)."""
    defs = dg.Definitions(assets=[*ASSETS], asset_checks=[*CHECKS], sensors=[manual_sync_dispatcher])
    context = dg.build_sensor_context(
        instance=instance,
        repository_def=defs.get_repository_def(),
        resources={"database": PostgresResource(url=database_url)},
    )
    return manual_sync_dispatcher.evaluate_tick(context)


@pytest.mark.parametrize(
    "date",
    [
        "20261124",
        "2026-W48-2",
        "2026-11-24T00:00",
        "2026-02-30",
        "２０２６-１１-２４",
        "2031-01-01",
        "2019-09-30",
    ],
    ids=[
        "compact",
        "iso_week",
        "with_time",
        "no_such_day",
        "fullwidth_digits",
        "after_partitions",
        "before_partitions",
    ],
)
def test_date_that_is_not_a_partition_is_refused_at_request_time(mdb, capsys, date):
    assert sync("--entity", "games_schedule", "--date", date, "--reason", "r", "--by", "x") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "YYYY-MM-DD" in err or "outside the game-day partitions" in err or "not a calendar date" in err
    assert audit(mdb) == []


def test_manual_sync_job_refuses_a_date_outside_the_partitions(mdb, database_url, instance):
    result = manual_sync_job.execute_in_process(
        instance=instance,
        run_config={
            "ops": {
                "request_sync": {
                    "config": {
                        "entity": "box_scores",
                        "date": "20261120",
                        "reason": "from UI",
                        "triggered_by": "ui-user",
                    }
                }
            }
        },
        resources={"database": PostgresResource(url=database_url)},
        raise_on_error=False,
    )
    assert not result.success and audit(mdb) == []


def test_bad_rows_are_rejected_with_a_reason_and_an_alert_and_the_valid_request_still_launches(
    mdb, database_url, instance
):
    # Rows an older version (or a hand-written INSERT) left behind, ahead of a valid request.
    with mdb.begin() as conn:
        for key in ("20261124", "2031-01-01"):
            conn.execute(
                sa.insert(manual_sync_audit).values(
                    request_id=f"stale-{key}",
                    entity_type="games_schedule",
                    partition_key=key,
                    priority="EMERGENCY",
                    triggered_by="old-cli",
                    trigger_reason="r",
                    trigger_timestamp=sa.func.now(),
                    status="REQUESTED",
                )
            )
    assert sync("--entity", "box_scores", "--date", "2026-11-20", "--reason", "valid", "--by", "ana") == 0

    data = tick(instance, database_url)
    [request] = data.run_requests
    assert request.partition_key == "2026-11-20" and request.tags["nba_notify/triggered_by"] == "ana"
    rows = {r["request_id"]: r for r in audit(mdb)}
    assert rows["stale-20261124"]["status"] == "REJECTED"
    assert "YYYY-MM-DD" in rows["stale-20261124"]["error_details"]["reason"]
    assert rows["stale-2031-01-01"]["status"] == "REJECTED"
    assert "2031-01-01" in rows["stale-2031-01-01"]["error_details"]["reason"]
    with mdb.connect() as conn:
        alerts = (
            conn.execute(
                sa.text(
                    "SELECT dedupe_key FROM alerts WHERE rule_key = 'manual_sync_rejected' ORDER BY dedupe_key"
                )
            )
            .scalars()
            .all()
        )
    assert alerts == ["stale-20261124", "stale-2031-01-01"]
    # The next tick neither re-rejects nor blocks: only the valid request is left, not yet launched.
    assert [r.partition_key for r in tick(instance, database_url).run_requests] == ["2026-11-20"]


def test_game_day_range_is_the_partitions_range():
    from nba_notify.defs.ingest.partitions import game_day_partitions
    from nba_notify.lib.game_days import game_day_range

    first, last = game_day_range()
    assert first.isoformat() == game_day_partitions.get_first_partition_key()
    assert last.isoformat() == game_day_partitions.get_last_partition_key()
