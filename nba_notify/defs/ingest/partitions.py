"""Game days: the NBA schedules by US-Eastern calendar day, so partitions do too."""

from datetime import date

import dagster as dg

GAME_DAY_TIMEZONE = "America/New_York"

# From the 2025-26 season on; partitions run to tomorrow so the next slate can be scheduled.
game_day_partitions = dg.DailyPartitionsDefinition(
    start_date="2025-10-01", timezone=GAME_DAY_TIMEZONE, end_offset=2
)


def partition_dates(context: dg.AssetExecutionContext) -> list[date]:
    """Every game day this run covers (one, or a range under a single-run backfill)."""
    return [date.fromisoformat(key) for key in context.partition_keys]
