"""Game days: the NBA schedules by US-Eastern calendar day, and so do the daily partitions
(``nba_notify.defs.ingest.partitions`` builds them from these facts).

A game day is written ``YYYY-MM-DD`` exactly: :func:`game_day_problem` is the one check every
input path uses (``nba-notify sync --date``, ``manual_sync_job``), so a compact ``20261124`` or
an ISO week date is refused at request time instead of failing a sensor later."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

GAME_DAY_TIMEZONE = "America/New_York"
# A season's first day as a partition: October 1 of its start year (opening night is late
# October; preseason games are skipped by design, so nothing earlier is ever needed).
SEASON_START_MONTH_DAY = (10, 1)
# Dagster's end_offset: partitions run to tomorrow so the next slate can be scheduled.
PARTITION_END_OFFSET = 2


def first_game_day(season_start_year: int | None = None) -> date:
    """The first partition: October 1 of the configured first season (NBA_NOTIFY_FIRST_SEASON)."""
    from nba_notify.lib.config import first_season

    return date(
        season_start_year if season_start_year is not None else first_season(), *SEASON_START_MONTH_DAY
    )


_GAME_DAY_KEY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def game_day_range(now: datetime | None = None) -> tuple[date, date]:
    """First and last game day that has a partition at ``now`` (default: the wall clock,
    which is what Dagster's partitions use)."""
    today = (now or datetime.now(UTC)).astimezone(ZoneInfo(GAME_DAY_TIMEZONE)).date()
    return first_game_day(), today + timedelta(days=PARTITION_END_OFFSET - 1)


def game_day_problem(key: object, now: datetime | None = None) -> str | None:
    """Why ``key`` is not a game-day partition key at ``now`` (None when it is one)."""
    if not isinstance(key, str) or not _GAME_DAY_KEY.fullmatch(key):
        shown = repr(key) if len(repr(key)) <= 40 else repr(key)[:37] + "..."
        return f"date must be YYYY-MM-DD (US-Eastern game date), got {shown}"
    try:
        day = date.fromisoformat(key)
    except ValueError:
        return f"date {key} is not a calendar date"
    first, last = game_day_range(now)
    if not first <= day <= last:
        return f"date {key} is outside the game-day partitions ({first} .. {last})"
    return None
