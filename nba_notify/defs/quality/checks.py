"""Data-quality asset checks, evaluated for the game days of the run they run in (a run
without partitions — a check launched on its own — evaluates every game day on record).

* ``phase2_coverage`` on ``player_box_scores`` — the coverage gate (seed 004 C2): BLOCKING;
  below 90% of the expected final games or players for either source, the assets downstream
  of ``player_box_scores`` in the same run (phase 3/4) do not run; the shortfall is metadata.
  (``source_discrepancies`` reads the raw payloads, not ``player_box_scores``, so detection
  and retry queueing still happen when the gate fails.)
* ``no_games_missing_between_sources`` on ``source_discrepancies`` — fails with the games one
  source lists and the other does not (ERROR, not blocking: the retry queue is already on it).
* ``sources_agree_on_games`` on ``source_discrepancies`` — status/score/tip-off
  disagreements: ERROR when a final game disagrees, WARN when only games not yet final do.
* ``box_scores_published_within_deadline`` on ``box_score_coverage`` — a final game's box score
  not (fully) published is lag until the configured deadline after the game went final (the
  check passes and lists it), ERROR after. Never a missing game.

Each kind is its own check so its severity means one thing and its text names exactly which
games and why.
* ``no_game_identity_conflicts`` on ``games`` — source ids that cannot be trusted to name one
  league game (one id for two games, an id that changed teams, two ids for one game, a tie
  between candidates): ERROR, with the conflicting rows; nothing was merged or deleted.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import dagster as dg
import sqlalchemy as sa

from nba_notify.defs.ingest.assets import games as games_asset
from nba_notify.defs.ingest.assets import player_box_scores
from nba_notify.defs.quality.assets import MAX_ROWS_SHOWN, box_score_coverage, source_discrepancies
from nba_notify.defs.quality.resources import BoxScoreDeadlineResource
from nba_notify.defs.resources import ClockResource, PostgresResource
from nba_notify.lib.db.tables.ingest import game_identity_conflicts, games
from nba_notify.lib.db.tables.quality import source_discrepancies as discrepancy_table
from nba_notify.lib.quality.coverage import COVERAGE_THRESHOLD, DayCoverage, load_day_coverage
from nba_notify.lib.quality.discrepancies import (
    BOX_SCORE_KINDS,
    ERROR,
    FIELD_KINDS,
    MISSING_KINDS,
    SOURCE_LABEL,
    WARN,
    box_score_overdue,
    field_severity,
)
from nba_notify.lib.sqlmodels import markdown_table


def check_days(context: dg.AssetCheckExecutionContext, database: PostgresResource) -> list[date]:
    op_context = context.op_execution_context
    if op_context.has_partition_key or op_context.has_partition_key_range:
        return [date.fromisoformat(key) for key in op_context.partition_keys]
    with database.engine().connect() as conn:
        return list(
            conn.execute(sa.select(sa.distinct(games.c.game_date)).order_by(games.c.game_date)).scalars()
        )


@dg.asset_check(
    asset=player_box_scores,
    name="phase2_coverage",
    blocking=True,
    description=f"Coverage gate: each source's box scores cover at least {COVERAGE_THRESHOLD:.0%} "
    "of the day's final games that are due (published by every source, or past the box-score "
    "deadline) and of the players the other source lists; otherwise phase 3/4 do not run on "
    "partial data.",
)
def phase2_coverage(
    context: dg.AssetCheckExecutionContext,
    database: PostgresResource,
    clock: ClockResource,
    box_score_deadline: BoxScoreDeadlineResource,
) -> dg.AssetCheckResult:
    now, deadline = clock.now(), box_score_deadline.deadline()
    with database.engine().connect() as conn:
        coverages = [
            load_day_coverage(conn, day, now=now, deadline=deadline) for day in check_days(context, database)
        ]
    return coverage_result(coverages)


def coverage_result(
    coverages: list[DayCoverage], threshold: float = COVERAGE_THRESHOLD
) -> dg.AssetCheckResult:
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


@dataclass(frozen=True)
class DiscrepancyRow:
    game_date: date
    game_id: str
    kind: str
    scraper_name: str
    details: dict[str, Any]

    @property
    def source(self) -> str:
        """The source the discrepancy is put on (the kind's suffix, else the scraper's prefix)."""
        suffix = self.kind.rsplit("_", 1)[-1]
        return suffix if suffix in SOURCE_LABEL else self.scraper_name.split("_", 1)[0]

    @property
    def label(self) -> str:
        matchup = self.details.get("matchup")
        return f"{self.game_id} ({matchup})" if matchup else self.game_id


def _discrepancy_rows(
    database: PostgresResource, days: list[date], kinds: tuple[str, ...]
) -> list[DiscrepancyRow]:
    t = discrepancy_table.c
    with database.engine().connect() as conn:
        return [
            DiscrepancyRow(r.game_date, r.game_id, r.kind, r.scraper_name, dict(r.details or {}))
            for r in conn.execute(
                sa.select(t.game_date, t.game_id, t.kind, t.scraper_name, t.details)
                .where(t.game_date.in_(days), t.kind.in_(kinds))
                .order_by(t.game_date, t.game_id, t.kind)
            )
        ]


def _listed(items: list[str], limit: int = 10) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _table(columns: tuple[str, ...], rows: list[tuple], total: int | None = None) -> dg.MetadataValue:
    total = len(rows) if total is None else total
    head = f"{total} row(s)" + (f" (first {MAX_ROWS_SHOWN})" if total > MAX_ROWS_SHOWN else "")
    return dg.MetadataValue.md(head + "\n\n" + markdown_table(columns, rows[:MAX_ROWS_SHOWN]))


def missing_games_result(rows: list[DiscrepancyRow]) -> dg.AssetCheckResult:
    """Games one source lists and the other does not (ERROR)."""
    metadata: dict[str, object] = {
        "games_missing": len({r.game_id for r in rows}),
        "offending_row_count": len(rows),
    }
    if rows:
        metadata["offending_rows"] = _table(
            ("game_date", "game_id", "matchup", "missing_from", "listed_by", "status"),
            [
                (
                    r.game_date.isoformat(),
                    r.game_id,
                    r.details.get("matchup"),
                    SOURCE_LABEL[r.source],
                    SOURCE_LABEL.get(r.details.get("listed_by", ""), ""),
                    r.details.get("status"),
                )
                for r in rows
            ],
        )
    by_source = {
        source: [r.label for r in rows if r.source == source]
        for source in SOURCE_LABEL
        if any(r.source == source for r in rows)
    }
    return dg.AssetCheckResult(
        passed=not rows,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata=metadata,
        description=None
        if not rows
        else f"{len({r.game_id for r in rows})} game(s) missing from a source: "
        + "; ".join(
            f"{SOURCE_LABEL[source]} does not list {_listed(labels)} (the other source does)"
            for source, labels in by_source.items()
        ),
    )


def _field_lines(rows: list[DiscrepancyRow]) -> list[tuple]:
    """One line per disagreeing field: what each source says."""
    return [
        (
            r.game_date.isoformat(),
            r.game_id,
            r.details.get("matchup"),
            r.details.get("status"),
            name,
            values.get("bdl"),
            values.get("nbac"),
            r.details.get("severity") or field_severity(r.details.get("status", "")),
        )
        for r in rows
        for name, values in sorted((r.details.get("fields") or {}).items())
    ]


def field_disagreements_result(rows: list[DiscrepancyRow]) -> dg.AssetCheckResult:
    """Status/score/tip-off disagreements: ERROR if any concerns a final game, WARN if all
    concern games not yet final (a schedule change one source has not picked up yet)."""
    lines = _field_lines(rows)
    on_final = sorted({r.label for r in rows if field_severity(r.details.get("status", "")) == ERROR})
    before = sorted({r.label for r in rows if field_severity(r.details.get("status", "")) == WARN})
    metadata: dict[str, object] = {
        "disagreements_on_final_games": len(on_final),
        "disagreements_before_final": len(before),
        "offending_row_count": len(rows),
    }
    if lines:
        metadata["offending_rows"] = _table(
            ("game_date", "game_id", "matchup", "game_status", "field", "bdl", "nbac", "severity"), lines
        )
    parts = []
    if on_final:
        parts.append(f"on {len(on_final)} final game(s) (ERROR): {_listed(on_final)}")
    if before:
        parts.append(f"on {len(before)} game(s) not yet final (WARN): {_listed(before)}")
    fields = sorted({line[4] for line in lines})
    return dg.AssetCheckResult(
        passed=not rows,
        severity=dg.AssetCheckSeverity.ERROR if on_final else dg.AssetCheckSeverity.WARN,
        metadata=metadata,
        description=None
        if not rows
        else f"BDL disagrees with NBA.com ({', '.join(fields)}) " + "; ".join(parts),
    )


def box_score_deadline_result(rows: list[DiscrepancyRow], now: datetime) -> dg.AssetCheckResult:
    """Box scores a source has not published (or published short of players) for a final game
    it lists: lag before the deadline (passes, listed), ERROR after."""
    overdue = [r for r in rows if box_score_overdue(r.details, now)]
    lagging = [r for r in rows if not box_score_overdue(r.details, now)]

    def gap(r: DiscrepancyRow) -> str:
        if r.kind.startswith("players_missing"):
            return f"{r.details.get('players')} of {r.details.get('players_in_other_source')} players"
        return "not published"

    metadata: dict[str, object] = {
        "box_scores_overdue": len(overdue),
        "box_scores_lagging": len(lagging),
        "evaluated_at": now.isoformat(),
    }
    columns = ("game_date", "game_id", "matchup", "source", "gap", "final_at", "deadline_at", "state")
    for name, subset, state in (
        ("offending_rows", overdue, "overdue"),
        ("lagging_rows", lagging, "within deadline"),
    ):
        if subset:
            metadata[name] = _table(
                columns,
                [
                    (
                        r.game_date.isoformat(),
                        r.game_id,
                        r.details.get("matchup"),
                        SOURCE_LABEL[r.source],
                        gap(r),
                        r.details.get("final_at"),
                        r.details.get("deadline_at"),
                        state,
                    )
                    for r in subset
                ],
            )

    def listed(subset: list[DiscrepancyRow]) -> str:
        return _listed(
            [
                f"{SOURCE_LABEL[r.source]} {r.label} {gap(r)}, deadline {r.details.get('deadline_at')}"
                for r in subset
            ]
        )

    description = None
    if overdue:
        description = f"{len(overdue)} box score(s) past their deadline: {listed(overdue)}"
    elif lagging:
        description = (
            f"No box score overdue; {len(lagging)} not yet complete, within their deadline: {listed(lagging)}"
        )
    return dg.AssetCheckResult(
        passed=not overdue,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata=metadata,
        description=description,
    )


@dg.asset_check(
    asset=source_discrepancies,
    name="no_games_missing_between_sources",
    description="Every game one source lists, the other lists too (ERROR). Fails naming the games and the "
    "source that lacks them; each gap is already queued for a re-scrape of that listing. Box scores not "
    "yet published are not missing games (see box_scores_published_within_deadline).",
)
def no_games_missing_between_sources(
    context: dg.AssetCheckExecutionContext, database: PostgresResource
) -> dg.AssetCheckResult:
    return missing_games_result(_discrepancy_rows(database, check_days(context, database), MISSING_KINDS))


@dg.asset_check(
    asset=source_discrepancies,
    name="sources_agree_on_games",
    description="BDL agrees with NBA.com on status, score and tip-off of the games both list. ERROR when a "
    "final game disagrees (a final result must agree); WARN when only games not yet final do (one source "
    "has not picked up a change yet). Fails with each field and what each source says.",
)
def sources_agree_on_games(
    context: dg.AssetCheckExecutionContext, database: PostgresResource
) -> dg.AssetCheckResult:
    return field_disagreements_result(_discrepancy_rows(database, check_days(context, database), FIELD_KINDS))


@dg.asset_check(
    asset=box_score_coverage,
    name="box_scores_published_within_deadline",
    description="Every final game a source lists gets its box score there, complete, by the deadline "
    "(box_score_deadline: hours after the game went final). Before the deadline a gap is lag: the check "
    "passes and lists it; after, it fails (ERROR) naming the game, the source and the deadline. What to "
    "do: look at that feed's box score for the game; the re-scrape is already queued.",
)
def box_scores_published_within_deadline(
    context: dg.AssetCheckExecutionContext, database: PostgresResource, clock: ClockResource
) -> dg.AssetCheckResult:
    rows = _discrepancy_rows(database, check_days(context, database), BOX_SCORE_KINDS)
    return box_score_deadline_result(rows, clock.now())


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
                [
                    (
                        r.game_date.isoformat(),
                        r.source,
                        r.source_game_id,
                        r.kind,
                        r.game_id,
                        r.occurrences,
                        r.details,
                    )
                    for r in rows[:MAX_ROWS_SHOWN]
                ],
            )
        )
    return dg.AssetCheckResult(
        passed=not rows,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata=metadata,
        description=None
        if not rows
        else f"{len(rows)} source game id(s) in conflict: "
        + ", ".join(f"{r.source} {r.source_game_id} ({r.kind})" for r in rows[:10]),
    )
