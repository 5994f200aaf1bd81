"""`nba-notify bench ingest`: a full-season backfill through the simulator, measured.

One single-run backfill (BackfillPolicy.single_run) of every game day of the 2025-26 season
through the real `ingest_job`, against the simulator over HTTP and the configured (default:
embedded) PostgreSQL. Prints wall time, games/s, HTTP calls and peak memory; asserts nothing.
"""

from __future__ import annotations

import json
import platform
import time
from contextlib import ExitStack
from datetime import UTC, date, datetime
from typing import Any

import dagster as dg
import sqlalchemy as sa

from nba_notify.lib.db.engine import get_engine
from nba_notify.lib.db.tables.ingest import games, player_box_scores
from nba_notify.lib.run_metrics import peak_memory_mb
from nba_notify.stack import start_stack

SEASON_START = "2025-10-01"
SEASON_END = "2026-04-30"
# After the season: every game final, every box score published.
AFTER_SEASON = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def machine() -> str:
    import os

    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )


def bench_ingest(start: str = SEASON_START, end: str = SEASON_END) -> dict[str, Any]:
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    with ExitStack() as exit_stack:
        # a cold start in a scratch database: the season is not stored yet
        stack = start_stack(exit_stack, sim_start=AFTER_SEASON, scratch_database="nba_notify_bench")
        stack.apply_env(exit_stack)
        engine = get_engine(stack.database_url)

        from nba_notify.definitions import load

        job = load().resolve_job_def("ingest_job")
        requests_before = sum(stack.sim.control.state()["request_counts"].values())
        started = time.perf_counter()
        result = job.execute_in_process(
            instance=dg.DagsterInstance.ephemeral(),
            tags={
                "dagster/asset_partition_range_start": start,
                "dagster/asset_partition_range_end": end,
                "nba_notify/source": "bench",
            },
            raise_on_error=False,
        )
        wall = time.perf_counter() - started
        counts = stack.sim.control.state()["request_counts"]
        with engine.connect() as conn:
            n_games = conn.execute(
                sa.select(sa.func.count()).select_from(games).where(games.c.game_date.between(first, last))
            ).scalar_one()
            n_days = conn.execute(
                sa.select(sa.func.count(sa.distinct(games.c.game_date))).where(
                    games.c.game_date.between(first, last)
                )
            ).scalar_one()
            n_players = conn.execute(
                sa.select(sa.func.count())
                .select_from(player_box_scores)
                .where(player_box_scores.c.game_date.between(first, last))
            ).scalar_one()
        return {
            "benchmark": "full-season ingest backfill (single run)",
            "machine": machine(),
            "range": f"{start}..{end}",
            "success": result.success,
            "wall_seconds": round(wall, 2),
            "game_days_with_games": n_days,
            "games": n_games,
            "player_rows": n_players,
            "games_per_second": round(n_games / wall, 1) if wall else None,
            "http_calls": sum(counts.values()) - requests_before,
            "http_calls_by_route": counts,
            "peak_memory_mb": peak_memory_mb(),
        }


def print_figures(figures: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(figures, indent=2))
        return
    for key, value in figures.items():
        print(f"{key:>24}: {value}")
