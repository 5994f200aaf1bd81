"""Seed 002's seven race scenarios, replayed with real concurrent runs (threads), the real
simulator over HTTP and a real PostgreSQL. Each run's lease is short where the scenario needs
"the lock expired while a Braze call was in flight"; checkpoints pause a run exactly there.

Every test ends by asserting DESIGN §3's invariants on Braze's ground truth."""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from nba_notify.lib.ledger.lease import Lease, lease_name
from nba_notify.lib.ledger.reconcile import reconcile
from nba_notify.lib.ledger.service import refresh_desired
from nba_notify.lib.ledger.sync import run_sync
from nba_notify_tests.notifications.conftest import (
    CAMPAIGN,
    assert_invariants,
    at,
    braze_truth,
    ledger_rows,
    live_schedules,
    make_braze_client,
    scheduled_time,
)
from nba_notify_tests.notifications.interleave import Pauses, start

GAME = "0022600301"
SHORT_LEASE = 0.3  # seconds: "the lock expired while the Braze call was in flight"


@pytest.fixture
def slow_policy(policy):
    """A caller that claimed a call a moment ago may still be alive: leave it alone."""
    return dataclasses.replace(policy, in_flight_grace_seconds=60.0)


def calls(sim) -> Counter:
    return Counter(braze_truth(sim)["calls"])


def sync(engine, sim, policy, clock, **kwargs):
    client = make_braze_client(sim)
    try:
        return run_sync(engine, client, policy, clock=clock, lease_wait_seconds=10, **kwargs)
    finally:
        client.close()


def test_scenario_1_second_scheduler_waits_for_the_lease_then_skips_unchanged(
    db, games, braze_sim, clock, policy
):
    games.put(GAME, "NYK", "BOS", at(hours=4))
    refresh_desired(db, policy, now=clock())
    pauses = Pauses(at=("after_claim",))
    a = start(lambda: sync(db, braze_sim, policy, clock, checkpoint=pauses), "A")
    pauses.wait("after_claim")
    b = start(lambda: sync(db, braze_sim, policy, clock), "B")  # waits: A holds a live lease
    pauses.release("after_claim")
    report_a, report_b = a.result(), b.result()
    assert report_a.counts["created"] == 1
    assert report_b.write_calls == 0 and report_b.counts["skipped_unchanged"] == 1
    assert calls(braze_sim)["braze.create"] == 1
    assert len(live_schedules(braze_sim, GAME)) == 1
    assert_invariants(db, braze_sim, clock(), policy)


def test_scenario_2_kickoff_moved_racing_runs_make_exactly_one_update_call(
    db, games, braze_sim, clock, slow_policy
):
    games.put(GAME, "NYK", "BOS", at(hours=4))
    refresh_desired(db, slow_policy, now=clock())
    sync(db, braze_sim, slow_policy, clock)
    games.move(GAME, at(hours=4, minutes=5))
    refresh_desired(db, slow_policy, now=clock())

    pauses = Pauses(at=("after_claim",))
    a = start(
        lambda: sync(db, braze_sim, slow_policy, clock, checkpoint=pauses, lease_ttl_seconds=SHORT_LEASE), "A"
    )
    pauses.wait("after_claim")
    report_b = sync(db, braze_sim, slow_policy, clock)  # takes over the expired lease
    assert report_b.write_calls == 0, "B must not repeat A's in-flight update"
    assert report_b.counts["unresolved_waiting"] == 1
    pauses.release("after_claim")
    report_a = a.result()
    # A's fenced write-back lost; it took the lease again and adopted its own recorded outcome.
    assert report_a.lost_fence and report_a.counts["adopted"] == 1 and report_a.counts["settle_runs"] == 1

    report_c = sync(db, braze_sim, slow_policy, clock)
    assert report_c.write_calls == 0 and report_c.counts["skipped_unchanged"] == 1
    assert calls(braze_sim)["braze.update"] == 1
    (live,) = live_schedules(braze_sim, GAME)
    assert scheduled_time(live) == at(hours=3, minutes=5)
    (row,) = ledger_rows(db)
    assert row["state"] == "scheduled" and row["braze_schedule_id"] == live["schedule_id"]
    assert_invariants(db, braze_sim, clock(), slow_policy)


