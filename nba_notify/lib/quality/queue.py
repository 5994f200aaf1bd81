"""The retry queue in PostgreSQL: enqueue, claim with ``FOR UPDATE SKIP LOCKED``, apply
verdicts, link recoveries to the scrape event that recovered them.

Every function takes a Connection and writes inside the caller's transaction, so a state
change, its scrape-event links and its alert commit together or not at all.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, distinct_on
from sqlalchemy.dialects.postgresql import insert as pg_insert

from nba_notify.lib.alerts import raise_alert, resolve_matching
from nba_notify.lib.db.tables.ingest import scrape_events
from nba_notify.lib.db.tables.quality import scrape_retry_queue as queue
from nba_notify.lib.db.writes import jsonable
from nba_notify.lib.errors import Severity
from nba_notify.lib.quality.retry import (
    BOX_SCORE_UNAVAILABLE,
    EXHAUSTED,
    GIVEN_UP,
    PENDING,
    PERMANENT,
    RECOVERED,
    RETRYING,
    BackoffSchedule,
    Classification,
    Failure,
    Transition,
    classify,
    classify_unavailable_box_score,
    first_retry_at,
    on_verdict,
)

# Partial events written by the discrepancy detector carry this marker; every other event is
# a real scrape attempt (the only ones that count as failures to retry or as recoveries).
DETECTED_BY = "source_discrepancies"
RETRY_EXHAUSTED_RULE = "retry_exhausted"
RETRY_PERMANENT_RULE = "retry_permanent"
RECOVERED_RULE = "scrape_recovered"
GIVEN_UP_RULES = {EXHAUSTED: RETRY_EXHAUSTED_RULE, PERMANENT: RETRY_PERMANENT_RULE}
DAYS_NAMED_IN_ALERTS = 20


@dataclass(frozen=True)
class RetryItem:
    id: int
    scraper_name: str
    target_date: date
    reason: str
    original_error: str
    original_event_id: uuid.UUID | None
    attempts: int
    max_retries: int
    next_retry_at: datetime | None
    status: str
    correlation_id: str
    created_at: datetime
    recovered_at: datetime | None = None
    recovery_event_id: uuid.UUID | None = None
    run_key: str | None = None
    permanent_at: datetime | None = None
    root_cause: str = ""

    @property
    def dedupe_key(self) -> str:
        """One item per (source, day, kind): a scraper is one source's one kind of data."""
        return f"{self.scraper_name}:{self.target_date.isoformat()}"

    @property
    def source(self) -> str:
        return self.scraper_name.split("_", 1)[0]

    @property
    def kind(self) -> str:
        return self.scraper_name.split("_", 1)[-1]

    @classmethod
    def from_row(cls, row: Any) -> RetryItem:
        m = row._mapping
        return cls(**{name: m[name] for name in cls.__dataclass_fields__})


_ITEM_COLUMNS = [queue.c[name] for name in RetryItem.__dataclass_fields__]


def run_key_for(item_id: int, attempt: int, correlation_id: str) -> str:
    """The run key of one retry attempt: a sensor tick can never launch it twice. The item's
    correlation id keeps keys unique on a Dagster instance that outlives the queue's id
    sequence (a re-created database, a second deployment sharing the instance)."""
    return f"retry-{item_id}-{attempt}-{correlation_id}"


def real_scrape_events() -> sa.ColumnElement[bool]:
    """Scrape attempts (not the discrepancy detector's own partial events)."""
    return sa.func.coalesce(scrape_events.c.error_details["detected_by"].astext, "") != DETECTED_BY


# -- reading ---------------------------------------------------------------------------------


def open_items(conn: sa.Connection, target_date: date | None = None) -> list[RetryItem]:
    query = sa.select(*_ITEM_COLUMNS).where(queue.c.status != RECOVERED).order_by(queue.c.id)
    if target_date is not None:
        query = query.where(queue.c.target_date == target_date)
    return [RetryItem.from_row(r) for r in conn.execute(query)]


