"""Props jobs and schedule: kept off the main ingest path (they spend Odds API credits)."""

import dagster as dg

from nba_notify.defs.props.assets import (
    bettingpros_props_raw,
    game_lines,
    odds_api_lines_raw,
    odds_api_props_raw,
    player_props,
)

props_job = dg.define_asset_job(
    "props_job",
    selection=dg.AssetSelection.assets(odds_api_props_raw, odds_api_lines_raw, player_props, game_lines),
    executor_def=dg.in_process_executor,
    description="Player props and game lines from The Odds API for game days: raw answers, credits, then "
    "player_props and game_lines with their identity and discrepancy checks.",
)

bettingpros_job = dg.define_asset_job(
    "bettingpros_job",
    selection=dg.AssetSelection.assets(bettingpros_props_raw, player_props),
    executor_def=dg.in_process_executor,
    description="BettingPros player props for game days (slow answers, Brotli: see its asset).",
)


@dg.schedule(
    job=props_job,
    cron_schedule="0 11,17 * * *",
    execution_timezone="America/New_York",
    # Off until an operator has set ODDS_API_KEY and a credit budget: every tick spends credits.
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Props and lines for today and tomorrow, late morning and before the evening slate.",
)
def props_schedule(context: dg.ScheduleEvaluationContext):
    from datetime import timedelta

    today = context.scheduled_execution_time.date()
    for day in (today, today + timedelta(days=1)):
        yield dg.RunRequest(
            run_key=f"props-{day.isoformat()}-{context.scheduled_execution_time:%H}",
            partition_key=day.isoformat(),
        )
