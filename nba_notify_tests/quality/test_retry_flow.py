"""Know sooner, retry later, prove recovery — against the simulator over HTTP and a real
PostgreSQL, with the simulator's clock standing in for the hours between retries."""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg
import httpx
import sqlalchemy as sa

from nba_notify.defs.quality.sensors import scrape_retry_sensor
from nba_notify.lib.db.tables.ingest import scrape_events
from nba_notify.lib.db.tables.monitoring import alerts
from nba_notify.lib.db.tables.quality import scrape_retry_queue, source_discrepancies
from nba_notify.lib.quality import quality_summary

DAY = "2026-11-22"  # two days before the simulator's default clock: every game is final
HOURS = 3600


def truth(sim, day: str = DAY) -> list[dict]:
    return httpx.get(f"{sim.url}/_sim/truth/games", params={"date": day}).json()["games"]


def game_id(game: dict) -> str:
    return game["nba_game_id"]


def hidden_from(sim, route: str, day: str = DAY) -> set[str]:
    return {game_id(g) for g in truth(sim, day) if route in (g.get("hidden_from") or {})}


def queue_items(db) -> dict[str, sa.Row]:
    with db.connect() as conn:
        return {
            r.scraper_name: r
            for r in conn.execute(sa.select(scrape_retry_queue).order_by(scrape_retry_queue.c.id))
        }


def tick(instance, resources) -> dg.SensorResult:
    context = dg.build_sensor_context(instance=instance, resources=resources)
    return scrape_retry_sensor(context)


def run_request(run_pipeline, request: dg.RunRequest) -> dg.ExecuteInProcessResult:
    return run_pipeline(request.partition_key, selection=request.asset_selection, tags=request.tags)


def open_alerts(db, rule_key: str) -> list[sa.Row]:
    with db.connect() as conn:
        return conn.execute(
            sa.select(alerts).where(alerts.c.rule_key == rule_key, alerts.c.status != "RESOLVED")
        ).all()


def test_games_bdl_drops_are_detected_in_the_same_run_queued_and_recovered_once_the_source_heals(
    db, sim, run_pipeline, quality_resources, instance
):
    now = sim.control.now()
    heal = now + timedelta(hours=3)
    sim.control.add_fault(
        "drop_games", "bdl.games", params={"date": DAY, "count": 2, "until": heal.isoformat()}
    )
    dropped = hidden_from(sim, "bdl.games")
    assert len(dropped) == 2

    result = run_pipeline(DAY)

    # detected in the same run, by game identity: missing from BDL's listing, once (not again
    # as box scores BDL owes for games it does not list)
    with db.connect() as conn:
        found = {(r.game_id, r.kind): r.scraper_name for r in conn.execute(sa.select(source_discrepancies))}
    assert found == {(key, "missing_in_bdl"): "bdl_games" for key in dropped}
    [missing_check] = [
        e for e in result.get_asset_check_evaluations() if e.check_name == "no_games_missing_between_sources"
    ]
    assert not missing_check.passed
    assert all(key in missing_check.metadata["offending_rows"].value for key in dropped)
    # logged as partial scrape events (api_incomplete), seed 003's words
    with db.connect() as conn:
        partial = conn.execute(
            sa.select(scrape_events).where(
                scrape_events.c.status == "partial", scrape_events.c.error_type == "api_incomplete"
            )
        ).all()
    games_event = next(e for e in partial if e.scraper_name == "bdl_games")
    assert (games_event.records_expected - games_event.records_received, games_event.records_missing) == (
        2,
        2,
    )
    assert "BDL returned" in games_event.error_message and all(
        k in games_event.error_message for k in dropped
    )
    # queued: one item per (scraper, date), first retry 4 h later
    items = queue_items(db)
    assert set(items) == {"bdl_games"}
    for item in items.values():
        assert (item.status, item.attempts, item.max_retries, item.reason) == (
            "pending",
            0,
            3,
            "api_incomplete",
        )
        assert item.next_retry_at == now + timedelta(hours=4)
        assert item.original_event_id in {e.event_id for e in partial}

    assert tick(instance, quality_resources).run_requests == []  # nothing due yet

    sim.control.advance(4 * HOURS)  # the source healed an hour ago
    requests = tick(instance, quality_resources).run_requests
    assert sorted(r.run_key for r in requests) == sorted(
        f"retry-{i.id}-1-{i.correlation_id}" for i in items.values()
    )
    for request in requests:
        assert request.partition_key == DAY
        run_request(run_pipeline, request)

    recovered_at = sim.control.now()
    items = queue_items(db)
    with db.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(source_discrepancies)).scalar_one() == 0
        for scraper, item in items.items():
            assert (item.status, item.attempts, item.recovered_at) == ("recovered", 1, recovered_at)
            recovery = conn.execute(
                sa.select(scrape_events).where(scrape_events.c.event_id == item.recovery_event_id)
            ).one()
            assert (recovery.scraper_name, recovery.status, recovery.target_date) == (
                scraper,
                "success",
                date.fromisoformat(DAY),
            )
            original = conn.execute(
                sa.select(scrape_events).where(scrape_events.c.event_id == item.original_event_id)
            ).one()
            assert original.is_recovered and original.recovery_event_id == item.recovery_event_id
            assert original.recovered_at is not None
            assert item.retry_history[-1]["result"] == "recovered"
    assert {a.dedupe_key for a in open_alerts(db, "scrape_recovered")} == {f"{s}:{DAY}" for s in items}
    assert tick(instance, quality_resources).run_requests == []  # nothing left to retry
    summary = quality_summary(db)
    # one at ingest, none after the retry
    assert summary["discrepancies"]["detections_logged"] == 1 and summary["discrepancies"]["current"] == 0
    assert summary["retry_queue"]["by_status"]["recovered"] == 1
    assert summary["recoveries"]["avg_recovery_hours"] == 4.0


