"""Seed 004's tracking and idempotency bugs, made impossible by the one write path."""

from datetime import date

import pytest
import sqlalchemy as sa

from nba_notify.lib.db.tables.ingest import games, processor_run_history
from nba_notify.lib.db.writes import processor_run, replace_partition
from nba_notify.lib.errors import ErrorCategory, PipelineError

DAY = date(2026, 1, 14)


def game_row(key: str, day: date = DAY) -> dict:
    return {
        "game_id": key,
        "game_date": day,
        "home_team": key[-3:],
        "away_team": key[-7:-4],
        "status": "final",
        "in_bdl": True,
        "in_nbac": True,
    }


def table_count(db, day: date = DAY) -> int:
    with db.connect() as conn:
        return conn.execute(
            sa.select(sa.func.count()).select_from(games).where(games.c.game_date == day)
        ).scalar_one()


def history(db) -> list:
    with db.connect() as conn:
        return conn.execute(sa.select(processor_run_history).order_by(processor_run_history.c.id)).all()


def test_records_processed_is_the_number_of_rows_written(db):
    rows = [game_row("0022500601"), game_row("0022500602")]
    with processor_run(db, "games", DAY, "run-1") as (conn, run):
        run.add(replace_partition(conn, games, where=games.c.game_date == DAY, rows=rows))
    [entry] = history(db)
    assert entry.status == "success"
    assert entry.records_processed == table_count(db) == 2


def test_rematerializing_a_partition_replaces_rather_than_duplicates(db):
    for run_id in ("run-1", "run-2"):
        with processor_run(db, "games", DAY, run_id) as (conn, run):
            run.add(
                replace_partition(conn, games, where=games.c.game_date == DAY, rows=[game_row("0022500601")])
            )
    assert table_count(db) == 1
    first, second = history(db)
    assert (first.records_processed, second.records_processed, second.records_deleted) == (1, 1, 1)


def test_other_partitions_are_untouched(db):
    other = date(2026, 1, 15)
    with processor_run(db, "games", other, "r") as (conn, run):
        run.add(
            replace_partition(
                conn, games, where=games.c.game_date == other, rows=[game_row("0022500611", other)]
            )
        )
    with processor_run(db, "games", DAY, "r") as (conn, run):
        run.add(replace_partition(conn, games, where=games.c.game_date == DAY, rows=[]))
    assert table_count(db, other) == 1


def test_zero_record_run_does_not_block_a_later_run_with_data(db):
    with processor_run(db, "games", DAY, "empty") as (conn, run):
        run.add(replace_partition(conn, games, where=games.c.game_date == DAY, rows=[]))
    with processor_run(db, "games", DAY, "full") as (conn, run):
        run.add(replace_partition(conn, games, where=games.c.game_date == DAY, rows=[game_row("0022500601")]))
    assert [h.records_processed for h in history(db)] == [0, 1]
    assert table_count(db) == 1


def test_a_failed_write_leaves_nothing_half_written_and_is_recorded_classified(db):
    with processor_run(db, "games", DAY, "good") as (conn, run):
        run.add(replace_partition(conn, games, where=games.c.game_date == DAY, rows=[game_row("0022500601")]))
    bad = [game_row("0022500602"), {**game_row("0022500603"), "status": "not-a-status"}]
    with pytest.raises(PipelineError) as info:
        with processor_run(db, "games", DAY, "bad") as (conn, run):
            run.add(replace_partition(conn, games, where=games.c.game_date == DAY, rows=bad))
    assert info.value.category is ErrorCategory.DATABASE
    with db.connect() as conn:
        keys = conn.execute(sa.select(games.c.game_id)).scalars().all()
    assert keys == ["0022500601"]  # the delete rolled back with the failed insert
    failed = history(db)[-1]
    assert failed.status == "failed" and failed.records_processed == 0
    assert failed.details["error"]["category"] == "DATABASE"
