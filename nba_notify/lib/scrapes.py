"""Phase 1 bookkeeping: every scrape attempt becomes a ``scrape_events`` row (seed 003's
schema) and every response body is kept (content-addressed), so any date can be re-processed
from what was fetched without calling the upstream again.

Usage in an asset::

    with scrape_attempt(engine, "bdl_games", day, run_id=..., recorder=recorder) as attempt:
        for page in client.games_pages(day):
            attempt.add_page(page)
        attempt.records_received = len(games)

Success stores the pages and the event in one transaction. Any exception instead records a
``failed`` event carrying the classified error (category, severity, recovery, HTTP status)
and re-raises it classified: a failure is never silent and never half-written.

Bookkeeping timestamps (``started_at``, ``completed_at``) are wall-clock: they say when the
attempt really happened and order attempts unambiguously ("latest scrape wins"). Business time
— when a retry is due, when a push must go — comes from the injected clock, which in tests and
the demo is the simulator's and may be frozen.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from nba_notify.lib.clients.http import CallRecorder
from nba_notify.lib.db.tables.ingest import raw_blobs, raw_payloads, scrape_events
from nba_notify.lib.db.writes import jsonable
from nba_notify.lib.errors import PipelineError, classify_exception


@dataclass(frozen=True)
class FetchedPage:
    """What a client hands back for one HTTP response (duck-typed from the clients' Page)."""

    source: str
    endpoint: str
    params: dict[str, Any]
    page_number: int
    status: int
    elapsed_ms: float
    content: bytes


@dataclass
class ScrapeAttempt:
    scraper_name: str
    source: str
    target_date: date
    run_id: str | None
    correlation_id: str
    event_id: uuid.UUID = field(default_factory=uuid.uuid4)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    pages: list[FetchedPage] = field(default_factory=list)
    records_expected: int | None = None
    records_received: int = 0
    status: str = "success"
    note: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def add_page(self, page: Any) -> None:
        response = page.response
        self.pages.append(
            FetchedPage(
                source=self.source,
                endpoint=page.endpoint,
                params=dict(page.params or {}),
                page_number=page.page_number,
                status=response.status,
                elapsed_ms=response.elapsed_ms,
                content=response.content,
            )
        )

    @property
    def records_missing(self) -> int | None:
        if self.records_expected is None:
            return None
        return max(0, self.records_expected - self.records_received)


@contextmanager
def scrape_attempt(
    engine: sa.Engine,
    scraper_name: str,
    source: str,
    target_date: date,
    *,
    run_id: str | None,
    recorder: CallRecorder,
    correlation_id: str | None = None,
) -> Iterator[ScrapeAttempt]:
    attempt = ScrapeAttempt(
        scraper_name=scraper_name,
        source=source,
        target_date=target_date,
        run_id=run_id,
        correlation_id=correlation_id or uuid.uuid4().hex[:16],
    )
    mark = recorder.mark()
    try:
        yield attempt
    except Exception as exc:
        error = classify_exception(exc)
        _record_failure(engine, attempt, error, recorder, mark)
        if error is exc:
            raise
        raise error from exc
    try:
        with engine.begin() as conn:
            _insert_event(conn, attempt, recorder, mark, error=None)
            for page in attempt.pages:
                store_page(conn, attempt, page)
    except Exception as exc:
        error = classify_exception(exc)
        _record_failure(engine, attempt, error, recorder, mark)
        raise error from exc


def store_page(conn: sa.Connection, attempt: ScrapeAttempt, page: FetchedPage) -> str:
    digest = hashlib.sha256(page.content).hexdigest()
    conn.execute(
        pg_insert(raw_blobs)
        .values(
            sha256=digest,
            body=page.content.decode("utf-8", errors="replace"),
            content_type="application/json",
            size_bytes=len(page.content),
        )
        .on_conflict_do_nothing(index_elements=["sha256"])
    )
    conn.execute(
        raw_payloads.insert().values(
            scrape_event_id=attempt.event_id,
            source=page.source,
            endpoint=page.endpoint,
            params=jsonable(page.params),
            target_date=attempt.target_date,
            page=page.page_number,
            http_status=page.status,
            response_ms=round(page.elapsed_ms),
            sha256=digest,
        )
    )
    return digest


def _insert_event(
    conn: sa.Connection,
    attempt: ScrapeAttempt,
    recorder: CallRecorder,
    mark: int,
    error: PipelineError | None,
) -> None:
    calls = recorder.calls[mark:]
    summary = recorder.summary(since=mark)
    last_status = next((c.status for c in reversed(calls) if c.status is not None), None)
    completed = datetime.now(UTC)
    status = "failed" if error else attempt.status
    conn.execute(
        scrape_events.insert().values(
            event_id=attempt.event_id,
            scraper_name=attempt.scraper_name,
            target_date=attempt.target_date,
            started_at=attempt.started_at,
            completed_at=completed,
            duration_seconds=(completed - attempt.started_at).total_seconds(),
            status=status,
            records_expected=attempt.records_expected,
            records_received=attempt.records_received,
            records_missing=attempt.records_missing if not error else None,
            error_type=error.scrape_error_type
            if error
            else ("api_incomplete" if status == "partial" else None),
            error_category=str(error.category) if error else None,
            error_severity=str(error.severity) if error else None,
            error_message=str(error) if error else attempt.note,
            error_details=jsonable({**attempt.details, **({"error": error.as_dict()} if error else {})})
            if (error or attempt.details)
            else None,
            api_response_code=(error.status_code if error and error.status_code else last_status),
            api_response_time_ms=round(sum(c.elapsed_ms for c in calls)),
            api_calls=int(summary["api_calls"]),
            retries=int(summary["api_retries"]),
            pages_fetched=len(attempt.pages),
            correlation_id=attempt.correlation_id,
            run_id=attempt.run_id,
        )
    )


def _record_failure(
    engine: sa.Engine,
    attempt: ScrapeAttempt,
    error: PipelineError,
    recorder: CallRecorder,
    mark: int,
) -> None:
    try:
        with engine.begin() as conn:
            _insert_event(conn, attempt, recorder, mark, error=error)
    except Exception as log_exc:  # the original error still propagates; say why logging failed
        error.details["scrape_event_not_recorded"] = f"{type(log_exc).__name__}: {log_exc}"


@dataclass(frozen=True)
class StoredPayload:
    event_id: uuid.UUID
    endpoint: str
    params: dict[str, Any]
    page: int
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


def latest_payloads(conn: sa.Connection, scraper_name: str, target_date: date) -> list[StoredPayload] | None:
    """Pages of the most recent successful (or partial) scrape of a date, or ``None`` if that
    date was never scraped successfully — re-processing reads these, never the upstream."""
    return latest_payloads_between(conn, scraper_name, target_date, target_date)


def latest_payloads_between(
    conn: sa.Connection, scraper_name: str, first: date, last: date
) -> list[StoredPayload] | None:
    """Pages of the most recent successful (or partial) scrape of any date in ``first..last``.

    For a whole-season document (NBA.com's league schedule) the newest fetch is the league's
    newest word on every game of the season, whichever game day asked for it."""
    event_id = conn.execute(
        sa.select(scrape_events.c.event_id)
        .where(
            scrape_events.c.scraper_name == scraper_name,
            scrape_events.c.target_date.between(first, last),
            scrape_events.c.status.in_(("success", "partial")),
            scrape_events.c.pages_fetched.is_not(None),
        )
        .order_by(scrape_events.c.started_at.desc())
        .limit(1)
    ).scalar()
    if event_id is None:
        return None
    rows = conn.execute(
        sa.select(raw_payloads.c.endpoint, raw_payloads.c.params, raw_payloads.c.page, raw_blobs.c.body)
        .join(raw_blobs, raw_blobs.c.sha256 == raw_payloads.c.sha256)
        .where(raw_payloads.c.scrape_event_id == event_id)
        .order_by(raw_payloads.c.page)
    ).all()
    return [StoredPayload(event_id, r.endpoint, r.params, r.page, r.body) for r in rows]
