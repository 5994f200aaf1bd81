"""Monitoring tables (seed 001): what every sync run did, what went wrong, the alert rules an
operator edits without code, the alerts they raised and every attempt to deliver them, and the
audit of manual sync triggers.

Indexes follow the dashboard's queries: everything it reads is "entity X since time T", so each
history table is indexed on ``(entity_type, <time>)``; the dashboard must answer in < 100 ms
over 30 days of history."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from nba_notify.lib.db.metadata import metadata

NOW = sa.text("now()")
TS = sa.DateTime(timezone=True)

SEVERITIES = "('LOW', 'MEDIUM', 'HIGH', 'CRITICAL')"

# One row per monitored entity, updated by the execution tracker in the same transaction that
# appends to the history, so the two never disagree.
sync_status = sa.Table(
    "sync_status",
    metadata,
    sa.Column("entity_type", sa.String(32), primary_key=True),
    sa.Column("sync_frequency_seconds", sa.Integer),
    sa.Column("last_run_at", TS),
    sa.Column("last_success_at", TS),
    sa.Column("last_failure_at", TS),
    sa.Column("success_count", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("error_count", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("consecutive_failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text),
    sa.Column("last_duration_seconds", sa.Float),
    sa.Column("average_duration_seconds", sa.Float),
    sa.Column("records_processed_last", sa.Integer),
    sa.Column("records_processed_total", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("last_peak_memory_mb", sa.Float),
    sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("updated_at", TS, nullable=False, server_default=NOW),
)

sync_execution_history = sa.Table(
    "sync_execution_history",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("entity_type", sa.String(32), nullable=False),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("job_name", sa.String(200), nullable=False),
    sa.Column("partition_key", sa.String(64)),
    sa.Column("trigger", sa.String(16), nullable=False),  # schedule | sensor | manual | backfill | other
    sa.Column("run_status", sa.String(16), nullable=False),
    sa.Column("success", sa.Boolean, nullable=False),
    sa.Column("execution_start", TS, nullable=False),
    sa.Column("execution_end", TS, nullable=False),
    sa.Column("duration_seconds", sa.Float, nullable=False),
    sa.Column("records_processed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("peak_memory_mb", sa.Float),
    sa.Column("api_calls", sa.Integer),
    sa.Column("api_retries", sa.Integer),
    sa.Column("api_p50_ms", sa.Float),
    sa.Column("api_p95_ms", sa.Float),
    sa.Column("cache_hit_ratio", sa.Float),
    sa.Column("failed_checks", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error_details", JSONB),
    sa.Column("created_at", TS, nullable=False, server_default=NOW),
    # A run is recorded once per entity however often the tracker sees it.
    sa.UniqueConstraint("run_id", "entity_type"),
    sa.Index("ix_sync_execution_history_entity_start", "entity_type", "execution_start"),
    sa.Index("ix_sync_execution_history_start", "execution_start"),
)

# Per-date / per-source detail of one execution (seed 001's per-tournament table).
sync_execution_results = sa.Table(
    "sync_execution_results",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column(
        "execution_id",
        sa.BigInteger,
        sa.ForeignKey("sync_execution_history.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("entity_type", sa.String(32), nullable=False),
    sa.Column("asset_key", sa.String(200), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),  # bdl | nbac | braze | derived
    sa.Column("partition_key", sa.String(64)),
    sa.Column("success", sa.Boolean, nullable=False),
    sa.Column("records_processed", sa.Integer),
    sa.Column("error_category", sa.String(16)),
    sa.Column("error_message", sa.Text),
    sa.Column("created_at", TS, nullable=False, server_default=NOW),
    sa.Index("ix_sync_execution_results_execution", "execution_id"),
    sa.Index("ix_sync_execution_results_partition", "partition_key", "source"),
)

sync_error_log = sa.Table(
    "sync_error_log",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column(
        "execution_id",
        sa.BigInteger,
        sa.ForeignKey("sync_execution_history.id", ondelete="CASCADE"),
    ),
    sa.Column("run_id", sa.String(64)),
    sa.Column("entity_type", sa.String(32), nullable=False),
    sa.Column("asset_key", sa.String(200)),
    sa.Column("partition_key", sa.String(64)),
    sa.Column("error_type", sa.String(16), nullable=False),  # ErrorCategory
    sa.Column("error_severity", sa.String(16), nullable=False),
    sa.Column("error_message", sa.Text, nullable=False),
    sa.Column("error_status_code", sa.Integer),
    sa.Column("error_context", JSONB),
    sa.Column("recovery_suggestion", sa.Text),
    sa.Column("occurred_at", TS, nullable=False),
    sa.Column("resolved_at", TS),
    sa.Column("resolution_notes", sa.Text),
    sa.CheckConstraint(f"error_severity IN {SEVERITIES}", name="error_severity"),
    sa.Index("ix_sync_error_log_type_severity_time", "error_type", "error_severity", "occurred_at"),
    sa.Index("ix_sync_error_log_entity_time", "entity_type", "occurred_at"),
)

alert_rules = sa.Table(
    "alert_rules",
    metadata,
    sa.Column("rule_key", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    # an entity name, or 'all' = evaluated for each entity separately
    sa.Column("entity_type", sa.String(32), nullable=False),
    sa.Column("metric", sa.String(32), nullable=False),
    sa.Column("threshold", sa.Float),
    sa.Column("evaluation_window_seconds", sa.Integer),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("notification_channels", JSONB, nullable=False),
    sa.Column("escalation_delay_seconds", sa.Integer),
    sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("updated_at", TS, nullable=False, server_default=NOW),
    sa.CheckConstraint(f"severity IN {SEVERITIES}", name="severity"),
)

alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("rule_key", sa.String(64), sa.ForeignKey("alert_rules.rule_key"), nullable=False),
    sa.Column("entity", sa.String(200), nullable=False),
    sa.Column("dedupe_key", sa.String(200), nullable=False, server_default=""),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("details", JSONB, nullable=False),
    sa.Column("occurrences", sa.Integer, nullable=False, server_default="1"),
    sa.Column("first_seen_at", TS, nullable=False),
    sa.Column("last_seen_at", TS, nullable=False),
    sa.Column("acknowledged_at", TS),
    sa.Column("acknowledged_by", sa.String(100)),
    sa.Column("resolved_at", TS),
    sa.Column("resolved_by", sa.String(100)),
    sa.Column("resolution_note", sa.Text),
    sa.Column("escalation_level", sa.Integer, nullable=False, server_default="0"),
    sa.Column("escalated_at", TS),
    sa.CheckConstraint("status IN ('OPEN', 'ACKNOWLEDGED', 'RESOLVED')", name="status"),
    sa.CheckConstraint(f"severity IN {SEVERITIES}", name="severity"),
    # Dedupe is a constraint, not a convention: one unresolved alert per rule+entity+key.
    sa.Index(
        "uq_alerts_open_rule_entity_dedupe",
        "rule_key",
        "entity",
        "dedupe_key",
        unique=True,
        postgresql_where=sa.text("status <> 'RESOLVED'"),
    ),
    sa.Index("ix_alerts_status_first_seen", "status", "first_seen_at"),
)

# One row per (alert, event, channel); every attempt is appended to ``attempts``.
alert_deliveries = sa.Table(
    "alert_deliveries",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("alert_id", sa.BigInteger, sa.ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False),
    sa.Column("event", sa.String(16), nullable=False),  # RAISED | ESCALATED | RESOLVED
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempt_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", TS),
    sa.Column("delivered_at", TS),
    sa.Column("last_error_category", sa.String(16)),
    sa.Column("last_error", sa.Text),
    sa.Column("attempts", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    sa.Column("created_at", TS, nullable=False, server_default=NOW),
    sa.CheckConstraint("status IN ('PENDING', 'DELIVERED', 'FAILED', 'SKIPPED')", name="status"),
    sa.Index("ix_alert_deliveries_status_next", "status", "next_attempt_at"),
    sa.Index("ix_alert_deliveries_alert", "alert_id"),
)

manual_sync_audit = sa.Table(
    "manual_sync_audit",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("request_id", sa.String(36), nullable=False, unique=True),
    sa.Column("entity_type", sa.String(32), nullable=False),
    sa.Column("partition_key", sa.String(64)),
    sa.Column("priority", sa.String(16), nullable=False),
    sa.Column("triggered_by", sa.String(100), nullable=False),
    sa.Column("trigger_reason", sa.Text, nullable=False),
    sa.Column("trigger_timestamp", TS, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("run_id", sa.String(64)),
    sa.Column("launched_at", TS),
    sa.Column("completion_timestamp", TS),
    sa.Column("records_processed", sa.Integer),
    sa.Column("error_details", JSONB),
    sa.CheckConstraint("priority IN ('NORMAL', 'HIGH', 'EMERGENCY')", name="priority"),
    sa.CheckConstraint("status IN ('REQUESTED', 'QUEUED', 'SUCCEEDED', 'FAILED', 'REJECTED')", name="status"),
    sa.Index("ix_manual_sync_audit_status", "status", "trigger_timestamp"),
    sa.Index("ix_manual_sync_audit_run_id", "run_id"),
)
