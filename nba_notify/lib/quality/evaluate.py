"""Evaluate one game day right after ingest: compare the sources, record what is missing,
queue it for retry, and decide the retry items of that day (recovered / still failing /
exhausted).

Everything for a day is written in one transaction through the shared write path
(``processor_run``), so the discrepancy rows, the ``partial`` scrape events, the queue
changes and their alerts are all there or none is.

Clocks: queue times (``created_at``, ``next_retry_at``, ``recovered_at``) come from the
injected ``now`` (the simulator's clock in tests and the demo, so backoff is testable by
advancing it). ``scrape_events`` times stay on the wall clock like every other scrape event,
so ``recovered_at - started_at`` on an event compares like with like.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from nba_notify.lib.db.tables.ingest import games, scrape_events, source_games
from nba_notify.lib.db.tables.quality import source_discrepancies
from nba_notify.lib.db.writes import jsonable, processor_run, replace_partition
from nba_notify.lib.errors import ErrorCategory, Severity
from nba_notify.lib.ingest import parse
from nba_notify.lib.ingest.claims import resolve_box_score_games, unproven_subject
from nba_notify.lib.quality import queue as q
from nba_notify.lib.quality.discrepancies import (
    BDL_BOX_SCORES,
    BOX_SCORE_KINDS,
    BOX_SCORE_SCRAPERS,
    LISTING_KINDS,
    LISTING_SCRAPERS,
    MISSING_KINDS,
    NBAC_BOX_SCORES,
    BoxScoreDeadline,
    Discrepancy,
    GameRow,
    Shortfall,
    compare_box_scores,
    compare_listings,
    shortfalls,
)
from nba_notify.lib.quality.retry import BackoffSchedule
from nba_notify.lib.scrapes import latest_payloads

# Processor names in processor_run_history, one per evaluation (and Dagster asset).
LISTING_PROCESSOR = "source_discrepancies"
BOX_SCORE_PROCESSOR = "box_score_coverage"
API_INCOMPLETE = "api_incomplete"


@dataclass
class DayEvaluation:
    day: date
    discrepancies: list[Discrepancy]
    shortfalls: dict[str, Shortfall]
    detection_event_ids: dict[str, uuid.UUID] = field(default_factory=dict)
    queued: list[q.RetryItem] = field(default_factory=list)
    verdicts: list[q.VerdictOutcome] = field(default_factory=list)

    @property
    def missing_game_ids(self) -> list[str]:
        """Games one source does not list at all (not box scores, not disagreements)."""
        return sorted({d.game_id for d in self.discrepancies if d.kind in MISSING_KINDS})


# -- reading ---------------------------------------------------------------------------------


def load_games(conn: sa.Connection, day: date) -> list[GameRow]:
    """The league games on the day, plus every BDL game of the day that no league game could
    be proven to be (named ``bdl:<id>``: listed by BDL only)."""
    g = games.c
    rows = conn.execute(
        sa.select(
            g.game_id,
            g.status,
            g.in_bdl,
            g.in_nbac,
            g.source_disagreements,
            g.tipoff_utc,
            g.home_team,
            g.away_team,
        ).where(g.game_date == day)
    ).all()
    found = [
        GameRow(
            r.game_id,
            r.status,
            r.in_bdl,
            r.in_nbac,
            r.source_disagreements,
            r.tipoff_utc,
            parse.matchup(r.away_team, r.home_team),
        )
        for r in rows
    ]
    s = source_games.c
    unproven = conn.execute(
        sa.select(s.source_game_id, s.status, s.tipoff_utc, s.home_team, s.away_team).where(
            s.source == "bdl", s.game_date == day, s.listed, s.game_id.is_(None)
        )
    ).all()
    found += [
        GameRow(
            unproven_subject(r.source_game_id),
            r.status,
            True,
            False,
            None,
            r.tipoff_utc,
            parse.matchup(r.away_team, r.home_team),
        )
        for r in unproven
    ]
    return found


def load_box_players(conn: sa.Connection, day: date) -> dict[str, dict[str, int]]:
    """``{source: {game_id: players who played}}`` from each source's latest stored box
    scores, parsed and matched to games exactly as phase 2 does (same game identity)."""
    lines = []
    bdl_pages = latest_payloads(conn, BDL_BOX_SCORES, day)
    if bdl_pages:
        lines.extend(parse.parse_bdl_box_scores(bdl_pages[0].json()))
    for page in latest_payloads(conn, NBAC_BOX_SCORES, day) or []:
        lines.extend(parse.parse_nbac_box_score(page.json(), day))
    players: dict[str, dict[str, set[str]]] = {"bdl": defaultdict(set), "nbac": defaultdict(set)}
    for line, game_id, label in resolve_box_score_games(conn, lines):
        players[line.source][game_id or label].add(line.player_id)
    return {source: {key: len(ids) for key, ids in by_game.items()} for source, by_game in players.items()}


# -- evaluating ------------------------------------------------------------------------------

Comparison = Callable[[sa.Connection, list[GameRow]], tuple[list[Discrepancy], dict[str, dict[str, int]]]]


def evaluate_listings(
    engine: sa.Engine,
    day: date,
    *,
    now: datetime,
    schedule: BackoffSchedule,
    run_id: str | None = None,
    retry_item_id: int | None = None,
) -> tuple[DayEvaluation, int]:
    """The listings of one game day: games a source lacks, status/score/tip-off disagreements.
    Reads only ``games`` (and the unproven BDL claims), so it runs whatever a box-score feed
    does. Records, queues and decides the retry items of the listing scrapers."""
    return _evaluate(
        engine,
        day,
        processor=LISTING_PROCESSOR,
        kinds=LISTING_KINDS,
        scrapers=LISTING_SCRAPERS,
        compare=lambda conn, game_rows: (compare_listings(game_rows), {}),
        now=now,
        schedule=schedule,
        run_id=run_id,
        retry_item_id=retry_item_id,
    )


def evaluate_box_scores(
    engine: sa.Engine,
    day: date,
    *,
    now: datetime,
    schedule: BackoffSchedule,
    deadline: BoxScoreDeadline,
    run_id: str | None = None,
    retry_item_id: int | None = None,
) -> tuple[DayEvaluation, int]:
    """Box-score coverage of one game day's final games, per source, each gap with its
    deadline. Records, queues and decides the retry items of the box-score scrapers."""

    def compare(
        conn: sa.Connection, game_rows: list[GameRow]
    ) -> tuple[list[Discrepancy], dict[str, dict[str, int]]]:
        box = load_box_players(conn, day)
        return compare_box_scores(day, game_rows, box, deadline), box

    return _evaluate(
        engine,
        day,
        processor=BOX_SCORE_PROCESSOR,
        kinds=BOX_SCORE_KINDS,
        scrapers=BOX_SCORE_SCRAPERS,
        compare=compare,
        now=now,
        schedule=schedule,
        run_id=run_id,
        retry_item_id=retry_item_id,
    )


def _evaluate(
    engine: sa.Engine,
    day: date,
    *,
    processor: str,
    kinds: tuple[str, ...],
    scrapers: tuple[str, ...],
    compare: Comparison,
    now: datetime,
    schedule: BackoffSchedule,
    run_id: str | None,
    retry_item_id: int | None,
) -> tuple[DayEvaluation, int]:
    """Compare, record, queue and decide for one game day and one family of discrepancies
    (``kinds``, blamed on ``scrapers``); the other family's rows and items are left alone.
    Returns the evaluation and the number of discrepancy rows written. ``retry_item_id``: the
    queue item whose retry run this is (its verdict counts as an attempt)."""
    with processor_run(engine, processor, day, run_id) as (conn, run):
        game_rows = load_games(conn, day)
        found, box = compare(conn, game_rows)
        evaluation = DayEvaluation(day, found, shortfalls(game_rows, box, found))
        table = source_discrepancies
        run.add(
            replace_partition(
                conn,
                table,
                where=sa.and_(table.c.game_date == day, table.c.kind.in_(kinds)),
                rows=[
                    {
                        "game_date": day,
                        "game_id": d.game_id,
                        "kind": d.kind,
                        "scraper_name": d.scraper_name,
                        "details": jsonable(d.details),
                        "run_id": run_id,
                        "detected_at": now,
                    }
                    for d in found
                ],
            )
        )
        open_by_scraper = {
            item.scraper_name: item for item in q.open_items(conn, day) if item.scraper_name in scrapers
        }
        for scraper, shortfall in evaluation.shortfalls.items():
            item = open_by_scraper.get(scraper)
            evaluation.detection_event_ids[scraper] = record_detection(
                conn, day, shortfall, run_id=run_id, correlation_id=item.correlation_id if item else None
            )
        latest = {scraper: q.latest_real_event(conn, scraper, day) for scraper in scrapers}
        _decide_open_items(conn, evaluation, open_by_scraper, latest, now, schedule, retry_item_id)
        _queue_new_failures(conn, evaluation, scrapers, latest, now, schedule)
        run.details.update(
            {
                "discrepancies": len(found),
                "missing_game_ids": evaluation.missing_game_ids,
                "queued": [i.id for i in evaluation.queued],
                "verdicts": {str(v.item.id): v.transition.status for v in evaluation.verdicts},
            }
        )
    return evaluation, run.records_processed


def _is_complete(scraper: str, evaluation: DayEvaluation, latest: q.EventRef | None) -> bool:
    return latest is not None and latest.status == "success" and scraper not in evaluation.shortfalls


def _observed(scraper: str, evaluation: DayEvaluation, latest: q.EventRef | None) -> dict[str, Any]:
    shortfall = evaluation.shortfalls.get(scraper)
    observed: dict[str, Any] = {"outcome": latest.status if latest else "not_scraped"}
    if shortfall is not None:
        observed.update(
            outcome="partial",
            records_expected=shortfall.records_expected,
            records_received=shortfall.records_received,
            missing=list(shortfall.game_ids),
        )
    elif latest is not None:
        observed.update(records_expected=latest.records_expected, records_received=latest.records_received)
        if latest.status == "failed":
            observed.update(error_type=latest.error_type, error=latest.error_message)
    return observed


def _decide_open_items(
    conn: sa.Connection,
    evaluation: DayEvaluation,
    open_by_scraper: dict[str, q.RetryItem],
    latest: dict[str, q.EventRef | None],
    now: datetime,
    schedule: BackoffSchedule,
    retry_item_id: int | None,
) -> None:
    for scraper, item in sorted(open_by_scraper.items()):
        event = latest.get(scraper)
        complete = _is_complete(scraper, evaluation, event)
        outcome = q.apply_verdict(
            conn,
            item,
            complete=complete,
            is_attempt=retry_item_id == item.id,
            now=now,
            schedule=schedule,
            recovery_event_id=event.event_id if complete and event else None,
            recovery_completed_at=event.completed_at if complete and event else None,
            observed=_observed(scraper, evaluation, event),
        )
        if outcome is not None:
            evaluation.verdicts.append(outcome)


def _queue_new_failures(
    conn: sa.Connection,
    evaluation: DayEvaluation,
    scrapers: tuple[str, ...],
    latest: dict[str, q.EventRef | None],
    now: datetime,
    schedule: BackoffSchedule,
) -> None:
    still_open = {i.scraper_name for i in q.open_items(conn, evaluation.day)}
    for scraper in scrapers:
        if scraper in still_open:
            continue
        shortfall = evaluation.shortfalls.get(scraper)
        event = latest.get(scraper)
        if shortfall is not None:
            item, created = q.enqueue(
                conn,
                scraper_name=scraper,
                target_date=evaluation.day,
                reason=API_INCOMPLETE,
                original_error=shortfall.message,
                original_event_id=evaluation.detection_event_ids[scraper],
                correlation_id=_correlation_of(conn, evaluation.detection_event_ids[scraper]),
                now=now,
                schedule=schedule,
                details=_observed(scraper, evaluation, event),
            )
        elif event is not None and event.status in ("failed", "partial"):
            item, created = q.enqueue_event(conn, event, now=now, schedule=schedule)
        else:
            continue
        if created:
            evaluation.queued.append(item)


def _correlation_of(conn: sa.Connection, event_id: uuid.UUID) -> str | None:
    return conn.execute(
        sa.select(scrape_events.c.correlation_id).where(scrape_events.c.event_id == event_id)
    ).scalar()


def record_detection(
    conn: sa.Connection,
    day: date,
    shortfall: Shortfall,
    *,
    run_id: str | None,
    correlation_id: str | None,
) -> uuid.UUID:
    """Seed 003's ``log_scrape_event(status='partial', error_type='api_incomplete', ...)``:
    the scraper's data for the day is incomplete, as measured against the other source."""
    event_id = uuid.uuid4()
    stamp = datetime.now(UTC)
    conn.execute(
        scrape_events.insert().values(
            event_id=event_id,
            scraper_name=shortfall.scraper_name,
            target_date=day,
            started_at=stamp,
            completed_at=stamp,
            duration_seconds=0.0,
            status="partial",
            records_expected=shortfall.records_expected,
            records_received=shortfall.records_received,
            records_missing=shortfall.records_missing,
            error_type=API_INCOMPLETE,
            error_category=str(ErrorCategory.API),
            error_severity=str(Severity.MEDIUM),
            error_message=shortfall.message,
            error_details=jsonable(
                {
                    "detected_by": q.DETECTED_BY,
                    "game_ids": list(shortfall.game_ids),
                    "kinds": list(shortfall.kinds),
                }
            ),
            correlation_id=correlation_id or uuid.uuid4().hex[:16],
            run_id=run_id,
        )
    )
    return event_id
