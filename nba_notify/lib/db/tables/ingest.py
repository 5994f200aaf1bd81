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

# What each source says about each game, as of its latest listing (one row per source id).
# A claim is ``listed`` while the source's latest listing of the claim's date still carries it;
# a game that moves keeps its claim (same source id) and the claim's date follows it.
source_games = sa.Table(
    "source_games",
    metadata,
    sa.Column("source", sa.String(16), primary_key=True),
    sa.Column("source_game_id", sa.String(32), primary_key=True),
    # The league's game (NBA.com gameId) this claim is proven to be; NULL while unproven.
    sa.Column("game_id", sa.String(16)),
    sa.Column("game_date", sa.Date, nullable=False),
    sa.Column("season", sa.Integer),
    sa.Column("home_team", sa.String(3), nullable=False),
    sa.Column("away_team", sa.String(3), nullable=False),
    sa.Column("tipoff_utc", sa.DateTime(timezone=True)),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("home_score", sa.Integer),
    sa.Column("away_score", sa.Integer),
    sa.Column("listed", sa.Boolean, nullable=False),
    sa.Column("run_id", sa.String(64)),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    sa.CheckConstraint("status IN ('scheduled', 'live', 'final', 'postponed', 'cancelled')", name="status"),
    sa.Index("ix_source_games_source_date", "source", "game_date"),
    sa.Index("ix_source_games_game_id", "game_id"),
)

# Proven identities: a BDL game id is the league's game ``game_id`` (same teams, dates within
# the proof window). Written once, when proven; never re-pointed (a later contradiction is a
# conflict, not a re-mapping).
game_crosswalk = sa.Table(
    "game_crosswalk",
    metadata,
    sa.Column("source", sa.String(16), primary_key=True),
    sa.Column("source_game_id", sa.String(32), primary_key=True),
    sa.Column("game_id", sa.String(16), nullable=False),
    sa.Column("home_team", sa.String(3), nullable=False),
    sa.Column("away_team", sa.String(3), nullable=False),
    sa.Column("source_game_date", sa.Date, nullable=False),
    sa.Column("league_game_date", sa.Date, nullable=False),
    sa.Column("method", sa.String(32), nullable=False),
    sa.Column("proven_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    sa.Column("run_id", sa.String(64)),
    sa.UniqueConstraint("source", "game_id"),
)

IDENTITY_CONFLICT_KINDS = (
    "duplicate_source_id",  # one listing carries one id for two different games
    "source_id_changed_teams",  # a proven source id now names other teams
    "league_id_changed_teams",  # an NBA.com gameId now names other teams
    "ids_claim_one_game",  # two source ids prove to the same league game
    "ambiguous_match",  # more than one league game could be this source game
)

# Identity data errors: kept, flagged and alerted — never a silent delete or merge.
game_identity_conflicts = sa.Table(
    "game_identity_conflicts",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("source_game_id", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("game_id", sa.String(16)),
    sa.Column("game_date", sa.Date, nullable=False),
    sa.Column("details", JSONB, nullable=False),
    sa.Column("occurrences", sa.Integer, nullable=False, server_default="1"),
    sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    sa.Column("resolved_at", sa.DateTime(timezone=True)),
    sa.Column("run_id", sa.String(64)),
    sa.CheckConstraint("kind IN (" + ", ".join(f"'{k}'" for k in IDENTITY_CONFLICT_KINDS) + ")", name="kind"),
    sa.Index(
        "uq_game_identity_conflicts_open",
        "source",
        "source_game_id",
        "kind",
        unique=True,
        postgresql_where=sa.text("resolved_at IS NULL"),
    ),
    sa.Index("ix_game_identity_conflicts_game_date", "game_date"),
)

games = sa.Table(
    "games",
    metadata,
    # The league's own game id (NBA.com ``gameId``, "0022500171"): a game's identity for
    # ever. Its date, tip-off and status are attributes that change (moves, postponements).
    sa.Column("game_id", sa.String(16), primary_key=True),
    # The US-Eastern day the game is on *now* (its partition).
    sa.Column("game_date", sa.Date, nullable=False),
    sa.Column("season", sa.Integer),
    sa.Column("home_team", sa.String(3), nullable=False),
    sa.Column("away_team", sa.String(3), nullable=False),
    sa.Column("bdl_game_id", sa.BigInteger, unique=True),
    sa.Column("tipoff_utc", sa.DateTime(timezone=True)),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("home_score", sa.Integer),
    sa.Column("away_score", sa.Integer),
    sa.Column("in_bdl", sa.Boolean, nullable=False),
    sa.Column("in_nbac", sa.Boolean, nullable=False),
    # Some source lists the game at its date in its latest listing; false = it left the feeds.
    sa.Column("listed", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("source_disagreements", JSONB),
    sa.Column("run_id", sa.String(64)),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    sa.CheckConstraint("status IN ('scheduled', 'live', 'final', 'postponed', 'cancelled')", name="status"),
    sa.Index("ix_games_game_date", "game_date"),
    sa.Index("ix_games_tipoff_utc", "tipoff_utc"),
)

player_box_scores = sa.Table(
    "player_box_scores",
    metadata,
    sa.Column("game_id", sa.String(16), nullable=False),
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
    sa.PrimaryKeyConstraint("game_id", "source", "player_id"),
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
