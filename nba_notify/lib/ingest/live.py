"""When a game is "on" — the one definition shared by the live scoreboard loop (which runs
only then) and the health dashboard (which expects live syncs only then)."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from nba_notify.lib.db.tables.ingest import games

# A game is "on" from tip-off until it is final; one that tipped off more than four hours
# ago without a final is stale data, which the schedule refresh — not the live loop — repairs.
LIVE_WINDOW = timedelta(hours=4)


def _on(now: datetime) -> list[sa.ColumnElement[bool]]:
    return [
        games.c.tipoff_utc <= now,
        games.c.tipoff_utc > now - LIVE_WINDOW,
        games.c.status.in_(("scheduled", "live")),
    ]


def games_on(conn: sa.Connection, now: datetime) -> list[str]:
    return list(conn.execute(sa.select(games.c.game_id).where(*_on(now)).order_by(games.c.game_id)).scalars())


def on_since(conn: sa.Connection, now: datetime) -> datetime | None:
    """The earliest tip-off of the games on at ``now`` (``None``: no game is on)."""
    return conn.execute(sa.select(sa.func.min(games.c.tipoff_utc)).where(*_on(now))).scalar()
