"""The main job and its schedules."""

from datetime import timedelta

import dagster as dg

from nba_notify.defs.ingest.assets import (
    bdl_box_scores_raw,
    bdl_games_raw,
    games,
    nbac_box_scores_raw,
    nbac_schedule_raw,
    player_box_scores,
)

# Steps are small HTTP + SQL calls: one process per run beats a process per step.
IN_PROCESS = dg.in_process_executor

ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=dg.AssetSelection.assets(
        bdl_games_raw,
        bdl_box_scores_raw,
        nbac_schedule_raw,
        nbac_box_scores_raw,
        games,
        player_box_scores,
        # right after phase 2: a gap between the sources is known within minutes (defs/quality);
        # two assets, so a failing box-score feed never stops the listing comparison
        dg.AssetKey("source_discrepancies"),
        dg.AssetKey("box_score_coverage"),
    ),
    executor_def=IN_PROCESS,
    description="Phase 1 + 2 for game days: scrape both sources, store raw, build games and box scores; "
    "then compare the sources (listings, box-score coverage).",
)

schedule_refresh_job = dg.define_asset_job(
    "schedule_refresh_job",
    selection=dg.AssetSelection.assets(bdl_games_raw, nbac_schedule_raw, games),
    executor_def=IN_PROCESS,
    description="Refresh one game day's schedule from both sources (tip-off moves, postponements).",
)

live_scoreboard_job = dg.define_asset_job(
    "live_scoreboard_job",
    selection=dg.AssetSelection.assets(bdl_games_raw, nbac_schedule_raw, games),
    executor_def=IN_PROCESS,
    description="Scores and statuses of today's games while any is live (every 30 s).",
)


@dg.schedule(
    job=ingest_job,
    cron_schedule="0 6 * * *",
    execution_timezone="America/New_York",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Daily ingest of yesterday (finals, box scores) and today (the slate).",
)
def daily_ingest_schedule(context: dg.ScheduleEvaluationContext):
    today = context.scheduled_execution_time.date()
    for day in (today - timedelta(days=1), today):
        key = day.isoformat()
        yield dg.RunRequest(run_key=f"daily-ingest-{key}", partition_key=key)


@dg.schedule(
    job=schedule_refresh_job,
    cron_schedule="*/15 * * * *",
    execution_timezone="America/New_York",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Today's schedule every 15 minutes.",
)
def todays_schedule_refresh(context: dg.ScheduleEvaluationContext):
    tick = context.scheduled_execution_time
    key = tick.date().isoformat()
    return dg.RunRequest(run_key=f"schedule-refresh-{tick.isoformat()}", partition_key=key)
