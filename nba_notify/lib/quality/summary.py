"""``quality_summary(engine)``: the data-quality figures the demo and the CLI report —
discrepancies found, retry items by status, recoveries, and the zero-record audit's
false-positive rate."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from nba_notify.lib.db.tables.ingest import scrape_events
from nba_notify.lib.db.tables.quality import scrape_retry_queue as queue
from nba_notify.lib.db.tables.quality import source_discrepancies
from nba_notify.lib.quality import queue as q
from nba_notify.lib.quality.audit import load_audit, load_audit_summary, refresh_audit
from nba_notify.lib.quality.discrepancies import MISSING_KINDS
from nba_notify.lib.quality.reprocess import build_plan
from nba_notify.lib.sqlmodels import SqlProject, load_project


def quality_summary(engine: sa.Engine, project: SqlProject | None = None) -> dict[str, Any]:
    project = project or load_project()
    with engine.connect() as conn:
        by_kind = dict(
            conn.execute(
                sa.select(source_discrepancies.c.kind, sa.func.count()).group_by(source_discrepancies.c.kind)
            ).all()
        )
        detections = conn.execute(
            sa.select(sa.func.count()).select_from(scrape_events).where(~q.real_scrape_events())
        ).scalar_one()
        missing_games = conn.execute(
            sa.select(sa.func.count(sa.distinct(source_discrepancies.c.game_id))).where(
                source_discrepancies.c.kind.in_(MISSING_KINDS)
            )
        ).scalar_one()
        statuses = q.counts_by_status(conn)
        recovered = conn.execute(
            sa.select(
                sa.func.count(),
                sa.func.avg(sa.extract("epoch", queue.c.recovered_at - queue.c.created_at) / 3600.0),
                sa.func.sum(queue.c.attempts),
            ).where(queue.c.status == "recovered")
        ).one()
        events_recovered = conn.execute(
            sa.select(sa.func.count()).select_from(scrape_events).where(scrape_events.c.is_recovered)
        ).scalar_one()
        attempts = conn.execute(sa.select(sa.func.coalesce(sa.func.sum(queue.c.attempts), 0))).scalar_one()
    refresh_audit(engine, project)
    audit_rows = load_audit(engine, project, build=False)
    audit = load_audit_summary(engine, project, build=False).get("all", {})
    plan = build_plan(audit_rows)
    return {
        "discrepancies": {
            "current": sum(by_kind.values()),
            "by_kind": {k: int(v) for k, v in sorted(by_kind.items())},
            "games_missing_from_a_source": int(missing_games),
            "detections_logged": int(detections),
        },
        "retry_queue": {
            "by_status": {
                s: statuses.get(s, 0) for s in ("pending", "retrying", "recovered", "exhausted", "permanent")
            },
            "items": sum(statuses.values()),
            "retries_scheduled": int(sum(statuses.values())),
            "retry_attempts": int(attempts),
        },
        "recoveries": {
            "items_recovered": int(recovered[0]),
            "avg_recovery_hours": round(float(recovered[1]), 2) if recovered[1] is not None else None,
            "attempts_to_recover": int(recovered[2] or 0),
            "scrape_events_recovered": int(events_recovered),
        },
        "zero_record_audit": {
            "zero_record_runs": int(audit.get("zero_record_runs") or 0),
            "by_class": {
                c: int(audit.get(c) or 0)
                for c in (
                    "false_positive",
                    "data_from_other_run",
                    "future_date",
                    "legitimate_zero",
                    "real_loss",
                )
            },
            "false_positive_rate_pct": float(audit.get("false_positive_pct") or 0.0),
            "real_loss_partitions": plan.partition_keys,
        },
    }
