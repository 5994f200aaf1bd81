"""Manual sync requests (seed 001 AC 7): who asked for which entity (and date), why, how
urgently — and what came of it. Every trigger is a row in ``manual_sync_audit`` before anything
runs; the dispatcher sensor turns requests into Dagster runs tagged with ``dagster/priority``
(EMERGENCY jumps the run queue), and the execution tracker writes the outcome back.

Lifecycle: REQUESTED -> QUEUED (run submitted) -> SUCCEEDED | FAILED, or REJECTED (nothing to
run for that entity/date in this deployment)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from nba_notify.lib.alerts.store import aware_now, transaction
from nba_notify.lib.db.tables.monitoring import manual_sync_audit
from nba_notify.lib.errors import ErrorCategory, PipelineError
from nba_notify.lib.game_days import game_day_problem
from nba_notify.lib.monitoring.entities import ENTITIES, ENTITY_BY_ASSET

PRIORITY_TAG = "dagster/priority"
# QueuedRunCoordinator dequeues higher dagster/priority first (default 0).
PRIORITY_VALUES = {"NORMAL": 0, "HIGH": 50, "EMERGENCY": 100}
PRIORITIES = tuple(PRIORITY_VALUES)


@dataclass(frozen=True)
class ManualSyncRequest:
    request_id: str
    entity_type: str
    partition_key: str | None
    priority: str
    triggered_by: str
    reason: str
    requested_at: datetime

    @property
    def priority_value(self) -> int:
        return PRIORITY_VALUES[self.priority]

    def run_tags(self) -> dict[str, str]:
        from nba_notify.lib.monitoring.tracking import MANUAL_SYNC_TAG

        return {
            PRIORITY_TAG: str(self.priority_value),
            MANUAL_SYNC_TAG: self.request_id,
            "nba_notify/triggered_by": self.triggered_by,
            "nba_notify/manual_sync_priority": self.priority,
        }


# Column widths of manual_sync_audit (triggered_by) and a sane bound for free text.
MAX_REQUESTER_CHARS = 100
MAX_REASON_CHARS = 2000


def validate_request(
    entity: str,
    partition_key: str | None,
    priority: str,
    reason: str,
    triggered_by: str,
    now: datetime | None = None,
) -> None:
    """Everything a request must be before it is audited: a known entity and priority, a
    reason and a requester of sane length, and a game date that is a partition at ``now``."""
    problems = []
    if entity not in ENTITIES:
        problems.append(f"entity must be one of {', '.join(ENTITIES)}")
    if priority not in PRIORITY_VALUES:
        problems.append(f"priority must be one of {', '.join(PRIORITIES)}")
    problems += _text_problems("a reason", reason, MAX_REASON_CHARS)
    problems += _text_problems("the requester (--by)", triggered_by, MAX_REQUESTER_CHARS)
    if partition_key is not None and (problem := game_day_problem(partition_key, now)) is not None:
        problems.append(problem)
    if problems:
        raise PipelineError(
            ErrorCategory.VALIDATION,
            "invalid manual sync request: " + "; ".join(problems),
            {"entity": entity[:40], "date": (partition_key or "")[:40] or None, "priority": priority[:20]},
        )


def _text_problems(what: str, value: str, limit: int) -> list[str]:
    if not value.strip():
        return [f"{what} is required"]
    if len(value.strip()) > limit:
        return [f"{what} is longer than {limit} characters"]
    if any(ord(c) < 32 and c not in "\t\n" for c in value):
        return [f"{what} holds control characters"]
    return []


def request_manual_sync(
    bind: sa.Engine | sa.Connection,
    *,
    entity: str,
    partition_key: str | None,
    priority: str,
    reason: str,
    triggered_by: str,
    now: datetime | None = None,
) -> ManualSyncRequest:
    priority = priority.upper()
    validate_request(entity, partition_key, priority, reason, triggered_by, now)
    request = ManualSyncRequest(
        str(uuid.uuid4()),
        entity,
        partition_key,
        priority,
        triggered_by.strip(),
        reason.strip(),
        aware_now(now),
    )
    with transaction(bind) as conn:
        conn.execute(
            sa.insert(manual_sync_audit).values(
                request_id=request.request_id,
                entity_type=entity,
                partition_key=partition_key,
                priority=priority,
                triggered_by=request.triggered_by,
                trigger_reason=request.reason,
                trigger_timestamp=request.requested_at,
                status="REQUESTED",
            )
        )
    return request


def pending_requests(conn: sa.Connection, limit: int = 50) -> list[ManualSyncRequest]:
    """Oldest first within each priority, EMERGENCY before HIGH before NORMAL."""
    a = manual_sync_audit
    rank = sa.case({p: v for p, v in PRIORITY_VALUES.items()}, value=a.c.priority, else_=0)
    rows = conn.execute(
        sa.select(a)
        .where(a.c.status == "REQUESTED")
        .order_by(rank.desc(), a.c.trigger_timestamp, a.c.id)
        .limit(limit)
    ).mappings()
    return [
        ManualSyncRequest(
            r["request_id"],
            r["entity_type"],
            r["partition_key"],
            r["priority"],
            r["triggered_by"],
            r["trigger_reason"],
            r["trigger_timestamp"],
        )
        for r in rows
    ]


def entity_asset_keys(entity: str) -> list[str]:
    return sorted(k for k, e in ENTITY_BY_ASSET.items() if e == entity)


@dataclass(frozen=True)
class SyncTarget:
    asset_keys: Sequence[str]
    partition_key: str | None


def choose_target(request: ManualSyncRequest, partitioned_by_key: dict[str, bool]) -> SyncTarget | str:
    """Which of the entity's assets (present in this deployment) a request runs. With a date:
    the entity's daily-partitioned assets for that date; without: its unpartitioned ones.
    Returns the reason as a string when nothing can run."""
    present = [k for k in entity_asset_keys(request.entity_type) if k in partitioned_by_key]
    if not present:
        return f"no assets of {request.entity_type} are defined in this deployment"
    wanted = [k for k in present if partitioned_by_key[k] == (request.partition_key is not None)]
    if not wanted:
        if request.partition_key is None:
            return f"{request.entity_type} is partitioned by game date: pass --date YYYY-MM-DD"
        return f"{request.entity_type} has no date-partitioned assets: omit --date"
    return SyncTarget(wanted, request.partition_key)


def mark_queued(conn: sa.Connection, request_id: str, run_id: str, now: datetime) -> None:
    a = manual_sync_audit
    conn.execute(
        sa.update(a)
        .where(a.c.request_id == request_id, a.c.status == "REQUESTED")
        .values(status="QUEUED", launched_at=now, run_id=run_id)
    )


def mark_rejected(conn: sa.Connection, request_id: str, reason: str, now: datetime) -> None:
    a = manual_sync_audit
    conn.execute(
        sa.update(a)
        .where(a.c.request_id == request_id, a.c.status == "REQUESTED")
        .values(status="REJECTED", completion_timestamp=now, error_details={"reason": reason})
    )


def reject_with_alert(conn: sa.Connection, request: ManualSyncRequest, reason: str, now: datetime) -> None:
    """REJECTED with the reason, and the requester told through an alert (one per request)."""
    from nba_notify.lib.alerts import raise_alert

    mark_rejected(conn, request.request_id, reason, now)
    raise_alert(
        conn,
        rule_key="manual_sync_rejected",
        entity=request.entity_type if request.entity_type in ENTITIES else "all",
        title=f"manual sync by {request.triggered_by[:40]} rejected: {reason[:200]}",
        details={"request_id": request.request_id, "partition_key": request.partition_key, "reason": reason},
        dedupe_key=request.request_id,
        now=now,
    )


def audit_rows(conn: sa.Connection, limit: int = 50) -> list[dict[str, Any]]:
    a = manual_sync_audit
    return [dict(r) for r in conn.execute(sa.select(a).order_by(a.c.id.desc()).limit(limit)).mappings()]
