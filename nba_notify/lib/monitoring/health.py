"""Health dashboard data (seed 001 AC 6): the overview of every sync entity and the history
of one entity (or all) bucketed over a period. Each answer is a couple of indexed aggregate
queries, so it stays well under 100 ms over 30 days of history."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from nba_notify.lib.alerts.store import open_alerts
from nba_notify.lib.db.tables.monitoring import sync_error_log, sync_execution_history, sync_status
from nba_notify.lib.errors import ErrorCategory, PipelineError
from nba_notify.lib.ingest.live import on_since
from nba_notify.lib.monitoring.entities import (
    ENTITIES,
    LIVE_SCOREBOARD,
    NOTIFICATIONS_SYNC,
    SYNC_FREQUENCY_SECONDS,
    entity_for_asset,
)
from nba_notify.lib.quality import queue as retry_queue

HEALTHY, WARNING, CRITICAL = "HEALTHY", "WARNING", "CRITICAL"
STATUS_RANK = {HEALTHY: 0, WARNING: 1, CRITICAL: 2}
SUCCESS_RATE_WARNING = 0.95
CONSECUTIVE_FAILURES_CRITICAL = 3
STALE_AFTER_PERIODS = 3  # a sync that missed three of its periods is stale
MAX_CAUSES_SHOWN = 20

# period -> (span, bucket)
PERIODS: dict[str, tuple[timedelta, timedelta]] = {
    "1h": (timedelta(hours=1), timedelta(minutes=5)),
    "6h": (timedelta(hours=6), timedelta(minutes=15)),
    "24h": (timedelta(hours=24), timedelta(hours=1)),
    "7d": (timedelta(days=7), timedelta(hours=6)),
    "30d": (timedelta(days=30), timedelta(days=1)),
}


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


@dataclass(frozen=True)
class Expectation:
    """Whether an entity is expected to have run: ``due_since`` is when it became due
    (``None``: not expected to run now, for the reason ``idle_reason``)."""

    due_since: datetime | None
    idle_reason: str = ""


@dataclass(frozen=True)
class EntityFacts:
    entity: str
    last_success_at: datetime | None
    last_run_at: datetime | None
    consecutive_failures: int
    runs_24h: int
    successes_24h: int
    avg_duration_24h: float | None
    records_today: int
    open_alert_severities: Sequence[str]
    frequency_seconds: int | None
    expectation: Expectation | None = None


ALWAYS_DUE = Expectation(datetime.min.replace(tzinfo=UTC))


def entity_expectations(conn: sa.Connection, now: datetime) -> dict[str, Expectation]:
    """When each entity is due. The live scoreboard runs only while a game is on (the same
    definition its sensor uses), so it is due from the earliest tip-off of the games on and
    idle otherwise. A periodic sync is due once monitoring has recorded anything at all — the
    first execution of any entity marks when the product began running — so an install whose
    first runs have not come yet is not a warning, and one entity that never runs beside others
    that do still is."""
    watching_since = conn.execute(sa.select(sa.func.min(sync_execution_history.c.execution_start))).scalar()
    expectations = {
        entity: Expectation(watching_since, "" if watching_since else "nothing has run yet")
        for entity in ENTITIES
    }
    live_since = on_since(conn, now)
    expectations[LIVE_SCOREBOARD] = Expectation(live_since, "" if live_since else "no game on")
    return expectations


def entity_status(f: EntityFacts, now: datetime) -> tuple[str, list[str]]:
    """HEALTHY / WARNING / CRITICAL with the reasons a person needs to see. An entity not
    expected to run (no game on, not due yet) is never a warning for not running; its
    failures and alerts still count."""
    reasons: list[tuple[str, str]] = []
    if f.consecutive_failures >= CONSECUTIVE_FAILURES_CRITICAL:
        reasons.append((CRITICAL, f"{f.consecutive_failures} consecutive failures"))
    elif f.consecutive_failures > 0:
        reasons.append((WARNING, f"last run failed ({f.consecutive_failures} in a row)"))
    if f.runs_24h and f.successes_24h / f.runs_24h < SUCCESS_RATE_WARNING:
        reasons.append((WARNING, f"success rate {f.successes_24h / f.runs_24h:.0%} in 24 h"))
    if "CRITICAL" in f.open_alert_severities:
        reasons.append((CRITICAL, "open CRITICAL alert"))
    elif f.open_alert_severities:
        reasons.append((WARNING, f"{len(f.open_alert_severities)} open alert(s)"))
    expected = f.expectation if f.expectation is not None else ALWAYS_DUE
    stale_after = timedelta(seconds=(f.frequency_seconds or 0) * STALE_AFTER_PERIODS)
    if expected.due_since is None:
        pass  # idle by design (no game on, nothing has run yet): not running is right
    elif f.last_run_at is None:
        if now - expected.due_since > stale_after:
            reasons.append((WARNING, "no executions recorded"))
    elif f.frequency_seconds:
        last_ok = f.last_success_at
        # counted from when it became due: a live loop is not stale at tip-off for not having
        # run during the afternoon
        waited = now - max(last_ok or expected.due_since, expected.due_since)
        if waited > stale_after:
            reasons.append(
                (WARNING, "no successful sync for " + ("ever" if last_ok is None else _human(now - last_ok)))
            )
    status = max((s for s, _ in reasons), key=STATUS_RANK.__getitem__, default=HEALTHY)
    return status, [text for _, text in reasons]


def _human(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds >= 86400:
        return f"{seconds // 86400} d {seconds % 86400 // 3600} h"
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 60} min"


def health_overview(conn: sa.Connection, now: datetime) -> dict[str, Any]:
    h = sync_execution_history
    since = now - timedelta(hours=24)
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    window = conn.execute(
        sa.select(
            h.c.entity_type,
            sa.func.count().label("runs"),
            sa.func.count().filter(h.c.success).label("ok"),
            sa.func.avg(h.c.duration_seconds).label("avg_duration"),
            sa.func.coalesce(
                sa.func.sum(h.c.records_processed).filter(h.c.execution_start >= today), 0
            ).label("records_today"),
            sa.func.coalesce(sa.func.sum(h.c.records_processed), 0).label("records_24h"),
            sa.func.avg(h.c.api_p95_ms).label("api_p95_ms"),
            sa.func.max(h.c.peak_memory_mb).label("peak_memory_mb"),
            sa.func.sum(h.c.api_calls).label("api_calls"),
            sa.func.avg(h.c.cache_hit_ratio).label("cache_hit_ratio"),
        )
        .where(h.c.execution_start >= since)
        .group_by(h.c.entity_type)
    ).mappings()
    stats = {r["entity_type"]: dict(r) for r in window}
    statuses = {r["entity_type"]: dict(r) for r in conn.execute(sa.select(sync_status)).mappings()}
    alerts = open_alerts(conn, limit=100)
    expectations = entity_expectations(conn, now)
    alert_severities: dict[str, list[str]] = {}
    for a in alerts:
        # asset check alerts name an asset: count them against the asset's entity
        entity = a["entity"] if a["entity"] in ENTITIES else (entity_for_asset(a["entity"]) or a["entity"])
        alert_severities.setdefault(entity, []).append(a["severity"])

    entities: dict[str, Any] = {}
    for entity in sorted(set(ENTITIES) | set(statuses) | set(stats)):
        st, s = statuses.get(entity, {}), stats.get(entity, {})
        facts = EntityFacts(
            entity=entity,
            last_success_at=st.get("last_success_at"),
            last_run_at=st.get("last_run_at"),
            consecutive_failures=st.get("consecutive_failures") or 0,
            runs_24h=s.get("runs") or 0,
            successes_24h=s.get("ok") or 0,
            avg_duration_24h=float(s["avg_duration"]) if s.get("avg_duration") is not None else None,
            records_today=int(s.get("records_today") or 0),
            open_alert_severities=alert_severities.get(entity, []),
            frequency_seconds=st.get("sync_frequency_seconds") or SYNC_FREQUENCY_SECONDS.get(entity),
            expectation=expectations.get(entity),
        )
        status, reasons = entity_status(facts, now)
        entities[entity] = {
            "status": status,
            "reasons": reasons,
            "last_successful_sync": _iso(facts.last_success_at),
            "last_run": _iso(facts.last_run_at),
            "success_rate_24h": round(facts.successes_24h / facts.runs_24h, 4) if facts.runs_24h else None,
            "runs_24h": facts.runs_24h,
            "consecutive_failures": facts.consecutive_failures,
            "average_duration_seconds": round(facts.avg_duration_24h, 3)
            if facts.avg_duration_24h is not None
            else None,
            "records_processed_today": facts.records_today,
            "last_error": st.get("last_error"),
            "active_alerts": len(facts.open_alert_severities),
            "expected_to_run": facts.expectation.due_since is not None if facts.expectation else True,
            "idle_reason": facts.expectation.idle_reason if facts.expectation else "",
        }
    apply_notifications_health(entities, notifications_health(conn, now))
    overall = max((e["status"] for e in entities.values()), key=STATUS_RANK.__getitem__, default=HEALTHY)
    if any(a["severity"] == "CRITICAL" for a in alerts):
        overall = CRITICAL
    elif alerts and overall == HEALTHY:
        overall = WARNING
    errors = conn.execute(
        sa.select(sync_error_log.c.error_type, sa.func.count())
        .where(sync_error_log.c.occurred_at >= since)
        .group_by(sync_error_log.c.error_type)
    ).all()
    runs = sum(s.get("runs") or 0 for s in stats.values())
    ok = sum(s.get("ok") or 0 for s in stats.values())
    return {
        "overall_status": overall,
        "sync_entities": entities,
        "active_alerts": [_alert_summary(a) for a in alerts],
        "performance_summary": {
            "runs_24h": runs,
            "success_rate_24h": round(ok / runs, 4) if runs else None,
            "records_processed_24h": int(sum(s.get("records_24h") or 0 for s in stats.values())),
            "api_calls_24h": int(sum(s.get("api_calls") or 0 for s in stats.values())),
            "errors_by_category_24h": {str(k): int(v) for k, v in errors},
        },
        "retry_queue": retry_queue_health(conn),
        "last_updated": _iso(now),
    }


def retry_queue_health(conn: sa.Connection) -> dict[str, Any]:
    """The scrape retry queue on the dashboard: the backlog still to be retried, and every
    open item grouped by root cause — given-up ones (exhausted, permanent) included, so a
    game day the upstream will never fill is in sight, not silently dropped."""
    figures = retry_queue.backlog_figures(retry_queue.counts_by_status(conn))
    return {
        **{name: figures[name] for name in ("backlog", "pending", "retrying", "exhausted", "permanent")},
        "by_root_cause": [
            {
                "root_cause": c.root_cause,
                "status": c.status,
                "game_days": c.items,
                "first_day": c.first_day.isoformat(),
                "last_day": c.last_day.isoformat(),
            }
            for c in retry_queue.open_by_cause(conn)[:MAX_CAUSES_SHOWN]
        ],
    }


def notifications_health(conn: sa.Connection, now: datetime) -> dict[str, Any]:
    """The notification domain's own facts: a schedule Braze holds that the ledger does not own
    (a possible double push) keeps notifications CRITICAL until adopted or decided, whatever the
    runs and alerts say."""
    from nba_notify.lib.ledger.foreign import open_foreign

    foreign = [r for r in open_foreign(conn) if r["send_at_utc"] > now]
    reasons = [
        f"foreign Braze schedule at {r['send_at_utc'].astimezone(UTC):%Y-%m-%d %H:%MZ} for "
        + (", ".join(g["game_id"] for g in r["games"]) or "no game of ours")
        + " (possible double push)"
        for r in foreign
    ]
    return {
        "status": CRITICAL if foreign else HEALTHY,
        "reasons": reasons,
        "foreign_schedules": [
            {
                "id": r["id"],
                "send_at": _iso(r["send_at_utc"]),
                "games": [g["game_id"] for g in r["games"]],
                "schedule_id": r["braze_schedule_id"],
                "first_seen_at": _iso(r["first_seen_at"]),
            }
            for r in foreign
        ],
    }


def apply_notifications_health(entities: dict[str, Any], facts: Mapping[str, Any]) -> None:
    entry = entities.get(NOTIFICATIONS_SYNC)
    if entry is None:
        return
    entry["foreign_schedules"] = facts["foreign_schedules"]
    if STATUS_RANK[facts["status"]] > STATUS_RANK[entry["status"]]:
        entry["status"] = facts["status"]
    entry["reasons"] = [*entry["reasons"], *facts["reasons"]]


def _alert_summary(a: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": a["id"],
        "rule_key": a["rule_key"],
        "entity": a["entity"],
        "dedupe_key": a["dedupe_key"],
        "severity": a["severity"],
        "status": a["status"],
        "title": a["title"],
        "occurrences": a["occurrences"],
        "first_seen_at": _iso(a["first_seen_at"]),
        "last_seen_at": _iso(a["last_seen_at"]),
        "escalation_level": a["escalation_level"],
    }


def parse_period(period: str) -> tuple[timedelta, timedelta]:
    try:
        return PERIODS[period]
    except KeyError:
        raise PipelineError(
            ErrorCategory.VALIDATION, f"unknown period {period!r}", {"allowed": sorted(PERIODS)}
        ) from None


def health_history(conn: sa.Connection, *, period: str, entity: str | None, now: datetime) -> dict[str, Any]:
    span, bucket = parse_period(period)
    h = sync_execution_history
    since = now - span
    # Buckets aligned to the bucket size (UTC), so consecutive calls agree on boundaries.
    origin = datetime(2000, 1, 1, tzinfo=UTC)
    first = origin + bucket * ((since - origin) // bucket)
    bucket_col = sa.func.date_bin(sa.literal(bucket), h.c.execution_start, sa.literal(origin)).label("bucket")
    where = [h.c.execution_start >= since, h.c.execution_start <= now]
    if entity and entity != "all":
        where.append(h.c.entity_type == entity)
    rows = conn.execute(
        sa.select(
            bucket_col,
            sa.func.count().label("runs"),
            sa.func.count().filter(h.c.success).label("ok"),
            sa.func.avg(h.c.duration_seconds).label("avg_duration"),
            sa.func.coalesce(sa.func.sum(h.c.records_processed), 0).label("records"),
            sa.func.max(h.c.peak_memory_mb).label("memory"),
            sa.func.avg(h.c.api_p95_ms).label("api_p95"),
        )
        .where(*where)
        .group_by(bucket_col)
    ).mappings()
    by_bucket = {r["bucket"].astimezone(UTC): r for r in rows}
    points = []
    t = first
    while t <= now:
        r = by_bucket.get(t)
        runs = int(r["runs"]) if r else 0
        points.append(
            {
                "timestamp": _iso(t),
                "runs": runs,
                "success_rate": round(r["ok"] / runs, 4) if runs else None,
                "duration_ms": round(float(r["avg_duration"]) * 1000, 1)
                if r and r["avg_duration"] is not None
                else None,
                "records_processed": int(r["records"]) if r else 0,
                "memory_usage_mb": float(r["memory"]) if r and r["memory"] is not None else None,
                "error_count": runs - int(r["ok"]) if r else 0,
                "api_p95_ms": round(float(r["api_p95"]), 1) if r and r["api_p95"] is not None else None,
            }
        )
        t += bucket
    totals = (
        conn.execute(
            sa.select(
                sa.func.count().label("runs"),
                sa.func.count().filter(h.c.success).label("ok"),
                sa.func.avg(h.c.duration_seconds).label("avg_duration"),
                sa.func.percentile_cont(0.95).within_group(h.c.duration_seconds).label("p95_duration"),
                sa.func.coalesce(sa.func.sum(h.c.records_processed), 0).label("records"),
                sa.func.max(h.c.peak_memory_mb).label("memory"),
            ).where(*where)
        )
        .mappings()
        .one()
    )
    e = sync_error_log
    error_where = [e.c.occurred_at >= since, e.c.occurred_at <= now]
    if entity and entity != "all":
        error_where.append(e.c.entity_type == entity)
    by_category = conn.execute(
        sa.select(e.c.error_type, sa.func.count()).where(*error_where).group_by(e.c.error_type)
    ).all()
    runs = int(totals["runs"])
    return {
        "entity_type": entity or "all",
        "period": period,
        "bucket_seconds": int(bucket.total_seconds()),
        "data_points": points,
        "aggregated_metrics": {
            "total_runs": runs,
            "successful_runs": int(totals["ok"]),
            "failed_runs": runs - int(totals["ok"]),
            "success_rate": round(totals["ok"] / runs, 4) if runs else None,
            "average_duration_ms": round(float(totals["avg_duration"]) * 1000, 1)
            if totals["avg_duration"] is not None
            else None,
            "p95_duration_ms": round(float(totals["p95_duration"]) * 1000, 1)
            if totals["p95_duration"] is not None
            else None,
            "total_records_processed": int(totals["records"]),
            "peak_memory_mb": float(totals["memory"]) if totals["memory"] is not None else None,
            "errors_by_category": {str(k): int(v) for k, v in by_category},
        },
    }
