"""The retry queue's rules as pure functions (seed 003, components 3-4).

An item is one (scraper, game day) — a scraper being one (source, kind), e.g. BDL box
scores — that failed or came back incomplete::

    pending ──claim (due)──▶ retrying ──complete──▶ recovered
       ▲                        │
       └──still failing─────────┤ (attempts < max_retries; next try after the backoff)
                                └──still failing, attempts = max_retries──▶ exhausted

    (queued) ──permanent condition──▶ permanent      (never retried; visible; recovers if
    pending ──the day ages past it──▶ permanent       a complete scrape turns up later)

Transient or permanent (:func:`classify`): a box score the upstream does not have (404, the
CDN's "not published" 403, or simply absent) is transient while the game is recent — real
feeds publish 0-3 h after the final, some a day late — and permanent once the game day ended
longer ago than ``box_score_permanent_after`` (96 h by default: the backoff's three retries
have all run by then). BDL rejecting the key is permanent at once (retrying cannot fix it).
Everything else (rate limits, timeouts, 5xx, a listing gap) is transient.

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
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PENDING, RETRYING, RECOVERED, EXHAUSTED, PERMANENT = (
    "pending",
    "retrying",
    "recovered",
    "exhausted",
    "permanent",
)
# Items an operator has to see: retrying stopped, the data is still not there.
GIVEN_UP = (EXHAUSTED, PERMANENT)

DEFAULT_BACKOFF_HOURS = (4.0, 12.0, 24.0)
DEFAULT_MAX_RETRIES = 3
DEFAULT_BOX_SCORE_PERMANENT_AFTER_HOURS = 96.0

BOX_SCORE_SCRAPERS = ("bdl_box_scores", "nbac_box_scores")
BOX_SCORE_UNAVAILABLE = "box_score_unavailable"
# error types (scrape_events.error_type) retrying can never fix: rejected credentials.
# (VALIDATION is not among them: a box score scraped before its day's schedule is stored fails
# VALIDATION and the retry, which re-scrapes the schedule first, fixes it.)
PERMANENT_ERROR_TYPES = {
    "auth_error": "credentials rejected: retrying cannot fix this; rotate the key, then reprocess"
}
# Sources that take a key: NBA.com takes none, so its AUTH errors are bot blocks, which pass.
CREDENTIALED_SOURCES = ("bdl",)
# The CDN answers 403 AccessDenied for a box score it does not have, like 404.
UNAVAILABLE_STATUS_CODES = (403, 404)
GAME_DAY_ZONE = ZoneInfo("America/New_York")


@dataclass(frozen=True)
class BackoffSchedule:
    delays: tuple[timedelta, ...] = tuple(timedelta(hours=h) for h in DEFAULT_BACKOFF_HOURS)
    max_retries: int = DEFAULT_MAX_RETRIES
    box_score_permanent_after: timedelta = timedelta(hours=DEFAULT_BOX_SCORE_PERMANENT_AFTER_HOURS)

    def __post_init__(self) -> None:
        if not self.delays or any(d <= timedelta(0) for d in self.delays):
            raise ValueError("backoff delays must be positive and at least one")
        if self.max_retries < 1:
            raise ValueError("max_retries must be at least 1")
        if self.box_score_permanent_after <= timedelta(0):
            raise ValueError("box_score_permanent_after must be positive")

    @classmethod
    def from_hours(
        cls,
        hours: Sequence[float],
        max_retries: int = DEFAULT_MAX_RETRIES,
        box_score_permanent_after_hours: float = DEFAULT_BOX_SCORE_PERMANENT_AFTER_HOURS,
    ) -> BackoffSchedule:
        return cls(
            tuple(timedelta(hours=float(h)) for h in hours),
            max_retries,
            timedelta(hours=float(box_score_permanent_after_hours)),
        )

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


# -- transient or permanent -----------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """What is known about why a (scraper, game day) is queued."""

    scraper_name: str
    target_date: date
    error_type: str | None  # scrape_events.error_type, or the item's reason
    status_code: int | None = None  # the upstream's HTTP answer, if it answered
    kinds: tuple[str, ...] = ()  # discrepancy kinds a detection named (box_score_missing_in_bdl, ...)
    unavailable_games: int = 0  # final games the scrape found without a published box score


@dataclass(frozen=True)
class Classification:
    permanent: bool
    root_cause: str  # "<scraper>:<cause>": items sharing it share one alert
    explanation: str


def game_day_ended(day: date) -> datetime:
    """Midnight US-Eastern after the game day: its games are final (or should be) by then."""
    return datetime.combine(day + timedelta(days=1), time(0), GAME_DAY_ZONE)


def box_score_unavailable(failure: Failure) -> bool:
    """The upstream does not have the day's box score(s) — as opposed to failing to answer."""
    if failure.scraper_name not in BOX_SCORE_SCRAPERS:
        return False
    if failure.status_code in UNAVAILABLE_STATUS_CODES or failure.unavailable_games:
        return True
    # box_score_missing_in_<source> (and any later box-score coverage kind); a box score that
    # came but lists too few players (players_missing_in_<source>) is not "unavailable"
    return bool(failure.kinds) and all(kind.startswith("box_score") for kind in failure.kinds)


def classify_unavailable_box_score(
    scraper: str, day: date, *, now: datetime, schedule: BackoffSchedule
) -> Classification:
    """Not published yet while the game is recent; permanent once its day aged past the limit."""
    cause = f"{scraper}:{BOX_SCORE_UNAVAILABLE}"
    age = now - game_day_ended(day)
    limit_hours = schedule.box_score_permanent_after.total_seconds() / 3600
    if age >= schedule.box_score_permanent_after:
        return Classification(
            True,
            cause,
            f"box score still unavailable {age.days} d after the game day (limit {limit_hours:g} h): "
            "the upstream will not publish it",
        )
    return Classification(False, cause, f"box score not published yet (permanent after {limit_hours:g} h)")


def classify(failure: Failure, *, now: datetime, schedule: BackoffSchedule) -> Classification:
    scraper = failure.scraper_name
    if failure.error_type in PERMANENT_ERROR_TYPES and scraper.split("_", 1)[0] in CREDENTIALED_SOURCES:
        return Classification(
            True, f"{scraper}:{failure.error_type}", PERMANENT_ERROR_TYPES[failure.error_type]
        )
    if box_score_unavailable(failure):
        return classify_unavailable_box_score(scraper, failure.target_date, now=now, schedule=schedule)
    detail = failure.error_type or "failed"
    if failure.status_code and failure.error_type not in (None, "api_incomplete"):
        detail = f"{detail}:{failure.status_code}"
    return Classification(False, f"{scraper}:{detail}", "transient: retried with backoff")
