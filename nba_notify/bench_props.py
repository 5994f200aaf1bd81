"""`nba-notify bench props`: a simulated season's player props backfilled from The Odds API's
historical snapshots, measured: wall time, credits spent against the budget, rows, and the mart.

The league's 2025-26 season is ingested first (games and box scores: identity needs the
schedule, the mart needs box scores), then the props assets run as one single-run backfill
(``props_job`` over the season's game days). Credits come from the simulated API's own
quota headers (``odds_api_usage``) and are checked against what the API says it counted.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import os
import time
from contextlib import ExitStack
from datetime import date
from typing import Any

import dagster as dg
import sqlalchemy as sa

from nba_notify.bench import AFTER_SEASON, SEASON_END, SEASON_START, machine
from nba_notify.lib.db.engine import get_engine
from nba_notify.lib.run_metrics import peak_memory_mb
from nba_notify.stack import start_stack

BACKFILL_BUDGET = 100_000  # The Odds API's 100K plan: a season's history fits in one month
DEFAULT_DAILY = 1_000


def bench_props(
    start: str = SEASON_START, end: str = SEASON_END, budget: int = BACKFILL_BUDGET
) -> dict[str, Any]:
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    with ExitStack() as exit_stack:
        stack = start_stack(exit_stack, sim_start=AFTER_SEASON, scratch_database="nba_notify_bench_props")
        stack.apply_env(exit_stack)
        previous = os.environ.get("ODDS_API_DAILY_CREDIT_BUDGET")
        os.environ["ODDS_API_DAILY_CREDIT_BUDGET"] = str(budget)
        exit_stack.callback(
            lambda: (
                os.environ.pop("ODDS_API_DAILY_CREDIT_BUDGET", None)
                if previous is None
                else os.environ.__setitem__("ODDS_API_DAILY_CREDIT_BUDGET", previous)
            )
        )
        engine = get_engine(stack.database_url)

        from nba_notify.definitions import load
        from nba_notify.lib.quality.audit import build_models
        from nba_notify.lib.sqlmodels import load_project

        defs = load()
        tags = {"dagster/asset_partition_range_start": start, "dagster/asset_partition_range_end": end}
        started = time.perf_counter()
        ingest = defs.resolve_job_def("ingest_job").execute_in_process(
            instance=dg.DagsterInstance.ephemeral(), tags=tags, raise_on_error=False
        )
        ingest_wall = time.perf_counter() - started
        started = time.perf_counter()
        props = defs.resolve_job_def("props_job").execute_in_process(
            instance=dg.DagsterInstance.ephemeral(), tags=tags, raise_on_error=False
        )
        props_wall = time.perf_counter() - started
        started = time.perf_counter()
        build_models(engine, load_project(), ["player_prop_hit_rates"])
        mart_wall = time.perf_counter() - started
        with engine.connect() as conn:

            def one(sql: str) -> Any:
                return conn.execute(sa.text(sql), {"first": first, "last": last}).scalar_one()

            credits = one("SELECT COALESCE(SUM(requests_last), 0) FROM odds_api_usage")
            per_day = conn.execute(
                sa.text(
                    "SELECT target_date, SUM(requests_last) FROM odds_api_usage GROUP BY target_date ORDER BY 2 DESC"
                )
            ).all()
            figures = {
                "benchmark": "season props backfill (The Odds API historical snapshots, single run)",
                "machine": machine(),
                "range": f"{start}..{end}",
                "success": ingest.success and props.success,
                "ingest_wall_seconds": round(ingest_wall, 1),
                "props_wall_seconds": round(props_wall, 1),
                "mart_wall_seconds": round(mart_wall, 1),
                "games": one("SELECT COUNT(*) FROM games WHERE game_date BETWEEN :first AND :last"),
                "events_mapped": one("SELECT COUNT(*) FROM prop_events WHERE identity = 'mapped'"),
                "events_unmapped_or_ambiguous": one(
                    "SELECT COUNT(*) FROM prop_events WHERE identity <> 'mapped'"
                ),
                "player_prop_rows": one("SELECT COUNT(*) FROM player_props"),
                "players_unproven": one(
                    "SELECT COUNT(*) FROM player_props WHERE player_match IN ('unmapped', 'ambiguous')"
                ),
                "game_line_rows": one("SELECT COUNT(*) FROM game_lines"),
                "api_calls": one("SELECT COUNT(*) FROM odds_api_usage"),
                "credits_spent": int(credits),
                "credits_budget": budget,
                "credits_spent_pct_of_budget": round(100.0 * credits / budget, 1),
                "api_reported_remaining": one(
                    "SELECT requests_remaining FROM odds_api_usage ORDER BY called_at DESC LIMIT 1"
                ),
                "busiest_day_credits": int(per_day[0][1]) if per_day else 0,
                "days_over_default_daily_budget": sum(1 for _, c in per_day if c > DEFAULT_DAILY),
                "graded_lines": one(f"SELECT COUNT(*) FROM {load_project().schema}.player_prop_results"),
                "players_in_hit_rates": one(
                    f"SELECT COUNT(DISTINCT player_id) FROM {load_project().schema}.player_prop_hit_rates"
                ),
                "peak_memory_mb": peak_memory_mb(),
            }
        return figures
