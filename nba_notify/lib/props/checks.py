"""The queries behind the props asset checks: each returns the offending rows (none = pass).

Thresholds for "books disagree" are per market, in the market's own unit: books routinely
differ by half a point to a point (that is the market working); several points apart is a
stale or wrong quote."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

DISAGREEMENT_THRESHOLDS = {
    "player_points": 3.0,
    "player_rebounds": 2.0,
    "player_assists": 2.0,
}


def _rows(conn: sa.Connection, sql: str, **params: Any) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(sa.text(sql), params).mappings().all()]


def ambiguous_events(conn: sa.Connection) -> list[dict[str, Any]]:
    """Events more than one league game could be (same teams, commence within the window)."""
    return _rows(
        conn,
        """
        SELECT source, source_event_id, game_date, home_team, away_team, commence_time,
               jsonb_array_length(candidates) AS candidates
        FROM prop_events WHERE identity = 'ambiguous'
        ORDER BY game_date, source, source_event_id
        """,
    )


def events_not_on_schedule(conn: sa.Connection, table: str) -> list[dict[str, Any]]:
    """Events the league's schedule has no game for, that carry quotes in ``table``."""
    if table not in ("player_props", "game_lines"):
        raise ValueError(table)
    return _rows(
        conn,
        f"""
        SELECT e.source, e.source_event_id, e.game_date, e.home_name, e.away_name, e.commence_time,
               COUNT(*) AS quotes
        FROM prop_events AS e
        JOIN {table} AS q ON q.source = e.source AND q.source_event_id = e.source_event_id
        WHERE e.identity = 'unmapped'
        GROUP BY e.source, e.source_event_id, e.game_date, e.home_name, e.away_name, e.commence_time
        ORDER BY e.game_date, e.source_event_id
        """,
    )


def unproven_players(conn: sa.Connection) -> list[dict[str, Any]]:
    """Prop names no player of a *played* game's two teams carries (or two do). Before tip-off a
    name is proven from the teams' recent box scores at best; once the game's NBA.com box score
    is in, every name must be in it."""
    return _rows(
        conn,
        """
        SELECT p.source, p.game_id, p.game_date, p.player_name, p.player_match, COUNT(*) AS quotes
        FROM player_props AS p
        JOIN games AS g ON g.game_id = p.game_id AND g.status = 'final'
        WHERE p.player_match IN ('unmapped', 'ambiguous')
          AND EXISTS (SELECT 1 FROM player_box_scores AS b WHERE b.game_id = p.game_id AND b.source = 'nbac')
        GROUP BY p.source, p.game_id, p.game_date, p.player_name, p.player_match
        ORDER BY p.game_date, p.game_id, p.player_name
        """,
    )


def books_disagree(
    conn: sa.Connection, thresholds: dict[str, float] = DISAGREEMENT_THRESHOLDS
) -> list[dict[str, Any]]:
    """Each book's latest line per game, player and market; rows where the books are further
    apart than the market's threshold."""
    markets = list(thresholds)
    return _rows(
        conn,
        """
        WITH latest AS (
            SELECT DISTINCT ON (game_id, player_name, market, book)
                   game_id, game_date, player_name, market, book, line
            FROM player_props
            WHERE game_id IS NOT NULL AND market = ANY(:markets)
            ORDER BY game_id, player_name, market, book, observed_at DESC
        ),
        spread AS (
            SELECT game_id, game_date, player_name, market, COUNT(*) AS books,
                   MIN(line) AS lowest, MAX(line) AS highest,
                   STRING_AGG(book || '=' || line, ', ' ORDER BY book) AS lines
            FROM latest GROUP BY game_id, game_date, player_name, market
        )
        SELECT s.*, s.highest - s.lowest AS gap, t.threshold
        FROM spread AS s
        JOIN (SELECT * FROM UNNEST(CAST(:markets AS text[]), CAST(:limits AS float8[])) AS u(market, threshold)) AS t
          USING (market)
        WHERE s.books > 1 AND s.highest - s.lowest > t.threshold
        ORDER BY s.game_date, s.game_id, s.player_name, s.market
        """,
        markets=markets,
        limits=[thresholds[m] for m in markets],
    )


def lines_for_postponed_games(conn: sa.Connection) -> list[dict[str, Any]]:
    """Books still quoting a game after the league postponed or cancelled it: a line seen after
    our ``games`` row last changed (when we learned of it), for a game now postponed/cancelled."""
    return _rows(
        conn,
        """
        SELECT l.game_id, g.status, g.game_date, l.book, l.market, MAX(l.seen_at) AS last_seen,
               g.updated_at AS league_changed_at
        FROM game_lines AS l
        JOIN games AS g ON g.game_id = l.game_id
        WHERE g.status IN ('postponed', 'cancelled') AND l.seen_at >= g.updated_at
        GROUP BY l.game_id, g.status, g.game_date, l.book, l.market, g.updated_at
        ORDER BY g.game_date, l.game_id, l.book, l.market
        """,
    )
