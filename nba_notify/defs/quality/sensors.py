"""``scrape_retry_sensor`` — seed 003's recovery monitor, as a Dagster sensor.

Each tick (clock: ``ClockResource``, the simulator's in tests and the demo):

1. queues scrapes that failed or came back partial in a run that never evaluated them
   (e.g. a raw asset failed, so ``box_score_coverage`` was skipped);
2. settles attempts whose retry run ended without a verdict (failed or cancelled run) —
   they count as failed attempts; re-requests a claimed attempt whose run was never
   created (same run key, so Dagster launches it at most once);
3. turns pending box-score items whose game day aged past the limit into ``permanent`` ones
   (never retried again; one alert per root cause);
4. claims due items (``FOR UPDATE SKIP LOCKED``) and requests one ``retry_scrape_job`` run
   per item with ``run_key=retry-<item>-<attempt>-<correlation id>``: a tick never launches an attempt twice;
5. observes ``scrape_retry_queue`` with the backlog (pending + retrying) and every status as
   numbers, which the asset's Plots tab draws over time.

The retry run's comparison step (``source_discrepancies`` or ``box_score_coverage``) records
the verdict (recovered / rescheduled with backoff / exhausted + alert).
"""

import json
from datetime import UTC, datetime

import dagster as dg

from nba_notify.defs.quality.assets import (
    CORRELATION_TAG,
    RETRY_ATTEMPT_TAG,
    RETRY_ITEM_TAG,
    RETRY_SCRAPER_TAG,
    scrape_retry_queue,
)
from nba_notify.defs.quality.jobs import retry_scrape_job
from nba_notify.defs.quality.resources import RetryQueueResource
from nba_notify.defs.resources import ClockResource, PostgresResource
from nba_notify.lib.quality import queue as q
from nba_notify.lib.quality.reprocess import (
    EVALUATION_ASSETS,
    PHASE2_DOWNSTREAM,
    SCRAPER_FEEDS,
    SCRAPER_RAW_ASSETS,
)
from nba_notify.lib.quality.retry import RETRYING


def retry_assets(scraper_name: str) -> list[dg.AssetKey]:
    """The scraper's raw asset(s), the phase-2 assets it feeds, and the re-evaluation."""
    keys = [
        *SCRAPER_RAW_ASSETS[scraper_name],
        *PHASE2_DOWNSTREAM[SCRAPER_FEEDS[scraper_name]],
        *EVALUATION_ASSETS[scraper_name],
    ]
    return [dg.AssetKey(k) for k in keys]


def run_request_for(item: q.RetryItem) -> dg.RunRequest:
    return dg.RunRequest(
        run_key=q.run_key_for(item.id, item.attempts, item.correlation_id),
        partition_key=item.target_date.isoformat(),
        asset_selection=retry_assets(item.scraper_name),
        tags={
            RETRY_ITEM_TAG: str(item.id),
            RETRY_ATTEMPT_TAG: str(item.attempts),
            RETRY_SCRAPER_TAG: item.scraper_name,
            CORRELATION_TAG: item.correlation_id,
        },
    )


def run_of_attempt(instance: dg.DagsterInstance, item: q.RetryItem) -> dg.DagsterRun | None:
    runs = instance.get_runs(
        filters=dg.RunsFilter(tags={RETRY_ITEM_TAG: str(item.id), RETRY_ATTEMPT_TAG: str(item.attempts)}),
        limit=1,
    )
    return runs[0] if runs else None


@dg.sensor(
    name="scrape_retry_sensor",
    job=retry_scrape_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Retry queue worker: queues failed scrapes (transient or permanent), "
    "launches a re-scrape run per due item (backoff 4 h / 12 h / 24 h, 3 attempts), settles "
    "attempts whose run failed, and observes the backlog on scrape_retry_queue.",
)
def scrape_retry_sensor(
    context: dg.SensorEvaluationContext,
    database: PostgresResource,
    clock: ClockResource,
    retry_queue: RetryQueueResource,
) -> dg.SensorResult:
    engine, now, schedule = database.engine(), clock.now(), retry_queue.schedule()
    with engine.begin() as conn:
        queued = [
            q.enqueue_event(conn, e, now=now, schedule=schedule)[0] for e in q.unqueued_failed_scrapes(conn)
        ]
    requests, settled = [], []
    with engine.connect() as conn:
        in_flight = q.items_in(conn, RETRYING)
    for item in in_flight:
        run = run_of_attempt(context.instance, item)
        if run is None:
            requests.append(run_request_for(item))
        elif run.is_finished:
            with engine.begin() as conn:
                outcome = q.record_attempt_without_verdict(
                    conn, item, now=now, schedule=schedule, run_status=run.status.value, run_id=run.run_id
                )
            if outcome is not None:
                settled.append(outcome)
    with engine.begin() as conn:
        aged = q.settle_aged(conn, now=now, schedule=schedule)
        claimed = q.claim_due(
            conn,
            now=now,
            limit=retry_queue.claims_per_tick,
            worker=f"scrape_retry_sensor@{datetime.now(UTC).isoformat()}",
        )
        counts = q.counts_by_status(conn)
    requests += [run_request_for(item) for item in claimed]
    for item in queued:
        context.log.info(
            f"queued {item.scraper_name} {item.target_date} ({item.reason}), first retry at {item.next_retry_at}"
        )
    for outcome in settled:
        context.log.warning(
            f"retry {outcome.item.scraper_name} {outcome.item.target_date} attempt {outcome.item.attempts}: "
            f"run ended without a verdict -> {outcome.transition.status}"
        )
    for item in claimed:
        context.log.info(
            f"retrying {item.scraper_name} {item.target_date}: attempt {item.attempts} of {item.max_retries}"
        )
    for item in aged:
        context.log.warning(
            f"{item.scraper_name} {item.target_date}: permanent ({item.root_cause}), not retried"
        )
    # One observation of the queue per change (the UI plots the counts over time).
    by_status = q.backlog_figures(counts)
    cursor = json.dumps(by_status, sort_keys=True)
    events = (
        []
        if cursor == context.cursor
        else [dg.AssetObservation(asset_key=scrape_retry_queue.key, metadata=by_status)]
    )
    return dg.SensorResult(
        run_requests=requests,
        asset_events=events,
        cursor=cursor,
        skip_reason=None if requests else f"nothing due at {now.isoformat()} ({len(queued)} newly queued)",
    )
