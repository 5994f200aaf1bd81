"""The send guard: Braze asks it at send time (Connected Content) and aborts a push it refuses.
It turns "a schedule we could not see or change" from a wrong push into none — and lets the sync
create again under it without risking a fan's second push. Judged by what users received."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa

from nba_notify.lib.ledger.service import sync_once
from nba_notify_tests.notifications.conftest import (
    CURRENTS_TOKEN,
    at,
    braze_truth,
    ledger_rows,
    make_braze_client,
)

NYK = "0022600301"


@pytest.fixture
def braze(braze_sim):
    client = make_braze_client(braze_sim, read_timeout=0.4)
    yield client
    client.close()


def guard(webhook_server, token: str | None = CURRENTS_TOKEN, **params) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(f"{webhook_server.url}/braze/send-guard", params=params, headers=headers, timeout=10)


def row(db) -> dict:
    (only,) = ledger_rows(db)
    return only


def pushes(sim, game: str = NYK) -> tuple[dict, list]:
    truth = braze_truth(sim)
    return truth["messages"].get(game, {}), list(truth["push_times"].get(game, {}))


def iso(when) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_the_guard_refuses_withdrawn_stale_and_second_dispatches_and_fails_open_on_unknown_ids(
    games, braze_sim, braze, clock, policy, db, webhook_server
):
    games.put(NYK, "NYK", "BOS", at(hours=4))
    sync_once(db, braze, policy, clock=clock)
    send_id = row(db)["send_id"]
    assert guard(webhook_server, token=None, send_id=send_id).status_code == 401
    assert guard(webhook_server, send_id="").status_code == 400
    assert guard(webhook_server, send_id="not-ours").json() == {"send": True, "reason": "not_ours"}
    stale = guard(webhook_server, send_id=send_id, dispatch_id="d1", send_at=iso(at(hours=2)))
    assert stale.json() == {"send": False, "reason": "stale_time"}
    assert (
        guard(webhook_server, send_id=send_id, dispatch_id="d1", send_at=iso(at(hours=3))).json()["send"]
        is True
    )
    assert (
        guard(webhook_server, send_id=send_id, dispatch_id="d1", send_at=iso(at(hours=3))).json()["send"]
        is True
    )
    second = guard(webhook_server, send_id=send_id, dispatch_id="d2", send_at=iso(at(hours=3))).json()
    assert second == {"send": False, "reason": "other_dispatch_sending"}
    games.set_status(NYK, "postponed")
    assert guard(webhook_server, send_id=send_id, dispatch_id="d1").json() == {
        "send": False,
        "reason": "withdrawn_postponed",
    }
    with db.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM send_guard_decisions")).scalar_one() == 6


def test_a_stale_schedule_we_could_not_move_is_aborted_at_send_time_instead_of_pushing_wrongly(
    games, braze_sim, braze, clock, policy, db
):
    games.put(NYK, "NYK", "BOS", at(hours=4))
    braze_sim.control.add_fault("timeout_after_apply", "braze.create", times=1, params={"seconds": 1.0})
    sync_once(db, braze, policy, clock=clock)
    sync_once(db, braze, policy, clock=clock)
    assert row(db)["state"] == "unidentified"  # live at Braze, id never returned
    games.move(NYK, at(hours=5))  # guard not yet proven live: the sync cannot move it
    assert sync_once(db, braze, policy, clock=clock).skip_reasons["unidentified_cannot_update"] == 1
    braze_sim.control.set_clock(at(hours=3, minutes=5))
    per_user, times = pushes(braze_sim)
    assert per_user == {} and times == []  # no push at the stale time
    assert braze_truth(braze_sim)["aborted_schedules"] == 1


def test_with_the_guard_live_a_stale_schedule_is_abandoned_and_the_game_pushed_once_at_its_new_time(
    games, braze_sim, braze, clock, policy, db
):
    guarded = dataclasses.replace(policy, send_guard="on")
    games.put(NYK, "NYK", "BOS", at(hours=4))
    braze_sim.control.add_fault("timeout_after_apply", "braze.create", times=1, params={"seconds": 1.0})
    sync_once(db, braze, guarded, clock=clock)
    sync_once(db, braze, guarded, clock=clock)
    assert row(db)["state"] == "unidentified"
    games.move(NYK, at(hours=5))
    report = sync_once(db, braze, guarded, clock=clock)
    assert report.counts["left_to_send_guard"] == 1 and report.counts["created"] == 1
    braze_sim.control.set_clock(at(hours=5, minutes=5))
    braze_sim.control.flush_braze_outbox()
    per_user, times = pushes(braze_sim)
    assert set(per_user.values()) == {1} and times == [iso(at(hours=4))]
    assert row(db)["state"] == "sent"


def test_an_unproven_create_is_created_again_at_the_deadline_and_the_guard_lets_one_through(
    games, braze_sim, braze, clock, policy, db
):
    guarded = dataclasses.replace(policy, send_guard="on")
    braze_sim.control.add_fault("list_lag", "braze.list", params={"never": True})
    games.put(NYK, "NYK", "BOS", at(hours=4))
    braze_sim.control.add_fault(
        "timeout_after_apply", "braze.create", times=1, params={"seconds": 1.0}
    )  # landed
    sync_once(db, braze, guarded, clock=clock)
    braze_sim.control.set_clock(at(hours=3) - timedelta(minutes=40))  # past the decision deadline
    assert sync_once(db, braze, guarded, clock=clock).counts["created"] == 1
    live = [s for s in braze_truth(braze_sim)["schedules"] if s["status"] == "scheduled"]
    assert len(live) == 2  # the lost one and its re-creation: the guard decides at send time
    braze_sim.control.set_clock(at(hours=3, minutes=5))
    braze_sim.control.flush_braze_outbox()
    per_user, times = pushes(braze_sim)
    assert set(per_user.values()) == {1} and times == [iso(at(hours=3))]
    assert braze_truth(braze_sim)["aborted_schedules"] == 1


def test_an_unreachable_guard_never_silences_a_push(games, braze_sim, braze, clock, policy, db):
    braze_sim.sim.config.braze_send_guard_url = "http://127.0.0.1:9/braze/send-guard"  # nothing listens
    games.put(NYK, "NYK", "BOS", at(hours=4))
    sync_once(db, braze, policy, clock=clock)
    braze_sim.control.set_clock(at(hours=3, minutes=5))
    per_user, times = pushes(braze_sim)
    assert set(per_user.values()) == {1} and times == [iso(at(hours=3))]
