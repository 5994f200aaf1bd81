"""Crash points (DESIGN §3): a sync process is killed (``os._exit``, no cleanup, lease not
released) at each named point; the next run must converge with exactly one schedule and
never create a second one on a guess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from nba_notify.lib.ledger.service import refresh_desired, resolve_unknown
from nba_notify.lib.ledger.sync import run_sync
from nba_notify_tests.notifications.conftest import (
    assert_invariants,
    at,
    braze_truth,
    ledger_rows,
    live_schedules,
    make_braze_client,
)
from nba_notify_tests.notifications.crashing_sync import KILLED_EXIT_CODE

GAME = "0022600301"
REPO = Path(__file__).resolve().parents[2]


def kill_sync_at(database_url: str, sim_url: str, checkpoint: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "nba_notify_tests.notifications.crashing_sync",
            database_url,
            sim_url,
            checkpoint,
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == KILLED_EXIT_CODE, done.stderr[-2000:]


def next_run(db, sim, policy, clock):
    client = make_braze_client(sim)
    try:
        return run_sync(db, client, policy, clock=clock, lease_wait_seconds=10)
    finally:
        client.close()


@pytest.fixture
def one_game(db, games, braze_sim, clock, policy):
    games.put(GAME, "NYK", "BOS", at(hours=4))
    refresh_desired(db, policy, now=clock())


def creates(sim) -> int:
    return braze_truth(sim)["calls"]["braze.create"]


@pytest.mark.parametrize("checkpoint", ["after_intent_commit", "after_outcome_recorded", "after_write_back"])
def test_killed_sync_is_finished_by_the_next_run_with_exactly_one_schedule(
    one_game, db, braze_sim, clock, policy, database_url, checkpoint
):
    kill_sync_at(database_url, braze_sim.url, checkpoint)
    report = next_run(db, braze_sim, policy, clock)
    expected = {
        "after_intent_commit": "created",
        "after_outcome_recorded": "adopted",
        "after_write_back": "skipped_unchanged",
    }[checkpoint]
    assert report.counts[expected] == 1, report.as_metadata()
    (live,) = live_schedules(braze_sim, GAME)
    (row,) = ledger_rows(db)
    assert row["state"] == "scheduled" and row["braze_schedule_id"] == live["schedule_id"]
    assert creates(braze_sim) == 1
    assert next_run(db, braze_sim, policy, clock).write_calls == 0
    assert_invariants(db, braze_sim, clock(), policy)


def test_killed_after_the_send_id_was_created_creates_it_again_at_no_cost_and_schedules_once(
    one_game, db, braze_sim, clock, policy, database_url
):
    kill_sync_at(database_url, braze_sim.url, "after_send_id_answer")
    (row,) = ledger_rows(db)
    assert row["state"] == "planned" and row["send_id_created_at"] is None  # the answer died with it
    assert [s["send_id"] for s in braze_truth(braze_sim)["send_ids"]] == [row["send_id"]]
    report = next_run(db, braze_sim, policy, clock)
    assert report.send_id_calls == 1 and report.counts["created"] == 1
    truth = braze_truth(braze_sim)
    assert truth["calls"]["braze.send_id_create"] == 2 and truth["applied"]["braze.send_id_create"] == 1
    assert truth["send_ids_created_per_day"] == {"2026-11-24": 1}, "an existing pair is not counted again"
    (live,) = live_schedules(braze_sim, GAME)
    (row,) = ledger_rows(db)
    assert row["state"] == "scheduled" and row["send_id_created_at"] is not None
    assert live["send_id"] == row["send_id"] and creates(braze_sim) == 1
    assert_invariants(db, braze_sim, clock(), policy)


def open_alerts(db) -> list[dict]:
    with db.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                sa.text("SELECT rule_key, severity, title, dedupe_key FROM alerts WHERE status <> 'RESOLVED'")
            ).mappings()
        ]


def test_killed_after_braze_answered_never_recreates_and_evidence_proves_the_schedule(
    one_game, db, braze_sim, clock, policy, database_url
):
    kill_sync_at(database_url, braze_sim.url, "after_braze_answer")
    report = next_run(db, braze_sim, policy, clock)
    # The answer died with the process: no second create; Braze's list shows the schedule
    # beyond anything the ledger knows, so the intent is live (id unknown) and the alert that
    # was raised the moment it became unknown is resolved.
    assert report.write_calls == 0 and report.counts["unresolved_unknown"] == 1
    assert report.counts["evidence_present"] == 1
    (row,) = ledger_rows(db)
    assert row["state"] == "unidentified" and row["braze_schedule_id"] is None
    with db.connect() as conn:
        (alert,) = conn.execute(
            sa.text(
                "SELECT rule_key, severity, status, title FROM alerts WHERE rule_key = 'ambiguous_schedule'"
            )
        ).all()
    assert (alert.severity, alert.status) == ("CRITICAL", "RESOLVED") and GAME in alert.title
    assert len(live_schedules(braze_sim, GAME)) == 1 and creates(braze_sim) == 1
    assert next_run(db, braze_sim, policy, clock).write_calls == 0
    # The push goes out once; Currents carries our send_id, so the intent learns it was sent.
    braze_sim.control.advance(4 * 3600)
    (row,) = ledger_rows(db)
    assert row["state"] == "sent" and row["dispatch_id"] is not None
    assert set(braze_truth(braze_sim)["messages"][GAME].values()) == {1}


def test_killed_between_claim_and_call_waits_for_an_operator_then_creates_once(
    one_game, db, braze_sim, clock, policy, database_url
):
    kill_sync_at(database_url, braze_sim.url, "after_claim")
    report = next_run(db, braze_sim, policy, clock)
    # Indistinguishable from "the call went out": never re-created on a guess.
    assert report.write_calls == 0 and report.counts["unresolved_unknown"] == 1
    assert creates(braze_sim) == 0
    (alert,) = open_alerts(db)
    assert GAME in alert["title"]
    # The operator checked the dashboard: there is no schedule.
    (row,) = ledger_rows(db)
    assert resolve_unknown(db, policy, row["intent_key"], decision="absent").applied
    report = next_run(db, braze_sim, policy, clock)
    assert report.counts["created"] == 1
    assert len(live_schedules(braze_sim, GAME)) == 1 and creates(braze_sim) == 1
    assert_invariants(db, braze_sim, clock(), policy)