def test_scenario_3_in_flight_create_is_never_mistaken_for_a_schedule(
    db, games, braze_sim, clock, slow_policy
):
    games.put(GAME, "NYK", "BOS", at(hours=4))
    refresh_desired(db, slow_policy, now=clock())
    pauses = Pauses(at=("after_claim",))
    a = start(
        lambda: sync(db, braze_sim, slow_policy, clock, checkpoint=pauses, lease_ttl_seconds=SHORT_LEASE), "A"
    )
    pauses.wait("after_claim")
    report_b = sync(db, braze_sim, slow_policy, clock)
    # No placeholder id to compare signatures against: B sees an unresolved intent.
    assert report_b.counts["unresolved_waiting"] == 1
    assert report_b.counts["skipped_unchanged"] == 0 and report_b.write_calls == 0
    pauses.release("after_claim")
    assert a.result().counts["adopted"] == 1
    assert sync(db, braze_sim, slow_policy, clock).write_calls == 0
    assert calls(braze_sim)["braze.create"] == 1
    assert len(live_schedules(braze_sim, GAME)) == 1
    assert_invariants(db, braze_sim, clock(), slow_policy)


def test_scenario_4_jitter_of_one_second_makes_no_update_call(db, games, braze_sim, clock, slow_policy):
    games.put(GAME, "NYK", "BOS", at(hours=4))
    refresh_desired(db, slow_policy, now=clock())
    pauses = Pauses(at=("after_claim",))
    a = start(
        lambda: sync(db, braze_sim, slow_policy, clock, checkpoint=pauses, lease_ttl_seconds=SHORT_LEASE), "A"
    )
    pauses.wait("after_claim")
    for jitter in (timedelta(seconds=1), timedelta(seconds=-1)):  # 15:00:01 and 14:59:59
        games.move(GAME, at(hours=4) + jitter)
        refresh_desired(db, slow_policy, now=clock())
        report_b = sync(db, braze_sim, slow_policy, clock)
        assert report_b.write_calls == 0
    pauses.release("after_claim")
    assert a.result().counts["adopted"] == 1  # A settles: adopts its own schedule
    report = sync(db, braze_sim, slow_policy, clock)
    assert report.write_calls == 0 and report.counts["skipped_unchanged"] == 1
    assert calls(braze_sim)["braze.update"] == 0 and calls(braze_sim)["braze.create"] == 1
    assert_invariants(db, braze_sim, clock(), slow_policy)


def test_scenario_5_simultaneous_lease_acquisition_has_exactly_one_winner(db):
    name = lease_name(CAMPAIGN)
    barrier = threading.Barrier(8)
    winners: list[Lease] = []
    lock = threading.Lock()

    def contend(i: int) -> None:
        barrier.wait()
        lease = Lease.try_acquire(db, name, f"racer-{i}", ttl_seconds=30)
        if lease is not None:
            with lock:
                winners.append(lease)

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1


def test_scenario_5_simultaneous_schedulers_create_exactly_once(db, games, braze_sim, clock, policy):
    games.put(GAME, "NYK", "BOS", at(hours=4))
    games.put("0022600302", "GSW", "LAL", at(hours=6))
    refresh_desired(db, policy, now=clock())
    barrier = threading.Barrier(3)

    def racer():
        barrier.wait()
        return sync(db, braze_sim, policy, clock)

    runners = [start(racer, f"S{i}") for i in range(3)]
    reports = [r.result() for r in runners]
    assert sum(r.counts["created"] for r in reports) == 2
    assert calls(braze_sim)["braze.create"] == 2
    assert len(live_schedules(braze_sim)) == 2
    assert_invariants(db, braze_sim, clock(), policy)


