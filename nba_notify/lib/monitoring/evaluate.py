"""Evaluate the history-based alert rules (pure functions over plain execution points), and
apply the findings: raise what fires, resolve what has cleared."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from nba_notify.lib.alerts import AlertRef, AlertRule, load_rules, raise_alert, resolve_matching
from nba_notify.lib.alerts.rules import HISTORY_METRICS
from nba_notify.lib.db.tables.monitoring import sync_execution_history
from nba_notify.lib.monitoring.entities import ENTITIES

MONITOR = "monitoring"


@dataclass(frozen=True)
class ExecutionPoint:
    run_id: str
    started_at: datetime
    success: bool
    duration_seconds: float
    peak_memory_mb: float | None = None


@dataclass(frozen=True)
class Finding:
    rule_key: str
    entity: str
    firing: bool
    title: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)


def _in_window(points: Sequence[ExecutionPoint], rule: AlertRule, now: datetime) -> list[ExecutionPoint]:
    window = timedelta(seconds=rule.evaluation_window_seconds or 0)
    since = now - window
    return sorted((p for p in points if p.started_at >= since), key=lambda p: p.started_at, reverse=True)


def evaluate_rule(rule: AlertRule, entity: str, points: Sequence[ExecutionPoint], now: datetime) -> Finding:
    """``points`` are the entity's executions (any order); only those in the rule's window count."""
    recent = _in_window(points, rule, now)
    threshold = rule.threshold if rule.threshold is not None else 0.0
    window = f"{(rule.evaluation_window_seconds or 0) // 60} min"
    if rule.metric == "consecutive_failures":
        streak = 0
        for p in recent:
            if p.success:
                break
            streak += 1
        return Finding(
            rule.rule_key,
            entity,
            streak >= threshold,
            f"{entity}: {streak} consecutive failed syncs in the last {window}",
            {
                "consecutive_failures": streak,
                "threshold": threshold,
                "window_seconds": rule.evaluation_window_seconds,
                "failed_run_ids": [p.run_id for p in recent[:streak]],
            },
        )
    if rule.metric == "success_rate":
        if not recent:
            return Finding(rule.rule_key, entity, False)
        rate = sum(p.success for p in recent) / len(recent)
        return Finding(
            rule.rule_key,
            entity,
            rate < threshold,
            f"{entity}: success rate {rate:.1%} over the last {window} (threshold {threshold:.0%})",
            {
                "success_rate": round(rate, 4),
                "runs": len(recent),
                "failures": sum(not p.success for p in recent),
                "threshold": threshold,
            },
        )
    if rule.metric in ("duration_exceeded", "memory_usage"):
        attr = "duration_seconds" if rule.metric == "duration_exceeded" else "peak_memory_mb"
        unit = "s" if attr == "duration_seconds" else " MB"
        measured = [p for p in recent if getattr(p, attr) is not None]
        worst = max(measured, key=lambda p: getattr(p, attr), default=None)
        value = getattr(worst, attr) if worst else None
        firing = value is not None and value > threshold
        return Finding(
            rule.rule_key,
            entity,
            firing,
            f"{entity}: {attr.replace('_', ' ')} {value:.0f}{unit} over {threshold:.0f}{unit}"
            if firing
            else "",
            {
                attr: value,
                "threshold": threshold,
                "run_id": worst.run_id if worst else None,
                "over_threshold_runs": [p.run_id for p in measured if getattr(p, attr) > threshold],
            },
        )
    raise ValueError(f"metric {rule.metric!r} is not evaluated over execution history")


def evaluate_history_rules(
    rules: Iterable[AlertRule], points_by_entity: Mapping[str, Sequence[ExecutionPoint]], now: datetime
) -> list[Finding]:
    findings = []
    for rule in rules:
        if not rule.is_active or rule.metric not in HISTORY_METRICS:
            continue
        for entity in sorted(points_by_entity):
            if rule.applies_to(entity):
                findings.append(evaluate_rule(rule, entity, points_by_entity[entity], now))
    return findings


def load_points(conn: sa.Connection, since: datetime) -> dict[str, list[ExecutionPoint]]:
    h = sync_execution_history
    rows = conn.execute(
        sa.select(
            h.c.entity_type,
            h.c.run_id,
            h.c.execution_start,
            h.c.success,
            h.c.duration_seconds,
            h.c.peak_memory_mb,
        )
        .where(h.c.execution_start >= since)
        .order_by(h.c.entity_type, h.c.execution_start)
    )
    points: dict[str, list[ExecutionPoint]] = {entity: [] for entity in ENTITIES}
    for r in rows:
        points.setdefault(r.entity_type, []).append(
            ExecutionPoint(r.run_id, r.execution_start, r.success, r.duration_seconds, r.peak_memory_mb)
        )
    return points


def apply_findings(
    engine: sa.Engine, findings: Iterable[Finding], now: datetime
) -> tuple[list[AlertRef], list[int]]:
    """Raise alerts for firing findings, resolve open ones whose condition cleared."""
    raised: list[AlertRef] = []
    resolved: list[int] = []
    for f in findings:
        if f.firing:
            raised.append(
                raise_alert(
                    engine, rule_key=f.rule_key, entity=f.entity, title=f.title, details=f.details, now=now
                )
            )
        else:
            resolved += resolve_matching(
                engine, rule_key=f.rule_key, entity=f.entity, by=MONITOR, note="condition cleared", now=now
            )
    return raised, resolved


def evaluate_and_apply(engine: sa.Engine, now: datetime) -> tuple[list[AlertRef], list[int]]:
    with engine.connect() as conn:
        rules = load_rules(conn)
        longest = max(
            (r.evaluation_window_seconds or 0 for r in rules if r.metric in HISTORY_METRICS), default=0
        )
        points = load_points(conn, now - timedelta(seconds=longest))
    return apply_findings(engine, evaluate_history_rules(rules, points, now), now)


CHECK_RULE_BY_SEVERITY = {"ERROR": "asset_check_failed", "WARN": "asset_check_warned"}


def apply_check_evaluations(
    engine: sa.Engine | sa.Connection, run_id: str, evaluations: Iterable[Any], now: datetime
) -> tuple[list[AlertRef], list[int]]:
    """A failed check raises an alert even when its run succeeded (dagster-io/dagster#29896):
    ERROR checks through ``asset_check_failed``, WARN through ``asset_check_warned`` (off by
    default). A later passing evaluation of the same check resolves it. One alert per
    asset+check (``entity`` = asset key, ``dedupe_key`` = check name)."""
    raised: list[AlertRef] = []
    resolved: list[int] = []
    for ev in evaluations:
        if ev.passed:
            for rule_key in CHECK_RULE_BY_SEVERITY.values():
                resolved += resolve_matching(
                    engine,
                    rule_key=rule_key,
                    entity=ev.asset_key,
                    dedupe_key=ev.check_name,
                    by=MONITOR,
                    note=f"check passed in run {run_id}",
                    now=now,
                )
            continue
        rule_key = CHECK_RULE_BY_SEVERITY.get(ev.severity, "asset_check_failed")
        raised.append(
            raise_alert(
                engine,
                rule_key=rule_key,
                entity=ev.asset_key,
                dedupe_key=ev.check_name,
                title=f"Asset check {ev.check_name} failed on {ev.asset_key}"
                + (f" [{ev.partition_key}]" if ev.partition_key else ""),
                details={
                    "run_id": run_id,
                    "check_name": ev.check_name,
                    "asset_key": ev.asset_key,
                    "check_severity": ev.severity,
                    "partition": ev.partition_key,
                    "description": ev.description,
                },
                now=now,
            )
        )
    return raised, resolved
