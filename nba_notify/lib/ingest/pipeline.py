"""Phase 1 and phase 2 for one game day, as plain functions the Dagster assets call.

Phase 1 (``scrape_*``) fetches from an upstream and records the attempt and the raw pages.
Phase 2 (``process_*``) reads the stored pages — never the upstream — parses, merges, and
writes through the shared write path, so ``records_processed`` is what was written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from nba_notify.lib.clients.http import CallRecorder
from nba_notify.lib.db.tables.ingest import games, player_box_scores
from nba_notify.lib.db.writes import processor_run, replace_partition
from nba_notify.lib.errors import ErrorCategory, PipelineError
from nba_notify.lib.ingest import parse
from nba_notify.lib.ingest.merge import merge_games
from nba_notify.lib.scrapes import latest_payloads, scrape_attempt

# scraper names (scrape_events.scraper_name) — also the retry queue's unit of work
BDL_GAMES = "bdl_games"
BDL_BOX_SCORES = "bdl_box_scores"
NBAC_SCHEDULE = "nbac_schedule"
NBAC_BOX_SCORES = "nbac_box_scores"


@dataclass
class DayResult:
    day: date
    records: int
    details: dict[str, Any] = field(default_factory=dict)


# -- phase 1 ---------------------------------------------------------------------------------


def scrape_bdl_games(
    engine: sa.Engine, client: Any, day: date, *, run_id: str | None, recorder: CallRecorder
) -> DayResult:
    with scrape_attempt(engine, BDL_GAMES, "bdl", day, run_id=run_id, recorder=recorder) as attempt:
        pages = list(client.games_pages(day))
        for page in pages:
            attempt.add_page(page)
        found = parse.parse_bdl_games([p.payload for p in pages])
        attempt.records_received = len(found)
    return DayResult(day, len(found), {"pages": len(pages)})


def scrape_bdl_box_scores(
    engine: sa.Engine, client: Any, day: date, *, run_id: str | None, recorder: CallRecorder
) -> DayResult:
    with scrape_attempt(engine, BDL_BOX_SCORES, "bdl", day, run_id=run_id, recorder=recorder) as attempt:
        page = client.box_scores(day)
        attempt.add_page(page)
        lines = parse.parse_bdl_box_scores(page.payload)
        attempt.records_received = len({line.game_key for line in lines})
    return DayResult(day, attempt.records_received, {"players": len(lines)})


def scrape_nbac_schedule(
    engine: sa.Engine,
    client: Any,
    day: date,
    *,
    current_season: int,
    run_id: str | None,
    recorder: CallRecorder,
) -> DayResult:
    with scrape_attempt(engine, NBAC_SCHEDULE, "nbac", day, run_id=run_id, recorder=recorder) as attempt:
        season = parse.season_for_date(day)
        page = client.schedule(season, current_season_start_year=current_season)
        attempt.add_page(page)
        found = parse.parse_nbac_schedule(page.payload, day)
        attempt.records_received = len(found)
    return DayResult(day, len(found), {"season": season, "from_cache": page.from_cache})


def scrape_nbac_box_scores(
    engine: sa.Engine, client: Any, day: date, *, run_id: str | None, recorder: CallRecorder
) -> DayResult:
    """Box scores of the day's started games, per the stored schedule (phase 1 of NBA.com
    depends on its own schedule scrape, not on the upstream again)."""
    with engine.connect() as conn:
        schedule = latest_payloads(conn, NBAC_SCHEDULE, day)
    if schedule is None:
        raise PipelineError(
            ErrorCategory.VALIDATION,
            f"no stored NBA.com schedule for {day}: materialize nbac_schedule_raw first",
            details={"target_date": day.isoformat(), "missing": NBAC_SCHEDULE},
            recovery="Run the raw scrape first: materialize nbac_schedule_raw for this day (or ingest_job).",
        )
    started = [g for g in parse.parse_nbac_schedule(schedule[0].json(), day) if g.status in ("live", "final")]
    with scrape_attempt(engine, NBAC_BOX_SCORES, "nbac", day, run_id=run_id, recorder=recorder) as attempt:
        attempt.records_expected = sum(1 for g in started if g.status == "final")
        unavailable = []
        for game in started:
            page = client.box_score(game.source_game_id)
            if page is None:
                if game.status == "final":
                    unavailable.append(game.source_game_id)
                continue
            attempt.add_page(page)
        attempt.records_received = len(attempt.pages)
        if unavailable:
            attempt.status = "partial"
            attempt.note = f"{len(unavailable)} final game(s) without a published box score"
            attempt.details["unavailable_game_ids"] = unavailable
    return DayResult(day, attempt.records_received, {"unavailable": unavailable})


# -- phase 2 ---------------------------------------------------------------------------------


def process_games(engine: sa.Engine, day: date, *, run_id: str | None) -> DayResult:
    with engine.connect() as conn:
        bdl_pages = latest_payloads(conn, BDL_GAMES, day)
        nbac_pages = latest_payloads(conn, NBAC_SCHEDULE, day)
    if bdl_pages is None and nbac_pages is None:
        raise PipelineError(
            ErrorCategory.VALIDATION,
            f"no stored scrape of either source for {day}; nothing to process",
            details={"target_date": day.isoformat()},
            recovery="Run the raw scrape first: materialize bdl_games_raw and nbac_schedule_raw for this day (or ingest_job).",
        )
    bdl_games = parse.parse_bdl_games([p.json() for p in bdl_pages]) if bdl_pages else []
    nbac_games = parse.parse_nbac_schedule(nbac_pages[0].json(), day) if nbac_pages else []
    report = merge_games(bdl_games, nbac_games, run_id=run_id)
    with processor_run(engine, "games", day, run_id) as (conn, run):
        moved = _release_ids_of_moved_games(conn, day, report.rows)
        run.add(replace_partition(conn, games, where=games.c.game_date == day, rows=report.rows))
        run.details.update(
            {
                "only_in_bdl": report.only_in_bdl,
                "only_in_nbac": report.only_in_nbac,
                "moved_from_other_dates": moved,
                "sources": {"bdl": bdl_pages is not None, "nbac": nbac_pages is not None},
            }
        )
    return DayResult(
        day,
        run.records_processed,
        {
            "only_in_bdl": report.only_in_bdl,
            "only_in_nbac": report.only_in_nbac,
            "disagreements": len(report.disagreements),
            "moved": moved,
        },
    )


def _release_ids_of_moved_games(conn: sa.Connection, day: date, rows: list[dict[str, Any]]) -> list[str]:
    """A rescheduled game keeps its source ids but lands on another game day: the latest
    scrape wins, so the row under its old date gives the ids up (they are unique)."""
    nbac_ids = [r["nbac_game_id"] for r in rows if r["nbac_game_id"]]
    bdl_ids = [r["bdl_game_id"] for r in rows if r["bdl_game_id"] is not None]
    if not nbac_ids and not bdl_ids:
        return []
    moved = (
        conn.execute(
            games.delete()
            .where(
                games.c.game_date != day,
                sa.or_(games.c.nbac_game_id.in_(nbac_ids), games.c.bdl_game_id.in_(bdl_ids)),
            )
            .returning(games.c.game_key)
        )
        .scalars()
        .all()
    )
    return sorted(moved)


def process_player_box_scores(engine: sa.Engine, day: date, *, run_id: str | None) -> DayResult:
    with engine.connect() as conn:
        bdl_pages = latest_payloads(conn, BDL_BOX_SCORES, day)
        nbac_pages = latest_payloads(conn, NBAC_BOX_SCORES, day)
        known_games = set(conn.execute(sa.select(games.c.game_key).where(games.c.game_date == day)).scalars())
    lines = []
    if bdl_pages:
        lines.extend(parse.parse_bdl_box_scores(bdl_pages[0].json()))
    for page in nbac_pages or []:
        lines.extend(parse.parse_nbac_box_score(page.json(), day))
    unknown = sorted({line.game_key for line in lines} - known_games)
    rows = [
        {
            "game_key": line.game_key,
            "source": line.source,
            "player_id": line.player_id,
            "game_date": line.game_date,
            "team": line.team,
            "player_name": line.player_name,
            "minutes": line.minutes,
            "points": line.points,
            "rebounds": line.rebounds,
            "assists": line.assists,
            "run_id": run_id,
        }
        for line in _dedupe_lines(lines)
    ]
    with processor_run(engine, "player_box_scores", day, run_id) as (conn, run):
        run.add(
            replace_partition(conn, player_box_scores, where=player_box_scores.c.game_date == day, rows=rows)
        )
        run.details["box_scores_for_unknown_games"] = unknown
    return DayResult(day, run.records_processed, {"unknown_games": unknown})


def _dedupe_lines(lines: list[Any]) -> list[Any]:
    seen: dict[tuple[str, str, str], Any] = {}
    for line in lines:
        seen.setdefault((line.game_key, line.source, line.player_id), line)
    return list(seen.values())


def current_season(now: datetime) -> int:
    """The season in progress (or next up) at ``now``, by the US-Eastern calendar."""
    return parse.season_for_date(parse.eastern_game_day(now))
