"""The sync against the real simulator and PostgreSQL, one scheduler at a time: what each
change in the games table costs at Braze, and what it leaves in the ledger and logs."""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from nba_notify.lib.ledger.service import sync_once
from nba_notify_tests.notifications.conftest import (
    at,
    braze_truth,
    ledger_rows,
    live_schedules,
    make_braze_client,
    scheduled_time,
    scheduler_log,
)


def test_first_sync_creates_one_schedule_per_game_at_tipoff_minus_lead(
    games, braze, braze_sim, clock, policy, db
):
    games.put("0022600301", "NYK", "BOS", at(hours=4, minutes=30))
    games.put("0022600302", "GSW", "LAL", at(hours=7))
    report = sync_once(db, braze, policy, clock=clock)
    assert report.counts["created"] == 2 and report.write_calls == 2, report.as_metadata()
    live = {s["game_id"]: s for s in live_schedules(braze_sim)}
    assert scheduled_time(live["0022600301"]) == at(hours=3, minutes=30)
    assert scheduled_time(live["0022600302"]) == at(hours=6)
    assert {r["state"] for r in ledger_rows(db)} == {"scheduled"}


def test_unchanged_resync_makes_no_braze_calls(games, braze, braze_sim, clock, policy, db):
    games.put("0022600301", "NYK", "BOS", at(hours=4))
    sync_once(db, braze, policy, clock=clock)
    before = braze_truth(braze_sim)["calls"]
    report = sync_once(db, braze, policy, clock=clock)
    after = braze_truth(braze_sim)["calls"]
    assert report.write_calls == 0 and report.counts["skipped_unchanged"] == 1
    assert before == after


# -- send identifiers -------------------------------------------------------------------------

GAME = "0022600301"


def send_id_calls(sim) -> int:
    return braze_truth(sim)["calls"]["braze.send_id_create"]


def test_sync_creates_each_send_id_once_before_its_first_schedule_create(
    games, braze, braze_sim, clock, policy, db
):
    games.put(GAME, "NYK", "BOS", at(hours=4))
    games.put("0022600302", "GSW", "LAL", at(hours=7))
    report = sync_once(db, braze, policy, clock=clock)
    assert report.send_id_calls == 2 and report.counts["send_ids_created"] == 2
    assert report.write_calls == 2, "send ids are not schedule writes"
    rows = {r["game_id"]: r for r in ledger_rows(db)}
    truth = braze_truth(braze_sim)
    assert sorted(s["send_id"] for s in truth["send_ids"]) == sorted(r["send_id"] for r in rows.values())
    assert all(r["send_id_created_at"] is not None for r in rows.values())
    for live in live_schedules(braze_sim):
        assert live["send_id"] == rows[live["game_id"]]["send_id"]
    # The simulator rejects a create naming an uncreated send id; the log shows the order too.
    assert [(a, g) for a, _r, g in scheduler_log(db) if a in ("send_id_created", "created")] == [
        ("send_id_created", GAME),
        ("created", GAME),
        ("send_id_created", "0022600302"),
        ("created", "0022600302"),
    ]
    assert report.as_metadata()["braze_send_id_calls"] == 2


def test_resync_move_cancel_and_return_never_create_another_send_id(
    games, braze, braze_sim, clock, policy, db
):
    games.put(GAME, "NYK", "BOS", at(hours=4))
    assert sync_once(db, braze, policy, clock=clock).send_id_calls == 1
    unchanged = sync_once(db, braze, policy, clock=clock)
    games.move(GAME, at(hours=4, minutes=30))
    moved = sync_once(db, braze, policy, clock=clock)
    games.set_status(GAME, "postponed")
    cancelled = sync_once(db, braze, policy, clock=clock)
    games.set_status(GAME, "scheduled")
    back = sync_once(db, braze, policy, clock=clock)
    assert (
        unchanged.write_calls,
        moved.counts["updated"],
        cancelled.counts["cancelled"],
        back.counts["created"],
    ) == (0, 1, 1, 1)
    assert [r.send_id_calls for r in (unchanged, moved, cancelled, back)] == [0, 0, 0, 0]
    assert send_id_calls(braze_sim) == 1
    (row,) = ledger_rows(db)
    (live,) = live_schedules(braze_sim, GAME)
    assert live["send_id"] == row["send_id"] and scheduled_time(live) == at(hours=3, minutes=30)


