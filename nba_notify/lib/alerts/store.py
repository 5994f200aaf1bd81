"""The alert lifecycle in the database: raise (with dedupe), acknowledge, resolve, escalate.

Every function takes ``bind``: an Engine (the function commits its own transaction) or a
Connection (the write joins the caller's transaction, so a domain can raise an alert atomically
with the state change that caused it; the caller commits).

Dedupe is enforced by a partial unique index — one unresolved alert per
``(rule_key, entity, dedupe_key)`` — so racing raisers cannot open two. Raising again bumps
``occurrences``/``last_seen_at`` (and the severity, if higher) without notifying again;
escalation notifies again; resolution notifies once more.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from nba_notify.lib.alerts.rules import AlertRule, get_rule
from nba_notify.lib.db.tables.monitoring import alert_deliveries, alert_rules, alerts
from nba_notify.lib.errors import ErrorCategory, PipelineError, Severity

OPEN = "OPEN"
ACKNOWLEDGED = "ACKNOWLEDGED"
RESOLVED = "RESOLVED"
UNRESOLVED = (OPEN, ACKNOWLEDGED)

RAISED = "RAISED"
ESCALATED = "ESCALATED"
RESOLVED_EVENT = "RESOLVED"

DASHBOARD = "dashboard"
MAX_ESCALATIONS = 2
SEVERITY_ORDER = (Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL)


@dataclass(frozen=True)
class AlertRef:
    """What a raise/escalate did. ``alert_id`` is None only when the rule is switched off."""

    alert_id: int | None
    rule_key: str
    entity: str
    dedupe_key: str
    severity: Severity
    status: str
    occurrences: int
    is_new: bool
    suppressed: bool = False


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware_now(now: datetime | None) -> datetime:
    now = now or utcnow()
    if now.tzinfo is None:
        raise PipelineError(ErrorCategory.VALIDATION, "alert times must be timezone-aware", {"now": str(now)})
    return now


@contextmanager
def transaction(bind: sa.Engine | sa.Connection) -> Iterator[sa.Connection]:
    if isinstance(bind, sa.Engine):
        with bind.begin() as conn:
            yield conn
    else:
        yield bind


def severity_rank(severity: Severity | str) -> int:
    return SEVERITY_ORDER.index(Severity(severity))


def bump_severity(severity: Severity | str) -> Severity:
    return SEVERITY_ORDER[min(severity_rank(severity) + 1, len(SEVERITY_ORDER) - 1)]


def _rank_sql(column: Any) -> sa.Case:
    return sa.case({str(s): i for i, s in enumerate(SEVERITY_ORDER)}, value=column, else_=0)


def raise_alert(
    bind: sa.Engine | sa.Connection,
    *,
    rule_key: str,
    entity: str,
    severity: Severity | str | None = None,
    title: str,
    details: Mapping[str, Any] | None = None,
    dedupe_key: str | None = None,
    now: datetime | None = None,
) -> AlertRef:
    """Open an alert, or bump the one already open for the same rule+entity(+dedupe_key).

    ``severity=None`` uses the rule's severity. A rule switched off (``is_active = false``)
    suppresses the alert: nothing is written and ``AlertRef.suppressed`` is true."""
    now = aware_now(now)
    key = dedupe_key or ""
    with transaction(bind) as conn:
        rule = get_rule(conn, rule_key)
        level = Severity(severity) if severity is not None else rule.severity
        if not rule.is_active:
            return AlertRef(None, rule_key, entity, key, level, "SUPPRESSED", 0, False, True)
        stmt = pg_insert(alerts).values(
            rule_key=rule_key,
            entity=entity,
            dedupe_key=key,
            status=OPEN,
            severity=str(level),
            title=title,
            details=_jsonable(details or {}),
            occurrences=1,
            first_seen_at=now,
            last_seen_at=now,
        )
        excluded = stmt.excluded
        stmt = stmt.on_conflict_do_update(
            index_elements=[alerts.c.rule_key, alerts.c.entity, alerts.c.dedupe_key],
            # A literal predicate, not a bound parameter: PostgreSQL's generic plan (after ~5
            # executions on one connection) cannot prove a parameter matches the partial index.
            index_where=sa.text("status <> 'RESOLVED'"),
            set_={
                "occurrences": alerts.c.occurrences + 1,
                "last_seen_at": sa.func.greatest(alerts.c.last_seen_at, excluded.last_seen_at),
                "title": excluded.title,
                "details": excluded.details,
                "severity": sa.case(
                    (_rank_sql(excluded.severity) > _rank_sql(alerts.c.severity), excluded.severity),
                    else_=alerts.c.severity,
                ),
            },
        ).returning(
            alerts.c.id,
            alerts.c.status,
            alerts.c.severity,
            alerts.c.occurrences,
            sa.literal_column("xmax = 0").label("inserted"),
        )
        row = conn.execute(stmt).one()
        if row.inserted:
            _queue_deliveries(conn, row.id, rule, RAISED, now)
        return AlertRef(
            row.id,
            rule_key,
            entity,
            key,
            Severity(row.severity),
            row.status,
            row.occurrences,
            bool(row.inserted),
        )


def acknowledge(
    bind: sa.Engine | sa.Connection, alert_id: int, *, by: str, now: datetime | None = None
) -> bool:
    """OPEN -> ACKNOWLEDGED (stops escalation; the alert stays unresolved)."""
    now = aware_now(now)
    with transaction(bind) as conn:
        result = conn.execute(
            sa.update(alerts)
            .where(alerts.c.id == alert_id, alerts.c.status == OPEN)
            .values(status=ACKNOWLEDGED, acknowledged_at=now, acknowledged_by=by)
        )
        return result.rowcount == 1


def resolve(
    bind: sa.Engine | sa.Connection,
    alert_id: int,
    *,
    by: str,
    note: str | None = None,
    now: datetime | None = None,
) -> bool:
    now = aware_now(now)
    with transaction(bind) as conn:
        return bool(_resolve_where(conn, alerts.c.id == alert_id, by=by, note=note, now=now))


def resolve_matching(
    bind: sa.Engine | sa.Connection,
    *,
    rule_key: str,
    entity: str,
    dedupe_key: str | None = None,
    by: str,
    note: str | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Resolve the unresolved alert(s) of rule+entity (+dedupe_key; None = any key): used when
    the condition that raised them has cleared."""
    now = aware_now(now)
    condition = sa.and_(alerts.c.rule_key == rule_key, alerts.c.entity == entity)
    if dedupe_key is not None:
        condition = sa.and_(condition, alerts.c.dedupe_key == dedupe_key)
    with transaction(bind) as conn:
        return _resolve_where(conn, condition, by=by, note=note, now=now)


