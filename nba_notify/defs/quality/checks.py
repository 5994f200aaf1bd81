"""Data-quality asset checks, evaluated for the game days of the run they run in (a run
without partitions — a check launched on its own — evaluates every game day on record).

* ``phase2_coverage`` on ``player_box_scores`` — the coverage gate (seed 004 C2): BLOCKING;
  below 90% of the expected final games or players for either source, the assets downstream
  of ``player_box_scores`` in the same run (phase 3/4) do not run; the shortfall is metadata.
  (``source_discrepancies`` reads the raw payloads, not ``player_box_scores``, so detection
  and retry queueing still happen when the gate fails.)
* ``no_games_missing_between_sources`` on ``source_discrepancies`` — fails with the games one
  source has and the other lacks (ERROR, not blocking: the retry queue is already on it).
* ``sources_agree_on_games`` on ``source_discrepancies`` — status/score/tip-off
  disagreements (WARN).
* ``no_game_identity_conflicts`` on ``games`` — source ids that cannot be trusted to name one
  league game (one id for two games, an id that changed teams, two ids for one game, a tie
  between candidates): ERROR, with the conflicting rows; nothing was merged or deleted.
"""

from datetime import date

import dagster as dg
import sqlalchemy as sa

from nba_notify.defs.ingest.assets import games as games_asset
from nba_notify.defs.ingest.assets import player_box_scores
from nba_notify.defs.quality.assets import MAX_ROWS_SHOWN, source_discrepancies
from nba_notify.defs.resources import PostgresResource
from nba_notify.lib.db.tables.ingest import game_identity_conflicts, games
from nba_notify.lib.db.tables.quality import source_discrepancies as discrepancy_table
from nba_notify.lib.quality.coverage import COVERAGE_THRESHOLD, DayCoverage, load_day_coverage
from nba_notify.lib.sqlmodels import markdown_table


def check_days(context: dg.AssetCheckExecutionContext, database: PostgresResource) -> list[date]:
    op_context = context.op_execution_context
    if op_context.has_partition_key or op_context.has_partition_key_range:
        return [date.fromisoformat(key) for key in op_context.partition_keys]
    with database.engine().connect() as conn:
        return list(conn.execute(sa.select(sa.distinct(games.c.game_date)).order_by(games.c.game_date)).scalars())


@dg.asset_check(
    asset=player_box_scores,
    name="phase2_coverage",
    blocking=True,
    description=f"Coverage gate: each source's box scores cover at least {COVERAGE_THRESHOLD:.0%} "
    "of the day's final games and of the players the other source lists; otherwise phase 3/4 "
    "do not run on partial data.",
)
def phase2_coverage(context: dg.AssetCheckExecutionContext, database: PostgresResource) -> dg.AssetCheckResult:
    with database.engine().connect() as conn:
        coverages = [load_day_coverage(conn, day) for day in check_days(context, database)]
    return coverage_result(coverages)


def coverage_result(coverages: list[DayCoverage], threshold: float = COVERAGE_THRESHOLD) -> dg.AssetCheckResult:
    below = [c for c in coverages if not c.passed(threshold)]
    metadata: dict[str, object] = {
        "threshold": threshold,
        "lowest_coverage": round(min([1.0, *(c.lowest_ratio for c in coverages)]), 4),
        "game_days": len(coverages),
        "game_days_below_threshold": len(below),
        "final_games": sum(len(c.final_games) for c in coverages),
    }
    for source in ("bdl", "nbac"):
        stats = [s for c in coverages for s in c.sources if s.source == source]
        expected_games = sum(s.expected_games for s in stats)
        expected_players = sum(s.expected_players for s in stats)
        metadata[f"{source}_game_coverage"] = (
            round(sum(s.processed_games for s in stats) / expected_games, 4) if expected_games else 1.0
        )
        metadata[f"{source}_player_coverage"] = (
            round(sum(s.processed_players for s in stats) / expected_players, 4) if expected_players else 1.0
        )
    if below:
        rows = [
            (c.day.isoformat(), r.game_id, r.source, r.expected_players, r.processed_players)
            for c in below
            for r in c.shortfall
        ]
        metadata["shortfall"] = dg.MetadataValue.md(
            "\n".join(c.summary() for c in below[:10])
            + f"\n\n{len(rows)} game(s) short (first {min(len(rows), MAX_ROWS_SHOWN)})\n\n"
            + markdown_table(
                ("game_date", "game_id", "source", "expected_players", "processed_players"),
                rows[:MAX_ROWS_SHOWN],
            )
        )
    return dg.AssetCheckResult(
        passed=not below,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata=metadata,
        description=None
        if not below
        else f"{len(below)} game day(s) below {threshold:.0%} coverage: "
        + ", ".join(c.day.isoformat() for c in below[:10]),
    )


