"""notifications: desired notifications, schedule ledger, intent log (attempts), orphans,
leases, scheduler logs, Currents sends

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "desired_notifications",
        sa.Column("intent_key", sa.String(length=200), nullable=False),
        sa.Column("game_key", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.String(length=100), nullable=False),
        sa.Column("template_version", sa.String(length=16), nullable=False),
        sa.Column("home_team", sa.String(length=3), nullable=False),
        sa.Column("away_team", sa.String(length=3), nullable=False),
        sa.Column("tipoff_utc", sa.DateTime(timezone=True), nullable=True),
        sa.Column("send_at_utc", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signature", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("game_status", sa.String(length=16), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("intent_key", name=op.f("pk_desired_notifications")),
    )
    op.create_index(
        "ix_desired_notifications_active_send_at",
        "desired_notifications",
        ["send_at_utc"],
        unique=False,
        postgresql_where=sa.text("active"),
    )
    op.create_index("ix_desired_notifications_game_key", "desired_notifications", ["game_key"], unique=False)
    op.create_table(
        "notification_sends",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("external_user_id", sa.String(length=100), nullable=True),
        sa.Column("campaign_id", sa.String(length=100), nullable=True),
        sa.Column("dispatch_id", sa.String(length=64), nullable=True),
        sa.Column("send_id", sa.String(length=64), nullable=True),
        sa.Column("ledger_id", sa.BigInteger(), nullable=True),
        sa.Column("intent_key", sa.String(length=200), nullable=True),
        sa.Column("game_key", sa.String(length=32), nullable=True),
        sa.Column("matched", sa.Boolean(), nullable=False),
        sa.Column("raw", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_notification_sends")),
    )
    op.create_index("ix_notification_sends_dispatch_id", "notification_sends", ["dispatch_id"], unique=False)
    op.create_index("ix_notification_sends_game_key", "notification_sends", ["game_key"], unique=False)
    op.create_index("ix_notification_sends_send_id", "notification_sends", ["send_id"], unique=False)
    op.create_index(
        "ix_notification_sends_unmatched",
        "notification_sends",
        ["received_at"],
        unique=False,
        postgresql_where=sa.text("NOT matched"),
    )
    op.create_table(
        "schedule_ledger",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("intent_key", sa.String(length=200), nullable=False),
        sa.Column("game_key", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.String(length=100), nullable=False),
        sa.Column("template_version", sa.String(length=16), nullable=False),
        sa.Column("send_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("braze_schedule_id", sa.String(length=64), nullable=True),
        sa.Column("dispatch_id", sa.String(length=64), nullable=True),
        sa.Column("signature", sa.String(length=200), nullable=True),
        sa.Column("send_at_utc", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fence", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("current_attempt_id", sa.BigInteger(), nullable=True),
        sa.Column("last_error_category", sa.String(length=16), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('planned', 'creating', 'updating', 'scheduled', 'unknown', 'cancel_requested', 'cancelled', 'sent', 'expired')",
            name=op.f("ck_schedule_ledger_state"),
        ),
        sa.CheckConstraint(
            "state NOT IN ('scheduled', 'updating', 'cancel_requested') OR braze_schedule_id IS NOT NULL",
            name=op.f("ck_schedule_ledger_live_has_schedule_id"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_ledger")),
        sa.UniqueConstraint("braze_schedule_id", name=op.f("uq_schedule_ledger_braze_schedule_id")),
        sa.UniqueConstraint("intent_key", name=op.f("uq_schedule_ledger_intent_key")),
        sa.UniqueConstraint("send_id", name=op.f("uq_schedule_ledger_send_id")),
    )
    op.create_index("ix_schedule_ledger_dispatch_id", "schedule_ledger", ["dispatch_id"], unique=False)
    op.create_index("ix_schedule_ledger_game_key", "schedule_ledger", ["game_key"], unique=False)
    op.create_index(
        "ix_schedule_ledger_live_send_at",
        "schedule_ledger",
        ["send_at_utc"],
        unique=False,
        postgresql_where=sa.text(
            "state IN ('creating', 'updating', 'scheduled', 'unknown', 'cancel_requested')"
        ),
    )
    op.create_index(
        "ix_schedule_ledger_scheduled_send_at",
        "schedule_ledger",
        ["send_at_utc", "id"],
        unique=False,
        postgresql_where=sa.text("state = 'scheduled'"),
    )
    op.create_index(
        "ix_schedule_ledger_unresolved",
        "schedule_ledger",
        ["id"],
        unique=False,
        postgresql_where=sa.text("state IN ('creating', 'updating', 'unknown')"),
    )
    op.create_index(
        "uq_schedule_ledger_live_game_kind",
        "schedule_ledger",
        ["game_key", "kind"],
        unique=True,
        postgresql_where=sa.text(
            "state IN ('creating', 'updating', 'scheduled', 'unknown', 'cancel_requested')"
        ),
    )
    op.create_table(
        "schedule_orphans",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("braze_schedule_id", sa.String(length=64), nullable=False),
        sa.Column("campaign_id", sa.String(length=100), nullable=False),
        sa.Column("intent_key", sa.String(length=200), nullable=True),
        sa.Column("game_key", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("source_attempt_id", sa.BigInteger(), nullable=True),
        sa.Column("send_at_utc", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dispatch_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("recorded_fence", sa.BigInteger(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'cancel_claimed', 'cancelled', 'gone')",
            name=op.f("ck_schedule_orphans_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_orphans")),
        sa.UniqueConstraint("braze_schedule_id", name=op.f("uq_schedule_orphans_braze_schedule_id")),
    )
    op.create_index("ix_schedule_orphans_dispatch_id", "schedule_orphans", ["dispatch_id"], unique=False)
    op.create_index(
        "ix_schedule_orphans_open",
        "schedule_orphans",
        ["id"],
        unique=False,
        postgresql_where=sa.text("status IN ('pending', 'cancel_claimed')"),
    )
    op.create_table(
        "scheduler_leases",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("holder", sa.String(length=100), nullable=True),
        sa.Column("fence", sa.BigInteger(), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduler_leases")),
    )
    op.create_table(
        "scheduler_logs",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("holder", sa.String(length=100), nullable=True),
        sa.Column("fence", sa.BigInteger(), nullable=True),
        sa.Column("intent_key", sa.String(length=200), nullable=True),
        sa.Column("game_key", sa.String(length=32), nullable=True),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("braze_schedule_id", sa.String(length=64), nullable=True),
        sa.Column("send_at_utc", sa.DateTime(timezone=True), nullable=True),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("logged_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "action IN ('created', 'updated', 'skipped_unchanged', 'skipped', 'cancelled', 'adopted', 'error', 'unknown', 'orphaned', 'expired', 'resolved', 'alerted')",
            name=op.f("ck_scheduler_logs_action"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduler_logs")),
    )
    op.create_index("ix_scheduler_logs_game_key", "scheduler_logs", ["game_key", "logged_at"], unique=False)
    op.create_index("ix_scheduler_logs_logged_at", "scheduler_logs", ["logged_at"], unique=False)
    op.create_table(
        "schedule_attempts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("ledger_id", sa.BigInteger(), nullable=False),
        sa.Column("intent_key", sa.String(length=200), nullable=False),
        sa.Column("game_key", sa.String(length=32), nullable=False),
        sa.Column("operation", sa.String(length=16), nullable=False),
        sa.Column("fence", sa.BigInteger(), nullable=False),
        sa.Column("holder", sa.String(length=100), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("prior_schedule_id", sa.String(length=64), nullable=True),
        sa.Column("target_send_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("target_signature", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("schedule_id", sa.String(length=64), nullable=True),
        sa.Column("dispatch_id", sa.String(length=64), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("error_category", sa.String(length=16), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("resolution", sa.String(length=16), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "operation IN ('create', 'update', 'delete')", name=op.f("ck_schedule_attempts_operation")
        ),
        sa.CheckConstraint(
            "status IN ('in_flight', 'succeeded', 'failed', 'ambiguous')",
            name=op.f("ck_schedule_attempts_status"),
        ),
        sa.ForeignKeyConstraint(
            ["ledger_id"],
            ["schedule_ledger.id"],
            name=op.f("fk_schedule_attempts_ledger_id_schedule_ledger"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_attempts")),
    )
    op.create_index("ix_schedule_attempts_ledger", "schedule_attempts", ["ledger_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_schedule_attempts_ledger", table_name="schedule_attempts")
    op.drop_table("schedule_attempts")
    op.drop_index("ix_scheduler_logs_logged_at", table_name="scheduler_logs")
    op.drop_index("ix_scheduler_logs_game_key", table_name="scheduler_logs")
    op.drop_table("scheduler_logs")
    op.drop_table("scheduler_leases")
    op.drop_index(
        "ix_schedule_orphans_open",
        table_name="schedule_orphans",
        postgresql_where=sa.text("status IN ('pending', 'cancel_claimed')"),
    )
    op.drop_index("ix_schedule_orphans_dispatch_id", table_name="schedule_orphans")
    op.drop_table("schedule_orphans")
    op.drop_index(
        "uq_schedule_ledger_live_game_kind",
        table_name="schedule_ledger",
        postgresql_where=sa.text(
            "state IN ('creating', 'updating', 'scheduled', 'unknown', 'cancel_requested')"
        ),
    )
    op.drop_index(
        "ix_schedule_ledger_unresolved",
        table_name="schedule_ledger",
        postgresql_where=sa.text("state IN ('creating', 'updating', 'unknown')"),
    )
    op.drop_index(
        "ix_schedule_ledger_scheduled_send_at",
        table_name="schedule_ledger",
        postgresql_where=sa.text("state = 'scheduled'"),
    )
    op.drop_index(
        "ix_schedule_ledger_live_send_at",
        table_name="schedule_ledger",
        postgresql_where=sa.text(
            "state IN ('creating', 'updating', 'scheduled', 'unknown', 'cancel_requested')"
        ),
    )
    op.drop_index("ix_schedule_ledger_game_key", table_name="schedule_ledger")
    op.drop_index("ix_schedule_ledger_dispatch_id", table_name="schedule_ledger")
    op.drop_table("schedule_ledger")
    op.drop_index(
        "ix_notification_sends_unmatched",
        table_name="notification_sends",
        postgresql_where=sa.text("NOT matched"),
    )
    op.drop_index("ix_notification_sends_send_id", table_name="notification_sends")
    op.drop_index("ix_notification_sends_game_key", table_name="notification_sends")
    op.drop_index("ix_notification_sends_dispatch_id", table_name="notification_sends")
    op.drop_table("notification_sends")
    op.drop_index("ix_desired_notifications_game_key", table_name="desired_notifications")
    op.drop_index(
        "ix_desired_notifications_active_send_at",
        table_name="desired_notifications",
        postgresql_where=sa.text("active"),
    )
    op.drop_table("desired_notifications")
