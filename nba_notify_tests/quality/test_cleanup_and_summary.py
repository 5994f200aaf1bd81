"""Stale-row cleanup removes only superseded phase-2 rows; quality_summary reports the
figures the demo shows."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from nba_notify.lib.db.tables.ingest import player_box_scores, processor_run_history
from nba_notify.lib.quality import quality_summary
from nba_notify.lib.quality.cleanup import clean_superseded_rows
from nba_notify_tests.quality.histories import T0, box_rows, game_rows, processed, write_history

MOVED_FROM = date(2026, 11, 20)
UNTOUCHED = date(2026, 11, 21)


def test_box_lines_of_a_game_its_day_no_longer_lists_are_deleted_and_recorded(db):
    with db.begin() as conn:
        kept = game_rows(conn, MOVED_FROM, 1, "g")
        moved = game_rows(conn, MOVED_FROM + timedelta(days=2), 1, "g")[0]  # now two days later
        box_rows(conn, MOVED_FROM, [*kept, moved], "b")  # filed under the day it moved away from
        processed(conn, "player_box_scores", MOVED_FROM, T0)
        processed(conn, "games", MOVED_FROM, T0 + timedelta(hours=1))
        # a day whose box scores were processed after its games: its unknown lines stay
        box_rows(conn, UNTOUCHED, ["0022600998"], "b")
        processed(conn, "games", UNTOUCHED, T0)
        processed(conn, "player_box_scores", UNTOUCHED, T0 + timedelta(hours=1))

    result = clean_superseded_rows(db, run_id="cleanup-run")

    assert (result.deleted, result.game_ids) == (3, [moved])
    with db.connect() as conn:
        left = set(conn.execute(sa.select(player_box_scores.c.game_id).distinct()).scalars())
        history = conn.execute(
            sa.select(processor_run_history).where(
                processor_run_history.c.processor_name == "stale_row_cleanup"
            )
        ).one()
    assert left == {*kept, "0022600998"}
    assert (history.status, history.records_deleted, history.run_id) == ("success", 3, "cleanup-run")


def test_quality_summary_reports_discrepancies_retries_recoveries_and_the_false_positive_rate(db):
    write_history(db)
    summary = quality_summary(db)
    assert summary["zero_record_audit"]["false_positive_rate_pct"] == 11.11
    assert summary["zero_record_audit"]["by_class"]["real_loss"] == 3
    assert summary["zero_record_audit"]["real_loss_partitions"] == ["2026-11-13", "2026-11-14", "2026-11-15"]
    assert summary["retry_queue"]["by_status"] == {
        "pending": 0,
        "retrying": 0,
        "recovered": 0,
        "exhausted": 0,
        "permanent": 0,
    }
    assert set(summary) == {"discrepancies", "retry_queue", "recoveries", "zero_record_audit"}
