"""The notification domain's alerts, raised through the project's alerting
(:func:`nba_notify.lib.alerts.raise_alert`, or an injected ``AlertsResource``).

Raising an alert must never break the sync that detected the problem: a failure to raise is
returned (and logged by the caller in ``scheduler_logs``), not thrown."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa

from nba_notify.lib.errors import PipelineError, Severity, classify_exception
from nba_notify.lib.ledger.planning import AttemptView, Desired, LedgerRow

log = logging.getLogger(__name__)

ENTITY = "notifications_sync"
RULE_AMBIGUOUS = "ambiguous_schedule"
RULE_STALE_PENDING = "stale_pending"
RULE_COUNT_MISMATCH = "count_mismatch"


class AlertSink(Protocol):
    def raise_alert(self, bind: sa.Engine | sa.Connection, **kwargs: Any) -> Any: ...


def raise_domain_alert(
    engine: sa.Engine,
    sink: AlertSink | None,
    *,
    rule_key: str,
    title: str,
    details: dict[str, Any],
    dedupe_key: str,
    now: datetime,
    severity: Severity | None = None,
) -> str | None:
    """Raise (or bump) one alert; returns an error message instead of raising."""
    kwargs: dict[str, Any] = {
        "rule_key": rule_key,
        "entity": ENTITY,
        "title": title,
        "details": details,
        "dedupe_key": dedupe_key,
        "now": now,
    }
    if severity is not None:
        kwargs["severity"] = severity
    try:
        if sink is not None:
            sink.raise_alert(engine, **kwargs)
        else:
            from nba_notify.lib.alerts import raise_alert

            raise_alert(engine, **kwargs)
    except Exception as exc:  # noqa: BLE001 - reported to the caller, who logs it
        error: PipelineError = classify_exception(exc)
        log.error("could not raise alert %s for %s: %s", rule_key, dedupe_key, error)
        return str(error)
    return None


def raise_unresolved_alert(
    engine: sa.Engine,
    sink: AlertSink | None,
    *,
    row: LedgerRow,
    desired: Desired | None,
    attempt: AttemptView | None,
    reason: str,
    now: datetime,
    send_at: datetime | None,
) -> str | None:
    """CRITICAL: Braze may hold a schedule for this game that we cannot see or change."""
    teams = f"{desired.away_team}@{desired.home_team}" if desired else row.game_id
    when = send_at.isoformat() if send_at else "unknown time"
    withdrawn = desired is not None and not desired.active
    title = (
        f"Ambiguous Braze schedule for game {row.game_id} ({teams}), send at {when}: "
        + ("game is " + desired.reason + ", a push may still go out" if withdrawn and desired else
           "cannot confirm whether it exists; not re-created to avoid a duplicate push")
    )
    details = {
        "game_id": row.game_id,
        "intent_key": row.intent_key,
        "state": row.state,
        "send_id": row.send_id,
        "braze_schedule_id": row.braze_schedule_id,
        "send_at": send_at.isoformat() if send_at else None,
        "reason": reason,
        "attempt": {
            "id": attempt.id,
            "operation": attempt.operation,
            "status": attempt.status,
            "age_seconds": round(attempt.age_seconds, 1),
        }
        if attempt
        else None,
        "desired_active": desired.active if desired else None,
        "what_to_do": "Check the Braze dashboard for this campaign at the send time; then run the "
        "resolve_unknown_schedule job with the schedule id found, or with none if there is none.",
    }
    return raise_domain_alert(
        engine, sink, rule_key=RULE_AMBIGUOUS, title=title, details=details, dedupe_key=row.intent_key,
        now=now, severity=Severity.CRITICAL,
    )
