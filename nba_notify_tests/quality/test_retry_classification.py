"""The retry queue knows transient from permanent (issue 9, symptom 3): a season ingest left
426 box-score items pending that could never recover. A box score still unavailable days after
its game is permanent — queued as such, never retried, visible on the dashboard and as asset
metadata, one alert per root cause; a fresh one is transient and retried. One item per
(source, day, kind). Against the simulator over HTTP, a real PostgreSQL and Dagster's sensor
API, with the simulator's clock standing in for the days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import dagster as dg
import httpx
import sqlalchemy as sa

from nba_notify.cli import main
from nba_notify.defs.quality.resources import RetryQueueResource
from nba_notify.defs.quality.sensors import scrape_retry_sensor
from nba_notify.lib.db.tables.monitoring import alert_deliveries, alerts
from nba_notify.lib.db.tables.quality import scrape_retry_queue
from nba_notify.lib.monitoring.health import health_overview
from nba_notify.lib.quality import queue as q
from nba_notify.lib.quality.retry import BackoffSchedule, Failure, classify

HOURS = 3600
TODAY = date(2026, 11, 24)  # the simulator's default clock: 2026-11-24 15:00 UTC
YESTERDAY = "2026-11-23"  # every game final a few hours ago
LONG_AGO = ["2026-11-03", "2026-11-04", "2026-11-05", "2026-11-06"]  # three weeks ago


def items(db) -> list[sa.Row]:
    with db.connect() as conn:
        return conn.execute(sa.select(scrape_retry_queue).order_by(scrape_retry_queue.c.id)).all()


def unresolved(db, rule_key: str) -> list[sa.Row]:
    with db.connect() as conn:
        return conn.execute(
            sa.select(alerts).where(alerts.c.rule_key == rule_key, alerts.c.status != "RESOLVED")
        ).all()


def tick(instance, resources, cursor=None) -> dg.SensorResult:
    return scrape_retry_sensor(dg.build_sensor_context(instance=instance, resources=resources, cursor=cursor))


def final_games(sim, day: str) -> int:
    games = httpx.get(f"{sim.url}/_sim/truth/games", params={"date": day}).json()["games"]
    return sum(1 for g in games if g["status"] == "final")


def nbac_box_scores_404(sim) -> None:
    """NBA.com's CDN has no box score for any game (it answers 404)."""
    sim.control.add_fault("status", "nbac.boxscore", params={"code": 404})


def test_a_box_score_404_long_after_the_game_is_permanent_not_retried_and_visible(
    db, sim, run_pipeline, quality_resources, instance, capsys
):
    day = LONG_AGO[0]
    assert final_games(sim, day) > 0
    nbac_box_scores_404(sim)
    run_pipeline(day)

    [item] = items(db)
    assert (item.scraper_name, item.target_date.isoformat()) == ("nbac_box_scores", day)
    assert (item.status, item.next_retry_at, item.attempts) == ("permanent", None, 0)
    assert item.root_cause == "nbac_box_scores:box_score_unavailable"
    assert "will not publish" in item.details["classification"]

    # never retried, however long we wait — and never silently dropped
    result = tick(instance, quality_resources)
    for _ in range(3):
        sim.control.advance(24 * HOURS)
        assert tick(instance, quality_resources).run_requests == []
    assert [i.status for i in items(db)] == ["permanent"]
    # visible: asset metadata the UI plots, the dashboard, one alert
    [observation] = result.asset_events
    assert observation.asset_key == dg.AssetKey("scrape_retry_queue")
    assert (observation.metadata["permanent"].value, observation.metadata["backlog"].value) == (1, 0)
    [alert] = unresolved(db, "retry_permanent")
    assert alert.dedupe_key == "nbac_box_scores:box_score_unavailable" and alert.details["game_days"] == [day]
    with db.connect() as conn:
        queue_health = health_overview(conn, datetime.now(UTC))["retry_queue"]
    assert (queue_health["backlog"], queue_health["permanent"]) == (0, 1)
    assert queue_health["by_root_cause"] == [
        {
            "root_cause": "nbac_box_scores:box_score_unavailable",
            "status": "permanent",
            "game_days": 1,
            "first_day": day,
            "last_day": day,
        }
    ]
    capsys.readouterr()
    assert main(["retries", "--status", "permanent"]) == 0
    listed = capsys.readouterr().out
    assert "permanent 1" in listed and "nbac_box_scores:box_score_unavailable" in listed and day in listed


