"""Phase 1 (raw scrapes per source) and phase 2 (canonical games and box scores), one
partition per US-Eastern game day. Each asset is a thin shell over
:mod:`nba_notify.lib.ingest.pipeline`: loop over the run's days, report what was written."""

from collections.abc import Callable
from datetime import date

import dagster as dg

from nba_notify.defs.ingest.partitions import game_day_partitions, partition_dates
from nba_notify.defs.resources import BdlResource, ClockResource, NbacResource, PostgresResource
from nba_notify.lib.clients.http import CallRecorder
from nba_notify.lib.errors import PipelineError, classify_exception
from nba_notify.lib.failures import as_failure
from nba_notify.lib.ingest import pipeline
from nba_notify.lib.ingest.pipeline import DayResult
from nba_notify.lib.run_metrics import api_metrics, peak_memory_mb

# No step-level RetryPolicy: transient faults are retried inside the HTTP client (seconds,
# honouring rate-limit hints) and persistent ones by the retry queue (hours, seed 003), each
# attempt on record. A third, blind retry layer would only multiply upstream calls.

GAME_DAY_DONE = "game day done:"

_PARTITIONED = dict(
    partitions_def=game_day_partitions,
    # A season backfill is one run looping over its days, not 180 runs of process start-up.
    backfill_policy=dg.BackfillPolicy.single_run(),
)


def run_days(context: dg.AssetExecutionContext, work: Callable[[date], DayResult]) -> list[DayResult]:
    """Run ``work`` for every day of the run. A failing day does not stop the others (each
    day is its own transaction); the asset then fails naming every failed day."""
    results, failures = [], []
    days = partition_dates(context)
    for done, day in enumerate(days, start=1):
        try:
            results.append(work(day))
            # one line per day: what `nba-notify ingest` shows as progress
            context.log.info(f"{GAME_DAY_DONE} {day} ({done}/{len(days)}): {results[-1].records} records")
        except Exception as exc:  # classified and re-raised below, never swallowed
            error = classify_exception(exc)
            context.log.error(f"{day}: {error}")
            failures.append((day, error))
    if failures:
        if len(failures) == 1 and not results:
            raise as_failure(failures[0][1])
        first = failures[0][1]
        raise as_failure(
            PipelineError(
                first.category,
                f"{len(failures)} of {len(failures) + len(results)} game days failed "
                f"({', '.join(str(day) for day, _ in failures)}); first: {first}",
                details={str(day): err.as_dict() for day, err in failures},
                status_code=first.status_code,
            )
        )
    return results


def day_metadata(results: list[DayResult]) -> dict[str, object]:
    total = sum(r.records for r in results)
    meta: dict[str, object] = {"dagster/row_count": total, "game_days": len(results)}
    if len(results) == 1:
        meta["game_date"] = results[0].day.isoformat()
    else:
        meta["records_by_day"] = dg.MetadataValue.json({r.day.isoformat(): r.records for r in results})
    return meta


@dg.asset(
    **_PARTITIONED,
    group_name="ingest",
    kinds={"python", "postgres"},
    description="BDL /v1/games for the game day, every cursor page stored raw.",
)
def bdl_games_raw(
    context: dg.AssetExecutionContext, database: PostgresResource, bdl: BdlResource
) -> dg.MaterializeResult:
    recorder = CallRecorder()
    client, engine, run_id = bdl.client(recorder), database.engine(), context.run.run_id
    results = run_days(
        context, lambda day: pipeline.scrape_bdl_games(engine, client, day, run_id=run_id, recorder=recorder)
    )
    return dg.MaterializeResult(
        metadata={
            **day_metadata(results),
            "pages": sum(r.details["pages"] for r in results),
            **api_metrics(recorder),
        }
    )


@dg.asset(
    **_PARTITIONED,
    group_name="ingest",
    kinds={"python", "postgres"},
    description="BDL /v1/box_scores?date= for the game day (rows carry no game id).",
)
def bdl_box_scores_raw(
    context: dg.AssetExecutionContext, database: PostgresResource, bdl: BdlResource
) -> dg.MaterializeResult:
    recorder = CallRecorder()
    client, engine, run_id = bdl.client(recorder), database.engine(), context.run.run_id
    results = run_days(
        context,
        lambda day: pipeline.scrape_bdl_box_scores(engine, client, day, run_id=run_id, recorder=recorder),
    )
    return dg.MaterializeResult(metadata={**day_metadata(results), **api_metrics(recorder)})


