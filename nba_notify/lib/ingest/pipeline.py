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
from nba_notify.lib.ingest import claims, parse
from nba_notify.lib.scrapes import StoredPayload, latest_payloads, latest_payloads_between, scrape_attempt

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
        attempt.records_received = len({(line.home_team, line.away_team) for line in lines})
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
        schedule = latest_season_schedule(conn, parse.season_for_date(day))
    if schedule is None:
        raise PipelineError(
            ErrorCategory.VALIDATION,
            f"no stored NBA.com schedule for {day}: run the raw scrape nbac_schedule_raw for this day first",
            details={"target_date": day.isoformat(), "missing": NBAC_SCHEDULE},
            recovery="Run the raw scrape first: materialize nbac_schedule_raw for this day (or ingest_job).",
        )
    started = [g for g in parse.parse_nbac_schedule(schedule.json(), day) if g.status in ("live", "final")]
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

# Serialises phase-2 game processing (a live-scoreboard run and a schedule refresh may process
# the same day at once): identities are proven and claims moved under this transaction lock.
_GAMES_LOCK_KEY = 0x6E62615F67616D65  # "nba_game"


def season_days(season: int) -> tuple[date, date]:
    """The calendar days whose games belong to ``season`` (see :func:`parse.season_for_date`)."""
    return date(season, 10, 1), date(season + 1, 9, 30)


def latest_season_schedule(conn: sa.Connection, season: int) -> StoredPayload | None:
    """The newest stored NBA.com league schedule of a season (a whole-season document: its
    newest fetch is the league's newest word on every game, whichever day asked for it)."""
    pages = latest_payloads_between(conn, NBAC_SCHEDULE, *season_days(season))
    return pages[0] if pages else None


def process_games(engine: sa.Engine, day: date, *, run_id: str | None) -> DayResult:
    """Phase 2 for one game day: record what each source now says (claims), prove BDL ids
    to league games, and rebuild the ``games`` row of every game touched — those on the day,
    those that left it (moved: the row follows the game to its new day; gone from every feed:
    ``listed = false``), and those whose BDL claim changed. Nothing is deleted."""
    with engine.connect() as conn:
        bdl_pages = latest_payloads(conn, BDL_GAMES, day)
        schedule = latest_season_schedule(conn, parse.season_for_date(day))
    if bdl_pages is None and schedule is None:
        raise PipelineError(
            ErrorCategory.VALIDATION,
            f"no stored scrape of either source for {day}: run the raw scrapes (bdl_games_raw, "
            "nbac_schedule_raw) for this day first",
            details={"target_date": day.isoformat(), "missing": [BDL_GAMES, NBAC_SCHEDULE]},
            recovery="Run the raw scrape first: materialize bdl_games_raw and nbac_schedule_raw for this day "
            "(or ingest_job).",
        )
    season_file = schedule.json() if schedule is not None else None
    bdl_listing = parse.parse_bdl_games([p.json() for p in bdl_pages]) if bdl_pages is not None else None
    with processor_run(engine, "games", day, run_id) as (conn, run):
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_GAMES_LOCK_KEY)))
        outcome = claims.refresh_day(conn, day, season_file, bdl_listing, run_id=run_id)
        run.add(outcome.games_written)
        on_day = conn.execute(
            sa.select(sa.func.count()).select_from(games).where(games.c.game_date == day)
        ).scalar_one()
        run.details.update(
            {
                **outcome.details(),
                "games_on_day": on_day,
                "source_claims_written": outcome.claims_written.inserted,
                "sources": {"bdl": bdl_pages is not None, "nbac": schedule is not None},
            }
        )
    return DayResult(day, on_day, {**outcome.details(), "written": run.records_processed})


def process_player_box_scores(engine: sa.Engine, day: date, *, run_id: str | None) -> DayResult:
    with engine.connect() as conn:
        bdl_pages = latest_payloads(conn, BDL_BOX_SCORES, day)
        nbac_pages = latest_payloads(conn, NBAC_BOX_SCORES, day)
        lines = []
        if bdl_pages:
            lines.extend(parse.parse_bdl_box_scores(bdl_pages[0].json()))
        for page in nbac_pages or []:
            lines.extend(parse.parse_nbac_box_score(page.json(), day))
        resolved = claims.resolve_box_score_games(conn, lines)
    unknown = sorted({label for line, game_id, label in resolved if game_id is None})
    rows = [
        {
            "game_id": game_id,
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
        for line, game_id in _dedupe_lines([(line, game_id) for line, game_id, _ in resolved if game_id])
    ]
    with processor_run(engine, "player_box_scores", day, run_id) as (conn, run):
        run.add(
            replace_partition(conn, player_box_scores, where=player_box_scores.c.game_date == day, rows=rows)
        )
        run.details["box_scores_for_unknown_games"] = unknown
    return DayResult(day, run.records_processed, {"unknown_games": unknown})


def _dedupe_lines(lines: list[tuple[Any, str]]) -> list[tuple[Any, str]]:
    seen: dict[tuple[str, str, str], tuple[Any, str]] = {}
    for line, game_id in lines:
        seen.setdefault((game_id, line.source, line.player_id), (line, game_id))
    return list(seen.values())


def current_season(now: datetime) -> int:
    """The season in progress (or next up) at ``now``, by the US-Eastern calendar."""
    return parse.season_for_date(parse.eastern_game_day(now))
