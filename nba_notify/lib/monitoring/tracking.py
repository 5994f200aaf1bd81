"""Execution tracking: turn what one finished Dagster run did (plain facts read from its event
log) into per-entity execution rows, per-date/per-source results and classified error rows,
then write them once.

Metrics are collected in one place — here, from the run's events — never by each asset: assets
only report what they know in their materialization metadata (``dagster/row_count``,
``api_calls``, ``api_retries``, ``api_p50_ms``, ``api_p95_ms``, ``cache_hit_ratio``,
``peak_memory_mb``) and raise classified failures (``nba_notify.lib.failures.as_failure``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from nba_notify.lib.db.tables.monitoring import (
    manual_sync_audit,
    sync_error_log,
    sync_execution_history,
    sync_execution_results,
    sync_status,
)
from nba_notify.lib.errors import POLICIES, ErrorCategory, Severity
from nba_notify.lib.monitoring.entities import (
    ENTITY_BY_JOB,
    SYNC_FREQUENCY_SECONDS,
    source_for_asset,
)
from nba_notify.lib.monitoring.entities import entity_for_asset as asset_entity

MANUAL_SYNC_TAG = "nba_notify/manual_sync_id"


@dataclass(frozen=True)
class Materialization:
    asset_key: str
    partition_key: str | None
    metadata: Mapping[str, Any]


@dataclass(frozen=True)
class StepFailure:
    step_key: str
    asset_key: str
    message: str
    error_fields: Mapping[str, Any]  # error_category, error_severity, ... (may be empty)
    at: datetime
    check_name: str | None = None  # the step is this asset check's (not the asset's own)


@dataclass(frozen=True)
class CheckEvaluation:
    asset_key: str
    check_name: str
    passed: bool
    severity: str  # ERROR | WARN
    partition_key: str | None = None
    description: str | None = None
    blocking: bool = False

    @property
    def stops_the_run(self) -> bool:
        """A failed blocking ERROR check fails its step, so Dagster fails the run."""
        return not self.passed and self.blocking and self.severity == "ERROR"


@dataclass(frozen=True)
class RunFacts:
    run_id: str
    job_name: str
    status: str  # SUCCESS | FAILURE | CANCELED
    started_at: datetime
    ended_at: datetime
    tags: Mapping[str, str] = field(default_factory=dict)
    planned_assets: Sequence[str] = ()
    materializations: Sequence[Materialization] = ()
    step_failures: Sequence[StepFailure] = ()
    check_evaluations: Sequence[CheckEvaluation] = ()
    run_failure_message: str | None = None

    @property
    def partition_key(self) -> str | None:
        return self.tags.get("dagster/partition")

    @property
    def trigger(self) -> str:
        if MANUAL_SYNC_TAG in self.tags:
            return "manual"
        if "dagster/schedule_name" in self.tags:
            return "schedule"
        if "dagster/backfill" in self.tags:
            return "backfill"
        if "dagster/sensor_name" in self.tags:
            return "sensor"
        return "adhoc"


@dataclass(frozen=True)
class ErrorRecord:
    entity_type: str
    asset_key: str | None
    partition_key: str | None
    category: str
    severity: str
    message: str
    status_code: int | None
    context: Mapping[str, Any]
    recovery: str
    occurred_at: datetime


@dataclass(frozen=True)
class ResultRecord:
    asset_key: str
    source: str
    partition_key: str | None
    success: bool
    records_processed: int | None
    error_category: str | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class EntityExecution:
    entity_type: str
    run_id: str
    job_name: str
    partition_key: str | None
    trigger: str
    run_status: str
    success: bool
    started_at: datetime
    ended_at: datetime
    records_processed: int
    peak_memory_mb: float | None
    api_calls: int | None
    api_retries: int | None
    api_p50_ms: float | None
    api_p95_ms: float | None
    cache_hit_ratio: float | None
    failed_checks: int
    error_details: Mapping[str, Any] | None
    results: Sequence[ResultRecord]
    errors: Sequence[ErrorRecord]
    manual_sync_id: str | None = None

    @property
    def duration_seconds(self) -> float:
        return max(0.0, (self.ended_at - self.started_at).total_seconds())


def _number(metadata: Mapping[str, Any], key: str) -> float | None:
    value = metadata.get(key)
    value = getattr(value, "value", value)
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def without_class_prefix(message: str, category: str) -> str:
    """``PipelineError.__str__`` (the text Dagster shows) starts with ``[CATEGORY] ``; the
    error's class is stored beside the message, so the message is kept without it and
    ``last_error`` carries the class exactly once."""
    prefix = f"[{category}]"
    text = message.strip()
    while text.startswith(prefix):
        text = text[len(prefix) :].lstrip()
    return text


def with_class_prefix(category: str, message: str) -> str:
    return f"[{category}] {without_class_prefix(message, category)}"


def _check_error_record(
    entity: str, check: CheckEvaluation, partition: str | None, at: datetime
) -> ErrorRecord:
    where = f" [{check.partition_key or partition}]" if (check.partition_key or partition) else ""
    return ErrorRecord(
        entity_type=entity,
        asset_key=check.asset_key,
        partition_key=check.partition_key or partition,
        category=str(ErrorCategory.VALIDATION),
        severity=str(Severity.HIGH),
        message=f"blocking check {check.check_name} failed on {check.asset_key}{where}"
        + (f": {check.description}" if check.description else ""),
        status_code=None,
        context={"check_name": check.check_name, "blocking": True},
        recovery="A blocking asset check failed, so Dagster failed the run and nothing downstream ran: "
        "read the check's metadata in the run, repair the data (retry queue, `nba-notify reprocess`) "
        "and re-run.",
        occurred_at=at,
    )


def _error_record(entity: str, failure: StepFailure, partition: str | None) -> ErrorRecord:
    fields = failure.error_fields
    category = str(fields.get("error_category") or ErrorCategory.API)
    if category not in ErrorCategory.__members__:
        category = str(ErrorCategory.API)
    policy = POLICIES[ErrorCategory(category)]
    if fields.get("error_category"):
        recovery = str(fields.get("error_recovery") or policy.recovery)
    else:
        recovery = (
            "Unclassified failure (the asset did not raise as_failure): read the stack trace in the run's logs. "
            + policy.recovery
        )
    severity = str(fields.get("error_severity") or Severity.HIGH)
    if severity not in Severity.__members__:
        severity = str(Severity.HIGH)
    status = fields.get("error_status_code")
    details = fields.get("error_details")
    return ErrorRecord(
        entity_type=entity,
        asset_key=failure.asset_key,
        partition_key=partition,
        category=category,
        severity=severity,
        message=without_class_prefix(failure.message, category),
        status_code=int(status) if isinstance(status, (int, float)) else None,
        context={"step_key": failure.step_key, "details": details if details is not None else {}},
        recovery=recovery,
        occurred_at=failure.at,
    )


def summarize_run(facts: RunFacts) -> list[EntityExecution]:
    """One execution per entity the run touched.

    An entity failed when one of its steps failed, a blocking check on one of its assets
    failed (Dagster fails the run for it), or — in a run Dagster did not mark SUCCESS — one of
    its planned assets was never materialized (an upstream failed: that error is recorded).
    A run Dagster marks FAILURE or CANCELED is never recorded as all-success: when no entity
    is to blame, every entity of the run failed with the run's own cause."""
    partition = facts.partition_key
    by_entity: dict[str, dict[str, Any]] = {}
    # A job mapped by name owns all of its assets (live_scoreboard_job materializes the same
    # assets as the schedule refresh, every 30 s: those runs must not count as games_schedule).
    job_entity = ENTITY_BY_JOB.get(facts.job_name)

    def entity_for_asset(asset_key: str) -> str | None:
        return job_entity or asset_entity(asset_key)

    def bucket(entity: str) -> dict[str, Any]:
        return by_entity.setdefault(entity, {"planned": set(), "mats": [], "failures": [], "checks": []})

    for key in facts.planned_assets:
        if (entity := entity_for_asset(key)) is not None:
            bucket(entity)["planned"].add(key)
    for mat in facts.materializations:
        if (entity := entity_for_asset(mat.asset_key)) is not None:
            bucket(entity)["mats"].append(mat)
    for failure in facts.step_failures:
        if (entity := entity_for_asset(failure.asset_key)) is not None:
            bucket(entity)["failures"].append(failure)
    for check in facts.check_evaluations:
        if (entity := entity_for_asset(check.asset_key)) is not None:
            bucket(entity)["checks"].append(check)
    if job_entity is not None:
        bucket(job_entity)
    unattributed = [f for f in facts.step_failures if entity_for_asset(f.asset_key) is None]
    run_ok = facts.status == "SUCCESS"

    # entity -> (success, its own errors, errors it inherited from elsewhere, assets missing)
    verdicts: dict[str, tuple[bool, list[ErrorRecord], list[ErrorRecord], list[str]]] = {}
    for entity, data in sorted(by_entity.items()):
        materialized = {m.asset_key for m in data["mats"]}
        missing = sorted(data["planned"] - materialized)
        stopping = [c for c in data["checks"] if c.stops_the_run]
        stopped_checks = {(c.asset_key, c.check_name) for c in stopping}
        # a blocking check's own step failure is the check's verdict, recorded once from it
        own_failures = [
            f
            for f in data["failures"]
            if f.check_name is None or (f.asset_key, f.check_name) not in stopped_checks
        ]
        errors = [_error_record(entity, f, partition) for f in own_failures]
        errors += [_check_error_record(entity, c, partition, facts.ended_at) for c in stopping]
        success = not errors and (run_ok or (not missing and bool(data["planned"] or materialized)))
        inherited = [] if success or errors else [_run_cause(entity, facts, unattributed, missing, partition)]
        verdicts[entity] = (success, errors, inherited, missing)
    if not run_ok and verdicts and all(v[0] for v in verdicts.values()):
        # Dagster failed the run for something no entity owns: the run failed for all of them
        verdicts = {
            entity: (False, [], [_run_cause(entity, facts, unattributed, missing, partition)], missing)
            for entity, (_, _, _, missing) in verdicts.items()
        }

    executions = []
    for entity, data in sorted(by_entity.items()):
        success, own_errors, inherited, missing = verdicts[entity]
        errors = own_errors + inherited
        results = [
            ResultRecord(
                m.asset_key,
                source_for_asset(m.asset_key),
                m.partition_key or partition,
                True,
                _int(_number(m.metadata, "dagster/row_count")),
            )
            for m in data["mats"]
        ]
        results += [
            ResultRecord(
                e.asset_key,
                source_for_asset(e.asset_key),
                e.partition_key,
                False,
                None,
                e.category,
                e.message,
            )
            for e in own_errors
            if e.asset_key
        ]
        metrics = _merge_api_metrics([m.metadata for m in data["mats"]])
        failed_checks = sum(1 for c in data["checks"] if not c.passed)
        error_details = None
        if errors:
            error_details = {
                "errors": [
                    {
                        "category": e.category,
                        "severity": e.severity,
                        "message": e.message,
                        "asset_key": e.asset_key,
                    }
                    for e in errors
                ],
                "missing_assets": missing,
            }
        executions.append(
            EntityExecution(
                entity_type=entity,
                run_id=facts.run_id,
                job_name=facts.job_name,
                partition_key=partition,
                trigger=facts.trigger,
                run_status=facts.status,
                success=success,
                started_at=facts.started_at,
                ended_at=facts.ended_at,
                records_processed=sum(r.records_processed or 0 for r in results),
                failed_checks=failed_checks,
                error_details=error_details,
                results=results,
                errors=errors,
                manual_sync_id=facts.tags.get(MANUAL_SYNC_TAG),
                **metrics,
            )
        )
    return executions


