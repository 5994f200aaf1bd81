"""Deliver queued alert notifications, one attempt per due delivery per call.

Claim in a short transaction (``FOR UPDATE SKIP LOCKED`` + a lease on ``next_attempt_at``),
send with no transaction open, record the outcome in another short transaction. A failing
channel gets its attempt recorded (classified error, attempt number, time) and a later retry;
it never delays or blocks another channel's delivery."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from nba_notify.lib.alerts.channels import AlertMessage, Channel
from nba_notify.lib.alerts.store import aware_now
from nba_notify.lib.db.tables.monitoring import alert_deliveries, alert_rules, alerts
from nba_notify.lib.errors import PipelineError, classify_exception

DEFAULT_RETRY_DELAYS = (30.0, 120.0, 600.0)  # seconds before attempt 2, 3, 4
DEFAULT_MAX_ATTEMPTS = 4
CLAIM_LEASE = timedelta(minutes=2)


@dataclass(frozen=True)
class DeliveryOutcome:
    delivery_id: int
    alert_id: int
    channel: str
    event: str
    attempt: int
    status: str  # DELIVERED | PENDING (will retry) | FAILED (gave up) | SKIPPED
    error: str | None = None


def deliver_pending(
    engine: sa.Engine,
    channels: Mapping[str, Channel],
    *,
    now: datetime | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
    limit: int = 100,
) -> list[DeliveryOutcome]:
    now = aware_now(now)
    claimed = _claim(engine, now, limit)
    outcomes = []
    for row in claimed:
        channel = channels.get(row["channel"])
        attempt = row["attempt_count"] + 1
        if channel is None:
            outcome = DeliveryOutcome(
                row["id"],
                row["alert_id"],
                row["channel"],
                row["event"],
                attempt,
                "SKIPPED",
                "channel not configured",
            )
            _record(engine, outcome, now, None)
            outcomes.append(outcome)
            continue
        error: PipelineError | None = None
        try:
            channel.send(_message(row))
        except Exception as exc:
            error = classify_exception(exc)
        if error is None:
            outcome = DeliveryOutcome(
                row["id"], row["alert_id"], row["channel"], row["event"], attempt, "DELIVERED"
            )
            next_at = None
        elif attempt >= max_attempts or not error.retryable:
            outcome = DeliveryOutcome(
                row["id"], row["alert_id"], row["channel"], row["event"], attempt, "FAILED", str(error)
            )
            next_at = None
        else:
            delay = retry_delays[min(attempt - 1, len(retry_delays) - 1)] if retry_delays else 0.0
            outcome = DeliveryOutcome(
                row["id"], row["alert_id"], row["channel"], row["event"], attempt, "PENDING", str(error)
            )
            next_at = now + timedelta(seconds=delay)
        _record(engine, outcome, now, error, next_at)
        outcomes.append(outcome)
    return outcomes


def _claim(engine: sa.Engine, now: datetime, limit: int) -> list[dict[str, Any]]:
    d, a, r = alert_deliveries, alerts, alert_rules
    with engine.begin() as conn:
        ids = [
            row.id
            for row in conn.execute(
                sa.select(d.c.id)
                .where(d.c.status == "PENDING", d.c.next_attempt_at <= now)
                .order_by(d.c.next_attempt_at, d.c.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ]
        if not ids:
            return []
        # The lease: a crashed deliverer's claims become due again after CLAIM_LEASE.
        conn.execute(sa.update(d).where(d.c.id.in_(ids)).values(next_attempt_at=now + CLAIM_LEASE))
        rows = conn.execute(
            sa.select(
                d.c.id,
                d.c.alert_id,
                d.c.channel,
                d.c.event,
                d.c.attempt_count,
                a.c.rule_key,
                r.c.name.label("rule_name"),
                a.c.entity,
                a.c.dedupe_key,
                a.c.severity,
                a.c.status,
                a.c.title,
                a.c.details,
                a.c.occurrences,
                a.c.first_seen_at,
                a.c.last_seen_at,
                a.c.escalation_level,
                a.c.resolution_note,
            )
            .join(a, a.c.id == d.c.alert_id)
            .join(r, r.c.rule_key == a.c.rule_key)
            .where(d.c.id.in_(ids))
            .order_by(d.c.id)
        ).mappings()
        return [dict(row) for row in rows]


def _message(row: Mapping[str, Any]) -> AlertMessage:
    return AlertMessage(
        alert_id=row["alert_id"],
        event=row["event"],
        rule_key=row["rule_key"],
        rule_name=row["rule_name"],
        entity=row["entity"],
        dedupe_key=row["dedupe_key"],
        severity=row["severity"],
        status=row["status"],
        title=row["title"],
        details=row["details"] or {},
        occurrences=row["occurrences"],
        first_seen_at=row["first_seen_at"],
        last_seen_at=row["last_seen_at"],
        escalation_level=row["escalation_level"],
        resolution_note=row["resolution_note"],
    )


def _record(
    engine: sa.Engine,
    outcome: DeliveryOutcome,
    now: datetime,
    error: PipelineError | None,
    next_at: datetime | None = None,
) -> None:
    d = alert_deliveries
    attempt_entry = {
        "attempt": outcome.attempt,
        "at": now.isoformat(),
        "outcome": outcome.status,
        "error_category": str(error.category) if error else None,
        "error": str(error) if error else outcome.error,
    }
    with engine.begin() as conn:
        conn.execute(
            sa.update(d)
            .where(d.c.id == outcome.delivery_id)
            .values(
                status=outcome.status,
                attempt_count=outcome.attempt,
                next_attempt_at=next_at,
                delivered_at=now if outcome.status == "DELIVERED" else None,
                last_error_category=str(error.category) if error else None,
                last_error=outcome.error,
                attempts=d.c.attempts.op("||")(sa.literal([attempt_entry], type_=JSONB)),
            )
        )
