"""Game days: the NBA schedules by US-Eastern calendar day, so partitions do too."""

from datetime import date

import dagster as dg

from nba_notify.lib.game_days import FIRST_GAME_DAY, GAME_DAY_TIMEZONE, PARTITION_END_OFFSET

# From the 2025-26 season on; partitions run to tomorrow so the next slate can be scheduled.
game_day_partitions = dg.DailyPartitionsDefinition(
    start_date=FIRST_GAME_DAY.isoformat(), timezone=GAME_DAY_TIMEZONE, end_offset=PARTITION_END_OFFSET
)


def partition_dates(context: dg.AssetExecutionContext) -> list[date]:
    """Every game day this run covers (one, or a range under a single-run backfill)."""
    return [date.fromisoformat(key) for key in context.partition_keys]
