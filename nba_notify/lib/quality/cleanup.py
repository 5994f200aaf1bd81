"""Stale-data cleanup (seed 004 C2, "P0-4: data cleanup tools").

Phase 2 replaces a game day's box-score rows whenever it re-processes that day, so stale rows
can only survive under a day that was not re-processed since: lines filed under a day the game
is no longer on (it moved to another day, or a source put it on the wrong day), written before
the games were last re-evaluated. Those lines are superseded:
nothing joins to them and the next re-processing of the day would not write them again from
the current games. Deleted through the shared write path, so the deletion is on record in
``processor_run_history`` (``records_deleted``).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from nba_notify.lib.db.tables.ingest import games, player_box_scores, processor_run_history
from nba_notify.lib.db.writes import WriteResult, processor_run

PROCESSOR_NAME = "stale_row_cleanup"


@dataclass(frozen=True)
class CleanupResult:
    deleted: int
    game_ids: list[str]


def _last_success(processor: str) -> sa.ScalarSelect:
    return (
        sa.select(sa.func.max(processor_run_history.c.started_at))
        .where(
            processor_run_history.c.processor_name == processor,
            processor_run_history.c.data_date == player_box_scores.c.game_date,
            processor_run_history.c.status == "success",
        )
        .scalar_subquery()
    )


def superseded_box_scores() -> sa.ColumnElement[bool]:
    """Lines of a game the day's ``games`` no longer has, the day's games having been
    re-processed after the lines were last written."""
    listed = (
        sa.select(games.c.game_id)
        .where(
            games.c.game_id == player_box_scores.c.game_id, games.c.game_date == player_box_scores.c.game_date
        )
        .exists()
    )
    games_at, box_at = _last_success("games"), _last_success("player_box_scores")
    return sa.and_(~listed, games_at.is_not(None), sa.or_(box_at.is_(None), games_at > box_at))


def clean_superseded_rows(engine: sa.Engine, *, run_id: str | None) -> CleanupResult:
    with processor_run(engine, PROCESSOR_NAME, None, run_id) as (conn, run):
        removed = (
            conn.execute(
                sa.delete(player_box_scores)
                .where(superseded_box_scores())
                .returning(player_box_scores.c.game_id)
            )
            .scalars()
            .all()
        )
        run.add(WriteResult(player_box_scores.name, deleted=len(removed), inserted=0))
        keys = sorted(set(removed))
        run.details["game_ids"] = keys
    return CleanupResult(len(removed), keys)
