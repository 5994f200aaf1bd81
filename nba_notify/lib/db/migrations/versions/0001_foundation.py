"""foundation

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "games",
        sa.Column("game_key", sa.String(length=32), nullable=False),
        sa.Column("game_date", sa.Date(), nullable=False),
        sa.Column("season", sa.Integer(), nullable=True),
        sa.Column("home_team", sa.String(length=3), nullable=False),
        sa.Column("away_team", sa.String(length=3), nullable=False),
        sa.Column("nbac_game_id", sa.String(length=10), nullable=True),
        sa.Column("bdl_game_id", sa.BigInteger(), nullable=True),
        sa.Column("tipoff_utc", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("home_score", sa.Integer(), nullable=True),
        sa.Column("away_score", sa.Integer(), nullable=True),
        sa.Column("in_bdl", sa.Boolean(), nullable=False),
        sa.Column("in_nbac", sa.Boolean(), nullable=False),
        sa.Column("source_disagreements", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "status IN ('scheduled', 'live', 'final', 'postponed', 'cancelled')", name=op.f("ck_games_status")
        ),
        sa.PrimaryKeyConstraint("game_key", name=op.f("pk_games")),
        sa.UniqueConstraint("bdl_game_id", name=op.f("uq_games_bdl_game_id")),
        sa.UniqueConstraint("nbac_game_id", name=op.f("uq_games_nbac_game_id")),
    )
    op.create_index("ix_games_game_date", "games", ["game_date"], unique=False)
    op.create_index("ix_games_tipoff_utc", "games", ["tipoff_utc"], unique=False)
    op.create_table(
        "player_box_scores",
        sa.Column("game_key", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("player_id", sa.String(length=32), nullable=False),
        sa.Column("game_date", sa.Date(), nullable=False),
        sa.Column("team", sa.String(length=3), nullable=False),
        sa.Column("player_name", sa.String(length=100), nullable=False),
        sa.Column("minutes", sa.Float(), nullable=True),
        sa.Column("points", sa.Integer(), nullable=True),
        sa.Column("rebounds", sa.Integer(), nullable=True),
        sa.Column("assists", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("game_key", "source", "player_id", name=op.f("pk_player_box_scores")),
    )
    op.create_index("ix_player_box_scores_game_date", "player_box_scores", ["game_date"], unique=False)
    op.create_table(
        "processor_run_history",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("processor_name", sa.String(length=64), nullable=False),
        sa.Column("data_date", sa.Date(), nullable=True),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("records_processed", sa.Integer(), nullable=False),
        sa.Column("records_deleted", sa.Integer(), server_default="0", nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_seconds", sa.Float(), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.CheckConstraint("status IN ('success', 'failed')", name=op.f("ck_processor_run_history_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_processor_run_history")),
    )
    op.create_index(
        "ix_processor_run_history_name_date",
        "processor_run_history",
        ["processor_name", "data_date"],
        unique=False,
    )
    op.create_table(
        "raw_blobs",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=True),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column(
            "first_seen_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_raw_blobs")),
    )
    op.create_table(
        "scrape_events",
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("scraper_name", sa.String(length=64), nullable=False),
        sa.Column("target_date", sa.Date(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("records_expected", sa.Integer(), nullable=True),
        sa.Column("records_received", sa.Integer(), nullable=True),
        sa.Column("records_missing", sa.Integer(), nullable=True),
        sa.Column("error_type", sa.String(length=32), nullable=True),
        sa.Column("error_category", sa.String(length=16), nullable=True),
        sa.Column("error_severity", sa.String(length=16), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("error_details", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("api_response_code", sa.Integer(), nullable=True),
        sa.Column("api_response_time_ms", sa.Integer(), nullable=True),
        sa.Column("api_calls", sa.Integer(), nullable=True),
        sa.Column("retries", sa.Integer(), nullable=True),
        sa.Column("pages_fetched", sa.Integer(), nullable=True),
        sa.Column("is_recovered", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("recovered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recovery_event_id", sa.UUID(), nullable=True),
        sa.Column("correlation_id", sa.String(length=64), nullable=True),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "status IN ('success', 'partial', 'failed')", name=op.f("ck_scrape_events_status")
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_scrape_events")),
    )
    op.create_index(
        "ix_scrape_events_scraper_date", "scrape_events", ["scraper_name", "target_date"], unique=False
    )
    op.create_index("ix_scrape_events_status", "scrape_events", ["status"], unique=False)
    op.create_table(
        "raw_payloads",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("scrape_event_id", sa.UUID(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("endpoint", sa.String(length=200), nullable=False),
        sa.Column("params", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("target_date", sa.Date(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=False),
        sa.Column("response_ms", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["scrape_event_id"],
            ["scrape_events.event_id"],
            name=op.f("fk_raw_payloads_scrape_event_id_scrape_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sha256"], ["raw_blobs.sha256"], name=op.f("fk_raw_payloads_sha256_raw_blobs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_raw_payloads")),
    )
    op.create_index(
        "ix_raw_payloads_source_date", "raw_payloads", ["source", "endpoint", "target_date"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_raw_payloads_source_date", table_name="raw_payloads")
    op.drop_table("raw_payloads")
    op.drop_index("ix_scrape_events_status", table_name="scrape_events")
    op.drop_index("ix_scrape_events_scraper_date", table_name="scrape_events")
    op.drop_table("scrape_events")
    op.drop_table("raw_blobs")
    op.drop_index("ix_processor_run_history_name_date", table_name="processor_run_history")
    op.drop_table("processor_run_history")
    op.drop_index("ix_player_box_scores_game_date", table_name="player_box_scores")
    op.drop_table("player_box_scores")
    op.drop_index("ix_games_tipoff_utc", table_name="games")
    op.drop_index("ix_games_game_date", table_name="games")
    op.drop_table("games")
