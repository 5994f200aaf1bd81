"""Data quality: what the two sources disagree on per game day, and the retry queue that
re-scrapes a (scraper, date) until it recovers or its retries are exhausted (seed 003)."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from nba_notify.lib.db.metadata import metadata

NOW = sa.text("now()")

DISCREPANCY_KINDS = (
    "missing_in_bdl",
    "missing_in_nbac",
    "status_mismatch",
    "score_mismatch",
    "tipoff_mismatch",
    "box_score_missing_in_bdl",
    "box_score_missing_in_nbac",
    "players_missing_in_bdl",
    "players_missing_in_nbac",
)
# permanent: a condition retrying cannot fix (a box score still unavailable days after the
# game, credentials rejected) — never claimed, kept open and visible; a late complete scrape
# still recovers it.
RETRY_STATUSES = ("pending", "retrying", "recovered", "exhausted", "permanent")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


# The current comparison of one game day (replaced whenever the day is re-evaluated); the
# history of detections lives in scrape_events (status 'partial', error_type 'api_incomplete').
source_discrepancies = sa.Table(
    "source_discrepancies",
    metadata,
    sa.Column("game_date", sa.Date, nullable=False),
    sa.Column("game_id", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    # The scraper whose data is missing or presumed wrong (NBA.com is the league's record).
    sa.Column("scraper_name", sa.String(64), nullable=False),
    sa.Column("details", JSONB, nullable=False),
    sa.Column("run_id", sa.String(64)),
    sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("game_date", "game_id", "kind"),
    sa.CheckConstraint(_in("kind", DISCREPANCY_KINDS), name="kind"),
)

scrape_retry_queue = sa.Table(
    "scrape_retry_queue",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("scraper_name", sa.String(64), nullable=False),
    sa.Column("target_date", sa.Date, nullable=False),
    sa.Column("reason", sa.String(64), nullable=False),
    sa.Column("original_error", sa.Text, nullable=False),
    sa.Column(
        "original_event_id",
        UUID(as_uuid=True),
        sa.ForeignKey("scrape_events.event_id", ondelete="SET NULL"),
    ),
    # attempts = re-scrapes launched so far; never more than max_retries.
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("max_retries", sa.Integer, nullable=False, server_default="3"),
    sa.Column("next_retry_at", sa.DateTime(timezone=True)),
    sa.Column("last_attempt_at", sa.DateTime(timezone=True)),
    sa.Column("retry_history", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("claimed_by", sa.String(128)),
    sa.Column("run_key", sa.String(128)),
    # What the latest evaluation still found missing (game keys, counts).
    sa.Column("details", JSONB),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("recovered_at", sa.DateTime(timezone=True)),
    sa.Column(
        "recovery_event_id",
        UUID(as_uuid=True),
        sa.ForeignKey("scrape_events.event_id", ondelete="SET NULL"),
    ),
    sa.Column("exhausted_at", sa.DateTime(timezone=True)),
    sa.Column("permanent_at", sa.DateTime(timezone=True)),
    # What failed, as "<scraper>:<cause>" (e.g. nbac_box_scores:box_score_unavailable): items
    # sharing it share one alert, however many game days they cover.
    sa.Column("root_cause", sa.String(128), nullable=False, server_default=""),
    sa.Column("correlation_id", sa.String(64), nullable=False),
    sa.CheckConstraint(_in("status", RETRY_STATUSES), name="status"),
    sa.CheckConstraint("attempts >= 0 AND attempts <= max_retries", name="attempts"),
    sa.CheckConstraint("(status = 'recovered') = (recovered_at IS NOT NULL)", name="recovered_at"),
    # One open item per (scraper, date) — a scraper is one (source, kind): pending, retrying,
    # exhausted or permanent. A recovered item is
    # closed history; a later failure of the same date opens a new one.
    sa.Index(
        "uq_scrape_retry_queue_open_item",
        "scraper_name",
        "target_date",
        unique=True,
        postgresql_where=sa.text("status <> 'recovered'"),
    ),
    sa.Index("ix_scrape_retry_queue_due", "status", "next_retry_at"),
    sa.Index("ix_scrape_retry_queue_root_cause", "root_cause", "status"),
)
