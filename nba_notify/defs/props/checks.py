"""Asset checks on player props and game lines: identity (events and players by proof) and
discrepancies (not on the schedule, postponed games still quoted, books far apart) — each its
own check, the offending rows as a table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dagster as dg
import sqlalchemy as sa

from nba_notify.defs.props.assets import game_lines, player_props
from nba_notify.defs.resources import PostgresResource
from nba_notify.lib.props import checks as q
from nba_notify.lib.sqlmodels.checks import markdown_table

SAMPLE_ROWS = 20


def _result(rows: list[dict[str, Any]], severity: dg.AssetCheckSeverity, what: str) -> dg.AssetCheckResult:
    meta: dict[str, Any] = {"offending_row_count": len(rows)}
    if rows:
        columns = tuple(rows[0])
        meta["offending_rows"] = dg.MetadataValue.md(
            markdown_table(columns, tuple(tuple(r[c] for c in columns) for r in rows[:SAMPLE_ROWS]))
        )
        meta["summary"] = f"{len(rows)} {what}"
    return dg.AssetCheckResult(passed=not rows, severity=severity, metadata=meta)


def _run(
    database: PostgresResource, query: Callable[[sa.Connection], list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    with database.engine().connect() as conn:
        return query(conn)


@dg.asset_check(
    asset=player_props,
    description="Every props event maps to exactly one league game. Ambiguous events (two games with the same "
    "teams within the commence-time window) are listed with their candidates; their props carry no game id until "
    "the schedule says which game it is. Never guessed.",
)
def prop_events_unambiguous(database: PostgresResource) -> dg.AssetCheckResult:
    return _result(_run(database, q.ambiguous_events), dg.AssetCheckSeverity.ERROR, "ambiguous events")


@dg.asset_check(
    asset=player_props,
    description="Props for games that are not on the league's schedule (no game with those teams near that "
    "commence time: a feed error, an exhibition, a wrong team name). Check the event against NBA.com.",
)
def props_for_games_not_on_schedule(database: PostgresResource) -> dg.AssetCheckResult:
    rows = _run(database, lambda c: q.events_not_on_schedule(c, "player_props"))
    return _result(rows, dg.AssetCheckSeverity.ERROR, "events with props and no league game")


@dg.asset_check(
    asset=player_props,
    description="Every prop of a played game names a player of its two teams in the game's NBA.com box score "
    "(exactly one). An unproven name (spelling, a traded player, a wrong game) keeps a NULL player id and is "
    "listed here — the mart leaves it out rather than guess.",
)
def prop_players_proven(database: PostgresResource) -> dg.AssetCheckResult:
    return _result(_run(database, q.unproven_players), dg.AssetCheckSeverity.ERROR, "unproven player names")


@dg.asset_check(
    asset=player_props,
    description="Books agree on each player's line within the market's threshold (points 3, rebounds and "
    "assists 2): a book further apart is quoting stale or wrong numbers.",
)
def books_agree_on_props(database: PostgresResource) -> dg.AssetCheckResult:
    return _result(
        _run(database, q.books_disagree), dg.AssetCheckSeverity.WARN, "player lines where books disagree"
    )


@dg.asset_check(
    asset=game_lines,
    description="Game lines for games not on the league's schedule.",
)
def lines_for_games_not_on_schedule(database: PostgresResource) -> dg.AssetCheckResult:
    rows = _run(database, lambda c: q.events_not_on_schedule(c, "game_lines"))
    return _result(rows, dg.AssetCheckSeverity.ERROR, "events with lines and no league game")


@dg.asset_check(
    asset=game_lines,
    description="No book still quotes a game the league has postponed or cancelled (a line seen after the "
    "league's change reached us). Such a line will be voided; do not use it.",
)
def no_lines_for_postponed_games(database: PostgresResource) -> dg.AssetCheckResult:
    rows = _run(database, q.lines_for_postponed_games)
    return _result(rows, dg.AssetCheckSeverity.WARN, "lines quoted for postponed or cancelled games")
