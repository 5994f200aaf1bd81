"""A schedule Braze holds that the ledger does not own is a possible double push (issue 9,
symptom 6): the sensor asks Braze itself (within its rate limit), the check fails at ERROR, a
CRITICAL alert names the game and the send time, the dashboard is not HEALTHY; it is adopted
when it can only be one intent's, otherwise an operator decides (audited) — never a blind
delete. Braze's list lagging behind our own creates raises nothing.

Real PostgreSQL, the HTTP simulator posing as Braze, public Dagster APIs."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import dagster as dg
import pytest
import sqlalchemy as sa

from nba_notify.cli import main
from nba_notify.defs.notifications.policy import NotificationPolicyResource
from nba_notify.defs.notifications.sensors import count_mismatch_sensor
from nba_notify.defs.resources import AlertsResource, BrazeResource, ClockResource, PostgresResource
from nba_notify.harness.notifications import check_results, execute
from nba_notify.lib.ledger.foreign import MIN_LIST_INTERVAL_SECONDS, ListBudget, unowned_minutes
from nba_notify.lib.ledger.service import refresh_desired
from nba_notify.lib.monitoring.health import health_overview
from nba_notify_tests.notifications.conftest import (
    BRAZE_KEY,
    CAMPAIGN,
    at,
    braze_truth,
    ledger_rows,
    live_schedules,
    make_braze_client,
)

NYK = "0022600301"
GSW = "0022600302"
TIPOFF = at(hours=4)
SEND_AT = TIPOFF - timedelta(minutes=60)  # 2026-11-24 18:00 UTC
SEND_AT_TEXT = "2026-11-24 18:00Z"


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


def behind_our_back(braze_sim, game_id: str, home: str, away: str, send_at=SEND_AT) -> str:
    """Someone else (a script, another deployment) schedules the campaign for a game."""
    with make_braze_client(braze_sim) as client:
        outcome = client.create_schedule(
            CAMPAIGN, send_at, {"game_id": game_id, "home_team": home, "away_team": away}
        )
    assert outcome.succeeded
    return outcome.schedule_id


def tick(instance, resources, cursor=None):
    context = dg.build_sensor_context(instance=instance, resources=resources, cursor=cursor)
    result = count_mismatch_sensor(context)
    return result, context


def alerts_of(db, rule_key: str, *, open_only: bool = True) -> list[dict]:
    with db.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                sa.text(
                    "SELECT title, severity, status, details, occurrences FROM alerts WHERE rule_key = :r"
                    + (" AND status <> 'RESOLVED'" if open_only else "")
                ),
                {"r": rule_key},
            ).mappings()
        ]


def sensor_detail(result) -> str:
    assert isinstance(result, dg.SkipReason)
    return result.skip_message


def count_mismatch_result(run):
    [check] = [e for e in check_results(run) if e.check_name == "count_mismatch"]
    return check


def test_extra_schedule_at_braze_is_an_error_check_a_critical_alert_and_not_healthy(
    db, games, braze_sim, resources, instance
):
    games.put(NYK, "NYK", "BOS", TIPOFF)
    assert execute("braze_sync_job", resources=resources, instance=instance).success
    behind_our_back(braze_sim, NYK, "NYK", "BOS")  # a double push in the making

    result, _ = tick(instance, resources)
    assert "'braze_listed': 2" in sensor_detail(result)  # the sensor asked Braze itself
    [alert] = alerts_of(db, "foreign_schedule")
    assert alert["severity"] == "CRITICAL"
    assert (
        "Possible double push" in alert["title"] and NYK in alert["title"] and SEND_AT_TEXT in alert["title"]
    )
    assert "schedule id" in alert["title"]

    check = count_mismatch_result(execute("full_verify_job", resources=resources, instance=instance))
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    table = check.metadata["rows"].value
    header, _, first = table.splitlines()[:3]
    assert header == "| kind | game_id | send_at_utc | schedule_id | listed | ledger | detail |"
    cells = [c.strip() for c in first.strip("|").split("|")]
    assert cells[:6] == ["foreign", f"{NYK} (BOS@NYK)", "2026-11-24 18:00:00Z", "unknown", "2", "1"]

    with db.connect() as conn:
        overview = health_overview(conn, at())
    notifications = overview["sync_entities"]["notifications_sync"]
    assert notifications["status"] == "CRITICAL" and overview["overall_status"] != "HEALTHY"
    assert any(SEND_AT_TEXT in reason for reason in notifications["reasons"])


def test_foreign_schedule_that_matches_an_intent_exactly_is_adopted_and_each_fan_gets_one_push(
    db, games, braze_sim, resources, instance, clock
):
    games.put(NYK, "NYK", "BOS", TIPOFF)
    policy = NotificationPolicyResource().policy(CAMPAIGN)
    refresh_desired(db, policy, now=clock())  # the intent exists; our sync has not run yet
    # the simulator's control route: a schedule made behind our back, marked so in its truth
    foreign_id = braze_sim.control.foreign_schedule(NYK, "NYK", "BOS", SEND_AT)["schedule_id"]

    tick(instance, resources)
    (row,) = ledger_rows(db)
    assert row["state"] == "unidentified" and row["send_at_utc"] == SEND_AT
    with db.connect() as conn:
        logged = conn.execute(
            sa.text("SELECT action, reason FROM scheduler_logs WHERE game_id = :g"), {"g": NYK}
        ).all()
    assert ("adopted", "foreign_matches_intent") in [tuple(r) for r in logged]
    assert alerts_of(db, "foreign_schedule") == []

    run = execute("braze_sync_job", resources=resources, instance=instance)
    assert run.success
    [live] = live_schedules(braze_sim, NYK)  # nothing created beside it
    assert (live["schedule_id"], live["origin"]) == (foreign_id, "foreign")
    assert count_mismatch_result(execute("full_verify_job", resources=resources, instance=instance)).passed

    braze_sim.control.advance(4 * 3600)
    truth = braze_truth(braze_sim)
    assert truth["messages"][NYK] and set(truth["messages"][NYK].values()) == {1}
    assert truth["duplicate_messages"] == 0


def test_foreign_schedule_beside_our_own_waits_for_an_operator_whose_decision_is_audited(
    db, games, braze_sim, resources, instance, monkeypatch, tmp_path, capsys
):
    games.put(NYK, "NYK", "BOS", TIPOFF)
    assert execute("braze_sync_job", resources=resources, instance=instance).success
    (ours,) = ledger_rows(db)
    foreign_id = behind_our_back(braze_sim, NYK, "NYK", "BOS")

    _, context = tick(instance, resources)
    assert (
        ledger_rows(db)[0]["braze_schedule_id"] == ours["braze_schedule_id"]
    )  # not adopted: the game holds one
    assert len(live_schedules(braze_sim, NYK)) == 2  # and nothing deleted blindly
    tick(instance, resources)  # still open on the next read: one alert, bumped
    [alert] = alerts_of(db, "foreign_schedule")
    assert alert["occurrences"] == 2

    monkeypatch.setenv("NBA_NOTIFY_SIM_URL", braze_sim.url)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    assert main(["foreign", "list"]) == 0
    listing = capsys.readouterr().out
    assert "open" in listing and NYK in listing and SEND_AT_TEXT in listing
    foreign_row_id = listing.split()[0]

    # The ledger's own schedule is never deleted as foreign.
    refused = main(
        [
            "foreign",
            "resolve",
            "--id",
            foreign_row_id,
            "--delete",
            "--schedule-id",
            ours["braze_schedule_id"],
            "--by",
            "alice",
        ]
    )
    assert refused == 1 and "ledger's own" in capsys.readouterr().err
    config = {
        "ops": {
            "resolve_foreign_op": {
                "config": {
                    "foreign_id": int(foreign_row_id),
                    "decision": "delete",
                    "schedule_id": foreign_id,
                    "note": "scheduled by the marketing script by mistake",
                }
            }
        }
    }
    assert execute(
        "resolve_foreign_schedule_job", resources=resources, instance=instance, run_config=config
    ).success

    assert [s["schedule_id"] for s in live_schedules(braze_sim, NYK)] == [ours["braze_schedule_id"]]
    with db.connect() as conn:
        audit = (
            conn.execute(
                sa.text(
                    "SELECT reason, braze_schedule_id, details FROM scheduler_logs WHERE action = 'resolved' ORDER BY id"
                )
            )
            .mappings()
            .all()
        )
        foreign = (
            conn.execute(sa.text("SELECT status, resolved_by, note FROM foreign_schedules")).mappings().one()
        )
    assert [a["reason"] for a in audit] == ["foreign_delete_refused", "foreign_delete"]
    assert audit[0]["details"]["by"] == "alice" and audit[1]["braze_schedule_id"] == foreign_id
    assert audit[1]["details"]["operator_note"] == "scheduled by the marketing script by mistake"
    assert foreign["status"] == "deleted" and foreign["resolved_by"].startswith("dagster run")
    assert alerts_of(db, "foreign_schedule") == []
    with db.connect() as conn:
        assert health_overview(conn, at())["sync_entities"]["notifications_sync"]["status"] != "CRITICAL"

    braze_sim.control.advance(4 * 3600)
    assert set(braze_truth(braze_sim)["messages"][NYK].values()) == {1}


def test_braze_list_lag_right_after_our_creates_raises_nothing(db, games, braze_sim, resources, instance):
    braze_sim.control.add_fault("list_lag", "braze.list", params={"seconds": 600})  # listed 10 min late
    games.put(NYK, "NYK", "BOS", TIPOFF)
    games.put(GSW, "GSW", "LAL", TIPOFF + timedelta(hours=1))
    assert execute("braze_sync_job", resources=resources, instance=instance).success

    result, _ = tick(instance, resources)
    assert "'braze_listed': 0" in sensor_detail(result)
    check = count_mismatch_result(execute("full_verify_job", resources=resources, instance=instance))
    assert check.passed, check.metadata["rows"].value
    braze_sim.control.advance(601)  # listed now
    result, _ = tick(instance, resources)
    assert "'braze_listed': 2" in sensor_detail(result)
    assert alerts_of(db, "foreign_schedule", open_only=False) == []
    assert alerts_of(db, "count_mismatch", open_only=False) == []


def test_a_live_schedule_missing_from_a_current_list_is_reported_only_with_proof(
    db, games, braze_sim, resources, instance
):
    games.put(NYK, "NYK", "BOS", TIPOFF)
    assert execute("braze_sync_job", resources=resources, instance=instance).success
    with make_braze_client(braze_sim) as client:  # gone at Braze behind our back
        assert client.delete_schedule(CAMPAIGN, ledger_rows(db)[0]["braze_schedule_id"]).succeeded
    unproven = count_mismatch_result(execute("full_verify_job", resources=resources, instance=instance))
    assert unproven.passed and unproven.metadata["unverifiable_by_list"].value == 1  # the list may just lag

    games.put(GSW, "GSW", "LAL", TIPOFF + timedelta(hours=1))  # a later create the list does show
    assert execute("braze_sync_job", resources=resources, instance=instance).success
    check = count_mismatch_result(execute("full_verify_job", resources=resources, instance=instance))
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert "unlisted" in check.metadata["rows"].value and NYK in check.metadata["rows"].value
    assert GSW not in check.metadata["rows"].value


def test_sensor_reads_braze_at_most_once_a_minute_and_keeps_the_write_reserve(
    db, games, braze_sim, resources, instance
):
    games.put(NYK, "NYK", "BOS", TIPOFF)
    assert execute("braze_sync_job", resources=resources, instance=instance).success
    calls = lambda: braze_truth(braze_sim)["calls"]["braze.list"]  # noqa: E731
    before = calls()
    first, context = tick(instance, resources)
    assert "'braze_listed': 1" in sensor_detail(first) and calls() == before + 1
    second, _ = tick(instance, resources, cursor=context.cursor)
    assert "at most one a minute" in sensor_detail(second) and calls() == before + 1

    budget = ListBudget(last_call_epoch=1000.0, limit=250_000, remaining=20_000, reset_epoch=5000.0)
    assert budget.refusal(1000.0 + MIN_LIST_INTERVAL_SECONDS) is None
    low = ListBudget(last_call_epoch=1000.0, limit=250_000, remaining=12_499, reset_epoch=5000.0)
    assert "reserve" in low.refusal(2000.0) and low.refusal(5001.0) is None


def test_unowned_minutes_ignore_fewer_listed_and_unsettled_minutes():
    m1, m2, m3 = SEND_AT, SEND_AT + timedelta(minutes=30), SEND_AT + timedelta(hours=1)
    listed = Counter({m1: 2, m2: 0, m3: 3})
    accounted = Counter({m1: 1, m2: 1, m3: 1})
    [slot] = unowned_minutes(listed, accounted, unsettled=[m3])
    assert (slot.send_at, slot.extra) == (m1, 1)


def test_foreign_schedule_cancelled_in_the_dashboard_closes_itself_and_its_alert(
    db, games, braze_sim, resources, instance
):
    games.put(NYK, "NYK", "BOS", TIPOFF)
    assert execute("braze_sync_job", resources=resources, instance=instance).success
    foreign_id = behind_our_back(braze_sim, NYK, "NYK", "BOS")
    tick(instance, resources)
    assert len(alerts_of(db, "foreign_schedule")) == 1

    with make_braze_client(braze_sim) as client:  # someone cancels it in the Braze dashboard
        assert client.delete_schedule(CAMPAIGN, foreign_id).succeeded
    tick(instance, resources)
    assert alerts_of(db, "foreign_schedule") == []
    with db.connect() as conn:
        assert conn.execute(sa.text("SELECT status FROM foreign_schedules")).scalar_one() == "gone"
        assert health_overview(conn, at())["sync_entities"]["notifications_sync"]["status"] != "CRITICAL"


def test_adopted_foreign_schedule_is_never_left_to_the_send_guard_when_its_game_moves(
    db, games, braze_sim, resources, instance, clock
):
    """It carries no send id of ours: the guard could not refuse it at its old time. So a move
    is a CRITICAL "cannot be changed" alert, not a second schedule beside it."""
    resources = {**resources, "notification_policy": NotificationPolicyResource(send_guard="on")}
    games.put(NYK, "NYK", "BOS", TIPOFF)
    refresh_desired(db, NotificationPolicyResource().policy(CAMPAIGN), now=clock())
    foreign_id = behind_our_back(braze_sim, NYK, "NYK", "BOS")
    tick(instance, resources)
    assert ledger_rows(db)[0]["state"] == "unidentified"

    games.move(NYK, TIPOFF + timedelta(hours=1))
    execute("braze_sync_job", resources=resources, instance=instance)
    assert [s["schedule_id"] for s in live_schedules(braze_sim, NYK)] == [foreign_id]
    [alert] = alerts_of(db, "ambiguous_schedule")
    assert alert["severity"] == "CRITICAL" and NYK in alert["title"] and "cannot be changed" in alert["title"]
