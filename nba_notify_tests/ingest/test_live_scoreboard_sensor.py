"""The live scoreboard loop runs only while a game is on."""

from datetime import datetime, timedelta

import dagster as dg
import sqlalchemy as sa

from nba_notify.defs.ingest.sensors import live_scoreboard_sensor
from nba_notify.lib.db.tables.ingest import games
from nba_notify_tests.ingest.conftest import INGEST_ASSETS

SCHEDULE = [INGEST_ASSETS[0], INGEST_ASSETS[2], INGEST_ASSETS[4]]


def tick(ingest_resources, cursor=None):
    context = dg.build_sensor_context(
        cursor=cursor,
        resources={"database": ingest_resources["database"], "clock": ingest_resources["clock"]},
    )
    return live_scoreboard_sensor(context)


def test_no_run_before_tipoff_then_one_run_per_30_second_slot_while_games_are_on(
    db, sim, materialize_day, ingest_resources
):
    today = "2026-11-24"
    assert materialize_day(today, SCHEDULE).success
    assert isinstance(tick(ingest_resources), dg.SkipReason)

    with db.connect() as conn:
        first_tipoff = conn.execute(sa.select(sa.func.min(games.c.tipoff_utc))).scalar_one()
    sim.control.set_clock(first_tipoff + timedelta(minutes=10, seconds=5))
    assert materialize_day(today, SCHEDULE).success
    request = tick(ingest_resources)
    assert isinstance(request, dg.RunRequest)
    assert request.partition_key == today
    assert request.run_key == f"live-{(first_tipoff + timedelta(minutes=10)).isoformat()}"
    sim.control.advance(20)
    assert tick(ingest_resources).run_key == request.run_key  # same slot: the daemon dedupes it


def test_no_run_once_every_game_is_final(db, sim, materialize_day, ingest_resources):
    sim.control.set_clock(datetime.fromisoformat("2026-11-25T12:00:00+00:00"))
    assert materialize_day("2026-11-24", SCHEDULE).success
    assert isinstance(tick(ingest_resources), dg.SkipReason)