def _resolve_where(
    conn: sa.Connection, condition: Any, *, by: str, note: str | None, now: datetime
) -> list[int]:
    rows = conn.execute(
        sa.update(alerts)
        .where(condition, alerts.c.status.in_(UNRESOLVED))
        .values(status=RESOLVED, resolved_at=now, resolved_by=by, resolution_note=note)
        .returning(alerts.c.id, alerts.c.rule_key)
    ).all()
    for row in rows:
        _queue_deliveries(conn, row.id, get_rule(conn, row.rule_key), RESOLVED_EVENT, now)
    return [row.id for row in rows]


def escalate_due(bind: sa.Engine | sa.Connection, now: datetime | None = None) -> list[AlertRef]:
    """Escalate OPEN (unacknowledged) alerts whose rule's escalation delay has passed since
    they were raised (or last escalated): severity goes up one level, channels are notified
    again. At most ``MAX_ESCALATIONS`` times per alert."""
    now = aware_now(now)
    delay = sa.func.make_interval(0, 0, 0, 0, 0, 0, alert_rules.c.escalation_delay_seconds)
    with transaction(bind) as conn:
        due = conn.execute(
            sa.select(alerts.c.id, alerts.c.severity)
            .join(alert_rules, alert_rules.c.rule_key == alerts.c.rule_key)
            .where(
                alerts.c.status == OPEN,
                alert_rules.c.escalation_delay_seconds.is_not(None),
                alerts.c.escalation_level < MAX_ESCALATIONS,
                sa.func.coalesce(alerts.c.escalated_at, alerts.c.first_seen_at) + delay <= now,
            )
            .order_by(alerts.c.id)
            .with_for_update(of=alerts, skip_locked=True)
        ).all()
        refs: list[AlertRef] = []
        for alert_id, severity in due:
            row = conn.execute(
                sa.update(alerts)
                .where(alerts.c.id == alert_id)
                .values(
                    severity=str(bump_severity(severity)),
                    escalation_level=alerts.c.escalation_level + 1,
                    escalated_at=now,
                )
                .returning(
                    alerts.c.rule_key,
                    alerts.c.entity,
                    alerts.c.dedupe_key,
                    alerts.c.severity,
                    alerts.c.status,
                    alerts.c.occurrences,
                )
            ).one()
            _queue_deliveries(conn, alert_id, get_rule(conn, row.rule_key), ESCALATED, now)
            refs.append(
                AlertRef(
                    alert_id,
                    row.rule_key,
                    row.entity,
                    row.dedupe_key,
                    Severity(row.severity),
                    row.status,
                    row.occurrences,
                    False,
                )
            )
        return refs


def _queue_deliveries(conn: sa.Connection, alert_id: int, rule: AlertRule, event: str, now: datetime) -> None:
    """One delivery row per channel of the rule. The dashboard is the table itself, so its
    row is delivered on creation; the others wait for :func:`deliver_pending`."""
    channels = list(dict.fromkeys(rule.notification_channels)) or [DASHBOARD]
    rows = [
        {
            "alert_id": alert_id,
            "event": event,
            "channel": channel,
            "status": "DELIVERED" if channel == DASHBOARD else "PENDING",
            "attempt_count": 1 if channel == DASHBOARD else 0,
            "delivered_at": now if channel == DASHBOARD else None,
            "next_attempt_at": None if channel == DASHBOARD else now,
        }
        for channel in channels
    ]
    conn.execute(sa.insert(alert_deliveries), rows)


def open_alerts(conn: sa.Connection, *, limit: int = 200) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(alerts)
        .where(alerts.c.status.in_(UNRESOLVED))
        .order_by(_rank_sql(alerts.c.severity).desc(), alerts.c.last_seen_at.desc())
        .limit(limit)
    ).mappings()
    return [dict(r) for r in rows]


def _jsonable(value: Any) -> Any:
    import json

    return json.loads(json.dumps(value, default=str))
