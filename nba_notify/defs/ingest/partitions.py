"""Game days: the NBA schedules by US-Eastern calendar day, so partitions do too."""

from datetime import date

import dagster as dg

from nba_notify.lib.game_days import GAME_DAY_TIMEZONE, PARTITION_END_OFFSET, first_game_day

# Every season from NBA_NOTIFY_FIRST_SEASON (default 2019-20) through tomorrow, so any past
# season can be backfilled and the next slate scheduled (end_offset=2: today and tomorrow).
game_day_partitions = dg.DailyPartitionsDefinition(
    start_date=first_game_day().isoformat(), timezone=GAME_DAY_TIMEZONE, end_offset=PARTITION_END_OFFSET
)


def partition_dates(context: dg.AssetExecutionContext) -> list[date]:
    """Every game day this run covers (one, or a range under a single-run backfill)."""
    return [date.fromisoformat(key) for key in context.partition_keys]
