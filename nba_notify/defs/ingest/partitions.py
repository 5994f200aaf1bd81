"""Game days: the NBA schedules by US-Eastern calendar day, so partitions do too."""

from datetime import date

import dagster as dg

from nba_notify.lib.config import first_season

GAME_DAY_TIMEZONE = "America/New_York"
# A season's first day as a partition: October 1 of its start year (opening night is late
# October; preseason games are skipped by design, so nothing earlier is ever needed).
SEASON_START_MONTH_DAY = (10, 1)


def first_game_day(season_start_year: int) -> date:
    return date(season_start_year, *SEASON_START_MONTH_DAY)


# Every season from NBA_NOTIFY_FIRST_SEASON (default 2019-20) through tomorrow, so any past
# season can be backfilled and the next slate scheduled (end_offset=2: today and tomorrow).
game_day_partitions = dg.DailyPartitionsDefinition(
    start_date=first_game_day(first_season()).isoformat(), timezone=GAME_DAY_TIMEZONE, end_offset=2
)


def partition_dates(context: dg.AssetExecutionContext) -> list[date]:
    """Every game day this run covers (one, or a range under a single-run backfill)."""
    return [date.fromisoformat(key) for key in context.partition_keys]