def test_a_fresh_box_score_404_is_transient_and_retried(db, sim, run_pipeline, quality_resources, instance):
    assert final_games(sim, YESTERDAY) > 0
    nbac_box_scores_404(sim)
    run_pipeline(YESTERDAY)
    now = sim.control.now()

    [item] = items(db)
    assert (item.scraper_name, item.status, item.root_cause) == (
        "nbac_box_scores",
        "pending",
        "nbac_box_scores:box_score_unavailable",
    )
    assert item.next_retry_at == now + timedelta(hours=4)
    assert unresolved(db, "retry_permanent") == []

    sim.control.advance(4 * HOURS)
    [request] = tick(instance, quality_resources).run_requests
    assert (
        request.partition_key == YESTERDAY and request.run_key == f"retry-{item.id}-1-{item.correlation_id}"
    )
    observed = tick(instance, quality_resources).asset_events
    assert observed == [] or observed[0].metadata["backlog"].value == 1


def test_a_late_box_score_recovers_a_permanent_item_and_resolves_its_alert(db, sim, run_pipeline):
    day = LONG_AGO[0]
    nbac_box_scores_404(sim)
    run_pipeline(day)
    assert [i.status for i in items(db)] == ["permanent"]
    sim.control.clear_faults()  # NBA.com published it after all
    run_pipeline(day)
    assert [i.status for i in items(db)] == ["recovered"]
    assert unresolved(db, "retry_permanent") == []


def test_duplicates_per_source_day_and_kind_collapse_into_one_item(
    db, sim, run_pipeline, quality_resources, instance
):
    """The same gap reported again and again — by the scrape (404s), by the comparison
    (box score missing), by re-runs of the day and by the sensor's sweep — is one item per
    (source, day, kind): here NBA.com's box scores of one old day."""
    day = LONG_AGO[1]
    nbac_box_scores_404(sim)
    for _ in range(3):
        run_pipeline(day)
        tick(instance, quality_resources)
    [row] = items(db)
    item = q.RetryItem.from_row(row)
    assert (item.source, item.kind, item.target_date.isoformat()) == ("nbac", "box_scores", day)
    # re-reports refresh what was observed, never how it was classified
    assert item.status == "permanent" and "will not publish" in row.details["classification"]
    [alert] = unresolved(db, "retry_permanent")
    assert alert.details["items"] == 1


def test_many_permanent_items_with_one_cause_raise_one_alert(
    db, sim, run_pipeline, quality_resources, instance
):
    """A backfill of old days whose box scores NBA.com never published: one alert for the
    cause, naming every day, notified once — not one alert per day."""
    nbac_box_scores_404(sim)
    for day in LONG_AGO:
        assert final_games(sim, day) > 0
        run_pipeline(day)
    assert [(i.target_date.isoformat(), i.status) for i in items(db)] == [(d, "permanent") for d in LONG_AGO]
    [alert] = unresolved(db, "retry_permanent")
    assert alert.entity == "nbac_box_scores" and alert.dedupe_key == "nbac_box_scores:box_score_unavailable"
    assert alert.details["items"] == len(LONG_AGO) and alert.details["game_days"] == LONG_AGO
    assert f"{len(LONG_AGO)} game day(s) permanently unavailable" in alert.title
    with db.connect() as conn:
        raised = conn.execute(
            sa.select(alert_deliveries.c.channel).where(
                alert_deliveries.c.alert_id == alert.id, alert_deliveries.c.event == "RAISED"
            )
        ).scalars()
        assert sorted(raised) == sorted({"webhook", "email", "dashboard"})  # once per channel
    assert tick(instance, quality_resources).run_requests == []


