"""Odds API credits: what was spent (from the quota headers of every answer), what a run plans
to spend (markets x regions per call, known before calling), and the per-day budget that stops
a run *before* its first costed call when the plan would exceed it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime

import sqlalchemy as sa

from nba_notify.lib.clients.odds_api import QuotaReading
from nba_notify.lib.db.tables.props import odds_api_usage
from nba_notify.lib.db.writes import jsonable
from nba_notify.lib.errors import ErrorCategory, PipelineError

DEFAULT_DAILY_CREDIT_BUDGET = 1_000


def spent_on(conn: sa.Connection, usage_day: date) -> int:
    return int(
        conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(odds_api_usage.c.requests_last), 0)).where(
                odds_api_usage.c.usage_day == usage_day
            )
        ).scalar_one()
    )


def record_usage(
    engine: sa.Engine,
    readings: Iterable[QuotaReading],
    *,
    scraper_name: str,
    target_date: date | None,
    usage_day: date,
    run_id: str | None,
) -> None:
    """Every answer's quota headers, written at once (not with the scrape): credits spent by a
    scrape that later fails are still spent."""
    rows = [
        {
            "called_at": r.at,
            "usage_day": usage_day,
            "scraper_name": scraper_name,
            "target_date": target_date,
            "endpoint": r.endpoint,
            "params": jsonable(dict(r.params)),
            "http_status": r.status,
            "requests_last": r.last,
            "requests_used": r.used,
            "requests_remaining": r.remaining,
            "run_id": run_id,
        }
        for r in readings
    ]
    if rows:
        with engine.begin() as conn:
            conn.execute(odds_api_usage.insert(), rows)


def check_budget(
    *, planned: int, spent_today: int, daily_budget: int, remaining: int | None, usage_day: date, what: str
) -> None:
    """Raise (before calling) when ``planned`` credits would take the day past its budget or
    beyond what the plan has left. Classified RATE_LIMIT: retrying later (tomorrow, after the
    reset) is the fix; the reason says which limit."""
    if planned <= 0:
        return
    if spent_today + planned > daily_budget:
        raise PipelineError(
            ErrorCategory.RATE_LIMIT,
            f"The Odds API daily credit budget would be exceeded by {what}: {spent_today} spent on {usage_day} "
            f"+ {planned} planned > budget {daily_budget}; nothing was called",
            details={
                "reason": "daily_credit_budget",
                "spent_today": spent_today,
                "planned": planned,
                "daily_budget": daily_budget,
                "usage_day": usage_day.isoformat(),
            },
            recovery="Stopped before calling: the day's Odds API credit budget (ODDS_API_DAILY_CREDIT_BUDGET) "
            "would be exceeded. The retry runs tomorrow; raise the budget or request fewer markets/regions "
            "if this recurs.",
        )
    if remaining is not None and planned > remaining:
        raise PipelineError(
            ErrorCategory.RATE_LIMIT,
            f"The Odds API plan has {remaining} credits left, {what} needs {planned}; nothing was called",
            details={"reason": "quota_would_run_out", "remaining": remaining, "planned": planned},
            recovery="The plan's credits would run out mid-run: wait for the monthly reset or upgrade the plan.",
        )


def usage_day_of(now: datetime) -> date:
    """Budgets count by the UTC day of the call (The Odds API's own accounting is UTC)."""
    return now.astimezone(UTC).date()
