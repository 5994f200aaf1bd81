"""Data-quality assets (thin shells over :mod:`nba_notify.lib.quality`).

* ``source_discrepancies`` — right after ingest, per game day: BDL vs NBA.com by game
  identity; gaps become ``partial`` scrape events and retry items, and the day's retry items
  get their verdict (recovered / still failing / exhausted);
* ``scrape_retry_queue`` — the queue table (written by the asset above and the retry sensor);
* ``stale_row_cleanup`` — superseded phase-2 rows;
* ``reprocess_plan`` — the zero-record audit turned into the targeted backfill plan, with the
  false-positive rate as a plotted figure.
"""

from datetime import date

import dagster as dg

from nba_notify.defs.ingest.assets import (
    bdl_box_scores_raw,
    games,
    nbac_box_scores_raw,
    player_box_scores,
    run_days,
)
from nba_notify.defs.ingest.partitions import game_day_partitions
from nba_notify.defs.quality.resources import RetryQueueResource
from nba_notify.defs.resources import ClockResource, PostgresResource
from nba_notify.lib.ingest.pipeline import DayResult
from nba_notify.lib.quality.audit import AUDIT_MODEL, SUMMARY_MODEL, load_audit, load_audit_summary
from nba_notify.lib.quality.cleanup import clean_superseded_rows
from nba_notify.lib.quality.evaluate import DayEvaluation, evaluate_day
from nba_notify.lib.quality.reprocess import build_plan
from nba_notify.lib.quality.retry import EXHAUSTED, PENDING, RECOVERED
from nba_notify.lib.sqlmodels import load_project, markdown_table

# Tags a retry run carries (set by scrape_retry_sensor): the verdict of that run is the
# item's attempt.
RETRY_ITEM_TAG = "nba_notify/retry_item"
RETRY_ATTEMPT_TAG = "nba_notify/retry_attempt"
RETRY_SCRAPER_TAG = "nba_notify/retry_scraper"
CORRELATION_TAG = "nba_notify/correlation_id"

MAX_ROWS_SHOWN = 50


def retry_item_of(tags: dict[str, str]) -> int | None:
    value = tags.get(RETRY_ITEM_TAG)
    return int(value) if value and value.isdigit() else None


@dg.asset(
    partitions_def=game_day_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[games, bdl_box_scores_raw, nbac_box_scores_raw],
    group_name="quality",
    kinds={"python", "postgres"},
    description="BDL vs NBA.com per game day, by game identity (seed 003 component 2): games "
    "missing from either source, status/score/tip-off disagreements, box score games and "
    "players missing. Each gap is logged as a 'partial' scrape event (api_incomplete) and "
    "queued for retry; the day's retry items are recovered, rescheduled or exhausted here.",
)
def source_discrepancies(
    context: dg.AssetExecutionContext,
    database: PostgresResource,
    clock: ClockResource,
    retry_queue: RetryQueueResource,
) -> dg.MaterializeResult:
    engine, now, schedule = database.engine(), clock.now(), retry_queue.schedule()
    retry_item = retry_item_of(dict(context.run.tags))
    evaluations: list[DayEvaluation] = []

    def evaluate(day: date) -> DayResult:
        evaluation, rows = evaluate_day(
            engine, day, now=now, schedule=schedule, run_id=context.run.run_id, retry_item_id=retry_item
        )
        evaluations.append(evaluation)
        return DayResult(day, rows)

    results = run_days(context, evaluate)
    return dg.MaterializeResult(metadata=discrepancy_metadata(results, evaluations))


