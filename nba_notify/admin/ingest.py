"""``nba-notify ingest --from D --to D``: one single-run backfill of the ingest assets.

When the Dagster daemon is alive on this instance the range becomes a real asset backfill (the
UI's Backfills page shows it; the daemon launches it as one run, per the assets'
``BackfillPolicy.single_run``). Otherwise the same run — the ingest job over the partition
range — executes in this process. Either way the command follows the run's event log and
prints one line per finished game day and step, then the outcome."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import dagster as dg
from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    BACKFILL_ID_TAG,
)

from nba_notify.defs.ingest.assets import GAME_DAY_DONE
from nba_notify.defs.ingest.partitions import game_day_partitions
from nba_notify.lib.config import FIRST_SEASON_VARIABLE

INGEST_JOB = "ingest_job"
REQUEST_TAG = "nba_notify/ingest_request"
LAUNCHED_BY = {"nba_notify/launched_by": "nba-notify ingest"}
# The daemon beats every 30 s; two missed beats and we no longer count on it.
DAEMON_ALIVE_WITHIN_SECONDS = 75
_FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


class IngestRangeError(ValueError):
    pass


@dataclass
class IngestOutcome:
    partition_keys: list[str]
    where: str  # "daemon" | "in-process"
    run_ids: list[str] = field(default_factory=list)
    backfill_id: str | None = None
    success: bool = False
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)


def partition_keys_between(start: date, end: date) -> list[str]:
    if end < start:
        raise IngestRangeError(f"--to {end} is before --from {start}")
    keys = game_day_partitions.get_partition_keys()
    first, last = keys[0], keys[-1]
    if start.isoformat() < first or end.isoformat() > last:
        raise IngestRangeError(
            f"game days run from {first} (set {FIRST_SEASON_VARIABLE} for earlier seasons) to {last} "
            f"(tomorrow); {start}..{end} is outside"
        )
    return game_day_partitions.get_partition_keys_in_range(
        dg.PartitionKeyRange(start.isoformat(), end.isoformat())
    )


def daemon_alive(instance: dg.DagsterInstance, now: float | None = None) -> bool:
    """Is a daemon running on this instance (its backfill loop heartbeat is recent)?"""
    now = time.time() if now is None else now
    beat = instance.get_daemon_heartbeats().get("BACKFILL")
    return beat is not None and now - beat.timestamp < DAEMON_ALIVE_WITHIN_SECONDS


def ingest_asset_keys(definitions: dg.Definitions) -> list[dg.AssetKey]:
    job = definitions.resolve_job_def(INGEST_JOB)
    return sorted(job.asset_layer.selected_asset_keys, key=lambda k: k.to_user_string())


def launch_backfill(
    instance: dg.DagsterInstance, definitions: dg.Definitions, keys: list[str], request_id: str
) -> str:
    """An asset backfill of the ingest job's assets over ``keys``, as the UI would create it."""
    backfill_id = uuid.uuid4().hex[:8]
    backfill = PartitionBackfill.from_asset_partitions(
        backfill_id=backfill_id,
        asset_graph=definitions.resolve_asset_graph(),
        partition_names=keys,
        asset_selection=ingest_asset_keys(definitions),
        backfill_timestamp=time.time(),
        tags={**LAUNCHED_BY, REQUEST_TAG: request_id},
        dynamic_partitions_store=instance,
        all_partitions=False,
        title=f"ingest {keys[0]}..{keys[-1]}",
        description="launched by nba-notify ingest",
        run_config=None,
    )
    instance.add_backfill(backfill)
    return backfill_id


def run_in_process(
    instance: dg.DagsterInstance, definitions: dg.Definitions, keys: list[str], request_id: str
) -> dg.ExecuteInProcessResult:
    """The run a single-run backfill would launch, executed here."""
    tags = {
        **LAUNCHED_BY,
        REQUEST_TAG: request_id,
        ASSET_PARTITION_RANGE_START_TAG: keys[0],
        ASSET_PARTITION_RANGE_END_TAG: keys[-1],
    }
    quiet = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    return definitions.resolve_job_def(INGEST_JOB).execute_in_process(
        instance=instance, tags=tags, raise_on_error=False, run_config=quiet
    )


