"""One game, one identity, one push — end to end through the real Dagster jobs (ingest from the
simulated BDL and NBA.com, the Braze sync against the simulated Braze), judged only by what the
simulated Braze delivered: pushes per game per user, and when.

A game is the league's game (NBA.com gameId). Its day, tip-off and status are attributes that
change: a game rescheduled to another day, postponed and made up later, or gone from every feed
must end with exactly the push its final state calls for — never a second one at the old time.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import dagster as dg
import pytest
import sqlalchemy as sa

from nba_notify.definitions import load
from nba_notify.lib.db.tables.ingest import games
from nba_notify_tests.notifications.conftest import EASTERN, T0, braze_truth

TODAY = T0.astimezone(EASTERN).date()  # 2026-11-24
TOMORROW = TODAY + timedelta(days=1)
LEAD = timedelta(minutes=60)


@pytest.fixture
def pipeline(braze_sim, database_url, monkeypatch):
    """The code location as Dagster loads it, its resources pointed at the simulator."""
    monkeypatch.setenv("NBA_NOTIFY_SIM_URL", braze_sim.url)
    monkeypatch.setenv("NBA_NOTIFY_DATABASE_URL", database_url)
    definitions = load()
    instance = dg.DagsterInstance.ephemeral()

    def run(job: str, day: date | None = None) -> dg.ExecuteInProcessResult:
        result = definitions.resolve_job_def(job).execute_in_process(
            instance=instance, partition_key=day.isoformat() if day else None, raise_on_error=False
        )
        failures = [e.message for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
        assert result.success, failures
        return result

    return run


def a_game(sim, day: date, *, not_before: datetime) -> dict:
    """A game of ``day`` whose push is still ahead (its send time after ``not_before``)."""
    for game in sim.control.truth_games(day):
        if tipoff(game) - LEAD > not_before:
            return game
    raise AssertionError(f"no game on {day} tips off after {not_before + LEAD}")


def tipoff(game: dict) -> datetime:
    return datetime.fromisoformat(game["tipoff_utc"].replace("Z", "+00:00"))


def deliveries(sim, game_id: str) -> tuple[dict[str, int], dict[str, int]]:
    """(pushes per user, users per send time) of one game, from the simulated Braze."""
    truth = braze_truth(sim)
    return truth["messages"].get(game_id, {}), truth["push_times"].get(game_id, {})


def run_clock_through(sim, until: datetime) -> None:
    sim.control.set_clock(until)
    sim.control.flush_braze_outbox()


def live_at_braze(sim, game_id: str) -> list[dict]:
    return [
        s for s in braze_truth(sim)["schedules"] if s["status"] == "scheduled" and s["game_id"] == game_id
    ]


@pytest.mark.parametrize("refresh_order", ["old_day_first", "new_day_first"])
def test_a_game_rescheduled_to_the_next_day_gets_exactly_one_push_at_the_new_time(
    braze_sim, db, pipeline, refresh_order
):
    sim = braze_sim
    for day in (TODAY, TOMORROW):
        pipeline("ingest_job", day)
    pipeline("braze_sync_job")
    game = a_game(sim, TODAY, not_before=T0 + timedelta(minutes=30))
    gid = game["nba_game_id"]
    assert len(live_at_braze(sim, gid)) == 1

    new_tipoff = tipoff(game) + timedelta(days=1)
    sim.control.update_game(gid, tipoff_utc=new_tipoff.isoformat())
    for day in (TODAY, TOMORROW) if refresh_order == "old_day_first" else (TOMORROW, TODAY):
        pipeline("schedule_refresh_job", day)
    writes_before = braze_truth(sim)["calls"]
    pipeline("braze_sync_job")
    writes_after = braze_truth(sim)["calls"]

    [live] = live_at_braze(sim, gid)
    assert live["time"] == (new_tipoff - LEAD).strftime("%Y-%m-%dT%H:%M:%SZ")
    # one real change, one call: an update of the same intent, never a second create
    assert writes_after["braze.update"] - writes_before["braze.update"] == 1
    assert writes_after["braze.create"] == writes_before["braze.create"]

    run_clock_through(sim, new_tipoff + timedelta(minutes=5))
    per_user, times = deliveries(sim, gid)
    assert per_user and set(per_user.values()) == {1}, per_user
    assert list(times) == [(new_tipoff - LEAD).strftime("%Y-%m-%dT%H:%M:%SZ")]
    with db.connect() as conn:
        row = conn.execute(sa.select(games).where(games.c.game_id == gid)).one()
    assert (row.game_date, row.tipoff_utc) == (new_tipoff.astimezone(EASTERN).date(), new_tipoff)


def test_a_postponed_game_made_up_on_another_day_is_pushed_once_at_the_make_up_time(braze_sim, pipeline):
    sim = braze_sim
    pipeline("ingest_job", TODAY)
    pipeline("braze_sync_job")
    game = a_game(sim, TODAY, not_before=T0 + timedelta(minutes=30))
    gid = game["nba_game_id"]

    sim.control.update_game(gid, status="postponed")
    pipeline("schedule_refresh_job", TODAY)
    pipeline("braze_sync_job")
    assert live_at_braze(sim, gid) == []  # withdrawn: one delete

    make_up = tipoff(game) + timedelta(days=2)
    sim.control.update_game(gid, status="scheduled", tipoff_utc=make_up.isoformat())
    pipeline("schedule_refresh_job", TODAY)  # the old day learns where the game went
    pipeline("braze_sync_job")
    [live] = live_at_braze(sim, gid)
    assert live["time"] == (make_up - LEAD).strftime("%Y-%m-%dT%H:%M:%SZ")

    run_clock_through(sim, make_up + timedelta(minutes=5))
    per_user, times = deliveries(sim, gid)
    assert per_user and set(per_user.values()) == {1}
    assert list(times) == [(make_up - LEAD).strftime("%Y-%m-%dT%H:%M:%SZ")]


def test_a_game_gone_from_every_feed_is_withdrawn_and_comes_back_when_listed_again(braze_sim, db, pipeline):
    sim = braze_sim
    pipeline("ingest_job", TODAY)
    pipeline("braze_sync_job")
    game = a_game(sim, TODAY, not_before=T0 + timedelta(hours=1))
    gid = game["nba_game_id"]

    for route in ("bdl.games", "nbac.*"):
        sim.control.add_fault("drop_games", route, params={"game_ids": [gid]})
    pipeline("schedule_refresh_job", TODAY)
    with db.connect() as conn:
        assert conn.execute(sa.select(games.c.listed).where(games.c.game_id == gid)).scalar_one() is False
    pipeline("braze_sync_job")
    assert live_at_braze(sim, gid) == []

    sim.control.clear_faults()
    pipeline("schedule_refresh_job", TODAY)
    pipeline("braze_sync_job")
    assert len(live_at_braze(sim, gid)) == 1
    run_clock_through(sim, tipoff(game) + timedelta(minutes=5))
    per_user, times = deliveries(sim, gid)
    assert set(per_user.values()) == {1} and list(times) == [
        (tipoff(game) - LEAD).strftime("%Y-%m-%dT%H:%M:%SZ")
    ]


def test_a_bdl_id_conflict_never_merges_games_or_costs_a_push(braze_sim, db, pipeline):
    """A play-in game listed by BDL under a regular-season game's id: both games stay apart, the
    conflict is flagged, and each game still gets exactly one push."""
    from nba_notify.lib.ingest import claims, parse
    from nba_notify.lib.ingest.pipeline import latest_season_schedule

    sim = braze_sim
    pipeline("ingest_job", TODAY)
    first, second = sorted(sim.control.truth_games(TODAY), key=lambda g: g["tipoff_utc"])[-2:]
    with db.connect() as conn:
        season_file = latest_season_schedule(conn, parse.season_for_date(TODAY)).json()
    taken = parse.SourceGame(
        "bdl",
        str(first["bdl_game_id"]),
        TODAY,
        2026,
        second["home"],
        second["away"],
        tipoff(second),
        "scheduled",
        None,
        None,
    )
    with db.begin() as conn:  # BDL now lists the second game under the first one's id
        refresh = claims.refresh_day(conn, TODAY, season_file, [taken], run_id="conflict")
    assert [c.kind for c in refresh.conflicts] == ["source_id_changed_teams"]
    with db.connect() as conn:
        rows = {r.game_id: r for r in conn.execute(sa.select(games).where(games.c.game_date == TODAY))}
    assert {first["nba_game_id"], second["nba_game_id"]} <= set(rows)
    assert rows[first["nba_game_id"]].bdl_game_id == first["bdl_game_id"]  # not re-pointed, not deleted

    pipeline("braze_sync_job")
    run_clock_through(sim, max(tipoff(first), tipoff(second)) + timedelta(minutes=5))
    for game in (first, second):
        per_user, times = deliveries(sim, game["nba_game_id"])
        assert per_user and set(per_user.values()) == {1}, game
        assert list(times) == [(tipoff(game) - LEAD).strftime("%Y-%m-%dT%H:%M:%SZ")]
