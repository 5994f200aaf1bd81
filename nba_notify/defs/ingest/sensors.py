"""While games are on, refresh today's scores and statuses every 30 seconds."""

from datetime import timedelta

import dagster as dg
import sqlalchemy as sa

from nba_notify.defs.ingest.jobs import live_scoreboard_job
from nba_notify.defs.resources import ClockResource, PostgresResource
from nba_notify.lib.db.tables.ingest import games
from nba_notify.lib.ingest.parse import eastern_game_day

# A game is "on" from tip-off until it is final; one that tipped off more than four hours
# ago without a final is stale data, which the schedule refresh — not this loop — repairs.
LIVE_WINDOW = timedelta(hours=4)


def games_on(conn: sa.Connection, now) -> list[str]:
    return list(
        conn.execute(
            sa.select(games.c.game_id)
            .where(
                games.c.tipoff_utc <= now,
                games.c.tipoff_utc > now - LIVE_WINDOW,
                games.c.status.in_(("scheduled", "live")),
            )
            .order_by(games.c.game_id)
        ).scalars()
    )


@dg.sensor(
    job=live_scoreboard_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Requests a live scoreboard refresh of today's partition every 30 s while any game is on.",
)
def live_scoreboard_sensor(
    context: dg.SensorEvaluationContext, database: PostgresResource, clock: ClockResource
):
    now = clock.now()
    with database.engine().connect() as conn:
        on = games_on(conn, now)
    if not on:
        return dg.SkipReason("no game in progress")
    slot = now.replace(second=30 * (now.second // 30), microsecond=0)
    return dg.RunRequest(
        run_key=f"live-{slot.isoformat()}",
        partition_key=eastern_game_day(now).isoformat(),
        tags={"nba_notify/games_on": str(len(on))},
    )