@pytest.mark.parametrize("lease_expires", [False, True], ids=["write_back_wins", "write_back_loses"])
def test_scenario_6_update_returning_new_id_never_cancels_the_live_schedule(
    db, games, braze_sim, clock, slow_policy, lease_expires
):
    games.put(GAME, "NYK", "BOS", at(hours=4))
    refresh_desired(db, slow_policy, now=clock())
    sync(db, braze_sim, slow_policy, clock)
    (old,) = live_schedules(braze_sim, GAME)
    games.move(GAME, at(hours=4, minutes=30))
    refresh_desired(db, slow_policy, now=clock())
    # Braze answers the update with a NEW schedule id and keeps the old one live (seed 002).
    braze_sim.control.add_fault("new_id_on_update", route="braze.update", times=1, params={"keep_old": True})

    pauses = Pauses(at=("after_claim",))
    ttl = SHORT_LEASE if lease_expires else 30.0
    a = start(lambda: sync(db, braze_sim, slow_policy, clock, checkpoint=pauses, lease_ttl_seconds=ttl), "A")
    pauses.wait("after_claim")
    b = start(lambda: sync(db, braze_sim, slow_policy, clock), "B")
    if lease_expires:
        assert b.result().write_calls == 0  # B leaves A's in-flight update alone
    pauses.release("after_claim")
    a.result()
    b.result()
    # Converged when A finished (its own write-back or its settle run): no reconcile needed.
    (live,) = live_schedules(braze_sim, GAME)
    reconcile_client = make_braze_client(braze_sim)
    assert reconcile(db, reconcile_client, slow_policy, clock=clock, lease_wait_seconds=10).write_calls == 0
    reconcile_client.close()

    (row,) = ledger_rows(db)
    (live,) = live_schedules(braze_sim, GAME)
    assert row["braze_schedule_id"] == live["schedule_id"] != old["schedule_id"]
    assert scheduled_time(live) == at(hours=3, minutes=30)
    cancelled = {s["schedule_id"] for s in braze_truth(braze_sim)["schedules"] if s["status"] == "cancelled"}
    assert cancelled == {old["schedule_id"]}, "only the superseded id is ever cancelled"
    # The push goes out once per fan.
    braze_sim.control.advance(4 * 3600)
    truth = braze_truth(braze_sim)
    assert truth["messages"][GAME] and set(truth["messages"][GAME].values()) == {1}
    assert_invariants(db, braze_sim, clock(), slow_policy)


@pytest.mark.parametrize("list_mode", ["listed", "never_listed"])
def test_scenario_7_reconcile_during_an_in_flight_create_cancels_nothing(
    db, games, braze_sim, clock, slow_policy, list_mode
):
    if list_mode == "never_listed":
        braze_sim.control.add_fault("list_lag", route="braze.list", params={"never": True})
    games.put(GAME, "NYK", "BOS", at(hours=4))
    refresh_desired(db, slow_policy, now=clock())
    pauses = Pauses(at=("after_claim",))
    a = start(
        lambda: sync(db, braze_sim, slow_policy, clock, checkpoint=pauses, lease_ttl_seconds=SHORT_LEASE), "A"
    )
    pauses.wait("after_claim")
    client = make_braze_client(braze_sim)
    report_r = reconcile(db, client, slow_policy, clock=clock, lease_wait_seconds=10)
    assert report_r.braze_calls["delete"] == 0
    pauses.release("after_claim")
    assert a.result().counts["adopted"] == 1
    report_r2 = reconcile(db, client, slow_policy, clock=clock, lease_wait_seconds=10)
    client.close()
    assert report_r2.braze_calls["delete"] == 0
    assert calls(braze_sim)["braze.delete"] == 0
    assert len(live_schedules(braze_sim, GAME)) == 1
    with db.connect() as conn:
        state = conn.execute(sa.text("SELECT state FROM schedule_ledger")).scalar_one()
    assert state == "scheduled"
    assert_invariants(db, braze_sim, clock(), slow_policy)


def test_scenario_2_across_days_a_game_rescheduled_to_the_next_day_is_one_update_under_racing_runs(
    db, games, braze_sim, clock, slow_policy
):
    games.put(GAME, "NYK", "BOS", at(hours=4))
    refresh_desired(db, slow_policy, now=clock())
    sync(db, braze_sim, slow_policy, clock)
    games.move(GAME, at(hours=28))  # the league moves it to tomorrow: same game, new day
    refresh_desired(db, slow_policy, now=clock())

    pauses = Pauses(at=("after_claim",))
    a = start(
        lambda: sync(db, braze_sim, slow_policy, clock, checkpoint=pauses, lease_ttl_seconds=SHORT_LEASE), "A"
    )
    pauses.wait("after_claim")
    report_b = sync(db, braze_sim, slow_policy, clock)
    assert report_b.write_calls == 0 and report_b.counts["unresolved_waiting"] == 1
    pauses.release("after_claim")
    a.result()
    assert calls(braze_sim)["braze.update"] == 1 and calls(braze_sim)["braze.create"] == 1
    (live,) = live_schedules(braze_sim, GAME)
    assert scheduled_time(live) == at(hours=27)
    (row,) = ledger_rows(db)
    assert row["state"] == "scheduled" and row["send_at_utc"] == at(hours=27)
    braze_sim.control.set_clock(at(hours=28))
    assert set(braze_truth(braze_sim)["messages"][GAME].values()) == {1}
    assert list(braze_truth(braze_sim)["push_times"][GAME]) == [at(hours=27).strftime("%Y-%m-%dT%H:%M:%SZ")]
    assert_invariants(db, braze_sim, clock(), slow_policy)