def discrepancy_metadata(results: list[DayResult], evaluations: list[DayEvaluation]) -> dict[str, object]:
    found = [(e.day, d) for e in evaluations for d in e.discrepancies]
    missing = [(day, d) for day, d in found if "missing" in d.kind]
    verdicts = [v for e in evaluations for v in e.verdicts]
    metadata: dict[str, object] = {
        "dagster/row_count": sum(r.records for r in results),
        "game_days": len(results),
        "games_missing_from_a_source": len({d.game_id for _, d in missing}),
        "disagreements": sum(1 for _, d in found if d.kind.endswith("_mismatch")),
        "partial_events_logged": sum(len(e.detection_event_ids) for e in evaluations),
        "retry_items_queued": sum(len(e.queued) for e in evaluations),
        "retry_items_recovered": sum(1 for v in verdicts if v.transition.status == RECOVERED),
        "retry_items_rescheduled": sum(1 for v in verdicts if v.transition.status == PENDING),
        "retry_items_exhausted": sum(1 for v in verdicts if v.transition.status == EXHAUSTED),
    }
    if found:
        rows = [
            (day.isoformat(), d.game_id, d.kind, d.scraper_name) for day, d in found[:MAX_ROWS_SHOWN]
        ]
        metadata["discrepancies"] = dg.MetadataValue.md(
            f"{len(found)} discrepancies (first {len(rows)})\n\n"
            + markdown_table(("game_date", "game_id", "kind", "scraper"), rows)
        )
    return metadata


scrape_retry_queue = dg.AssetSpec(
    "scrape_retry_queue",
    deps=[source_discrepancies],
    group_name="quality",
    kinds={"postgres"},
    description="The scrape retry queue (seed 003 components 3-4): one item per (scraper, game "
    "day) with reason, original error, attempts of max_retries, next_retry_at (4 h / 12 h / 24 h), "
    "retry_history and status pending/retrying/recovered/exhausted/permanent (a box score still "
    "missing days after the game: never retried, kept in sight). Filled by source_discrepancies and "
    "scrape_retry_sensor; the sensor observes it with the backlog and each status as plotted numbers.",
)


@dg.asset(
    deps=[games, player_box_scores],
    group_name="quality",
    kinds={"python", "postgres"},
    description="Deletes superseded phase-2 rows (seed 004 C2 data cleanup): box score lines of "
    "a game its day's games no longer lists, written before the day was last re-processed.",
)
def stale_row_cleanup(context: dg.AssetExecutionContext, database: PostgresResource) -> dg.MaterializeResult:
    result = clean_superseded_rows(database.engine(), run_id=context.run.run_id)
    return dg.MaterializeResult(
        metadata={
            "rows_deleted": result.deleted,
            "games": dg.MetadataValue.json(result.game_ids[:MAX_ROWS_SHOWN]),
        }
    )


@dg.asset(
    deps=[dg.AssetKey(AUDIT_MODEL), dg.AssetKey(SUMMARY_MODEL)],
    group_name="quality",
    kinds={"python"},
    description="The zero-record audit as a targeted reprocessing plan (seed 004 C1): exactly "
    "the real-loss game days, each re-processed from stored raw payloads where they exist, "
    "re-scraped otherwise. Apply with `nba-notify reprocess --apply` or the reprocess_job.",
)
def reprocess_plan(context: dg.AssetExecutionContext, database: PostgresResource) -> dg.MaterializeResult:
    engine, project = database.engine(), load_project()
    rows = load_audit(engine, project, build=False)
    summary = load_audit_summary(engine, project, build=False).get("all", {})
    plan = build_plan(rows)
    context.log.info(f"{len(plan.partitions)} real-loss game day(s) to reprocess")
    metadata: dict[str, object] = {
        "false_positive_rate_pct": float(summary.get("false_positive_pct") or 0.0),
        "zero_record_runs": int(summary.get("zero_record_runs") or 0),
        "real_loss_runs": int(summary.get("real_loss") or 0),
        "partitions_to_reprocess": len(plan.partitions),
        "plan": dg.MetadataValue.md(
            markdown_table(
                ("game_day", "action", "processors", "re-scrape", "assets"),
                [
                    (p.partition_key, p.action, ", ".join(p.processors), ", ".join(p.scrapers), ", ".join(p.asset_keys))
                    for p in plan.partitions
                ],
            )
            if plan.partitions
            else "Nothing to reprocess: no real data loss."
        ),
        "backfills": dg.MetadataValue.json(plan.to_dict()["backfills"]),
    }
    return dg.MaterializeResult(metadata=metadata)
