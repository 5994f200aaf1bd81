"""While games are on, refresh today's scores and statuses every 30 seconds."""

import dagster as dg

from nba_notify.defs.ingest.jobs import live_scoreboard_job
from nba_notify.defs.resources import ClockResource, PostgresResource
from nba_notify.lib.ingest.live import games_on
from nba_notify.lib.ingest.parse import eastern_game_day


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