def items_in(conn: sa.Connection, status: str) -> list[RetryItem]:
    rows = conn.execute(sa.select(*_ITEM_COLUMNS).where(queue.c.status == status).order_by(queue.c.id))
    return [RetryItem.from_row(r) for r in rows]


# -- writing ---------------------------------------------------------------------------------


def enqueue(
    conn: sa.Connection,
    *,
    scraper_name: str,
    target_date: date,
    reason: str,
    original_error: str,
    original_event_id: uuid.UUID | None,
    now: datetime,
    schedule: BackoffSchedule,
    correlation_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> tuple[RetryItem, bool]:
    """Queue (scraper, date) unless an open item exists (then that one is returned and its
    ``details`` refreshed). Returns ``(item, created)``; racing callers create exactly one.

    The failure is classified first (:func:`retry.classify`, from the original scrape event):
    a permanent one is queued as ``permanent`` — never retried, visible, one alert for its
    root cause however many days share it."""
    failure = failure_of(conn, scraper_name, target_date, reason, original_event_id)
    verdict = classify(failure, now=now, schedule=schedule)
    inserted = conn.execute(
        pg_insert(queue)
        .values(
            scraper_name=scraper_name,
            target_date=target_date,
            reason=reason[:64],
            original_error=original_error,
            original_event_id=original_event_id,
            attempts=0,
            max_retries=schedule.max_retries,
            next_retry_at=None if verdict.permanent else first_retry_at(now, schedule),
            retry_history=[],
            status=PERMANENT if verdict.permanent else PENDING,
            permanent_at=now if verdict.permanent else None,
            root_cause=verdict.root_cause[:128],
            details=jsonable({**(details or {}), "classification": verdict.explanation}),
            created_at=now,
            updated_at=now,
            correlation_id=correlation_id or uuid.uuid4().hex[:16],
        )
        .on_conflict_do_nothing(
            index_elements=[queue.c.scraper_name, queue.c.target_date],
            # a literal predicate: PostgreSQL infers the partial unique index only from
            # constant text, not from a bound parameter (fails once the statement is prepared)
            index_where=sa.text("status <> 'recovered'"),
        )
        .returning(*_ITEM_COLUMNS)
    ).first()
    if inserted is not None:
        item = RetryItem.from_row(inserted)
        if item.status == PERMANENT:
            _alert_given_up(conn, item, now=now)
        return item, True
    existing = conn.execute(
        sa.update(queue)
        .where(
            queue.c.scraper_name == scraper_name,
            queue.c.target_date == target_date,
            queue.c.status != RECOVERED,
        )
        .values(
            # the latest observation, keeping how the item was classified
            details=sa.literal(jsonable(details or {}), type_=JSONB).op("||")(
                sa.func.jsonb_strip_nulls(
                    sa.func.jsonb_build_object("classification", queue.c.details["classification"])
                )
            ),
            updated_at=now,
        )
        .returning(*_ITEM_COLUMNS)
    ).one()
    item = RetryItem.from_row(existing)
    if item.status == PENDING and verdict.permanent:
        item = _make_permanent(conn, item, verdict, now=now) or item
    return item, False


def failure_of(
    conn: sa.Connection, scraper_name: str, target_date: date, reason: str, event_id: uuid.UUID | None
) -> Failure:
    """The facts :func:`retry.classify` needs, from the scrape event that queued the item."""
    row = None
    if event_id is not None:
        row = conn.execute(
            sa.select(
                scrape_events.c.error_type, scrape_events.c.api_response_code, scrape_events.c.error_details
            ).where(scrape_events.c.event_id == event_id)
        ).first()
    details = (row.error_details if row is not None else None) or {}
    return Failure(
        scraper_name=scraper_name,
        target_date=target_date,
        error_type=(row.error_type if row is not None else None) or reason,
        status_code=row.api_response_code if row is not None else None,
        kinds=tuple(details.get("kinds") or ()),
        unavailable_games=len(details.get("unavailable_game_ids") or ()),
    )


def _make_permanent(
    conn: sa.Connection, item: RetryItem, verdict: Classification, *, now: datetime
) -> RetryItem | None:
    entry = {
        "attempt": item.attempts,
        "attempted_at": now.isoformat(),
        "result": PERMANENT,
        "why": verdict.explanation,
    }
    updated = conn.execute(
        sa.update(queue)
        .where(queue.c.id == item.id, queue.c.status == PENDING)
        .values(
            status=PERMANENT,
            permanent_at=now,
            next_retry_at=None,
            root_cause=verdict.root_cause[:128],
            updated_at=now,
            details=sa.func.coalesce(queue.c.details, sa.literal({}, type_=JSONB)).op("||")(
                sa.literal({"classification": verdict.explanation}, type_=JSONB)
            ),
            retry_history=queue.c.retry_history.op("||")(
                sa.func.jsonb_build_array(sa.literal(jsonable(entry), type_=JSONB))
            ),
        )
        .returning(*_ITEM_COLUMNS)
    ).first()
    if updated is None:
        return None  # claimed or decided meanwhile
    changed = RetryItem.from_row(updated)
    _alert_given_up(conn, changed, now=now)
    return changed


def settle_aged(conn: sa.Connection, *, now: datetime, schedule: BackoffSchedule) -> list[RetryItem]:
    """Pending box-score items whose game day has aged past the limit become permanent
    instead of being retried again (the sensor calls this before claiming)."""
    candidates = conn.execute(
        sa.select(*_ITEM_COLUMNS)
        .where(queue.c.status == PENDING, queue.c.root_cause.like(f"%:{BOX_SCORE_UNAVAILABLE}"))
        .order_by(queue.c.id)
    ).all()
    settled = []
    for row in candidates:
        item = RetryItem.from_row(row)
        verdict = classify_unavailable_box_score(
            item.scraper_name, item.target_date, now=now, schedule=schedule
        )
        if verdict.permanent and (changed := _make_permanent(conn, item, verdict, now=now)) is not None:
            settled.append(changed)
    return settled


def claim_due(conn: sa.Connection, *, now: datetime, limit: int, worker: str) -> list[RetryItem]:
    """Claim up to ``limit`` pending items whose retry is due: pending -> retrying, attempts
    + 1. Rows another transaction is claiming are skipped (``FOR UPDATE SKIP LOCKED``), so
    concurrent workers never claim the same item and never wait for each other."""
    due = (
        sa.select(queue.c.id)
        .where(
            queue.c.status == PENDING,
            queue.c.next_retry_at <= now,
            queue.c.attempts < queue.c.max_retries,
        )
        .order_by(queue.c.next_retry_at, queue.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        # Locked and limited exactly once: as an IN (subquery) PostgreSQL may re-run the
        # SKIP LOCKED scan per outer row and return more than ``limit`` rows.
        .cte("due")
        .prefix_with("MATERIALIZED")
    )
    attempt = queue.c.attempts + 1
    rows = conn.execute(
        sa.update(queue)
        .where(queue.c.id == due.c.id, queue.c.status == PENDING)
        .values(
            status=RETRYING,
            attempts=attempt,
            last_attempt_at=now,
            claimed_by=worker,
            run_key=sa.func.concat(
                "retry-", queue.c.id, "-", attempt, "-", queue.c.correlation_id
            ),  # = run_key_for
            updated_at=now,
        )
        .returning(*_ITEM_COLUMNS)
    ).all()
    return sorted((RetryItem.from_row(r) for r in rows), key=lambda i: i.id)


@dataclass(frozen=True)
class VerdictOutcome:
    item: RetryItem
    transition: Transition


def apply_verdict(
    conn: sa.Connection,
    item: RetryItem,
    *,
    complete: bool,
    is_attempt: bool,
    now: datetime,
    schedule: BackoffSchedule,
    recovery_event_id: uuid.UUID | None = None,
    recovery_completed_at: datetime | None = None,
    observed: dict[str, Any] | None = None,
) -> VerdictOutcome | None:
    """Move ``item`` after its date was evaluated (see :func:`retry.on_verdict`), link a
    recovery to the scrape event that brought it, and raise the alert for a recovery or an
    exhaustion — all in the caller's transaction. ``None`` when nothing changed."""
    transition = on_verdict(
        status=item.status,
        attempts=item.attempts,
        max_retries=item.max_retries,
        complete=complete,
        is_attempt=is_attempt,
        now=now,
        schedule=schedule,
        observed=observed,
    )
    if transition is None:
        return None
    values: dict[str, Any] = {
        "status": transition.status,
        "updated_at": now,
        "retry_history": queue.c.retry_history.op("||")(
            sa.func.jsonb_build_array(sa.literal(jsonable(transition.history_entry), type_=JSONB))
        ),
    }
    if transition.status == PENDING:
        values["next_retry_at"] = transition.next_retry_at
    if transition.status == EXHAUSTED:
        values.update(exhausted_at=transition.exhausted_at, next_retry_at=None)
    if transition.status == RECOVERED:
        values.update(
            recovered_at=transition.recovered_at,
            recovery_event_id=recovery_event_id,
            next_retry_at=None,
        )
    updated = conn.execute(
        sa.update(queue)
        .where(queue.c.id == item.id, queue.c.status == item.status, queue.c.attempts == item.attempts)
        .values(**values)
        .returning(*_ITEM_COLUMNS)
    ).first()
    if updated is None:
        return None  # someone else moved it first (a concurrent evaluation); theirs stands
    changed = RetryItem.from_row(updated)
    if transition.status == RECOVERED:
        if recovery_event_id is not None:
            mark_events_recovered(
                conn,
                changed.scraper_name,
                changed.target_date,
                recovery_event_id=recovery_event_id,
                recovered_at=recovery_completed_at or now,
            )
        _alert_recovered(conn, changed, was=item.status, now=now)
    elif transition.status == EXHAUSTED:
        _alert_given_up(conn, changed, now=now, observed=observed or {})
    return VerdictOutcome(changed, transition)


def mark_events_recovered(
    conn: sa.Connection,
    scraper_name: str,
    target_date: date,
    *,
    recovery_event_id: uuid.UUID,
    recovered_at: datetime,
) -> int:
    """Link every unrecovered failed/partial event of (scraper, date) that happened before
    the recovering scrape to it: ``is_recovered``, ``recovered_at``, ``recovery_event_id``."""
    recovering_started = (
        sa.select(scrape_events.c.started_at)
        .where(scrape_events.c.event_id == recovery_event_id)
        .scalar_subquery()
    )
    return conn.execute(
        sa.update(scrape_events)
        .where(
            scrape_events.c.scraper_name == scraper_name,
            scrape_events.c.target_date == target_date,
            scrape_events.c.status.in_(("partial", "failed")),
            scrape_events.c.is_recovered.is_(False),
            scrape_events.c.started_at <= recovering_started,
        )
        .values(is_recovered=True, recovered_at=recovered_at, recovery_event_id=recovery_event_id)
    ).rowcount


def record_attempt_without_verdict(
    conn: sa.Connection,
    item: RetryItem,
    *,
    now: datetime,
    schedule: BackoffSchedule,
    run_status: str,
    run_id: str,
) -> VerdictOutcome | None:
    """A retry run ended (failed, cancelled, or never evaluated the date): the attempt
    counts as failed, with the latest scrape error of the date on record."""
    latest = latest_real_event(conn, item.scraper_name, item.target_date)
    observed: dict[str, Any] = {"run_id": run_id, "run_status": run_status}
    if latest is not None and latest.status == "failed":
        observed.update(outcome="failed", error=latest.error_message, error_type=latest.error_type)
    else:
        observed.update(outcome="no_verdict")
    return apply_verdict(
        conn, item, complete=False, is_attempt=True, now=now, schedule=schedule, observed=observed
    )


@dataclass(frozen=True)
class EventRef:
    event_id: uuid.UUID
    scraper_name: str
    target_date: date
    status: str
    started_at: datetime
    completed_at: datetime | None
    records_expected: int | None
    records_received: int | None
    error_type: str | None
    error_message: str | None
    correlation_id: str | None


_EVENT_COLUMNS = [scrape_events.c[name] for name in EventRef.__dataclass_fields__]


def latest_real_event(conn: sa.Connection, scraper_name: str, target_date: date) -> EventRef | None:
    row = conn.execute(
        sa.select(*_EVENT_COLUMNS)
        .where(
            scrape_events.c.scraper_name == scraper_name,
            scrape_events.c.target_date == target_date,
            real_scrape_events(),
        )
        .order_by(scrape_events.c.started_at.desc())
        .limit(1)
    ).first()
    return EventRef(**row._mapping) if row else None


def unqueued_failed_scrapes(conn: sa.Connection, *, limit: int = 500) -> list[EventRef]:
    """Dates whose latest real scrape failed or came back partial, not recovered, with no
    open item: what a crashed or failed ingest run leaves behind for the sensor to queue."""
    latest = (
        sa.select(*_EVENT_COLUMNS, scrape_events.c.is_recovered)
        .where(real_scrape_events())
        .ext(distinct_on(scrape_events.c.scraper_name, scrape_events.c.target_date))
        .order_by(
            scrape_events.c.scraper_name, scrape_events.c.target_date, scrape_events.c.started_at.desc()
        )
        .subquery()
    )
    has_open = (
        sa.select(queue.c.id)
        .where(
            queue.c.scraper_name == latest.c.scraper_name,
            queue.c.target_date == latest.c.target_date,
            queue.c.status != RECOVERED,
        )
        .exists()
    )
    rows = conn.execute(
        sa.select(*[latest.c[name] for name in EventRef.__dataclass_fields__])
        .where(latest.c.status.in_(("failed", "partial")), latest.c.is_recovered.is_(False), ~has_open)
        .order_by(latest.c.target_date, latest.c.scraper_name)
        .limit(limit)
    ).all()
    return [EventRef(**r._mapping) for r in rows]


def enqueue_event(
    conn: sa.Connection, event: EventRef, *, now: datetime, schedule: BackoffSchedule
) -> tuple[RetryItem, bool]:
    return enqueue(
        conn,
        scraper_name=event.scraper_name,
        target_date=event.target_date,
        reason=event.error_type or event.status,
        original_error=event.error_message or f"scrape {event.status}",
        original_event_id=event.event_id,
        correlation_id=event.correlation_id,
        now=now,
        schedule=schedule,
        details={"records_expected": event.records_expected, "records_received": event.records_received},
    )


def counts_by_status(conn: sa.Connection) -> dict[str, int]:
    rows = conn.execute(sa.select(queue.c.status, sa.func.count()).group_by(queue.c.status)).all()
    return {status: int(n) for status, n in rows}


@dataclass(frozen=True)
class CauseSummary:
    root_cause: str
    status: str
    items: int
    first_day: date
    last_day: date


def open_by_cause(conn: sa.Connection) -> list[CauseSummary]:
    """Open items grouped by root cause and status: what the backlog is made of, and what was
    given up on (exhausted, permanent) — an operator sees these, they are never dropped."""
    rows = conn.execute(
        sa.select(
            queue.c.root_cause,
            queue.c.status,
            sa.func.count(),
            sa.func.min(queue.c.target_date),
            sa.func.max(queue.c.target_date),
        )
        .where(queue.c.status != RECOVERED)
        .group_by(queue.c.root_cause, queue.c.status)
        .order_by(sa.func.count().desc(), queue.c.root_cause)
    ).all()
    return [CauseSummary(cause, status, int(n), first, last) for cause, status, n, first, last in rows]


def backlog_figures(counts: dict[str, int]) -> dict[str, int]:
    """The queue's figures, numeric (the Dagster UI plots them): ``backlog`` is what is still
    to be retried (pending + retrying); given-up items are counted on their own."""
    figures = {
        status: counts.get(status, 0) for status in (PENDING, RETRYING, RECOVERED, EXHAUSTED, PERMANENT)
    }
    figures["backlog"] = figures[PENDING] + figures[RETRYING]
    return figures


# -- alerts ----------------------------------------------------------------------------------


def _alert_given_up(
    conn: sa.Connection, item: RetryItem, *, now: datetime, observed: dict[str, Any] | None = None
) -> None:
    """One alert per root cause (``dedupe_key``), naming every game day it covers — a season
    of box scores the upstream never published is one alert, not one per day. Raising again
    updates the count and the days without notifying again."""
    rule_key = GIVEN_UP_RULES[item.status]
    cause = item.root_cause or f"{item.scraper_name}:{item.reason}"
    days = [
        d.isoformat()
        for d in conn.execute(
            sa.select(queue.c.target_date)
            .where(queue.c.root_cause == cause, queue.c.status == item.status)
            .order_by(queue.c.target_date)
        ).scalars()
    ]
    span = days[0] if len(days) == 1 else f"{days[0]}..{days[-1]}" if days else item.target_date.isoformat()
    if item.status == PERMANENT:
        title = f"{cause}: {len(days)} game day(s) permanently unavailable ({span}) — not retried"
        action = "nothing to retry; if the upstream publishes later, a re-scrape recovers it (`nba-notify reprocess`)"
    else:
        title = f"{cause}: {len(days)} game day(s) still incomplete after {item.attempts} retries ({span}) — manual action needed"
        action = "check the upstream for these dates, then `nba-notify reprocess --plan`"
    raise_alert(
        conn,
        rule_key=rule_key,
        entity=item.scraper_name,
        dedupe_key=cause,
        title=title,
        details={
            "root_cause": cause,
            "status": item.status,
            "items": len(days),
            "game_days": days[:DAYS_NAMED_IN_ALERTS],
            "more_game_days": max(0, len(days) - DAYS_NAMED_IN_ALERTS),
            "scraper_name": item.scraper_name,
            "classification": (
                conn.execute(
                    sa.select(queue.c.details["classification"].astext).where(queue.c.id == item.id)
                ).scalar()
            ),
            "latest": {
                "retry_item_id": item.id,
                "target_date": item.target_date.isoformat(),
                "reason": item.reason,
                "original_error": item.original_error,
                "attempts": item.attempts,
                "last_outcome": observed or {},
                "correlation_id": item.correlation_id,
            },
            "action": action,
        },
        now=now,
    )


def _alert_recovered(conn: sa.Connection, item: RetryItem, *, was: str, now: datetime) -> None:
    hours = (now - item.created_at).total_seconds() / 3600.0
    raise_alert(
        conn,
        rule_key=RECOVERED_RULE,
        entity=item.scraper_name,
        dedupe_key=item.dedupe_key,
        severity=Severity.LOW,
        title=f"{item.scraper_name} {item.target_date}: recovered after {item.attempts} retries ({hours:.1f} h)",
        details={
            "retry_item_id": item.id,
            "reason": item.reason,
            "attempts": item.attempts,
            "recovered_at": now.isoformat(),
            "recovery_event_id": str(item.recovery_event_id) if item.recovery_event_id else None,
            "recovery_hours": round(hours, 2),
            "was_exhausted": was == EXHAUSTED,
            "was_permanent": was == PERMANENT,
            "correlation_id": item.correlation_id,
        },
        now=now,
    )
    if was in GIVEN_UP:
        cause = item.root_cause or f"{item.scraper_name}:{item.reason}"
        still = conn.execute(
            sa.select(sa.func.count()).where(queue.c.root_cause == cause, queue.c.status == was)
        ).scalar_one()
        if still == 0:  # the cause's alert stands while any of its game days is still given up
            resolve_matching(
                conn,
                rule_key=GIVEN_UP_RULES[was],
                entity=item.scraper_name,
                dedupe_key=cause,
                by="source_discrepancies",
                note=f"last game day recovered at {now.isoformat()}",
                now=now,
            )


__all__ = [
    "DETECTED_BY",
    "EventRef",
    "RetryItem",
    "VerdictOutcome",
    "apply_verdict",
    "backlog_figures",
    "claim_due",
    "counts_by_status",
    "failure_of",
    "open_by_cause",
    "settle_aged",
    "enqueue",
    "enqueue_event",
    "items_in",
    "latest_real_event",
    "mark_events_recovered",
    "open_items",
    "real_scrape_events",
    "record_attempt_without_verdict",
    "run_key_for",
    "unqueued_failed_scrapes",
]
