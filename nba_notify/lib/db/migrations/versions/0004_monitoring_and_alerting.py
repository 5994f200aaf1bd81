"""monitoring and alerting: sync execution history, error log, alert rules (seeded with seed
001's defaults plus the product's own rules), alerts, deliveries, manual sync audit.

Revision ID: 0004
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0001"
branch_labels = None
depends_on = None


# Frozen copy of the default rules at this revision (the code's DEFAULT_RULES may evolve; a
# later migration changes rows, this one never does). Operators edit the rows, not the code.
def _rule(
    key, name, entity, metric, threshold, window, severity, channels, escalation, active=True, description=""
):
    return {
        "rule_key": key,
        "name": name,
        "description": description,
        "entity_type": entity,
        "metric": metric,
        "threshold": threshold,
        "evaluation_window_seconds": window,
        "severity": severity,
        "notification_channels": channels,
        "escalation_delay_seconds": escalation,
        "is_active": active,
    }


ALL = ["webhook", "email", "dashboard"]
SEED_RULES = [
    _rule(
        "box_scores_consecutive_failures",
        "Box score sync consecutive failures",
        "box_scores",
        "consecutive_failures",
        3,
        3600,
        "HIGH",
        ALL,
        1800,
    ),
    _rule(
        "games_schedule_consecutive_failures",
        "Games schedule consecutive failures",
        "games_schedule",
        "consecutive_failures",
        3,
        2700,
        "HIGH",
        ALL,
        1800,
    ),
    _rule(
        "live_scoreboard_consecutive_failures",
        "Live scoreboard consecutive failures",
        "live_scoreboard",
        "consecutive_failures",
        3,
        300,
        "HIGH",
        ALL,
        1800,
    ),
    _rule(
        "notifications_sync_consecutive_failures",
        "Notification sync consecutive failures",
        "notifications_sync",
        "consecutive_failures",
        3,
        3600,
        "CRITICAL",
        ALL,
        300,
    ),
    _rule(
        "sync_success_rate", "Sync success rate drop", "all", "success_rate", 0.95, 86400, "MEDIUM", ALL, None
    ),
    _rule(
        "box_scores_duration_exceeded",
        "Box score sync duration exceeded",
        "box_scores",
        "duration_exceeded",
        300,
        900,
        "MEDIUM",
        ALL,
        None,
    ),
    _rule(
        "games_schedule_duration_exceeded",
        "Games schedule duration exceeded",
        "games_schedule",
        "duration_exceeded",
        600,
        900,
        "MEDIUM",
        ALL,
        None,
    ),
    _rule(
        "memory_usage_exceeded", "Memory usage exceeded", "all", "memory_usage", 512, 900, "HIGH", ALL, 1800
    ),
    _rule(
        "asset_check_failed",
        "Asset check failed (ERROR)",
        "all",
        "asset_check_failed",
        None,
        None,
        "HIGH",
        ALL,
        1800,
    ),
    _rule(
        "asset_check_warned",
        "Asset check failed (WARN)",
        "all",
        "asset_check_warned",
        None,
        None,
        "LOW",
        ["dashboard"],
        None,
        active=False,
    ),
    _rule(
        "stale_pending",
        "Notification still pending after send time",
        "notifications_sync",
        "stale_pending",
        None,
        None,
        "CRITICAL",
        ALL,
        300,
    ),
    _rule(
        "count_mismatch",
        "Schedule count mismatch",
        "notifications_sync",
        "count_mismatch",
        None,
        None,
        "HIGH",
        ALL,
        1800,
    ),
    _rule(
        "ambiguous_schedule",
        "Ambiguous Braze schedule outcome",
        "notifications_sync",
        "ambiguous_schedule",
        None,
        None,
        "CRITICAL",
        ALL,
        300,
    ),
    _rule(
        "retry_exhausted", "Scrape retries exhausted", "all", "retry_exhausted", None, None, "HIGH", ALL, 1800
    ),
    _rule(
        "scrape_recovered",
        "Scrape recovered after retry",
        "all",
        "recovered",
        None,
        None,
        "LOW",
        ["webhook", "dashboard"],
        None,
    ),
]


def upgrade() -> None:
    alert_rules = op.create_table(
        "alert_rules",
        sa.Column("rule_key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("entity_type", sa.String(length=32), nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("evaluation_window_seconds", sa.Integer(), nullable=True),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("notification_channels", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("escalation_delay_seconds", sa.Integer(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "severity IN ('LOW', 'MEDIUM', 'HIGH', 'CRITICAL')", name=op.f("ck_alert_rules_severity")
        ),
        sa.PrimaryKeyConstraint("rule_key", name=op.f("pk_alert_rules")),
    )
    op.create_table(
        "manual_sync_audit",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("entity_type", sa.String(length=32), nullable=False),
        sa.Column("partition_key", sa.String(length=64), nullable=True),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("triggered_by", sa.String(length=100), nullable=False),
        sa.Column("trigger_reason", sa.Text(), nullable=False),
        sa.Column("trigger_timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("launched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completion_timestamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("records_processed", sa.Integer(), nullable=True),
        sa.Column("error_details", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.CheckConstraint(
            "priority IN ('NORMAL', 'HIGH', 'EMERGENCY')", name=op.f("ck_manual_sync_audit_priority")
        ),
        sa.CheckConstraint(
            "status IN ('REQUESTED', 'QUEUED', 'SUCCEEDED', 'FAILED', 'REJECTED')",
            name=op.f("ck_manual_sync_audit_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_manual_sync_audit")),
        sa.UniqueConstraint("request_id", name=op.f("uq_manual_sync_audit_request_id")),
    )
    op.create_index("ix_manual_sync_audit_run_id", "manual_sync_audit", ["run_id"], unique=False)
    op.create_index(
        "ix_manual_sync_audit_status", "manual_sync_audit", ["status", "trigger_timestamp"], unique=False
    )
    op.create_table(
        "sync_execution_history",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("entity_type", sa.String(length=32), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("job_name", sa.String(length=200), nullable=False),
        sa.Column("partition_key", sa.String(length=64), nullable=True),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("run_status", sa.String(length=16), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("execution_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("execution_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_seconds", sa.Float(), nullable=False),
        sa.Column("records_processed", sa.Integer(), server_default="0", nullable=False),
        sa.Column("peak_memory_mb", sa.Float(), nullable=True),
        sa.Column("api_calls", sa.Integer(), nullable=True),
        sa.Column("api_retries", sa.Integer(), nullable=True),
        sa.Column("api_p50_ms", sa.Float(), nullable=True),
        sa.Column("api_p95_ms", sa.Float(), nullable=True),
        sa.Column("cache_hit_ratio", sa.Float(), nullable=True),
        sa.Column("failed_checks", sa.Integer(), server_default="0", nullable=False),
        sa.Column("error_details", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_execution_history")),
        sa.UniqueConstraint(
            "run_id", "entity_type", name=op.f("uq_sync_execution_history_run_id_entity_type")
        ),
    )
    op.create_index(
        "ix_sync_execution_history_entity_start",
        "sync_execution_history",
        ["entity_type", "execution_start"],
        unique=False,
    )
    op.create_index(
        "ix_sync_execution_history_start", "sync_execution_history", ["execution_start"], unique=False
    )
    op.create_table(
        "sync_status",
        sa.Column("entity_type", sa.String(length=32), nullable=False),
        sa.Column("sync_frequency_seconds", sa.Integer(), nullable=True),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("success_count", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("error_count", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_duration_seconds", sa.Float(), nullable=True),
        sa.Column("average_duration_seconds", sa.Float(), nullable=True),
        sa.Column("records_processed_last", sa.Integer(), nullable=True),
        sa.Column("records_processed_total", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("last_peak_memory_mb", sa.Float(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("entity_type", name=op.f("pk_sync_status")),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("rule_key", sa.String(length=64), nullable=False),
        sa.Column("entity", sa.String(length=200), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), server_default="", nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("occurrences", sa.Integer(), server_default="1", nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=100), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=100), nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.Column("escalation_level", sa.Integer(), server_default="0", nullable=False),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "severity IN ('LOW', 'MEDIUM', 'HIGH', 'CRITICAL')", name=op.f("ck_alerts_severity")
        ),
        sa.CheckConstraint("status IN ('OPEN', 'ACKNOWLEDGED', 'RESOLVED')", name=op.f("ck_alerts_status")),
        sa.ForeignKeyConstraint(
            ["rule_key"], ["alert_rules.rule_key"], name=op.f("fk_alerts_rule_key_alert_rules")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    op.create_index("ix_alerts_status_first_seen", "alerts", ["status", "first_seen_at"], unique=False)
    op.create_index(
        "uq_alerts_open_rule_entity_dedupe",
        "alerts",
        ["rule_key", "entity", "dedupe_key"],
        unique=True,
        postgresql_where=sa.text("status <> 'RESOLVED'"),
    )
    op.create_table(
        "sync_error_log",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("execution_id", sa.BigInteger(), nullable=True),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("entity_type", sa.String(length=32), nullable=False),
        sa.Column("asset_key", sa.String(length=200), nullable=True),
        sa.Column("partition_key", sa.String(length=64), nullable=True),
        sa.Column("error_type", sa.String(length=16), nullable=False),
        sa.Column("error_severity", sa.String(length=16), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=False),
        sa.Column("error_status_code", sa.Integer(), nullable=True),
        sa.Column("error_context", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("recovery_suggestion", sa.Text(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution_notes", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "error_severity IN ('LOW', 'MEDIUM', 'HIGH', 'CRITICAL')",
            name=op.f("ck_sync_error_log_error_severity"),
        ),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["sync_execution_history.id"],
            name=op.f("fk_sync_error_log_execution_id_sync_execution_history"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_error_log")),
    )
    op.create_index(
        "ix_sync_error_log_entity_time", "sync_error_log", ["entity_type", "occurred_at"], unique=False
    )
    op.create_index(
        "ix_sync_error_log_type_severity_time",
        "sync_error_log",
        ["error_type", "error_severity", "occurred_at"],
        unique=False,
    )
    op.create_table(
        "sync_execution_results",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("execution_id", sa.BigInteger(), nullable=False),
        sa.Column("entity_type", sa.String(length=32), nullable=False),
        sa.Column("asset_key", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("partition_key", sa.String(length=64), nullable=True),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("records_processed", sa.Integer(), nullable=True),
        sa.Column("error_category", sa.String(length=16), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["sync_execution_history.id"],
            name=op.f("fk_sync_execution_results_execution_id_sync_execution_history"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_execution_results")),
    )
    op.create_index(
        "ix_sync_execution_results_execution", "sync_execution_results", ["execution_id"], unique=False
    )
    op.create_index(
        "ix_sync_execution_results_partition",
        "sync_execution_results",
        ["partition_key", "source"],
        unique=False,
    )
    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("alert_id", sa.BigInteger(), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempt_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error_category", sa.String(length=16), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column(
            "attempts",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "status IN ('PENDING', 'DELIVERED', 'FAILED', 'SKIPPED')", name=op.f("ck_alert_deliveries_status")
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_alert_deliveries_alert_id_alerts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_deliveries")),
    )
    op.create_index("ix_alert_deliveries_alert", "alert_deliveries", ["alert_id"], unique=False)
    op.create_index(
        "ix_alert_deliveries_status_next", "alert_deliveries", ["status", "next_attempt_at"], unique=False
    )
    op.bulk_insert(alert_rules, SEED_RULES)


def downgrade() -> None:
    op.drop_index("ix_alert_deliveries_status_next", table_name="alert_deliveries")
    op.drop_index("ix_alert_deliveries_alert", table_name="alert_deliveries")
    op.drop_table("alert_deliveries")
    op.drop_index("ix_sync_execution_results_partition", table_name="sync_execution_results")
    op.drop_index("ix_sync_execution_results_execution", table_name="sync_execution_results")
    op.drop_table("sync_execution_results")
    op.drop_index("ix_sync_error_log_type_severity_time", table_name="sync_error_log")
    op.drop_index("ix_sync_error_log_entity_time", table_name="sync_error_log")
    op.drop_table("sync_error_log")
    op.drop_index(
        "uq_alerts_open_rule_entity_dedupe",
        table_name="alerts",
        postgresql_where=sa.text("status <> 'RESOLVED'"),
    )
    op.drop_index("ix_alerts_status_first_seen", table_name="alerts")
    op.drop_table("alerts")
    op.drop_table("sync_status")
    op.drop_index("ix_sync_execution_history_start", table_name="sync_execution_history")
    op.drop_index("ix_sync_execution_history_entity_start", table_name="sync_execution_history")
    op.drop_table("sync_execution_history")
    op.drop_index("ix_manual_sync_audit_status", table_name="manual_sync_audit")
    op.drop_index("ix_manual_sync_audit_run_id", table_name="manual_sync_audit")
    op.drop_table("manual_sync_audit")
    op.drop_table("alert_rules")
