"""Drive the retry queue in-process, the way the Dagster daemon does under ``nba-notify dev``:
one tick of ``scrape_retry_sensor``, then every run it requested. For the headless demo
(no daemon) and end-to-end tests; production leaves this to the daemon.

    add_recoverable_source_fault(sim.control, today, now)   # BDL hides 2 games for 3 h
    ... ingest_job for today ...                             # detected, queued (+4 h)
    sim.control.advance(4 * 3600)
    run_retry_tick(definitions, instance)                    # re-scraped, recovered
    quality_summary(engine)
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import dagster as dg

from nba_notify.defs.quality.assets import RETRY_SCRAPER_TAG

SENSOR_NAME = "scrape_retry_sensor"
JOB_NAME = "retry_scrape_job"
RUN_KEY_TAG = "dagster/run_key"


@dataclass(frozen=True)
class RetryRun:
    run_key: str
    scraper_name: str
    partition_key: str
    run_id: str
    success: bool


def run_retry_tick(
    definitions: dg.Definitions, instance: dg.DagsterInstance, run_config: dict[str, Any] | None = None
) -> list[RetryRun]:
    """Evaluate the sensor once and execute the runs it requests (each at most once: a run
    key already on the instance is skipped, as the daemon does)."""
    sensor = definitions.resolve_sensor_def(SENSOR_NAME)
    context = dg.build_sensor_context(instance=instance, resources=dict(definitions.resources or {}))
    result = sensor(context)
    job = definitions.resolve_job_def(JOB_NAME)
    runs = []
    for request in getattr(result, "run_requests", None) or []:
        if instance.get_runs(filters=dg.RunsFilter(tags={RUN_KEY_TAG: request.run_key}), limit=1):
            continue
        outcome = job.execute_in_process(
            instance=instance,
            partition_key=request.partition_key,
            asset_selection=request.asset_selection,
            tags={**request.tags, RUN_KEY_TAG: request.run_key},
            run_config=run_config,
            raise_on_error=False,
        )
        runs.append(
            RetryRun(
                request.run_key,
                request.tags[RETRY_SCRAPER_TAG],
                request.partition_key,
                outcome.run_id,
                outcome.success,
            )
        )
    return runs


def add_recoverable_source_fault(
    control: Any, game_day: date, now: datetime, *, count: int = 2, heal_after: timedelta = timedelta(hours=3)
) -> dict[str, Any]:
    """BDL silently leaves ``count`` games of ``game_day`` out of /v1/games until ``now +
    heal_after`` (seed 003's "BDL returned 4 games but NBAC has 9"). On a day whose games
    have not started, box scores are unaffected, so the coverage gate stays green and the
    demo shows detection -> retry after 4 h -> recovery."""
    return control.add_fault(
        "drop_games",
        "bdl.games",
        params={"date": game_day.isoformat(), "count": count, "until": (now + heal_after).isoformat()},
    )
