"""Constructed histories for the zero-record audit: scrape attempts (with stored raw
payloads), processor runs and phase-2 rows written straight into PostgreSQL, one game day
per category."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.dialects.postgresql import insert as pg_insert

from nba_notify.lib.db.tables.ingest import (
    games,
    player_box_scores,
    processor_run_history,
    raw_blobs,
    raw_payloads,
    scrape_events,
)

T0 = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)  # 06:00 in New York


def scrape(
    conn, scraper: str, day: date, at: datetime, *, status="success", records=0, expected=None
) -> uuid.UUID:
    event_id = uuid.uuid4()
    conn.execute(
        scrape_events.insert().values(
            event_id=event_id,
            scraper_name=scraper,
            target_date=day,
            started_at=at,
            completed_at=at,
            status=status,
            records_expected=expected,
            records_received=records,
            error_type=None if status == "success" else "api_error",
            pages_fetched=1 if status != "failed" else 0,
        )
    )
    if status != "failed":
        body = f'{{"{scraper}": "{day}", "records": {records}}}'
        digest = hashlib.sha256(body.encode()).hexdigest()
        conn.execute(
            pg_insert(raw_blobs)
            .values(sha256=digest, body=body, size_bytes=len(body))
            .on_conflict_do_nothing()
        )
        conn.execute(
            raw_payloads.insert().values(
                scrape_event_id=event_id,
                source=scraper.split("_")[0],
                endpoint="/x",
                params={},
                target_date=day,
                page=1,
                http_status=200,
                response_ms=5,
                sha256=digest,
            )
        )
    return event_id


def processed(
    conn, processor: str, day: date, at: datetime, *, records=0, status="success", run_id=None
) -> str:
    run_id = run_id or uuid.uuid4().hex
    conn.execute(
        processor_run_history.insert().values(
            processor_name=processor,
            data_date=day,
            run_id=run_id,
            status=status,
            records_processed=records,
            started_at=at,
            finished_at=at,
            duration_seconds=0.1,
        )
    )
    return run_id


def game_rows(conn, day: date, n: int, run_id: str) -> list[str]:
    keys = [f"G{day:%Y%m%d}{i:02d}" for i in range(n)]  # game ids, one per game of the day
    conn.execute(
        games.insert(),
        [
            dict(
                game_id=k,
                game_date=day,
                home_team=f"H{i}",
                away_team=f"A{i}",
                status="final",
                in_bdl=True,
                in_nbac=True,
                run_id=run_id,
            )
            for i, k in enumerate(keys)
        ],
    )
    return keys


def box_rows(conn, day: date, keys: list[str], run_id: str) -> None:
    conn.execute(
        player_box_scores.insert(),
        [
            dict(
                game_id=k,
                source="nbac",
                player_id=str(p),
                game_date=day,
                team="H0",
                player_name=f"P{p}",
                minutes=30,
                points=10,
                run_id=run_id,
            )
            for k in keys
            for p in range(3)
        ],
    )


D_FALSE_POSITIVE = date(2026, 11, 10)
D_OTHER_RUN = date(2026, 11, 11)
D_OFF_DAY = date(2026, 11, 12)
D_PROCESSOR_FAILED = date(2026, 11, 13)
D_SCRAPER_FAILED = date(2026, 11, 14)
D_SCRAPED_SINCE = date(2026, 11, 15)
D_FUTURE = date(2026, 11, 30)
D_ALL_STAR = date(2026, 2, 15)
D_OFF_SEASON = date(2026, 7, 15)


def write_history(db):
    with db.begin() as conn:
        # the tracking bug: the run wrote rows and reported zero
        run = processed(conn, "player_box_scores", D_FALSE_POSITIVE, T0)
        box_rows(conn, D_FALSE_POSITIVE, game_rows(conn, D_FALSE_POSITIVE, 2, "g"), run)
        # an early run before the games were played, the evening run wrote the rows
        processed(conn, "player_box_scores", D_OTHER_RUN, T0)
        late = processed(conn, "player_box_scores", D_OTHER_RUN, T0 + timedelta(hours=14), records=6)
        box_rows(conn, D_OTHER_RUN, game_rows(conn, D_OTHER_RUN, 2, "g"), late)
        # no games that day: the stored schedule lists none
        scrape(conn, "nbac_schedule", D_OFF_DAY, T0, records=0)
        processed(conn, "games", D_OFF_DAY, T0 + timedelta(minutes=1))
        scrape(conn, "nbac_schedule", D_ALL_STAR, T0, records=0)
        processed(conn, "games", D_ALL_STAR, T0 + timedelta(minutes=1))
        processed(conn, "player_box_scores", D_OFF_SEASON, T0)
        # the schedule (5 games) was stored, the games processor failed on it
        scrape(conn, "nbac_schedule", D_PROCESSOR_FAILED, T0, records=5)
        processed(conn, "games", D_PROCESSOR_FAILED, T0 + timedelta(minutes=1), status="failed")
        # both box score scrapes failed, 4 finals expected
        scrape(conn, "nbac_box_scores", D_SCRAPER_FAILED, T0, status="failed", expected=4)
        scrape(conn, "bdl_box_scores", D_SCRAPER_FAILED, T0, status="failed")
        processed(conn, "player_box_scores", D_SCRAPER_FAILED, T0 + timedelta(minutes=1))
        # box scores failed then, a later scrape stored them but was never processed
        scrape(conn, "nbac_box_scores", D_SCRAPED_SINCE, T0, status="failed", expected=3)
        processed(conn, "player_box_scores", D_SCRAPED_SINCE, T0 + timedelta(minutes=1))
        scrape(conn, "nbac_box_scores", D_SCRAPED_SINCE, T0 + timedelta(hours=5), records=3, expected=3)
        # a run for a day that had not happened yet
        processed(conn, "player_box_scores", D_FUTURE, T0)
    return db
