"""Phase 1 (raw scrapes per source) and phase 2 (canonical games and box scores), one
partition per US-Eastern game day. Each asset is a thin shell over
:mod:`nba_notify.lib.ingest.pipeline`: loop over the run's days, report what was written for
each day on that day's partition."""

from collections.abc import Callable, Iterator, Mapping
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


DayMetadata = Callable[[DayResult], Mapping[str, object]]
# What a game-day asset yields: its result, or — when some days failed — the materializations
# of the days that did their work before the failure naming the others.
DayEvents = Iterator[dg.MaterializeResult | dg.AssetMaterialization]


def materialize_days(
    context: dg.AssetExecutionContext,
    work: Callable[[date], DayResult],
    *,
    describe: DayMetadata | None = None,
    recorder: CallRecorder | None = None,
    cached: bool = False,
) -> DayEvents:
    """Run ``work`` for every day of the run and report each day on its own partition.

    Per-partition truth: in a single-run backfill every partition's materialization carries the
    rows written for that day (``dagster/row_count``), ``describe(result)`` and the API calls
    made for it (``recorder``; ``cached``: also the cache hit ratio) — never the run's totals
    (``context.add_asset_metadata(..., partition_key=day)``, Dagster's idiom for metadata of one
    partition of a multi-partition run).

    A failing day does not stop the others (each day is its own transaction). The days that did
    their work are materialized (``AssetMaterialization(partition=day)``), then the step fails
    naming every failed day, so the UI shows exactly which partitions failed."""
    done: list[tuple[DayResult, dict[str, object]]] = []
    failures = []
    days = partition_dates(context)
    for position, day in enumerate(days, start=1):
        mark = recorder.mark() if recorder is not None else 0
        try:
            result = work(day)
        except Exception as exc:  # classified and re-raised below, never swallowed
            error = classify_exception(exc)
            context.log.error(f"{day}: {error}")
            failures.append((day, error))
            continue
        metadata: dict[str, object] = {
            "dagster/row_count": result.records,
            "game_date": day.isoformat(),
            **(describe(result) if describe is not None else {}),
        }
        if recorder is not None:
            metadata.update(api_metrics(recorder, mark, cached=cached))
        done.append((result, metadata))
        # one line per day: what `nba-notify ingest` shows as progress
        context.log.info(f"{GAME_DAY_DONE} {day} ({position}/{len(days)}): {result.records} records")
    if failures:
        for result, metadata in done:
            yield dg.AssetMaterialization(
                asset_key=context.asset_key, partition=result.day.isoformat(), metadata=metadata
            )
        if len(failures) == 1 and not done:
            raise as_failure(failures[0][1])
        first = failures[0][1]
        raise as_failure(
            PipelineError(
                first.category,
                f"{len(failures)} of {len(failures) + len(done)} game days failed "
                f"({', '.join(str(day) for day, _ in failures)}); first: {first}",
                details={str(day): err.as_dict() for day, err in failures},
                status_code=first.status_code,
            )
        )
    for result, metadata in done:
        context.add_asset_metadata(metadata, partition_key=result.day.isoformat())
    yield dg.MaterializeResult()


@dg.asset(
    **_PARTITIONED,
    group_name="ingest",
    kinds={"python", "postgres"},
    description="BDL /v1/games for the game day, every cursor page stored raw.",
)
def bdl_games_raw(
    context: dg.AssetExecutionContext, database: PostgresResource, bdl: BdlResource
) -> DayEvents:
    recorder = CallRecorder()
    client, engine, run_id = bdl.client(recorder), database.engine(), context.run.run_id
    yield from materialize_days(
        context,
        lambda day: pipeline.scrape_bdl_games(engine, client, day, run_id=run_id, recorder=recorder),
        describe=lambda r: {"pages": r.details["pages"]},
        recorder=recorder,
    )


@dg.asset(
    **_PARTITIONED,
    group_name="ingest",
    kinds={"python", "postgres"},
    description="BDL /v1/box_scores?date= for the game day (rows carry no game id).",
)
def bdl_box_scores_raw(
    context: dg.AssetExecutionContext, database: PostgresResource, bdl: BdlResource
) -> DayEvents:
    recorder = CallRecorder()
    client, engine, run_id = bdl.client(recorder), database.engine(), context.run.run_id
    yield from materialize_days(
        context,
        lambda day: pipeline.scrape_bdl_box_scores(engine, client, day, run_id=run_id, recorder=recorder),
        describe=lambda r: {"players": r.details["players"]},
        recorder=recorder,
    )


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
) -> DayEvents:
    recorder = CallRecorder()
    client, engine, run_id = nbac.client(recorder), database.engine(), context.run.run_id
    current = pipeline.current_season(clock.now())
    yield from materialize_days(
        context,
        lambda day: pipeline.scrape_nbac_schedule(
            engine, client, day, current_season=current, run_id=run_id, recorder=recorder
        ),
        describe=lambda r: {"season": r.details["season"], "from_cache": r.details["from_cache"]},
        recorder=recorder,
        cached=True,
    )


@dg.asset(
    **_PARTITIONED,
    deps=[nbac_schedule_raw],
    group_name="ingest",
    kinds={"python", "postgres"},
    description="NBA.com live box score of every started game of the day (per the stored schedule).",
)
def nbac_box_scores_raw(
    context: dg.AssetExecutionContext, database: PostgresResource, nbac: NbacResource
) -> DayEvents:
    recorder = CallRecorder()
    client, engine, run_id = nbac.client(recorder), database.engine(), context.run.run_id
    yield from materialize_days(
        context,
        lambda day: pipeline.scrape_nbac_box_scores(engine, client, day, run_id=run_id, recorder=recorder),
        describe=lambda r: {
            "final_games_without_box_score": len(r.details["unavailable"]),
            "games_without_box_score": dg.MetadataValue.json(sorted(r.details["unavailable"])),
        },
        recorder=recorder,
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
def games(context: dg.AssetExecutionContext, database: PostgresResource) -> DayEvents:
    engine, run_id = database.engine(), context.run.run_id
    yield from materialize_days(
        context,
        lambda day: pipeline.process_games(engine, day, run_id=run_id),
        describe=lambda r: {
            "rows_written": r.details["written"],
            "moved_games": len(r.details["moved"]),
            "moves": dg.MetadataValue.json(r.details["moved"]),
            "gone_from_feeds": len(r.details["gone_from_feeds"]),
            "unproven_bdl_games": len(r.details["unproven_bdl_games"]),
            "new_identity_links": r.details["new_links"],
            "identity_conflicts": len(r.details["identity_conflicts"]),
            "peak_memory_mb": peak_memory_mb(),
        },
    )


@dg.asset(
    **_PARTITIONED,
    deps=[bdl_box_scores_raw, nbac_box_scores_raw, games],
    group_name="ingest",
    kinds={"python", "postgres"},
    description="Player lines per game and source, keyed to the canonical game.",
)
def player_box_scores(context: dg.AssetExecutionContext, database: PostgresResource) -> DayEvents:
    engine, run_id = database.engine(), context.run.run_id
    yield from materialize_days(
        context,
        lambda day: pipeline.process_player_box_scores(engine, day, run_id=run_id),
        describe=lambda r: {
            "rows_for_unknown_games": len(r.details["unknown_games"]),
            "peak_memory_mb": peak_memory_mb(),
        },
    )
