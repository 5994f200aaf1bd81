"""Read one finished run from the Dagster instance into plain :class:`RunFacts` (the only
module of the monitoring logic that knows Dagster's event log)."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg

from nba_notify.lib.failures import error_fields_from_metadata
from nba_notify.lib.monitoring.entities import asset_key_for_step
from nba_notify.lib.monitoring.tracking import CheckEvaluation, Materialization, RunFacts, StepFailure

ET = dg.DagsterEventType
TRACKED_EVENTS = {
    ET.ASSET_MATERIALIZATION_PLANNED,
    ET.ASSET_CHECK_EVALUATION_PLANNED,
    ET.ASSET_MATERIALIZATION,
    ET.STEP_FAILURE,
    ET.ASSET_CHECK_EVALUATION,
    ET.RUN_FAILURE,
}
FINISHED_STATUSES = {
    dg.DagsterRunStatus.SUCCESS: "SUCCESS",
    dg.DagsterRunStatus.FAILURE: "FAILURE",
    dg.DagsterRunStatus.CANCELED: "CANCELED",
}


def _ts(value: float | None, fallback: datetime) -> datetime:
    return datetime.fromtimestamp(value, UTC) if value is not None else fallback


def _root_cause(error: object) -> str:
    """Dagster wraps user exceptions; the innermost cause names what actually went wrong."""
    while getattr(error, "cause", None) is not None:
        error = error.cause  # type: ignore[attr-defined]
    return str(getattr(error, "message", error)).strip()


def read_run_facts(instance: dg.DagsterInstance, run_id: str) -> RunFacts | None:
    """``None`` if the run is unknown or not finished."""
    record = instance.get_run_record_by_id(run_id)
    if record is None or record.dagster_run.status not in FINISHED_STATUSES:
        return None
    run = record.dagster_run
    updated = record.update_timestamp.astimezone(UTC)
    ended = _ts(record.end_time, updated)
    started = _ts(record.start_time, record.create_timestamp.astimezone(UTC))
    planned: list[str] = []
    mats: list[Materialization] = []
    failures: list[StepFailure] = []
    checks: list[CheckEvaluation] = []
    run_failure_message = None
    entries = [e for e in instance.all_logs(run_id, of_type=TRACKED_EVENTS) if e.dagster_event is not None]
    # The asset a step works for, from the step's own planned events: a check's step (e.g.
    # a failed blocking check) then counts against the asset it checks, not against nothing.
    step_assets: dict[str, str] = {}
    check_steps: dict[str, str] = {}
    for entry in entries:
        event = entry.dagster_event
        if event.event_type == ET.ASSET_MATERIALIZATION_PLANNED and event.step_key:
            step_assets[event.step_key] = event.event_specific_data.asset_key.to_user_string()
    for entry in entries:
        event = entry.dagster_event
        if event.event_type == ET.ASSET_CHECK_EVALUATION_PLANNED and event.step_key not in (
            None,
            *step_assets,
        ):
            step_assets[event.step_key] = event.event_specific_data.asset_key.to_user_string()
            check_steps[event.step_key] = event.event_specific_data.check_name
    for entry in entries:
        event = entry.dagster_event
        at = datetime.fromtimestamp(entry.timestamp, UTC)
        kind = event.event_type
        if kind == ET.ASSET_MATERIALIZATION_PLANNED:
            planned.append(event.event_specific_data.asset_key.to_user_string())
        elif kind == ET.ASSET_MATERIALIZATION:
            mat = entry.asset_materialization
            mats.append(Materialization(mat.asset_key.to_user_string(), mat.partition, dict(mat.metadata)))
        elif kind == ET.STEP_FAILURE:
            data = event.step_failure_data
            user = data.user_failure_data
            error_fields = error_fields_from_metadata(dict(user.metadata)) if user is not None else {}
            message = (user.description if user is not None and user.description else None) or (
                _root_cause(data.error) if data.error is not None else "step failed"
            )
            step_key = event.step_key or ""
            asset_key = step_assets.get(step_key) or asset_key_for_step(step_key)
            failures.append(
                StepFailure(
                    step_key, asset_key, message, error_fields, at, check_name=check_steps.get(step_key)
                )
            )
        elif kind == ET.ASSET_CHECK_EVALUATION:
            evaluation = entry.asset_check_evaluation
            checks.append(
                CheckEvaluation(
                    evaluation.asset_key.to_user_string(),
                    evaluation.check_name,
                    evaluation.passed,
                    evaluation.severity.value,
                    evaluation.partition,
                    evaluation.description,
                    blocking=bool(evaluation.blocking),
                )
            )
        elif kind == ET.RUN_FAILURE:
            run_failure_message = event.message or entry.user_message
    return RunFacts(
        run_id=run.run_id,
        job_name=run.job_name,
        status=FINISHED_STATUSES[run.status],
        started_at=started,
        ended_at=ended,
        tags=dict(run.tags),
        planned_assets=planned,
        materializations=mats,
        step_failures=failures,
        check_evaluations=checks,
        run_failure_message=run_failure_message,
    )