def test_send_id_daily_limit_leaves_intents_planned_with_a_logged_reason_until_the_next_day(
    games, braze, braze_sim, clock, policy, db
):
    httpx.post(
        f"{braze_sim.url}/_sim/braze/config", json={"send_id_daily_limit": 2}, timeout=10
    ).raise_for_status()
    # Creates go in intent-key order: these game ids sort as listed.
    matchups = [
        ("0022600301", "NYK", "BOS"),
        ("0022600302", "GSW", "LAL"),
        ("0022600303", "CHI", "MIA"),
        ("0022600304", "PHX", "DEN"),
    ]
    tonight = [game for game, _, _ in matchups]
    for n, (game, home, away) in enumerate(
        matchups
    ):  # tip-offs 03:00-04:30 UTC tomorrow: sends after midnight
        games.put(game, home, away, at(hours=12, minutes=30 * n))

    first = sync_once(db, braze, policy, clock=clock)
    assert first.counts["created"] == 2 and first.write_calls == 2
    assert {s["game_id"] for s in live_schedules(braze_sim)} == set(tonight[:2])
    assert first.send_id_calls == 3, "one 429, then no more send-id calls this run"
    assert first.skip_reasons["send_id_rate_limited"] == 1
    (error,) = first.errors
    assert error["game_id"] == tonight[2] and error["reason"] == "send_id_rate_limited"
    assert error["category"] == "RATE_LIMIT" and error["http_status"] == 429
    assert ("error", "send_id_rate_limited", tonight[2]) in scheduler_log(db)
    assert ("skipped", "send_id_rate_limited", tonight[3]) in scheduler_log(db)
    rows = {r["game_id"]: r for r in ledger_rows(db)}
    for game in tonight[2:]:
        assert rows[game]["state"] == "planned" and rows[game]["send_id_created_at"] is None
        assert live_schedules(braze_sim, game) == []
    assert braze_truth(braze_sim)["calls"]["braze.create"] == 2, "never a create without its send id"

    again = sync_once(db, braze, policy, clock=clock)  # same day: still refused, nothing created
    assert again.send_id_calls == 1 and again.write_calls == 0

    braze_sim.control.advance(9 * 3600)  # 2026-11-25 00:00Z: Braze's daily allowance renews
    next_day = sync_once(db, braze, policy, clock=clock)
    assert (
        next_day.counts["send_ids_created"] == 2 and next_day.counts["created"] == 2 and not next_day.errors
    )
    assert {r["state"] for r in ledger_rows(db)} == {"scheduled"}
    assert len(live_schedules(braze_sim)) == 4
    assert braze_truth(braze_sim)["send_ids_created_per_day"] == {"2026-11-24": 2, "2026-11-25": 2}


def test_ambiguous_create_still_correlates_the_currents_send_by_send_id(games, braze_sim, clock, policy, db):
    games.put(GAME, "NYK", "BOS", at(hours=4))
    braze_sim.control.add_fault("timeout_after_apply", route="braze.create", times=1, params={"seconds": 1.0})
    client = make_braze_client(braze_sim, read_timeout=0.4)
    try:
        report = sync_once(db, client, policy, clock=clock)
        assert report.counts["unknown"] == 1 and report.send_id_calls == 1
        (row,) = ledger_rows(db)
        assert row["state"] == "unknown" and row["braze_schedule_id"] is None
        (live,) = live_schedules(braze_sim, GAME)  # Braze has it; we never learned its id
        assert live["send_id"] == row["send_id"]
        again = sync_once(db, client, policy, clock=clock)
        assert again.write_calls == 0 and again.send_id_calls == 0
    finally:
        client.close()

    braze_sim.control.advance(4 * 3600)  # the push goes out; Currents carries our send_id
    (row,) = ledger_rows(db)
    assert row["state"] == "sent" and row["dispatch_id"] == live["dispatch_id"]
    with db.connect() as conn:
        sends = conn.execute(sa.text("SELECT send_id, intent_key, matched FROM notification_sends")).all()
    assert sends and all(
        s.matched and s.send_id == row["send_id"] and s.intent_key == row["intent_key"] for s in sends
    )
    assert set(braze_truth(braze_sim)["messages"][GAME].values()) == {1}
