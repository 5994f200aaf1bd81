"""Manual sync (seed 001 AC 7), two ways in, one way out:

* ``nba-notify sync --entity ... --date ... --priority ... --reason ... --by ...`` or the
  ``manual_sync_job`` launched from the Dagster UI write a REQUESTED row to ``manual_sync_audit``;
* ``manual_sync_dispatcher`` turns each request into a run of the entity's assets tagged with
  ``dagster/priority`` (EMERGENCY=100, HIGH=50, NORMAL=0), so the QueuedRunCoordinator
  dequeues an EMERGENCY sync before everything already waiting;
* ``sync_execution_tracker`` records the outcome and records processed back into the audit row.

A request that cannot run (a date outside the partitions, an entity not deployed here, a row
nobody can read) is REJECTED with the reason and a ``manual_sync_rejected`` alert; the
dispatcher keeps launching the others.
"""

from datetime import UTC, datetime

import dagster as dg
import sqlalchemy as sa

from nba_notify.defs.resources import PostgresResource
from nba_notify.lib.errors import classify_exception
from nba_notify.lib.game_days import game_day_problem
from nba_notify.lib.monitoring.manual import (
    PRIORITIES,
    ManualSyncRequest,
    choose_target,
    mark_queued,
    pending_requests,
    reject_with_alert,
    request_manual_sync,
)
from nba_notify.lib.monitoring.tracking import MANUAL_SYNC_TAG


class ManualSyncConfig(dg.Config):
    """entity: games_schedule | box_scores | live_scoreboard | notifications_sync;
    date: YYYY-MM-DD game date (US Eastern) for date-partitioned entities;
    priority: NORMAL | HIGH | EMERGENCY."""

    entity: str
    reason: str
    triggered_by: str
    date: str | None = None
    priority: str = "NORMAL"


@dg.op(description="Record a manual sync request; manual_sync_dispatcher launches it.")
def request_sync(
    context: dg.OpExecutionContext, config: ManualSyncConfig, database: PostgresResource
) -> None:
    request = request_manual_sync(
        database.engine(),
        entity=config.entity,
        partition_key=config.date,
        priority=config.priority,
        reason=config.reason,
        triggered_by=config.triggered_by,
    )
    context.log.info(
        f"manual sync {request.request_id} requested ({request.priority}) for {request.entity_type}"
    )


@dg.job(
    name="manual_sync_job",
    description=f"Emergency/manual sync of one entity. Priorities: {', '.join(PRIORITIES)}.",
    tags={"nba_notify/kind": "manual_sync_request"},
)
def manual_sync_job() -> None:
    request_sync()


@dg.sensor(
    name="manual_sync_dispatcher",
    target=dg.AssetSelection.all(),
    minimum_interval_seconds=15,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Launches requested manual syncs with their Dagster run priority; a request that cannot "
    "run is rejected with the reason (and an alert) without holding up the others.",
)
def manual_sync_dispatcher(
    context: dg.SensorEvaluationContext, database: PostgresResource
) -> dg.SensorResult:
    engine = database.engine()
    now = datetime.now(UTC)
    repository = context.repository_def
    assets = {
        key.to_user_string(): asset
        for key, asset in (repository.assets_defs_by_key.items() if repository else [])
        if asset.is_executable
    }
    partitioned = {key: asset.partitions_def is not None for key, asset in assets.items()}
    run_requests: list[dg.RunRequest] = []
    with engine.begin() as conn:
        for request in pending_requests(conn):
            # One savepoint per request: whatever is wrong with one row (written by an older
            # version, by hand, or a date that left the partitions) rejects that row only.
            try:
                with conn.begin_nested():
                    outcome = _dispatch_one(context, conn, request, assets, partitioned, now)
            except Exception as exc:
                outcome = f"could not be dispatched: {classify_exception(exc).message}"[:500]
            if isinstance(outcome, dg.RunRequest):
                run_requests.append(outcome)
            elif isinstance(outcome, str):
                with conn.begin_nested():
                    reject_with_alert(conn, request, outcome, now)
                context.log.warning(f"manual sync {request.request_id} rejected: {outcome}")
    return dg.SensorResult(run_requests=run_requests)


def _dispatch_one(
    context: dg.SensorEvaluationContext,
    conn: sa.Connection,
    request: ManualSyncRequest,
    assets: dict[str, dg.AssetsDefinition],
    partitioned: dict[str, bool],
    now: datetime,
) -> dg.RunRequest | str | None:
    """The run to request, the reason to reject, or None (already launched: marked QUEUED)."""
    # A request stays REQUESTED until its run exists: re-requesting is harmless (Dagster drops a
    # repeated run_key), so a crash between tick and launch loses nothing.
    launched = context.instance.get_run_records(
        filters=dg.RunsFilter(tags={MANUAL_SYNC_TAG: request.request_id}), limit=1
    )
    if launched:
        mark_queued(conn, request.request_id, launched[0].dagster_run.run_id, now)
        return None
    target = choose_target(request, partitioned)
    if isinstance(target, str):
        return target
    if target.partition_key is not None:
        # Checked against the assets' own partitions, as Dagster will: an unknown key would
        # otherwise fail the whole tick and every request behind it.
        for key in target.asset_keys:
            partitions = assets[key].partitions_def
            if partitions is not None and not partitions.has_partition_key(target.partition_key):
                return game_day_problem(target.partition_key, now) or (
                    f"date {target.partition_key} is not a partition of {key}"
                )
    return dg.RunRequest(
        run_key=f"manual-sync-{request.request_id}",
        asset_selection=[dg.AssetKey.from_user_string(k) for k in target.asset_keys],
        partition_key=target.partition_key,
        tags=request.run_tags(),
    )