def test_many_exhausted_items_with_one_cause_raise_one_alert(db):
    """Transient failures that never heal: each day exhausts its retries; the operator gets
    one alert for the cause (BDL dropping games), with the days, not one per day."""
    schedule = BackoffSchedule()
    now = datetime(2026, 11, 24, 15, tzinfo=UTC)
    days = [TODAY - timedelta(days=n) for n in (1, 2, 3)]
    with db.begin() as conn:
        for day in days:
            q.enqueue(
                conn,
                scraper_name="bdl_games",
                target_date=day,
                reason="api_incomplete",
                original_error="BDL returned 7 games but NBA.com has 9",
                original_event_id=None,
                now=now,
                schedule=schedule,
            )
    for _ in range(3):  # each attempt fails, the last exhausts
        now += timedelta(hours=30)
        with db.begin() as conn:
            claimed = q.claim_due(conn, now=now, limit=10, worker="test")
            assert len(claimed) == len(days)
            for item in claimed:
                q.apply_verdict(conn, item, complete=False, is_attempt=True, now=now, schedule=schedule)
    assert {i.status for i in items(db)} == {"exhausted"}
    [alert] = unresolved(db, "retry_exhausted")
    assert alert.dedupe_key == "bdl_games:api_incomplete"
    assert alert.details["game_days"] == sorted(d.isoformat() for d in days)


def test_classification_by_error_and_by_age():
    schedule = BackoffSchedule.from_hours([4, 12, 24], box_score_permanent_after_hours=48)
    now = datetime(2026, 11, 24, 15, tzinfo=UTC)

    def verdict(scraper, day, error_type, status_code=None, kinds=()):
        return classify(Failure(scraper, day, error_type, status_code, kinds), now=now, schedule=schedule)

    old, fresh = date(2026, 11, 20), date(2026, 11, 23)
    assert verdict("bdl_box_scores", old, "api_error", 404).permanent
    assert not verdict("bdl_box_scores", fresh, "api_error", 404).permanent
    assert verdict("bdl_box_scores", old, "api_incomplete", kinds=("box_score_missing_in_bdl",)).permanent
    # a box score that answered but lists too few players is not "unavailable"
    assert not verdict("bdl_box_scores", old, "api_incomplete", kinds=("players_missing_in_bdl",)).permanent
    # the upstream failing to answer is transient at any age; a listing gap too
    assert not verdict("bdl_box_scores", old, "api_error", 503).permanent
    assert not verdict("bdl_box_scores", old, "rate_limit", 429).permanent
    assert not verdict("bdl_games", old, "api_incomplete", kinds=("missing_in_bdl",)).permanent
    # credentials rejected: retrying cannot fix it, whatever the age
    assert verdict("bdl_games", fresh, "auth_error", 401).permanent
    # NBA.com takes no key: its "access denied" is a bot block, which passes
    assert not verdict("nbac_schedule", fresh, "auth_error", 403).permanent
    assert verdict("bdl_box_scores", old, "api_error", 503).root_cause == "bdl_box_scores:api_error:503"


def test_a_pending_box_score_item_whose_game_ages_past_the_limit_becomes_permanent(
    db, sim, run_pipeline, quality_resources, instance
):
    """Classified by age at every tick, not only when queued: with a first retry further off
    than the limit, the sensor turns the item permanent instead of launching the retry."""
    quality_resources["retry_queue"] = RetryQueueResource(backoff_hours=[200.0])
    nbac_box_scores_404(sim)
    run_pipeline(YESTERDAY)
    [item] = items(db)
    assert item.status == "pending"
    sim.control.advance(210 * HOURS)
    assert tick(instance, quality_resources).run_requests == []
    [item] = items(db)
    assert (item.status, item.next_retry_at, item.attempts) == ("permanent", None, 0)
    assert item.retry_history[-1]["result"] == "permanent"
    [alert] = unresolved(db, "retry_permanent")
    assert alert.details["game_days"] == [YESTERDAY]
