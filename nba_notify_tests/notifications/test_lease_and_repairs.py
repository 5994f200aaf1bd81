"""The lease and fencing in isolation, the decisions the sync logs, and the repair runs
(pre-send verification, reconcile) against the simulator and PostgreSQL."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from nba_notify.lib.errors import ErrorCategory, PipelineError
from nba_notify.lib.ledger.lease import FenceLost, Lease, lease_name
from nba_notify.lib.ledger.reconcile import pre_send_verification, reconcile
from nba_notify.lib.ledger.service import sync_once
from nba_notify_tests.notifications.conftest import CAMPAIGN, at, braze_truth, ledger_rows, live_schedules

NAME = lease_name(CAMPAIGN)
GAME = "0022600301"


def test_second_scheduler_cannot_overwrite_newer_fence(db):
    a = Lease.acquire(db, NAME, "A", ttl_seconds=0.1)
    time.sleep(0.15)  # A pauses past its lease
    b = Lease.acquire(db, NAME, "B", ttl_seconds=30)
    assert b.fence == a.fence + 1
    with pytest.raises(FenceLost):
        with a.fenced() as conn:
            conn.execute(sa.text("SELECT 1"))
    with pytest.raises(FenceLost):
        a.renew()
    with b.fenced() as conn:
        conn.execute(sa.text("SELECT 1"))
    a.release()  # a stale holder's release is a no-op
    assert Lease.try_acquire(db, NAME, "C", ttl_seconds=30) is None


def test_live_lease_keeps_others_out_until_released(db):
    a = Lease.acquire(db, NAME, "A", ttl_seconds=30)
    with pytest.raises(PipelineError) as raised:
        Lease.acquire(db, NAME, "B", ttl_seconds=30, wait_seconds=0.1)
    assert raised.value.category is ErrorCategory.TIMEOUT and raised.value.details["current_holder"] == "A"
    a.release()
    assert Lease.acquire(db, NAME, "B", ttl_seconds=30).fence == a.fence + 1


def logged(db) -> list[tuple[str, str | None]]:
    with db.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                sa.text(
                    "SELECT action, reason FROM scheduler_logs WHERE action NOT IN ('skipped_unchanged') ORDER BY id"
                )
            )
        ]


def test_update_buffer_and_missed_window_skips_are_logged_with_reasons(
    db, games, braze, braze_sim, clock, policy
):
    games.put(GAME, "NYK", "BOS", at(hours=1, minutes=30))  # send in 30 min
    games.put("0022600302", "GSW", "LAL", at(minutes=61))  # send in 1 min: too late
    sync_once(db, braze, policy, clock=clock)
    games.move(GAME, at(hours=1, minutes=45))  # moved while the send is 30 -> 15 min away
    braze_sim.control.advance(15 * 60)
    report = sync_once(db, braze, policy, clock=clock)
    assert report.write_calls == 0
    assert ("skipped", "inside_update_buffer") in logged(db)
    assert ("skipped", "missed_window") in logged(db)
    assert ("created", "new") in logged(db)


def test_pre_send_verification_recreates_a_schedule_deleted_behind_our_back(
    db, games, braze, braze_sim, clock, policy
):
    braze_sim.control.add_fault("list_lag", route="braze.list", params={"never": True})
    games.put(GAME, "NYK", "BOS", at(hours=2))
    sync_once(db, braze, policy, clock=clock)
    (gone,) = live_schedules(braze_sim, GAME)
    assert braze.delete_schedule(CAMPAIGN, gone["schedule_id"]).succeeded  # someone in the dashboard
    braze_sim.control.advance(30 * 60)  # send in 30 min: its last check before the update buffer
    result = pre_send_verification(db, braze, policy, clock=clock)
    assert result.vanished == [GAME] and result.recreated == 1
    (live,) = live_schedules(braze_sim, GAME)
    assert live["schedule_id"] != gone["schedule_id"]
    assert ledger_rows(db)[0]["braze_schedule_id"] == live["schedule_id"]


def test_pre_send_verification_proven_by_the_list_costs_no_writes(db, games, braze, braze_sim, clock, policy):
    games.put(GAME, "NYK", "BOS", at(hours=2))
    sync_once(db, braze, policy, clock=clock)
    braze_sim.control.advance(30 * 60)
    before = braze_truth(braze_sim)["calls"]
    result = pre_send_verification(db, braze, policy, clock=clock)
    after = braze_truth(braze_sim)["calls"]
    assert result.verified_by_list == 1 and result.verified_by_probe == 0
    assert after["braze.update"] == before["braze.update"] and after["braze.list"] == before["braze.list"] + 1


def test_reconcile_expires_rows_long_past_their_send_without_a_send_event(
    db, games, braze, braze_sim, clock, policy
):
    braze_sim.sim.config.currents_url = None  # the confirmations never arrive
    games.put(GAME, "NYK", "BOS", at(hours=2))
    sync_once(db, braze, policy, clock=clock)
    braze_sim.control.advance(27 * 3600)
    report = reconcile(db, braze, policy, clock=clock)
    assert report.counts["expired"] == 1 and report.write_calls == 0
    assert ledger_rows(db)[0]["state"] == "expired"
