"""notifications: foreign schedules — send minutes at which Braze lists more schedules of our
campaign than the ledger owns (a possible double push) until adopted or decided — and the
CRITICAL ``foreign_schedule`` alert rule.

Revision ID: 0016
Revises: 0015
"""

import json

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

SEED_RULES = [
    {
        "rule_key": "foreign_schedule",
        "name": "Possible double push: a Braze schedule the ledger does not own",
        "description": "",
        "entity_type": "notifications_sync",
        "metric": "foreign_schedule",
        "threshold": None,
        "evaluation_window_seconds": None,
        "severity": "CRITICAL",
        "notification_channels": ["webhook", "email", "dashboard"],
        "escalation_delay_seconds": 300,
        "is_active": True,
    },
]


def upgrade() -> None:
    op.create_table(
        "foreign_schedules",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("campaign_id", sa.String(length=100), nullable=False),
        sa.Column("send_at_utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("listed", sa.Integer(), nullable=False),
        sa.Column("accounted", sa.Integer(), nullable=False),
        sa.Column("games", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("braze_schedule_id", sa.String(length=64), nullable=True),
        sa.Column("intent_key", sa.String(length=200), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=100), nullable=True),
        sa.Column("resolution", sa.String(length=40), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'adopted', 'deleted', 'gone', 'passed')",
            name=op.f("ck_foreign_schedules_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_foreign_schedules")),
    )
    op.create_index(
        "uq_foreign_schedules_open_minute",
        "foreign_schedules",
        ["campaign_id", "send_at_utc"],
        unique=True,
        postgresql_where=sa.text("status = 'open'"),
    )
    # The sensor re-creates a missing default rule anyway; never overwrite an operator's row.
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
        "DELETE FROM alert_rules WHERE rule_key = 'foreign_schedule' "
        "AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.rule_key = alert_rules.rule_key)"
    )
    op.drop_index(
        "uq_foreign_schedules_open_minute",
        table_name="foreign_schedules",
        postgresql_where=sa.text("status = 'open'"),
    )
    op.drop_table("foreign_schedules")