def _run_cause(
    entity: str,
    facts: RunFacts,
    unattributed: Sequence[StepFailure],
    missing: Sequence[str],
    partition: str | None,
) -> ErrorRecord:
    """Why an entity failed that had no failure of its own: what failed first, classified if
    known, else the run's own failure."""
    cause = (list(unattributed) or list(facts.step_failures) or [None])[0]
    if cause is not None:
        return _error_record(entity, cause, partition)
    return ErrorRecord(
        entity,
        None,
        partition,
        str(ErrorCategory.API),
        str(Severity.HIGH),
        facts.run_failure_message or f"run {facts.status.lower()} before completing",
        None,
        {"run_status": facts.status, "missing_assets": list(missing)},
        "The run ended without this entity's assets: see the run's logs, then re-run (`nba-notify sync`).",
        facts.ended_at,
    )


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)


def _merge_api_metrics(metadatas: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Sum calls and retries; p95 is the worst asset's p95 and p50 the call-weighted mean of
    the assets' p50s (exact percentiles would need every latency; this errs on the safe side);
    cache hit ratio is call-weighted; peak memory is the maximum."""
    calls = [(_number(m, "api_calls") or 0.0, m) for m in metadatas if _number(m, "api_calls") is not None]
    total_calls = sum(c for c, _ in calls)
    retries = [_number(m, "api_retries") for m in metadatas if _number(m, "api_retries") is not None]
    p95 = [_number(m, "api_p95_ms") for m in metadatas if _number(m, "api_p95_ms") is not None]
    memory = [_number(m, "peak_memory_mb") for m in metadatas if _number(m, "peak_memory_mb") is not None]

    def weighted(key: str) -> float | None:
        pairs = [(c, _number(m, key)) for c, m in calls if _number(m, key) is not None]
        weight = sum(c for c, _ in pairs)
        if not pairs:
            return None
        if weight == 0:
            return sum(v for _, v in pairs) / len(pairs)
        return sum(c * v for c, v in pairs) / weight

    return {
        "api_calls": int(total_calls) if calls else None,
        "api_retries": int(sum(retries)) if retries else None,
        "api_p50_ms": weighted("api_p50_ms"),
        "api_p95_ms": max(p95) if p95 else None,
        "cache_hit_ratio": weighted("cache_hit_ratio"),
        "peak_memory_mb": max(memory) if memory else None,
    }


def record_execution(conn: sa.Connection, execution: EntityExecution) -> int | None:
    """Write one execution (history + results + errors + sync_status + manual audit) in the
    caller's transaction. Idempotent: a run already recorded for the entity returns None and
    changes nothing, so a tracker that sees a run twice never double-counts."""
    h = sync_execution_history
    execution_id = conn.execute(
        pg_insert(h)
        .values(
            entity_type=execution.entity_type,
            run_id=execution.run_id,
            job_name=execution.job_name,
            partition_key=execution.partition_key,
            trigger=execution.trigger,
            run_status=execution.run_status,
            success=execution.success,
            execution_start=execution.started_at,
            execution_end=execution.ended_at,
            duration_seconds=execution.duration_seconds,
            records_processed=execution.records_processed,
            peak_memory_mb=execution.peak_memory_mb,
            api_calls=execution.api_calls,
            api_retries=execution.api_retries,
            api_p50_ms=execution.api_p50_ms,
            api_p95_ms=execution.api_p95_ms,
            cache_hit_ratio=execution.cache_hit_ratio,
            failed_checks=execution.failed_checks,
            error_details=execution.error_details,
        )
        .on_conflict_do_nothing(index_elements=[h.c.run_id, h.c.entity_type])
        .returning(h.c.id)
    ).scalar()
    if execution_id is None:
        return None
    if execution.results:
        conn.execute(
            sa.insert(sync_execution_results),
            [
                {
                    "execution_id": execution_id,
                    "entity_type": execution.entity_type,
                    "asset_key": r.asset_key,
                    "source": r.source,
                    "partition_key": r.partition_key,
                    "success": r.success,
                    "records_processed": r.records_processed,
                    "error_category": r.error_category,
                    "error_message": r.error_message,
                }
                for r in execution.results
            ],
        )
    if execution.errors:
        conn.execute(
            sa.insert(sync_error_log),
            [
                {
                    "execution_id": execution_id,
                    "run_id": execution.run_id,
                    "entity_type": e.entity_type,
                    "asset_key": e.asset_key,
                    "partition_key": e.partition_key,
                    "error_type": e.category,
                    "error_severity": e.severity,
                    "error_message": e.message,
                    "error_status_code": e.status_code,
                    "error_context": _jsonable(e.context),
                    "recovery_suggestion": e.recovery,
                    "occurred_at": e.occurred_at,
                }
                for e in execution.errors
            ],
        )
    _update_sync_status(conn, execution)
    if execution.manual_sync_id:
        conn.execute(
            sa.update(manual_sync_audit)
            .where(manual_sync_audit.c.request_id == execution.manual_sync_id)
            .values(
                status="SUCCEEDED" if execution.success else "FAILED",
                completion_timestamp=execution.ended_at,
                run_id=execution.run_id,
                records_processed=sa.func.coalesce(manual_sync_audit.c.records_processed, 0)
                + execution.records_processed,
                error_details=execution.error_details,
            )
        )
    return execution_id


def _update_sync_status(conn: sa.Connection, e: EntityExecution) -> None:
    s = sync_status
    last_error = None
    if e.errors:
        last_error = with_class_prefix(e.errors[0].category, e.errors[0].message)
    insert = pg_insert(s).values(
        entity_type=e.entity_type,
        sync_frequency_seconds=SYNC_FREQUENCY_SECONDS.get(e.entity_type),
        last_run_at=e.started_at,
        last_success_at=e.ended_at if e.success else None,
        last_failure_at=None if e.success else e.ended_at,
        success_count=1 if e.success else 0,
        error_count=0 if e.success else 1,
        consecutive_failures=0 if e.success else 1,
        last_error=last_error,
        last_duration_seconds=e.duration_seconds,
        average_duration_seconds=e.duration_seconds,
        records_processed_last=e.records_processed,
        records_processed_total=e.records_processed,
        last_peak_memory_mb=e.peak_memory_mb,
        updated_at=sa.func.now(),
    )
    x = insert.excluded
    runs_before = s.c.success_count + s.c.error_count
    conn.execute(
        insert.on_conflict_do_update(
            index_elements=[s.c.entity_type],
            set_={
                "last_run_at": sa.func.greatest(s.c.last_run_at, x.last_run_at),
                "last_success_at": sa.func.greatest(s.c.last_success_at, x.last_success_at),
                "last_failure_at": sa.func.greatest(s.c.last_failure_at, x.last_failure_at),
                "success_count": s.c.success_count + x.success_count,
                "error_count": s.c.error_count + x.error_count,
                "consecutive_failures": _failures_since_last_success(e.entity_type),
                "last_error": sa.func.coalesce(x.last_error, s.c.last_error),
                "last_duration_seconds": x.last_duration_seconds,
                "average_duration_seconds": (
                    sa.func.coalesce(s.c.average_duration_seconds, 0) * runs_before + x.last_duration_seconds
                )
                / (runs_before + 1),
                "records_processed_last": x.records_processed_last,
                "records_processed_total": s.c.records_processed_total + x.records_processed_total,
                "last_peak_memory_mb": sa.func.coalesce(x.last_peak_memory_mb, s.c.last_peak_memory_mb),
                "updated_at": sa.func.now(),
            },
        )
    )


def _failures_since_last_success(entity: str) -> sa.ScalarSelect[int]:
    """Failed executions after the entity's latest success, from the history (this one's row
    is already in it). The tracker reads successes and failures as separate streams, so runs
    arrive out of order: an older failure recorded after a newer success must not count."""
    h = sync_execution_history
    last_success = (
        sa.select(sa.func.max(h.c.execution_start))
        .where(h.c.entity_type == entity, h.c.success)
        .scalar_subquery()
    )
    return (
        sa.select(sa.func.count())
        .where(
            h.c.entity_type == entity,
            sa.not_(h.c.success),
            h.c.execution_start
            > sa.func.coalesce(last_success, sa.literal("-infinity").cast(h.c.execution_start.type)),
        )
        .scalar_subquery()
    )


def _jsonable(value: Any) -> Any:
    import json

    return json.loads(json.dumps(value, default=str))


@dataclass(frozen=True)
class TrackedRun:
    executions: Sequence[EntityExecution]
    newly_recorded: Sequence[EntityExecution]
    alerts_raised: Sequence[Any] = ()
    alerts_resolved: Sequence[int] = ()


def track_run(engine: sa.Engine, facts: RunFacts, now: datetime) -> TrackedRun:
    """Record every entity execution of one run, and raise/resolve alerts for its asset check
    evaluations, in a single transaction (all or nothing). A run seen again (the tracker's
    cursor did not advance after a crash) changes nothing."""
    from nba_notify.lib.monitoring.evaluate import apply_check_evaluations

    executions = summarize_run(facts)
    new = []
    raised: list[Any] = []
    resolved: list[int] = []
    with engine.begin() as conn:
        for execution in executions:
            if record_execution(conn, execution) is not None:
                new.append(execution)
        if new or not executions:
            raised, resolved = apply_check_evaluations(conn, facts.run_id, facts.check_evaluations, now)
    return TrackedRun(executions, new, raised, resolved)
