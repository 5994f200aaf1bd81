"""Monitoring sensors (thin shells over ``nba_notify.lib.monitoring`` / ``lib.alerts``).

* ``sync_execution_tracker`` — for every run that finished since its cursor (one cursor per
  final status, over Dagster's run-status-change events), records the per-entity execution,
  per-date/per-source results, classified errors and ``sync_status``; raises/resolves alerts
  for asset check evaluations (also in successful runs); and reports an observation per entity
  so the Dagster UI plots duration, records and API latency over time.
* ``alert_evaluator`` — evaluates the history rules, escalates what is due, delivers pending
  notifications to every channel (a failing channel is retried later, never blocks others).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import dagster as dg

from nba_notify.defs.resources import AlertsResource, PostgresResource
from nba_notify.lib.alerts import deliver_pending, escalate_due
from nba_notify.lib.monitoring.entities import ENTITIES
from nba_notify.lib.monitoring.evaluate import evaluate_and_apply
from nba_notify.lib.monitoring.run_events import read_run_facts
from nba_notify.lib.monitoring.tracking import EntityExecution, track_run

STATUS_EVENTS = {
    "SUCCESS": dg.DagsterEventType.RUN_SUCCESS,
    "FAILURE": dg.DagsterEventType.RUN_FAILURE,
    "CANCELED": dg.DagsterEventType.RUN_CANCELED,
}
RUNS_PER_STATUS_PER_TICK = 50


def entity_asset_key(entity: str) -> dg.AssetKey:
    return dg.AssetKey(["monitoring", "sync_health", entity])


# External assets that carry one observation per sync execution: their numeric metadata is
# what the Dagster UI plots over time (asset page -> Plots).
sync_health_specs = [
    dg.AssetSpec(
        entity_asset_key(entity),
        group_name="monitoring",
        description=f"One observation per {entity} sync execution (recorded by sync_execution_tracker).",
        kinds={"postgres"},
    )
    for entity in ENTITIES
]


def observation_for(execution: EntityExecution) -> dg.AssetObservation:
    metadata: dict[str, float | int | str] = {
        "run_id": execution.run_id,
        "success": int(execution.success),
        "duration_seconds": round(execution.duration_seconds, 3),
        "dagster/row_count": execution.records_processed,
        "failed_checks": execution.failed_checks,
    }
    for name in ("api_calls", "api_retries", "api_p50_ms", "api_p95_ms", "cache_hit_ratio", "peak_memory_mb"):
        value = getattr(execution, name)
        if value is not None:
            metadata[name] = value
    return dg.AssetObservation(
        asset_key=entity_asset_key(execution.entity_type),
        partition=None,
        metadata=metadata,
    )


@dg.sensor(
    name="sync_execution_tracker",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Records every finished run into sync_execution_history / sync_error_log / sync_status.",
)
def sync_execution_tracker(
    context: dg.SensorEvaluationContext, database: PostgresResource
) -> dg.SensorResult:
    cursors: dict[str, str | None] = json.loads(context.cursor) if context.cursor else {}
    engine = database.engine()
    now = datetime.now(UTC)
    observations: list[dg.AssetObservation] = []
    recorded = 0
    for status, event_type in STATUS_EVENTS.items():
        result = context.instance.fetch_run_status_changes(
            event_type, limit=RUNS_PER_STATUS_PER_TICK, cursor=cursors.get(status), ascending=True
        )
        for record in result.records:
            facts = read_run_facts(context.instance, record.run_id)
            if facts is None:
                continue
            tracked = track_run(engine, facts, now)
            recorded += len(tracked.newly_recorded)
            observations += [observation_for(e) for e in tracked.newly_recorded]
        # Advance only after the writes above committed: a crash re-reads, never skips.
        if result.cursor:
            cursors[status] = result.cursor
    context.log.info(f"recorded {recorded} entity executions")
    return dg.SensorResult(cursor=json.dumps(cursors, sort_keys=True), asset_events=observations)


@dg.sensor(
    name="alert_evaluator",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Evaluates alert_rules, escalates due alerts and delivers notifications.",
)
def alert_evaluator(
    context: dg.SensorEvaluationContext, database: PostgresResource, alerts: AlertsResource
) -> dg.SkipReason:
    engine = database.engine()
    now = datetime.now(UTC)
    raised, resolved = evaluate_and_apply(engine, now)
    escalated = escalate_due(engine, now)
    outcomes = deliver_pending(engine, alerts.channels(), now=now)
    failed = [o for o in outcomes if o.status in ("PENDING", "FAILED")]
    for o in failed:
        context.log.warning(f"alert {o.alert_id} via {o.channel} attempt {o.attempt}: {o.status} {o.error}")
    return dg.SkipReason(
        f"raised/bumped {len([r for r in raised if not r.suppressed])}, resolved {len(resolved)}, "
        f"escalated {len(escalated)}, deliveries {len(outcomes)} ({len(failed)} not delivered)"
    )
