"""The sync against the real simulator and PostgreSQL, one scheduler at a time: what each
change in the games table costs at Braze, and what it leaves in the ledger and logs."""

from __future__ import annotations

import sqlalchemy as sa

from nba_notify.lib.ledger.service import sync_once
from nba_notify_tests.notifications.conftest import at, braze_truth, ledger_rows, live_schedules, scheduled_time


def test_first_sync_creates_one_schedule_per_game_at_tipoff_minus_lead(games, braze, braze_sim, clock, policy, db):
    games.put("2026-11-24_BOS@NYK", "NYK", "BOS", at(hours=4, minutes=30))
    games.put("2026-11-24_LAL@GSW", "GSW", "LAL", at(hours=7))
    report = sync_once(db, braze, policy, clock=clock)
    assert report.counts["created"] == 2 and report.write_calls == 2, report.as_metadata()
    live = {s["game_key"]: s for s in live_schedules(braze_sim)}
    assert scheduled_time(live["2026-11-24_BOS@NYK"]) == at(hours=3, minutes=30)
    assert scheduled_time(live["2026-11-24_LAL@GSW"]) == at(hours=6)
    assert {r["state"] for r in ledger_rows(db)} == {"scheduled"}


def test_unchanged_resync_makes_no_braze_calls(games, braze, braze_sim, clock, policy, db):
    games.put("2026-11-24_BOS@NYK", "NYK", "BOS", at(hours=4))
    sync_once(db, braze, policy, clock=clock)
    before = braze_truth(braze_sim)["calls"]
    report = sync_once(db, braze, policy, clock=clock)
    after = braze_truth(braze_sim)["calls"]
    assert report.write_calls == 0 and report.counts["skipped_unchanged"] == 1
    assert before == after
