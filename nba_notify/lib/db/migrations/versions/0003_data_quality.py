"""data quality: source discrepancies (the current BDL vs NBA.com comparison per game day) and
the scrape retry queue (seed 003).

Revision ID: 0003
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "source_discrepancies",
        sa.Column("game_date", sa.Date(), nullable=False),
        sa.Column("game_key", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("scraper_name", sa.String(length=64), nullable=False),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('missing_in_bdl', 'missing_in_nbac', 'status_mismatch', 'score_mismatch', 'tipoff_mismatch', 'box_score_missing_in_bdl', 'box_score_missing_in_nbac', 'players_missing_in_bdl', 'players_missing_in_nbac')",
            name=op.f("ck_source_discrepancies_kind"),
        ),
        sa.PrimaryKeyConstraint("game_date", "game_key", "kind", name=op.f("pk_source_discrepancies")),
    )
    op.create_table(
        "scrape_retry_queue",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("scraper_name", sa.String(length=64), nullable=False),
        sa.Column("target_date", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("original_error", sa.Text(), nullable=False),
        sa.Column("original_event_id", sa.UUID(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("max_retries", sa.Integer(), server_default="3", nullable=False),
        sa.Column("next_retry_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "retry_history",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claimed_by", sa.String(length=128), nullable=True),
        sa.Column("run_key", sa.String(length=128), nullable=True),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recovered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recovery_event_id", sa.UUID(), nullable=True),
        sa.Column("exhausted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("correlation_id", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "(status = 'recovered') = (recovered_at IS NOT NULL)",
            name=op.f("ck_scrape_retry_queue_recovered_at"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'retrying', 'recovered', 'exhausted')",
            name=op.f("ck_scrape_retry_queue_status"),
        ),
        sa.CheckConstraint(
            "attempts >= 0 AND attempts <= max_retries", name=op.f("ck_scrape_retry_queue_attempts")
        ),
        sa.ForeignKeyConstraint(
            ["original_event_id"],
            ["scrape_events.event_id"],
            name=op.f("fk_scrape_retry_queue_original_event_id_scrape_events"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["recovery_event_id"],
            ["scrape_events.event_id"],
            name=op.f("fk_scrape_retry_queue_recovery_event_id_scrape_events"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scrape_retry_queue")),
    )
    op.create_index(
        "ix_scrape_retry_queue_due", "scrape_retry_queue", ["status", "next_retry_at"], unique=False
    )
    op.create_index(
        "uq_scrape_retry_queue_open_item",
        "scrape_retry_queue",
        ["scraper_name", "target_date"],
        unique=True,
        postgresql_where=sa.text("status <> 'recovered'"),
    )


def downgrade() -> None:
    op.drop_index(
        "uq_scrape_retry_queue_open_item",
        table_name="scrape_retry_queue",
        postgresql_where=sa.text("status <> 'recovered'"),
    )
    op.drop_index("ix_scrape_retry_queue_due", table_name="scrape_retry_queue")
    op.drop_table("scrape_retry_queue")
    op.drop_table("source_discrepancies")