def test_a_source_that_never_heals_is_exhausted_after_three_attempts_and_alerts_for_manual_action(
    db, sim, run_pipeline, quality_resources, instance
):
    sim.control.add_fault("drop_games", "bdl.box_scores", params={"date": DAY, "count": 1})
    assert run_pipeline(DAY).get_asset_check_evaluations()
    [item] = queue_items(db).values()
    assert item.scraper_name == "bdl_box_scores"

    for attempt, wait_hours in ((1, 4), (2, 12), (3, 24)):
        sim.control.advance((wait_hours - 1) * HOURS)
        assert tick(instance, quality_resources).run_requests == [], f"attempt {attempt} launched early"
        sim.control.advance(1 * HOURS)
        [request] = tick(instance, quality_resources).run_requests
        assert request.run_key == f"retry-{item.id}-{attempt}-{item.correlation_id}"
        assert {k.to_user_string() for k in request.asset_selection} == {
            "bdl_box_scores_raw",
            "player_box_scores",
            "box_score_coverage",
        }
        run_request(run_pipeline, request)
        item = queue_items(db)["bdl_box_scores"]
        assert item.attempts == attempt and len(item.retry_history) == attempt

    assert item.status == "exhausted" and item.exhausted_at == sim.control.now()
    assert [h["result"] for h in item.retry_history] == ["still_failing", "still_failing", "exhausted"]
    [alert] = open_alerts(db, "retry_exhausted")  # one per root cause, naming its game days
    assert (alert.entity, alert.dedupe_key) == ("bdl_box_scores", "bdl_box_scores:box_score_unavailable")
    assert "manual action" in alert.title and alert.details["game_days"] == [DAY]
    sim.control.advance(48 * HOURS)
    assert tick(instance, quality_resources).run_requests == []  # exhausted items are not retried


def test_a_failing_scrape_is_queued_by_the_sensor_and_a_failed_retry_run_counts_as_an_attempt(
    db, sim, run_pipeline, quality_resources, instance
):
    sim.control.add_fault("status", "bdl.box_scores", params={"code": 503})
    first = run_pipeline(DAY)
    assert not first.success  # the raw asset failed, so box_score_coverage never ran
    assert queue_items(db) == {}

    tick(instance, quality_resources)
    [item] = queue_items(db).values()
    assert (item.scraper_name, item.status, item.reason) == ("bdl_box_scores", "pending", "api_error")

    sim.control.advance(4 * HOURS)
    [request] = tick(instance, quality_resources).run_requests
    assert not run_request(run_pipeline, request).success  # still 503
    assert queue_items(db)["bdl_box_scores"].status == "retrying"

    # the next tick sees the attempt's run ended without a verdict: a failed attempt
    assert tick(instance, quality_resources).run_requests == []
    item = queue_items(db)["bdl_box_scores"]
    assert (item.status, item.attempts) == ("pending", 1)
    assert item.next_retry_at == sim.control.now() + timedelta(hours=12)
    assert (
        item.retry_history[-1]["run_status"] == "FAILURE"
        and item.retry_history[-1]["error_type"] == "api_error"
    )

    sim.control.clear_faults()
    sim.control.advance(12 * HOURS)
    [request] = tick(instance, quality_resources).run_requests
    assert request.run_key == f"retry-{item.id}-2-{item.correlation_id}"
    run_request(run_pipeline, request)
    assert queue_items(db)["bdl_box_scores"].status == "recovered"
