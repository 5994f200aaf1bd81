"""Phase 1 (raw payloads, scrape log) and phase 2 (games, box scores) tables, plus the
processor run history that every write path reports into."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from nba_notify.lib.db.metadata import metadata

NOW = sa.text("now()")

# Content-addressed bodies: the same schedule file fetched for 180 partitions is stored once.
raw_blobs = sa.Table(
    "raw_blobs",
    metadata,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("content_type", sa.String(100)),
    sa.Column("size_bytes", sa.Integer, nullable=False),
    sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
)

scrape_events = sa.Table(
    "scrape_events",
    metadata,
    sa.Column("event_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("scraper_name", sa.String(64), nullable=False),
    sa.Column("target_date", sa.Date, nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("completed_at", sa.DateTime(timezone=True)),
    sa.Column("duration_seconds", sa.Float),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("records_expected", sa.Integer),
    sa.Column("records_received", sa.Integer),
    sa.Column("records_missing", sa.Integer),
    sa.Column("error_type", sa.String(32)),
    sa.Column("error_category", sa.String(16)),
    sa.Column("error_severity", sa.String(16)),
    sa.Column("error_message", sa.Text),
    sa.Column("error_details", JSONB),
    sa.Column("api_response_code", sa.Integer),
    sa.Column("api_response_time_ms", sa.Integer),
    sa.Column("api_calls", sa.Integer),
    sa.Column("retries", sa.Integer),
    sa.Column("pages_fetched", sa.Integer),
    sa.Column("is_recovered", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("recovered_at", sa.DateTime(timezone=True)),
    sa.Column("recovery_event_id", UUID(as_uuid=True)),
    sa.Column("correlation_id", sa.String(64)),
    sa.Column("run_id", sa.String(64)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    sa.CheckConstraint("status IN ('success', 'partial', 'failed')", name="status"),
    sa.Index("ix_scrape_events_scraper_date", "scraper_name", "target_date"),
    sa.Index("ix_scrape_events_status", "status"),
)

raw_payloads = sa.Table(
    "raw_payloads",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column(
        "scrape_event_id",
        UUID(as_uuid=True),
        sa.ForeignKey("scrape_events.event_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("endpoint", sa.String(200), nullable=False),
    sa.Column("params", JSONB, nullable=False),
    sa.Column("target_date", sa.Date, nullable=False),
    sa.Column("page", sa.Integer, nullable=False),
    sa.Column("http_status", sa.Integer, nullable=False),
    sa.Column("response_ms", sa.Integer, nullable=False),
    sa.Column("sha256", sa.String(64), sa.ForeignKey("raw_blobs.sha256"), nullable=False),
    sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    sa.Index("ix_raw_payloads_source_date", "source", "endpoint", "target_date"),
)

games = sa.Table(
    "games",
    metadata,
    # Natural key from business identity: "2026-11-24_BOS@NYK" (game day in US Eastern).
    sa.Column("game_key", sa.String(32), primary_key=True),
    sa.Column("game_date", sa.Date, nullable=False),
    sa.Column("season", sa.Integer),
    sa.Column("home_team", sa.String(3), nullable=False),
    sa.Column("away_team", sa.String(3), nullable=False),
    sa.Column("nbac_game_id", sa.String(10), unique=True),
    sa.Column("bdl_game_id", sa.BigInteger, unique=True),
    sa.Column("tipoff_utc", sa.DateTime(timezone=True)),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("home_score", sa.Integer),
    sa.Column("away_score", sa.Integer),
    sa.Column("in_bdl", sa.Boolean, nullable=False),
    sa.Column("in_nbac", sa.Boolean, nullable=False),
    sa.Column("source_disagreements", JSONB),
    sa.Column("run_id", sa.String(64)),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    sa.CheckConstraint(
        "status IN ('scheduled', 'live', 'final', 'postponed', 'cancelled')", name="status"
    ),
    sa.Index("ix_games_game_date", "game_date"),
    sa.Index("ix_games_tipoff_utc", "tipoff_utc"),
)

player_box_scores = sa.Table(
    "player_box_scores",
    metadata,
    sa.Column("game_key", sa.String(32), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("player_id", sa.String(32), nullable=False),
    sa.Column("game_date", sa.Date, nullable=False),
    sa.Column("team", sa.String(3), nullable=False),
    sa.Column("player_name", sa.String(100), nullable=False),
    sa.Column("minutes", sa.Float),
    sa.Column("points", sa.Integer),
    sa.Column("rebounds", sa.Integer),
    sa.Column("assists", sa.Integer),
    sa.Column("run_id", sa.String(64)),
    sa.PrimaryKeyConstraint("game_key", "source", "player_id"),
    sa.Index("ix_player_box_scores_game_date", "game_date"),
)

processor_run_history = sa.Table(
    "processor_run_history",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("processor_name", sa.String(64), nullable=False),
    sa.Column("data_date", sa.Date),
    sa.Column("run_id", sa.String(64)),
    sa.Column("status", sa.String(16), nullable=False),
    # Computed by the shared write path from rows actually written, never set by hand.
    sa.Column("records_processed", sa.Integer, nullable=False),
    sa.Column("records_deleted", sa.Integer, nullable=False, server_default="0"),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("duration_seconds", sa.Float, nullable=False),
    sa.Column("error_message", sa.Text),
    sa.Column("details", JSONB),
    sa.CheckConstraint("status IN ('success', 'failed')", name="status"),
    sa.Index("ix_processor_run_history_name_date", "processor_name", "data_date"),
)