def _discrepancy_rows(database: PostgresResource, days: list[date], missing: bool) -> list[tuple]:
    kind = discrepancy_table.c.kind
    condition = kind.like("%missing%") if missing else ~kind.like("%missing%")
    with database.engine().connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                sa.select(
                    discrepancy_table.c.game_date,
                    discrepancy_table.c.game_id,
                    discrepancy_table.c.kind,
                    discrepancy_table.c.scraper_name,
                    discrepancy_table.c.details,
                )
                .where(discrepancy_table.c.game_date.in_(days), condition)
                .order_by(discrepancy_table.c.game_date, discrepancy_table.c.game_id, kind)
            )
        ]


def _result(rows: list[tuple], severity: dg.AssetCheckSeverity, what: str) -> dg.AssetCheckResult:
    metadata: dict[str, object] = {"offending_row_count": len(rows), "games": len({r[1] for r in rows})}
    if rows:
        metadata["offending_rows"] = dg.MetadataValue.md(
            markdown_table(
                ("game_date", "game_id", "kind", "scraper", "details"),
                [(r[0].isoformat(), r[1], r[2], r[3], r[4]) for r in rows[:MAX_ROWS_SHOWN]],
            )
        )
    return dg.AssetCheckResult(
        passed=not rows,
        severity=severity,
        metadata=metadata,
        description=None if not rows else f"{len({r[1] for r in rows})} game(s) {what}: "
        + ", ".join(sorted({r[1] for r in rows})[:10]),
    )


@dg.asset_check(
    asset=source_discrepancies,
    name="no_games_missing_between_sources",
    description="Every game (and final box score) one source has, the other has too. Fails with "
    "the missing games; each is already queued for a re-scrape.",
)
def no_games_missing_between_sources(
    context: dg.AssetCheckExecutionContext, database: PostgresResource
) -> dg.AssetCheckResult:
    rows = _discrepancy_rows(database, check_days(context, database), missing=True)
    return _result(rows, dg.AssetCheckSeverity.ERROR, "missing from a source")


@dg.asset_check(
    asset=source_discrepancies,
    name="sources_agree_on_games",
    description="BDL agrees with NBA.com on status, final scores and tip-off of the games both list.",
)
def sources_agree_on_games(
    context: dg.AssetCheckExecutionContext, database: PostgresResource
) -> dg.AssetCheckResult:
    rows = _discrepancy_rows(database, check_days(context, database), missing=False)
    return _result(rows, dg.AssetCheckSeverity.WARN, "where BDL disagrees with NBA.com")


@dg.asset_check(
    asset=games_asset,
    name="no_game_identity_conflicts",
    description="Every source game id names one league game. Fails with the ids that do not (one id listed "
    "for two games, an id now naming other teams, two ids proving to one game, two equally good candidates): "
    "those games are kept apart and unmapped — never merged or deleted — until the source corrects itself or "
    "an operator links them. What to do: compare the listed games in the raw payloads of that day.",
)
def no_game_identity_conflicts(
    context: dg.AssetCheckExecutionContext, database: PostgresResource
) -> dg.AssetCheckResult:
    days = check_days(context, database)
    c = game_identity_conflicts.c
    with database.engine().connect() as conn:
        rows = conn.execute(
            sa.select(c.game_date, c.source, c.source_game_id, c.kind, c.game_id, c.occurrences, c.details)
            .where(c.resolved_at.is_(None), c.game_date.in_(days))
            .order_by(c.game_date, c.source, c.source_game_id)
        ).all()
    metadata: dict[str, object] = {"offending_row_count": len(rows)}
    if rows:
        metadata["offending_rows"] = dg.MetadataValue.md(
            markdown_table(
                ("game_date", "source", "source_game_id", "kind", "game_id", "occurrences", "details"),
                [(r.game_date.isoformat(), r.source, r.source_game_id, r.kind, r.game_id, r.occurrences, r.details)
                 for r in rows[:MAX_ROWS_SHOWN]],
            )
        )
    return dg.AssetCheckResult(
        passed=not rows,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata=metadata,
        description=None if not rows else f"{len(rows)} source game id(s) in conflict: "
        + ", ".join(f"{r.source} {r.source_game_id} ({r.kind})" for r in rows[:10]),
    )