@dg.asset(
    **_PARTITIONED,
    group_name="ingest",
    kinds={"python", "postgres"},
    description="NBA.com league schedule (scheduleLeagueV2), the game day's slice counted; "
    "the season file is fetched once per run (ETag cache) and stored once (content hash).",
)
def nbac_schedule_raw(
    context: dg.AssetExecutionContext,
    database: PostgresResource,
    nbac: NbacResource,
    clock: ClockResource,
) -> dg.MaterializeResult:
    recorder = CallRecorder()
    client, engine, run_id = nbac.client(recorder), database.engine(), context.run.run_id
    current = pipeline.current_season(clock.now())
    results = run_days(
        context,
        lambda day: pipeline.scrape_nbac_schedule(
            engine, client, day, current_season=current, run_id=run_id, recorder=recorder
        ),
    )
    return dg.MaterializeResult(metadata={**day_metadata(results), **api_metrics(recorder, cached=True)})


@dg.asset(
    **_PARTITIONED,
    deps=[nbac_schedule_raw],
    group_name="ingest",
    kinds={"python", "postgres"},
    description="NBA.com live box score of every started game of the day (per the stored schedule).",
)
def nbac_box_scores_raw(
    context: dg.AssetExecutionContext, database: PostgresResource, nbac: NbacResource
) -> dg.MaterializeResult:
    recorder = CallRecorder()
    client, engine, run_id = nbac.client(recorder), database.engine(), context.run.run_id
    results = run_days(
        context,
        lambda day: pipeline.scrape_nbac_box_scores(engine, client, day, run_id=run_id, recorder=recorder),
    )
    unavailable = sorted(g for r in results for g in r.details["unavailable"])
    return dg.MaterializeResult(
        metadata={
            **day_metadata(results),
            "final_games_without_box_score": len(unavailable),
            **api_metrics(recorder),
        }
    )


@dg.asset(
    **_PARTITIONED,
    deps=[bdl_games_raw, nbac_schedule_raw],
    group_name="ingest",
    kinds={"python", "postgres"},
    description="One row per league game (NBA.com gameId), built from what each source currently says: the "
    "day it is on now, tip-off, status, scores, which source lists it and where they disagree. BDL ids are "
    "mapped to league games by proof (same teams, same day) and the links stored; a game that moves keeps its "
    "identity and its row follows it to the new day. Identity conflicts are kept and flagged, never merged.",
)
def games(context: dg.AssetExecutionContext, database: PostgresResource) -> dg.MaterializeResult:
    engine, run_id = database.engine(), context.run.run_id
    results = run_days(context, lambda day: pipeline.process_games(engine, day, run_id=run_id))
    moved = {gid: move for r in results for gid, move in r.details["moved"].items()}
    conflicts = [c for r in results for c in r.details["identity_conflicts"]]
    return dg.MaterializeResult(
        metadata={
            **day_metadata(results),
            "rows_written": sum(r.details["written"] for r in results),
            "moved_games": len(moved),
            "moves": dg.MetadataValue.json(moved),
            "gone_from_feeds": sum(len(r.details["gone_from_feeds"]) for r in results),
            "unproven_bdl_games": sum(len(r.details["unproven_bdl_games"]) for r in results),
            "new_identity_links": sum(r.details["new_links"] for r in results),
            "identity_conflicts": len(conflicts),
            "peak_memory_mb": peak_memory_mb(),
        }
    )


@dg.asset(
    **_PARTITIONED,
    deps=[bdl_box_scores_raw, nbac_box_scores_raw, games],
    group_name="ingest",
    kinds={"python", "postgres"},
    description="Player lines per game and source, keyed to the canonical game.",
)
def player_box_scores(context: dg.AssetExecutionContext, database: PostgresResource) -> dg.MaterializeResult:
    engine, run_id = database.engine(), context.run.run_id
    results = run_days(context, lambda day: pipeline.process_player_box_scores(engine, day, run_id=run_id))
    return dg.MaterializeResult(
        metadata={
            **day_metadata(results),
            "rows_for_unknown_games": sum(len(r.details["unknown_games"]) for r in results),
            "peak_memory_mb": peak_memory_mb(),
        }
    )
