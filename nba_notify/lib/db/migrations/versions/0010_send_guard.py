"""notifications: the send guard (Braze Connected Content asks at send time whether a schedule
may still send) — first-dispatch claims per intent, every decision logged — and the orphan
status ``guarded`` (a schedule whose id we never learned, left for the guard to refuse).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

ORPHANS_BEFORE = "status IN ('pending', 'cancel_claimed', 'cancelled', 'gone')"
ORPHANS_AFTER = "status IN ('pending', 'cancel_claimed', 'cancelled', 'gone', 'guarded')"


def upgrade() -> None:
    op.create_table(
        "send_guard_claims",
        sa.Column("intent_key", sa.String(length=200), nullable=False),
        sa.Column("dispatch_id", sa.String(length=64), nullable=False),
        sa.Column("send_at_utc", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("intent_key", name=op.f("pk_send_guard_claims")),
    )
    op.create_table(
        "send_guard_decisions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("campaign_id", sa.String(length=100), nullable=True),
        sa.Column("send_id", sa.String(length=64), nullable=True),
        sa.Column("dispatch_id", sa.String(length=64), nullable=True),
        sa.Column("intent_key", sa.String(length=200), nullable=True),
        sa.Column("game_id", sa.String(length=32), nullable=True),
        sa.Column("send_at_utc", sa.DateTime(timezone=True), nullable=True),
        sa.Column("send", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_send_guard_decisions")),
    )
    op.create_index(
        "ix_send_guard_decisions_decided_at", "send_guard_decisions", ["decided_at"], unique=False
    )
    op.create_index("ix_send_guard_decisions_intent", "send_guard_decisions", ["intent_key"], unique=False)
    op.drop_constraint(op.f("ck_schedule_orphans_status"), "schedule_orphans", type_="check")
    op.create_check_constraint(op.f("ck_schedule_orphans_status"), "schedule_orphans", ORPHANS_AFTER)


def downgrade() -> None:
    op.execute("UPDATE schedule_orphans SET status = 'gone' WHERE status = 'guarded'")
    op.drop_constraint(op.f("ck_schedule_orphans_status"), "schedule_orphans", type_="check")
    op.create_check_constraint(op.f("ck_schedule_orphans_status"), "schedule_orphans", ORPHANS_BEFORE)
    op.drop_index("ix_send_guard_decisions_intent", table_name="send_guard_decisions")
    op.drop_index("ix_send_guard_decisions_decided_at", table_name="send_guard_decisions")
    op.drop_table("send_guard_decisions")
    op.drop_table("send_guard_claims")
