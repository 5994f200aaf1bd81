"""webhook: ``currents_dead_letters`` (Currents events or bodies we could not store, kept with
their raw bytes and the reason) and the two alert rules that tell an operator about them and
about rejected manual sync requests.

Revision ID: 0007
Revises: 0005
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0005"
branch_labels = None
# alert_rules is created by 0004 (another branch): seed the new rules only after it exists.
depends_on = "0004"


def _rule(key, name, entity, metric, severity, channels, escalation, active=True, description=""):
    return {
        "rule_key": key,
        "name": name,
        "description": description,
        "entity_type": entity,
        "metric": metric,
        "threshold": None,
        "evaluation_window_seconds": None,
        "severity": severity,
        "notification_channels": channels,
        "escalation_delay_seconds": escalation,
        "is_active": active,
    }


ALL = ["webhook", "email", "dashboard"]
# Frozen copy at this revision (see 0004).
SEED_RULES = [
    _rule(
        "currents_quarantined",
        "Currents events quarantined",
        "notifications_sync",
        "quarantined",
        "HIGH",
        ALL,
        1800,
    ),
    _rule(
        "manual_sync_rejected",
        "Manual sync request rejected",
        "all",
        "manual_sync_rejected",
        "MEDIUM",
        ALL,
        None,
    ),
]


def upgrade() -> None:
    op.create_table(
        "currents_dead_letters",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("raw_sha256", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=True),
        sa.Column("batch_position", sa.Integer(), nullable=True),
        sa.Column("batch_sha256", sa.String(length=64), nullable=False),
        sa.Column("deliveries", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "first_received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column(
            "last_received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_currents_dead_letters")),
        sa.UniqueConstraint("raw_sha256", name=op.f("uq_currents_dead_letters_raw_sha256")),
    )
    op.create_index(
        "ix_currents_dead_letters_received", "currents_dead_letters", ["first_received_at"], unique=False
    )
    # The receiver re-creates a missing default rule anyway; never overwrite an operator's row.
    insert_rule = sa.text(
        "INSERT INTO alert_rules (rule_key, name, description, entity_type, metric, threshold, "
        "evaluation_window_seconds, severity, notification_channels, escalation_delay_seconds, is_active) "
        "VALUES (:rule_key, :name, :description, :entity_type, :metric, :threshold, :evaluation_window_seconds, "
        ":severity, CAST(:notification_channels AS jsonb), :escalation_delay_seconds, :is_active) "
        "ON CONFLICT (rule_key) DO NOTHING"
    )
    for row in SEED_RULES:
        op.execute(
            insert_rule.bindparams(
                **{**row, "notification_channels": json.dumps(row["notification_channels"])}
            )
        )


def downgrade() -> None:
    op.execute(
        "DELETE FROM alert_rules WHERE rule_key IN ('currents_quarantined', 'manual_sync_rejected') "
        "AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.rule_key = alert_rules.rule_key)"
    )
    op.drop_index("ix_currents_dead_letters_received", table_name="currents_dead_letters")
    op.drop_table("currents_dead_letters")