class ProgressFollower:
    """Reads new events of the request's runs and turns them into one line each."""

    def __init__(self, instance: dg.DagsterInstance, request_id: str, show: Callable[[str], None]):
        self.instance, self.request_id, self.show = instance, request_id, show
        self.cursors: dict[str, str | None] = {}

    def runs(self, backfill_id: str | None) -> list[dg.DagsterRun]:
        tags = {BACKFILL_ID_TAG: backfill_id} if backfill_id else {REQUEST_TAG: self.request_id}
        return list(self.instance.get_runs(filters=dg.RunsFilter(tags=tags)))

    def poll(self, backfill_id: str | None = None) -> list[dg.DagsterRun]:
        runs = self.runs(backfill_id)
        for run in runs:
            connection = self.instance.get_records_for_run(run.run_id, cursor=self.cursors.get(run.run_id))
            self.cursors[run.run_id] = connection.cursor
            for record in connection.records:
                line = describe(record.event_log_entry)
                if line:
                    self.show(line)
        return runs


def describe(entry: dg.EventLogEntry) -> str | None:
    event = entry.dagster_event
    if event is None:
        message = entry.user_message or ""
        if GAME_DAY_DONE in message:
            return f"  {entry.step_key:<22} {message.split(GAME_DAY_DONE, 1)[1].strip()}"
        return None
    kind = event.event_type
    if kind == dg.DagsterEventType.RUN_START:
        return f"run {entry.run_id[:8]} started"
    if kind == dg.DagsterEventType.STEP_SUCCESS:
        return f"  {event.step_key:<22} done"
    if kind == dg.DagsterEventType.STEP_FAILURE:
        error = event.step_failure_data.error  # type: ignore[union-attr]
        return f"  {event.step_key:<22} FAILED: {error.message.strip().splitlines()[0] if error else ''}"
    if kind in (
        dg.DagsterEventType.RUN_SUCCESS,
        dg.DagsterEventType.RUN_FAILURE,
        dg.DagsterEventType.RUN_CANCELED,
    ):
        return f"run {entry.run_id[:8]} {kind.name.removeprefix('RUN_').lower()}"
    return None


def ingest(
    instance: dg.DagsterInstance,
    definitions: dg.Definitions,
    start: date,
    end: date,
    *,
    show: Callable[[str], None] = print,
    prefer_daemon: bool = True,
    poll_seconds: float = 0.5,
    timeout_seconds: float = 6 * 3600,
) -> IngestOutcome:
    keys = partition_keys_between(start, end)
    request_id = uuid.uuid4().hex
    follower = ProgressFollower(instance, request_id, show)
    started = time.perf_counter()
    use_daemon = prefer_daemon and daemon_alive(instance)
    outcome = IngestOutcome(keys, "daemon" if use_daemon else "in-process")
    show(
        f"ingest {keys[0]}..{keys[-1]} ({len(keys)} game day(s)) as one run, "
        + ("through the Dagster daemon's backfill" if use_daemon else "in this process (no daemon running)")
    )
    if use_daemon:
        outcome.backfill_id = launch_backfill(instance, definitions, keys, request_id)
        show(f"backfill {outcome.backfill_id} submitted (Dagster UI -> Runs -> Backfills)")
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            runs = follower.poll(outcome.backfill_id)
            backfill = instance.get_backfill(outcome.backfill_id)
            finished_runs = runs and all(run.status in _FINISHED for run in runs)
            if backfill is not None and backfill.status != BulkActionStatus.REQUESTED and finished_runs:
                break
            time.sleep(poll_seconds)
        runs = follower.poll(outcome.backfill_id)
    else:
        results: list[dg.ExecuteInProcessResult] = []
        worker = threading.Thread(
            target=lambda: results.append(run_in_process(instance, definitions, keys, request_id)),
            daemon=True,
        )
        worker.start()
        while worker.is_alive():
            follower.poll()
            worker.join(poll_seconds)
        runs = follower.poll()
    outcome.run_ids = [run.run_id for run in runs]
    outcome.success = bool(runs) and all(
        (instance.get_run_by_id(run.run_id) or run).status == dg.DagsterRunStatus.SUCCESS for run in runs
    )
    outcome.seconds = round(time.perf_counter() - started, 2)
    show(
        f"{'OK' if outcome.success else 'FAILED'}: {len(keys)} game day(s) in {outcome.seconds:.1f} s "
        f"(run {', '.join(r[:8] for r in outcome.run_ids) or 'none'}) at {datetime.now(UTC):%H:%M:%S} UTC"
    )
    return outcome
