"""Data-quality assets (thin shells over :mod:`nba_notify.lib.quality`).

* ``source_discrepancies`` — right after ``games``, per game day: BDL vs NBA.com listings by
  game identity (games missing from a source; status/score/tip-off disagreements);
* ``box_score_coverage`` — right after the box-score scrapes: which final games each source's
  box score covers, as lag with a deadline. Its own asset so that one failing feed never
  blinds the other comparison: the graph shows which feed failed and what still ran.
  Both turn gaps into ``partial`` scrape events and retry items of their own scrapers and give
  those scrapers' retry items of the day their verdict (recovered / still failing / exhausted);
* ``scrape_retry_queue`` — the queue table (written by the assets above and the retry sensor);
* ``stale_row_cleanup`` — superseded phase-2 rows;
* ``reprocess_plan`` — the zero-record audit turned into the targeted backfill plan, with the
  false-positive rate as a plotted figure.
"""

from collections.abc import Callable
from datetime import date

import dagster as dg

from nba_notify.defs.ingest.assets import (
    DayEvents,
    bdl_box_scores_raw,
    games,
    materialize_days,
    nbac_box_scores_raw,
    player_box_scores,
)
from nba_notify.defs.ingest.partitions import game_day_partitions
from nba_notify.defs.quality.resources import BoxScoreDeadlineResource, RetryQueueResource
from nba_notify.defs.resources import ClockResource, PostgresResource
from nba_notify.lib.ingest.pipeline import DayResult
from nba_notify.lib.quality.audit import AUDIT_MODEL, SUMMARY_MODEL, load_audit, load_audit_summary
from nba_notify.lib.quality.cleanup import clean_superseded_rows
from nba_notify.lib.quality.discrepancies import FIELD_KINDS, box_score_overdue
from nba_notify.lib.quality.evaluate import DayEvaluation, evaluate_box_scores, evaluate_listings
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


def _evaluation_metadata(evaluation: DayEvaluation) -> dict[str, object]:
    """One game day's evaluation as that day's partition metadata."""
    verdicts = [v.transition.status for v in evaluation.verdicts]
    metadata: dict[str, object] = {
        "discrepancies": len(evaluation.discrepancies),
        "partial_events_logged": len(evaluation.detection_event_ids),
        "retry_items_queued": len(evaluation.queued),
        "retry_items_recovered": verdicts.count(RECOVERED),
        "retry_items_rescheduled": verdicts.count(PENDING),
        "retry_items_exhausted": verdicts.count(EXHAUSTED),
    }
    if evaluation.discrepancies:
        shown = evaluation.discrepancies[:MAX_ROWS_SHOWN]
        metadata["found"] = dg.MetadataValue.md(
            f"{len(evaluation.discrepancies)} discrepancies (first {len(shown)})\n\n"
            + markdown_table(
                ("game_date", "game_id", "matchup", "kind", "scraper"),
                [
                    (evaluation.day.isoformat(), d.game_id, d.details.get("matchup"), d.kind, d.scraper_name)
                    for d in shown
                ],
            )
        )
    return metadata


def _evaluate_days(
    context: dg.AssetExecutionContext,
    evaluate: Callable[[date], tuple[DayEvaluation, int]],
    describe: Callable[[DayEvaluation], dict[str, object]],
) -> DayEvents:
    """Evaluate every game day of the run, each day's figures on its own partition."""

    def day(day: date) -> DayResult:
        evaluation, rows = evaluate(day)
        return DayResult(day, rows, {"evaluation": evaluation})

    yield from materialize_days(
        context,
        day,
        describe=lambda r: {
            **_evaluation_metadata(r.details["evaluation"]),
            **describe(r.details["evaluation"]),
        },
    )


