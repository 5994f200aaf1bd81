"""The retry queue's rules as pure functions (seed 003, components 3-4).

An item is one (scraper, game day) that failed or came back incomplete::

    pending ──claim (due)──▶ retrying ──complete──▶ recovered
       ▲                        │
       └──still failing─────────┤ (attempts < max_retries; next try after the backoff)
                                └──still failing, attempts = max_retries──▶ exhausted

A complete scrape of the date recovers the item whatever its state and however it came
about (a retry run, the daily ingest, a manual re-run) — also an exhausted one, late.
Only a retry run's own verdict counts as an attempt: a regular ingest that still finds the
date incomplete leaves the item's schedule alone.

Backoff (seed 003): the first retry 4 h after the failure, the second 12 h after the first,
the third 24 h after the second; configurable through ``RetryQueueResource``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

PENDING, RETRYING, RECOVERED, EXHAUSTED = "pending", "retrying", "recovered", "exhausted"
OPEN_STATUSES = (PENDING, RETRYING, EXHAUSTED)

DEFAULT_BACKOFF_HOURS = (4.0, 12.0, 24.0)
DEFAULT_MAX_RETRIES = 3


@dataclass(frozen=True)
class BackoffSchedule:
    delays: tuple[timedelta, ...] = tuple(timedelta(hours=h) for h in DEFAULT_BACKOFF_HOURS)
    max_retries: int = DEFAULT_MAX_RETRIES

    def __post_init__(self) -> None:
        if not self.delays or any(d <= timedelta(0) for d in self.delays):
            raise ValueError("backoff delays must be positive and at least one")
        if self.max_retries < 1:
            raise ValueError("max_retries must be at least 1")

    @classmethod
    def from_hours(cls, hours: Sequence[float], max_retries: int = DEFAULT_MAX_RETRIES) -> "BackoffSchedule":
        return cls(tuple(timedelta(hours=float(h)) for h in hours), max_retries)

    def delay_before(self, attempt: int) -> timedelta:
        """How long to wait before retry number ``attempt`` (1-based), counted from the
        failure (attempt 1) or from the previous attempt; the last delay repeats."""
        if attempt < 1:
            raise ValueError("attempts are numbered from 1")
        return self.delays[min(attempt, len(self.delays)) - 1]


@dataclass(frozen=True)
class Transition:
    """What to write when an item changes state."""

    status: str
    next_retry_at: datetime | None = None
    recovered_at: datetime | None = None
    exhausted_at: datetime | None = None
    history_entry: dict | None = None

    @property
    def alert(self) -> str | None:
        return {RECOVERED: "recovered", EXHAUSTED: "exhausted"}.get(self.status)


def first_retry_at(now: datetime, schedule: BackoffSchedule) -> datetime:
    return now + schedule.delay_before(1)


def on_verdict(
    *,
    status: str,
    attempts: int,
    max_retries: int,
    complete: bool,
    is_attempt: bool,
    now: datetime,
    schedule: BackoffSchedule,
    observed: dict | None = None,
) -> Transition | None:
    """The item's next state after its date was evaluated, or ``None`` for no change.

    ``complete``: the latest scrape of the date succeeded and nothing is missing any more.
    ``is_attempt``: this evaluation is the verdict of the item's own retry run."""
    entry = {"attempt": attempts, "attempted_at": now.isoformat(), **(observed or {})}
    if status == RECOVERED:
        return None
    if complete:
        return Transition(RECOVERED, recovered_at=now, history_entry={**entry, "result": "recovered"})
    if not is_attempt or status != RETRYING:
        return None
    if attempts >= max_retries:
        return Transition(EXHAUSTED, exhausted_at=now, history_entry={**entry, "result": "exhausted"})
    next_at = now + schedule.delay_before(attempts + 1)
    return Transition(
        PENDING,
        next_retry_at=next_at,
        history_entry={**entry, "result": "still_failing", "next_retry_at": next_at.isoformat()},
    )
