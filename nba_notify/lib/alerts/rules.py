"""Alert rules: rows in ``alert_rules`` that an operator edits (threshold, window, severity,
channels, escalation delay, on/off) without touching code.

Metrics and who evaluates them:

* evaluated by the monitoring sensor over ``sync_execution_history``:
  ``consecutive_failures`` (the last ``threshold`` runs inside the window all failed),
  ``success_rate`` (successes / runs inside the window below ``threshold``),
  ``duration_exceeded`` (a run inside the window took longer than ``threshold`` seconds),
  ``memory_usage`` (a run inside the window peaked above ``threshold`` MB);
* evaluated by the monitoring sensor over Dagster's asset check evaluations:
  ``asset_check_failed`` (a failed check of severity ERROR, even in a successful run),
  ``asset_check_warned`` (WARN, off by default);
* raised by the domain that detects them, through :func:`nba_notify.lib.alerts.raise_alert`:
  ``stale_pending``, ``count_mismatch``, ``ambiguous_schedule``, ``foreign_schedule``,
  ``retry_exhausted``, ``retry_permanent`` (both one alert per root cause), ``recovered``.

``entity_type = 'all'`` means the rule is evaluated for each entity separately and the alert
names the offending entity.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from nba_notify.lib.db.tables.monitoring import alert_rules
from nba_notify.lib.errors import ErrorCategory, PipelineError, Severity

ALL_ENTITIES = "all"
DEFAULT_CHANNELS = ("webhook", "email", "dashboard")

HISTORY_METRICS = frozenset({"consecutive_failures", "success_rate", "duration_exceeded", "memory_usage"})


@dataclass(frozen=True)
class AlertRule:
    rule_key: str
    name: str
    entity_type: str
    metric: str
    severity: Severity
    threshold: float | None = None
    evaluation_window_seconds: int | None = None
    notification_channels: tuple[str, ...] = DEFAULT_CHANNELS
    escalation_delay_seconds: int | None = None
    is_active: bool = True
    description: str = ""

    def applies_to(self, entity: str) -> bool:
        return self.entity_type in (ALL_ENTITIES, entity)

    def as_row(self) -> dict[str, Any]:
        return {
            "rule_key": self.rule_key,
            "name": self.name,
            "description": self.description,
            "entity_type": self.entity_type,
            "metric": self.metric,
            "threshold": self.threshold,
            "evaluation_window_seconds": self.evaluation_window_seconds,
            "severity": str(self.severity),
            "notification_channels": list(self.notification_channels),
            "escalation_delay_seconds": self.escalation_delay_seconds,
            "is_active": self.is_active,
        }

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> AlertRule:
        return cls(
            rule_key=row["rule_key"],
            name=row["name"],
            description=row.get("description") or "",
            entity_type=row["entity_type"],
            metric=row["metric"],
            threshold=row["threshold"],
            evaluation_window_seconds=row["evaluation_window_seconds"],
            severity=Severity(row["severity"]),
            notification_channels=tuple(row["notification_channels"] or ()),
            escalation_delay_seconds=row["escalation_delay_seconds"],
            is_active=bool(row["is_active"]),
        )


def _rule(
    key: str,
    name: str,
    entity: str,
    metric: str,
    threshold: float | None,
    window: int | None,
    severity: Severity,
    channels: Sequence[str] = DEFAULT_CHANNELS,
    escalation: int | None = None,
    active: bool = True,
) -> AlertRule:
    return AlertRule(
        key, name, entity, metric, severity, threshold, window, tuple(channels), escalation, active
    )


S = Severity
# Seed 001's defaults mapped to our entities (its daily "tournaments" sync -> box_scores, its
# 15-minute "matches_schedule" -> games_schedule), plus the product's own rules. Migrations 0004
# and 0007 seed the same rows; ``test_default_rules_match_migration_seed`` keeps them in step.
DEFAULT_RULES: dict[str, AlertRule] = {
    r.rule_key: r
    for r in (
        _rule(
            "box_scores_consecutive_failures",
            "Box score sync consecutive failures",
            "box_scores",
            "consecutive_failures",
            3,
            3600,
            S.HIGH,
            escalation=1800,
        ),
        _rule(
            "games_schedule_consecutive_failures",
            "Games schedule consecutive failures",
            "games_schedule",
            "consecutive_failures",
            3,
            2700,
            S.HIGH,
            escalation=1800,
        ),
        _rule(
            "live_scoreboard_consecutive_failures",
            "Live scoreboard consecutive failures",
            "live_scoreboard",
            "consecutive_failures",
            3,
            300,
            S.HIGH,
            escalation=1800,
        ),
        _rule(
            "notifications_sync_consecutive_failures",
            "Notification sync consecutive failures",
            "notifications_sync",
            "consecutive_failures",
            3,
            3600,
            S.CRITICAL,
            escalation=300,
        ),
        _rule(
            "sync_success_rate", "Sync success rate drop", ALL_ENTITIES, "success_rate", 0.95, 86400, S.MEDIUM
        ),
        _rule(
            "box_scores_duration_exceeded",
            "Box score sync duration exceeded",
            "box_scores",
            "duration_exceeded",
            300,
            900,
            S.MEDIUM,
        ),
        _rule(
            "games_schedule_duration_exceeded",
            "Games schedule duration exceeded",
            "games_schedule",
            "duration_exceeded",
            600,
            900,
            S.MEDIUM,
        ),
        _rule(
            "memory_usage_exceeded",
            "Memory usage exceeded",
            ALL_ENTITIES,
            "memory_usage",
            512,
            900,
            S.HIGH,
            escalation=1800,
        ),
        _rule(
            "asset_check_failed",
            "Asset check failed (ERROR)",
            ALL_ENTITIES,
            "asset_check_failed",
            None,
            None,
            S.HIGH,
            escalation=1800,
        ),
        _rule(
            "asset_check_warned",
            "Asset check failed (WARN)",
            ALL_ENTITIES,
            "asset_check_warned",
            None,
            None,
            S.LOW,
            ("dashboard",),
            active=False,
        ),
        _rule(
            "stale_pending",
            "Notification still pending after send time",
            "notifications_sync",
            "stale_pending",
            None,
            None,
            S.CRITICAL,
            escalation=300,
        ),
        _rule(
            "count_mismatch",
            "Schedule count mismatch",
            "notifications_sync",
            "count_mismatch",
            None,
            None,
            S.HIGH,
            escalation=1800,
        ),
        _rule(
            "ambiguous_schedule",
            "Ambiguous Braze schedule outcome",
            "notifications_sync",
            "ambiguous_schedule",
            None,
            None,
            S.CRITICAL,
            escalation=300,
        ),
        # Migration 0016 seeds this one.
        _rule(
            "foreign_schedule",
            "Possible double push: a Braze schedule the ledger does not own",
            "notifications_sync",
            "foreign_schedule",
            None,
            None,
            S.CRITICAL,
            escalation=300,
        ),
        _rule(
            "retry_exhausted",
            "Scrape retries exhausted",
            ALL_ENTITIES,
            "retry_exhausted",
            None,
            None,
            S.HIGH,
            escalation=1800,
        ),
        _rule(
            "scrape_recovered",
            "Scrape recovered after retry",
            ALL_ENTITIES,
            "recovered",
            None,
            None,
            S.LOW,
            ("webhook", "dashboard"),
        ),
        # Migration 0012 seeds this one: one alert per root cause, however many game days.
        _rule(
            "retry_permanent",
            "Scrape permanently unavailable",
            ALL_ENTITIES,
            "retry_permanent",
            None,
            None,
            S.MEDIUM,
        ),
        # Migration 0007 seeds these two.
        _rule(
            "currents_quarantined",
            "Currents events quarantined",
            "notifications_sync",
            "quarantined",
            None,
            None,
            S.HIGH,
            escalation=1800,
        ),
        _rule(
            "manual_sync_rejected",
            "Manual sync request rejected",
            ALL_ENTITIES,
            "manual_sync_rejected",
            None,
            None,
            S.MEDIUM,
        ),
    )
}


def ensure_default_rules(conn: sa.Connection, keys: Sequence[str] | None = None) -> None:
    """Insert default rules that are missing; never overwrites an operator's edits."""
    rows = [DEFAULT_RULES[k].as_row() for k in (keys or DEFAULT_RULES)]
    if rows:
        conn.execute(pg_insert(alert_rules).values(rows).on_conflict_do_nothing())