@dg.asset(
    partitions_def=game_day_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[games],
    group_name="quality",
    kinds={"python", "postgres"},
    description="BDL vs NBA.com listings per game day, by game identity: games "
    "one source lists and the other does not, and status/score/tip-off disagreements. Reads only the "
    "games table, so it runs whatever the box-score feeds do. Each gap is logged as a 'partial' scrape "
    "event (api_incomplete) and queued for a re-scrape of that listing; the day's listing retry items "
    "are recovered, rescheduled or exhausted here. Checks: no_games_missing_between_sources (ERROR), "
    "sources_agree_on_games (ERROR on final games, WARN before).",
)
def source_discrepancies(
    context: dg.AssetExecutionContext,
    database: PostgresResource,
    clock: ClockResource,
    retry_queue: RetryQueueResource,
) -> DayEvents:
    engine, now, schedule = database.engine(), clock.now(), retry_queue.schedule()
    retry_item = retry_item_of(dict(context.run.tags))
    yield from _evaluate_days(
        context,
        lambda day: evaluate_listings(
            engine, day, now=now, schedule=schedule, run_id=context.run.run_id, retry_item_id=retry_item
        ),
        lambda e: {
            "games_missing_from_a_source": len(e.missing_game_ids),
            "disagreements": sum(1 for d in e.discrepancies if d.kind in FIELD_KINDS),
        },
    )


@dg.asset(
    partitions_def=game_day_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[games, bdl_box_scores_raw, nbac_box_scores_raw],
    group_name="quality",
    kinds={"python", "postgres"},
    description="Box-score coverage per game day: every final game a source lists should get its box "
    "score there, with as many players as the other source lists. Sources publish box scores some time "
    "after the final buzzer, so a gap is lag until box_score_deadline.hours_after_final after the game "
    "went final, and an error after (check box_scores_published_within_deadline); it is never a missing "
    "game. Gaps are logged and queued for a re-scrape of that box-score feed. If a box-score feed fails, "
    "this asset does not run for the day; the listing comparison (source_discrepancies) still does.",
)
def box_score_coverage(
    context: dg.AssetExecutionContext,
    database: PostgresResource,
    clock: ClockResource,
    retry_queue: RetryQueueResource,
    box_score_deadline: BoxScoreDeadlineResource,
) -> DayEvents:
    engine, now, schedule = database.engine(), clock.now(), retry_queue.schedule()
    deadline = box_score_deadline.deadline()
    retry_item = retry_item_of(dict(context.run.tags))
    yield from _evaluate_days(
        context,
        lambda day: evaluate_box_scores(
            engine,
            day,
            now=now,
            schedule=schedule,
            deadline=deadline,
            run_id=context.run.run_id,
            retry_item_id=retry_item,
        ),
        lambda e: {
            "box_scores_not_published": sum(
                1 for d in e.discrepancies if d.kind.startswith("box_score_missing")
            ),
            "box_scores_short_of_players": sum(
                1 for d in e.discrepancies if d.kind.startswith("players_missing")
            ),
            "box_scores_overdue": sum(1 for d in e.discrepancies if box_score_overdue(d.details, now)),
        },
    )


scrape_retry_queue = dg.AssetSpec(
    "scrape_retry_queue",
    deps=[source_discrepancies, box_score_coverage],
    group_name="quality",
    kinds={"postgres"},
    description="The scrape retry queue: one item per (scraper, game "
    "day) with reason, original error, attempts of max_retries, next_retry_at (4 h / 12 h / 24 h), "
    "retry_history and status pending/retrying/recovered/exhausted/permanent (a box score still "
    "missing days after the game: never retried, kept in sight). Filled by source_discrepancies, "
    "box_score_coverage and scrape_retry_sensor; the sensor observes it with the backlog and each "
    "status as plotted numbers.",
)


@dg.asset(
    deps=[games, player_box_scores],
    group_name="quality",
    kinds={"python", "postgres"},
    description="Deletes superseded phase-2 rows: box score lines of "
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
    description="The zero-record audit as a targeted reprocessing plan: exactly "
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
                    (
                        p.partition_key,
                        p.action,
                        ", ".join(p.processors),
                        ", ".join(p.scrapers),
                        ", ".join(p.asset_keys),
                    )
                    for p in plan.partitions
                ],
            )
            if plan.partitions
            else "Nothing to reprocess: no real data loss."
        ),
        "backfills": dg.MetadataValue.json(plan.to_dict()["backfills"]),
    }
    return dg.MaterializeResult(metadata=metadata)
