"""Player props and game lines (The Odds API, BettingPros): the credit ledger, the events each
source listed and what they were proven to be, and the observed lines — kept as history."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from nba_notify.lib.db.metadata import metadata

NOW = sa.text("now()")

# One row per Odds API answer: its quota headers, so the day's spend is known before the next
# run plans its calls (x-requests-last is what the call cost).
odds_api_usage = sa.Table(
    "odds_api_usage",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("called_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("usage_day", sa.Date, nullable=False),
    sa.Column("scraper_name", sa.String(64), nullable=False),
    sa.Column("target_date", sa.Date),
    sa.Column("endpoint", sa.String(40), nullable=False),
    sa.Column("params", JSONB, nullable=False),
    sa.Column("http_status", sa.Integer, nullable=False),
    sa.Column("requests_last", sa.Integer),
    sa.Column("requests_used", sa.Integer),
    sa.Column("requests_remaining", sa.Integer),
    sa.Column("run_id", sa.String(64)),
    sa.Index("ix_odds_api_usage_usage_day", "usage_day"),
)

PROP_EVENT_IDENTITY = ("mapped", "unmapped", "ambiguous")

# Each source event and the league game it is proven to be (teams + commence time within the
# proof window). Unmapped and ambiguous events keep game_id NULL and their candidates: a data
# error surfaced by a check, never a guess.
prop_events = sa.Table(
    "prop_events",
    metadata,
    sa.Column("source", sa.String(16), primary_key=True),
    sa.Column("source_event_id", sa.String(64), primary_key=True),
    sa.Column("game_date", sa.Date, nullable=False),
    sa.Column("commence_time", sa.DateTime(timezone=True)),
    sa.Column("home_name", sa.String(64), nullable=False),
    sa.Column("away_name", sa.String(64), nullable=False),
    sa.Column("home_team", sa.String(3)),
    sa.Column("away_team", sa.String(3)),
    sa.Column("game_id", sa.String(16)),
    sa.Column("identity", sa.String(16), nullable=False),
    sa.Column("candidates", JSONB, nullable=False),
    sa.Column("run_id", sa.String(64)),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    sa.CheckConstraint("identity IN ('mapped', 'unmapped', 'ambiguous')", name="identity"),
    sa.Index("ix_prop_events_game_date", "game_date"),
    sa.Index("ix_prop_events_game_id", "game_id"),
)

PLAYER_MATCHES = ("box_score", "team_recent", "unmapped", "ambiguous", "no_game")

# Every distinct quote a book showed: (event, market, book, player) at the book's own update
# time. A line that moves is a new row; an unchanged line seen again is the same row.
player_props = sa.Table(
    "player_props",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("source_event_id", sa.String(64), nullable=False),
    sa.Column("game_id", sa.String(16)),
    sa.Column("game_date", sa.Date, nullable=False),
    sa.Column("market", sa.String(32), nullable=False),
    sa.Column("book", sa.String(32), nullable=False),
    sa.Column("player_name", sa.String(100), nullable=False),
    sa.Column("player_id", sa.String(32)),
    sa.Column("team", sa.String(3)),
    sa.Column("player_match", sa.String(16), nullable=False),
    sa.Column("line", sa.Float, nullable=False),
    sa.Column("over_price", sa.Integer),
    sa.Column("under_price", sa.Integer),
    sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("run_id", sa.String(64)),
    sa.UniqueConstraint("source", "source_event_id", "market", "book", "player_name", "observed_at"),
    sa.Index("ix_player_props_game_date", "game_date"),
    sa.Index("ix_player_props_game_player", "game_id", "player_id", "market"),
)

game_lines = sa.Table(
    "game_lines",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("source_event_id", sa.String(64), nullable=False),
    sa.Column("game_id", sa.String(16)),
    sa.Column("game_date", sa.Date, nullable=False),
    sa.Column("market", sa.String(16), nullable=False),  # h2h | spreads | totals
    sa.Column("book", sa.String(32), nullable=False),
    # spreads: the home team's handicap; totals: the total; h2h: NULL
    sa.Column("point", sa.Float),
    sa.Column("home_price", sa.Integer),
    sa.Column("away_price", sa.Integer),
    sa.Column("over_price", sa.Integer),
    sa.Column("under_price", sa.Integer),
    sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("run_id", sa.String(64)),
    sa.UniqueConstraint("source", "source_event_id", "market", "book", "observed_at"),
    sa.Index("ix_game_lines_game_date", "game_date"),
    sa.Index("ix_game_lines_game_id", "game_id"),
)
