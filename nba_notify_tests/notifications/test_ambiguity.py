"""The ambiguity policy against the simulated Braze over HTTP: every call whose outcome we cannot
know is alerted at once (naming the earliest push at risk), verified by the scheduled-broadcasts
list, and — without evidence — held, never re-created on a guess. Judged by what users received."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from nba_notify.cli import main as cli
from nba_notify.lib.ledger.service import resolve_unknown, sync_once
from nba_notify_tests.notifications.conftest import (
    CAMPAIGN,
    T0,
    at,
    braze_truth,
    ledger_rows,
    live_schedules,
    make_braze_client,
)

NYK, GSW = "0022600301", "0022600302"
LEAD = timedelta(minutes=60)


@pytest.fixture
def braze(braze_sim):
    client = make_braze_client(braze_sim, read_timeout=0.4)
    yield client
    client.close()


def sync(db, braze, policy, clock):
    return sync_once(db, braze, policy, clock=clock, lease_wait_seconds=10)


def row_of(db, game: str) -> dict:
    return next(r for r in ledger_rows(db) if r["game_id"] == game)


def ambiguity_alerts(db, *, open_only: bool = True) -> list[dict]:
    with db.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                sa.text(
                    "SELECT dedupe_key, status, severity, title, details, first_seen_at, occurrences FROM alerts "
                    "WHERE rule_key = 'ambiguous_schedule'"
                    + (" AND status <> 'RESOLVED'" if open_only else "")
                )
            ).mappings()
        ]


def pushes(sim, game: str) -> tuple[dict[str, int], list[str]]:
    truth = braze_truth(sim)
    return truth["messages"].get(game, {}), list(truth["push_times"].get(game, {}))


def deliver_through(sim, when: datetime) -> None:
    sim.control.set_clock(when)
    sim.control.flush_braze_outbox()


def iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_create_that_timed_out_after_braze_applied_it_is_proven_present_and_pushed_once(
    games, braze_sim, braze, clock, policy, db
):
    games.put(NYK, "NYK", "BOS", at(hours=4))
    braze_sim.control.add_fault("timeout_after_apply", "braze.create", times=1, params={"seconds": 1.0})
    first = sync(db, braze, policy, clock)
    assert first.counts["unknown"] == 1
    [alert] = ambiguity_alerts(db)  # at once, not hours later
    assert (
        alert["severity"] == "CRITICAL"
        and alert["details"]["earliest_send_at_risk"] == at(hours=3).isoformat()
    )
    assert at(hours=3) - alert["first_seen_at"] >= timedelta(minutes=30)

    second = sync(db, braze, policy, clock)
    assert second.counts["evidence_present"] == 1 and second.write_calls == 0
    assert row_of(db, NYK)["state"] == "unidentified"
    assert ambiguity_alerts(db) == []  # settled by evidence: the alert is resolved
    deliver_through(braze_sim, at(hours=4))
    per_user, times = pushes(braze_sim, NYK)
    assert set(per_user.values()) == {1} and times == [iso(at(hours=3))]
    assert row_of(db, NYK)["state"] == "sent"  # the Currents send carried the intent's send id


def test_a_create_answered_5xx_without_applying_is_proven_absent_and_created_once(
    games, braze_sim, braze, clock, policy, db
):
    games.put(NYK, "NYK", "BOS", at(hours=4))
    games.put(GSW, "GSW", "LAL", at(hours=6))
    braze_sim.control.add_fault("status", "braze.create", times=1, params={"code": 503})
    sync(db, braze, policy, clock)
    assert row_of(db, NYK)["state"] == "unknown" and row_of(db, GSW)["state"] == "scheduled"
    # GSW's create was confirmed after NYK's call ended and the list shows it: NYK's would show too.
    second = sync(db, braze, policy, clock)
    assert second.counts["evidence_absent"] == 1 and second.counts["created"] == 1
    deliver_through(braze_sim, at(hours=7))
    for game, send in ((NYK, at(hours=3)), (GSW, at(hours=5))):
        per_user, times = pushes(braze_sim, game)
        assert set(per_user.values()) == {1} and times == [iso(send)], game


@pytest.mark.parametrize("keep_old", [True, False])
def test_an_update_that_returned_a_new_id_and_timed_out_leaves_one_push_at_the_new_time(
    games, braze_sim, braze, clock, policy, db, keep_old
):
    games.put(NYK, "NYK", "BOS", at(hours=4))
    sync(db, braze, policy, clock)
    games.move(NYK, at(hours=6))
    braze_sim.control.add_fault("new_id_on_update", "braze.update", times=1, params={"keep_old": keep_old})
    braze_sim.control.add_fault("timeout_after_apply", "braze.update", times=1, params={"seconds": 1.0})
    sync(db, braze, policy, clock)
    assert row_of(db, NYK)["state"] == "unknown"
    [alert] = ambiguity_alerts(db)
    assert (
        alert["details"]["earliest_send_at_risk"] == at(hours=3).isoformat()
    )  # the old time may still be live
    assert alert["details"]["new_send_at"] == at(hours=5).isoformat()

    settle = sync(db, braze, policy, clock)
    verdict = "evidence_split" if keep_old else "unidentified"
    assert not settle.errors
    assert settle.counts[verdict] == 1
    assert [s["time"] for s in live_schedules(braze_sim, NYK)] == [iso(at(hours=5))]
    deliver_through(braze_sim, at(hours=7))
    per_user, times = pushes(braze_sim, NYK)
    assert set(per_user.values()) == {1} and times == [iso(at(hours=5))]


def test_an_ambiguous_create_the_list_never_shows_is_held_never_duplicated_and_alerted_in_time(
    games, braze_sim, braze, clock, policy, db
):
    braze_sim.control.add_fault("list_lag", "braze.list", params={"never": True})
    games.put(NYK, "NYK", "BOS", at(hours=4))
    braze_sim.control.add_fault("timeout_after_apply", "braze.create", times=1, params={"seconds": 1.0})
    sync(db, braze, policy, clock)
    [alert] = ambiguity_alerts(db)
    # sync every 15 minutes up to the send: never a second create, and past the deadline the
    # alert escalates (held) instead of guessing
    now = T0
    while now + timedelta(minutes=15) < at(hours=3):
        now += timedelta(minutes=15)
        braze_sim.control.set_clock(now)
        assert sync(db, braze, policy, clock).write_calls == 0
    assert braze_truth(braze_sim)["calls"]["braze.create"] == 1
    [alert] = ambiguity_alerts(db)
    assert "deadline passed" in alert["title"] and alert["occurrences"] >= 2
    assert at(hours=3) - alert["first_seen_at"] >= timedelta(minutes=30)
    deliver_through(braze_sim, at(hours=4))  # the lost create had landed: exactly one push
    per_user, times = pushes(braze_sim, NYK)
    assert set(per_user.values()) == {1} and times == [iso(at(hours=3))]


def test_the_recreate_fallback_creates_again_at_the_deadline_when_the_list_proves_nothing(
    games, braze_sim, braze, clock, policy, db
):
    recreate = dataclasses.replace(policy, ambiguous_create_fallback="recreate")
    braze_sim.control.add_fault("list_lag", "braze.list", params={"never": True})
    games.put(NYK, "NYK", "BOS", at(hours=4))
    braze_sim.control.add_fault("status", "braze.create", times=1, params={"code": 503})  # not applied
    sync(db, braze, recreate, clock)
    assert sync(db, braze, recreate, clock).write_calls == 0  # before the deadline: wait
    braze_sim.control.set_clock(at(hours=3) - timedelta(minutes=40))
    assert sync(db, braze, recreate, clock).counts["created"] == 1
    deliver_through(braze_sim, at(hours=4))
    per_user, _ = pushes(braze_sim, NYK)
    assert set(per_user.values()) == {1}


def test_a_caller_killed_between_claim_and_call_is_settled_by_evidence_without_a_duplicate(
    games, braze_sim, braze, clock, policy, db
):
    games.put(NYK, "NYK", "BOS", at(hours=4))
    games.put(GSW, "GSW", "LAL", at(hours=6))

    class Killed(BaseException):
        pass

    def die_before_the_first_call(name, **context):
        if name == "after_claim" and context["claim"].game_id == NYK:
            raise Killed

    with pytest.raises(Killed):
        sync_once(db, braze, policy, clock=clock, checkpoint=die_before_the_first_call)
    with db.begin() as conn:  # the dead holder's lease lapses
        conn.execute(sa.text("UPDATE scheduler_leases SET expires_at = now() - interval '1 second'"))
    import time

    time.sleep(policy.in_flight_grace_seconds + 0.1)
    sync(db, braze, policy, clock)  # NYK: unknown (caller vanished); GSW created after
    settle = sync(db, braze, policy, clock)
    assert settle.counts["evidence_absent"] == 1 and settle.counts["created"] == 1
    deliver_through(braze_sim, at(hours=7))
    for game in (NYK, GSW):
        assert set(pushes(braze_sim, game)[0].values()) == {1}


def test_an_unidentified_schedule_that_must_change_raises_a_critical_alert(
    games, braze_sim, braze, clock, policy, db
):
    games.put(NYK, "NYK", "BOS", at(hours=4))
    braze_sim.control.add_fault("timeout_after_apply", "braze.create", times=1, params={"seconds": 1.0})
    sync(db, braze, policy, clock)
    sync(db, braze, policy, clock)
    assert row_of(db, NYK)["state"] == "unidentified"
    games.move(NYK, at(hours=5))
    report = sync(db, braze, policy, clock)
    assert report.skip_reasons["unidentified_cannot_update"] == 1
    [alert] = ambiguity_alerts(db)
    assert "cannot be changed" in alert["title"] and alert["severity"] == "CRITICAL"


def test_the_operator_lists_unknown_intents_and_answers_from_the_cli(
    games, braze_sim, braze, clock, policy, db, database_url, monkeypatch, capsys
):
    braze_sim.control.add_fault("list_lag", "braze.list", params={"never": True})
    games.put(NYK, "NYK", "BOS", at(hours=4))
    braze_sim.control.add_fault("status", "braze.create", times=1, params={"code": 503})
    sync(db, braze, policy, clock)
    monkeypatch.setenv("NBA_NOTIFY_DATABASE_URL", database_url)
    monkeypatch.setenv("NBA_NOTIFY_SIM_URL", braze_sim.url)
    monkeypatch.setenv("BRAZE_CAMPAIGN_ID", CAMPAIGN)
    assert cli(["unknown", "list"]) == 0
    listed = capsys.readouterr().out
    intent = row_of(db, NYK)["intent_key"]
    assert intent in listed and f"earliest push at risk {at(hours=3).isoformat()}" in listed
    # the dashboard shows no send for the game: the operator says so, it is created once
    assert (
        cli(["unknown", "resolve", "--intent", intent, "--absent", "--by", "on-call", "--note", "checked"])
        == 0
    )
    assert row_of(db, NYK)["state"] == "planned" and ambiguity_alerts(db) == []
    with db.connect() as conn:
        log = conn.execute(
            sa.text(
                "SELECT reason, details FROM scheduler_logs WHERE action = 'resolved' ORDER BY id DESC LIMIT 1"
            )
        ).one()
    assert log.reason == "operator_absent" and log.details["by"] == "on-call"
    assert sync(db, braze, policy, clock).counts["created"] == 1
    deliver_through(braze_sim, at(hours=4))
    assert set(pushes(braze_sim, NYK)[0].values()) == {1}


def test_operator_exists_without_an_id_makes_the_intent_unidentified(
    games, braze_sim, braze, clock, policy, db
):
    braze_sim.control.add_fault("list_lag", "braze.list", params={"never": True})
    games.put(NYK, "NYK", "BOS", at(hours=4))
    braze_sim.control.add_fault("timeout_after_apply", "braze.create", times=1, params={"seconds": 1.0})
    sync(db, braze, policy, clock)
    intent = row_of(db, NYK)["intent_key"]
    assert resolve_unknown(db, policy, intent, decision="exists", lease_wait_seconds=5).applied
    row = row_of(db, NYK)
    assert (row["state"], row["send_at_utc"]) == ("unidentified", at(hours=3))
    assert sync(db, braze, policy, clock).write_calls == 0
