"""Jobs of the quality domain.

* ``retry_scrape_job`` — what ``scrape_retry_sensor`` launches: one game day, the failed
  scraper's raw asset, phase 2 and the comparison that judges that scraper
  (``source_discrepancies`` for listings, ``box_score_coverage`` for box scores), which
  records the verdict.
* ``reprocess_job`` — an operator launches it from the UI (Launchpad): it builds the plan
  from the zero-record audit and launches the backfill(s) of exactly those game days through
  the webserver's GraphQL API, like ``nba-notify reprocess --apply``.
* ``analytics_job`` (+ ``analytics_schedule``, 06:30 ET after the 06:00 ingest) — every SQL
  model (phase 3/4 behind the pre-flight check, the quality marts), the stale-row cleanup and
  the reprocess plan.
"""

import dagster as dg

from nba_notify.defs.ingest.assets import (
    bdl_box_scores_raw,
    bdl_games_raw,
    games,
    nbac_box_scores_raw,
    nbac_schedule_raw,
    player_box_scores,
)
from nba_notify.defs.quality.assets import (
    box_score_coverage,
    reprocess_plan,
    source_discrepancies,
    stale_row_cleanup,
)
from nba_notify.defs.resources import PostgresResource
from nba_notify.defs.sql.factory import sql_models_selection
from nba_notify.lib.quality.audit import load_audit
from nba_notify.lib.quality.reprocess import build_plan, launch_backfills, resolve_webserver_url
from nba_notify.lib.sqlmodels import load_project

retry_scrape_job = dg.define_asset_job(
    "retry_scrape_job",
    selection=dg.AssetSelection.assets(
        bdl_games_raw,
        bdl_box_scores_raw,
        nbac_schedule_raw,
        nbac_box_scores_raw,
        games,
        player_box_scores,
        source_discrepancies,
        box_score_coverage,
    ),
    executor_def=dg.in_process_executor,
    description="Re-scrape one (scraper, game day) from the retry queue and re-evaluate the day. "
    "Launched by scrape_retry_sensor with the scraper's raw asset selected.",
)


class ReprocessConfig(dg.Config):
    partitions: list[str] = []
    """Game days to reprocess; empty means the whole plan. A day not in the plan is refused."""
    dry_run: bool = False
    """Log the plan, launch nothing."""
    webserver_url: str | None = None
    """The Dagster webserver to launch the backfill through (default $NBA_NOTIFY_DAGSTER_URL
    or http://127.0.0.1:3000, where `nba-notify dev` serves it)."""


@dg.op(description="Build the plan from the zero-record audit and launch its backfill(s).")
def launch_reprocess_backfills(
    context: dg.OpExecutionContext, config: ReprocessConfig, database: PostgresResource
) -> dg.Output:
    plan = build_plan(load_audit(database.engine()))
    if config.partitions:
        plan = plan.only(config.partitions)
    for p in plan.partitions:
        context.log.info(f"{p.partition_key}: {p.action} -> {', '.join(p.asset_keys)}")
    launched = []
    if plan.partitions and not config.dry_run:
        launched = launch_backfills(
            plan,
            resolve_webserver_url(config.webserver_url),
            tags={"nba_notify/launched_by": f"reprocess_job:{context.run_id}"},
        )
    return dg.Output(
        None,
        metadata={
            "partitions": dg.MetadataValue.json(plan.partition_keys),
            "backfills": dg.MetadataValue.json(
                [
                    {"backfill_id": b.backfill_id, "action": b.action, "partitions": list(b.partition_keys)}
                    for b in launched
                ]
            ),
            "dry_run": config.dry_run,
        },
    )


@dg.job(
    executor_def=dg.in_process_executor,
    description="Targeted reprocessing from the zero-record audit: launches a "
    "backfill of exactly the real-loss game days. Config: partitions (subset), dry_run.",
)
def reprocess_job():
    launch_reprocess_backfills()


analytics_job = dg.define_asset_job(
    "analytics_job",
    selection=sql_models_selection(load_project())
    | dg.AssetSelection.assets(stale_row_cleanup, reprocess_plan),
    executor_def=dg.in_process_executor,
    description="Phase 3/4 and the quality marts (SQL models; the pre-flight check blocks phase "
    "3/4 on stale or failed phase 2), stale-row cleanup and the reprocess plan.",
)


@dg.schedule(
    job=analytics_job,
    cron_schedule="30 6 * * *",
    execution_timezone="America/New_York",
    # on by default, like the ingest it follows: otherwise the phase-3/4 marts never build
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Phase 3/4 and the quality reports after the daily ingest.",
)
def analytics_schedule(context: dg.ScheduleEvaluationContext):
    return dg.RunRequest(run_key=f"analytics-{context.scheduled_execution_time.date().isoformat()}")
