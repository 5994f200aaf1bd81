"""quality: the retry queue tells transient from permanent — status ``permanent``, when it
became so, the item's root cause (one alert per cause), and the ``retry_permanent`` rule.

Revision ID: 0012
Revises: 0010
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None

STATUS_BEFORE = "status IN ('pending', 'retrying', 'recovered', 'exhausted')"
STATUS_AFTER = "status IN ('pending', 'retrying', 'recovered', 'exhausted', 'permanent')"

# Frozen copy at this revision (see 0004).
SEED_RULES = [
    {
        "rule_key": "retry_permanent",
        "name": "Scrape permanently unavailable",
        "description": "",
        "entity_type": "all",
        "metric": "retry_permanent",
        "threshold": None,
        "evaluation_window_seconds": None,
        "severity": "MEDIUM",
        "notification_channels": ["webhook", "email", "dashboard"],
        "escalation_delay_seconds": None,
        "is_active": True,
    },
]


def upgrade() -> None:
    op.add_column("scrape_retry_queue", sa.Column("permanent_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "scrape_retry_queue",
        sa.Column("root_cause", sa.String(length=128), server_default="", nullable=False),
    )
    # Items queued before this revision: their cause is the scraper and the reason they were queued.
    op.execute("UPDATE scrape_retry_queue SET root_cause = scraper_name || ':' || reason")
    op.create_index(
        "ix_scrape_retry_queue_root_cause", "scrape_retry_queue", ["root_cause", "status"], unique=False
    )
    op.drop_constraint(op.f("ck_scrape_retry_queue_status"), "scrape_retry_queue", type_="check")
    op.create_check_constraint(op.f("ck_scrape_retry_queue_status"), "scrape_retry_queue", STATUS_AFTER)
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
    op.execute("DELETE FROM alerts WHERE rule_key = 'retry_permanent'")
    op.execute("DELETE FROM alert_rules WHERE rule_key = 'retry_permanent'")
    op.execute(
        "UPDATE scrape_retry_queue SET status = 'exhausted', exhausted_at = permanent_at WHERE status = 'permanent'"
    )
    op.drop_constraint(op.f("ck_scrape_retry_queue_status"), "scrape_retry_queue", type_="check")
    op.create_check_constraint(op.f("ck_scrape_retry_queue_status"), "scrape_retry_queue", STATUS_BEFORE)
    op.drop_index("ix_scrape_retry_queue_root_cause", table_name="scrape_retry_queue")
    op.drop_column("scrape_retry_queue", "root_cause")
    op.drop_column("scrape_retry_queue", "permanent_at")