def load_rules(conn: sa.Connection, *, active_only: bool = True) -> list[AlertRule]:
    query = sa.select(alert_rules).order_by(alert_rules.c.rule_key)
    if active_only:
        query = query.where(alert_rules.c.is_active)
    return [AlertRule.from_row(r) for r in conn.execute(query).mappings()]


def get_rule(conn: sa.Connection, rule_key: str) -> AlertRule:
    """The rule row; a default rule missing from the table (fresh or truncated database) is
    re-created first. An unknown key is a programming error, reported as VALIDATION."""
    row = conn.execute(sa.select(alert_rules).where(alert_rules.c.rule_key == rule_key)).mappings().first()
    if row is None and rule_key in DEFAULT_RULES:
        ensure_default_rules(conn, [rule_key])
        row = (
            conn.execute(sa.select(alert_rules).where(alert_rules.c.rule_key == rule_key)).mappings().first()
        )
    if row is None:
        raise PipelineError(
            ErrorCategory.VALIDATION,
            f"unknown alert rule {rule_key!r}",
            details={"rule_key": rule_key, "known": sorted(DEFAULT_RULES)},
        )
    return AlertRule.from_row(row)


@dataclass
class RuleEdit:
    """A partial update of a rule (``nba-notify`` / SQL users edit rows directly too)."""

    threshold: float | None = None
    evaluation_window_seconds: int | None = None
    severity: Severity | None = None
    notification_channels: Sequence[str] | None = None
    escalation_delay_seconds: int | None = None
    is_active: bool | None = None


def update_rule(conn: sa.Connection, rule_key: str, edit: RuleEdit) -> None:
    values: dict[str, Any] = {
        k: v
        for k, v in {
            "threshold": edit.threshold,
            "evaluation_window_seconds": edit.evaluation_window_seconds,
            "severity": str(edit.severity) if edit.severity else None,
            "notification_channels": list(edit.notification_channels)
            if edit.notification_channels is not None
            else None,
            "escalation_delay_seconds": edit.escalation_delay_seconds,
            "is_active": edit.is_active,
        }.items()
        if v is not None
    }
    get_rule(conn, rule_key)
    conn.execute(
        sa.update(alert_rules)
        .where(alert_rules.c.rule_key == rule_key)
        .values(**values, updated_at=sa.func.now())
    )
