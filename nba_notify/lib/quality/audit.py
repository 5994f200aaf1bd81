"""Reading the zero-record audit (seed 004 B2-B4).

The classification itself is SQL — ``dbt_like_sql/models/marts/zero_record_audit.sql`` — so
the UI's asset, the CLI's plan and the demo's figures all come from one definition. This
module builds that model (and the views it reads) on demand and returns plain rows.

Classes: ``false_positive`` (it reported 0 while the rows it wrote are there: the tracking
bug), ``data_from_other_run``, ``future_date``, ``legitimate_zero``, ``real_loss``. Root causes
(seed's matrix, as of the run): ``processor_failed``, ``scraper_failed``, ``legitimate_zero``,
``off_day`` (plus ``tracking_error``, ``superseded``, ``not_yet_played`` for the others).
Recovery action (from today's raw store): ``reprocess_from_raw``, ``rescrape``, ``none``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from nba_notify.lib.sqlmodels import SqlProject, load_project, materialize_model

AUDIT_MODEL = "zero_record_audit"
SUMMARY_MODEL = "zero_record_audit_summary"


@dataclass(frozen=True)
class AuditRow:
    run_history_id: int
    processor_name: str
    data_date: date
    run_status: str
    audit_class: str
    root_cause: str
    recovery_action: str
    scrapers_without_raw: tuple[str, ...]
    rows_now: int
    games_expected: int | None
    zero_context: str | None = None


def upstream_models(project: SqlProject, names: Iterable[str]) -> list[str]:
    """``names`` and every model they ref, directly or not, in build order."""
    wanted: set[str] = set()
    stack = list(names)
    while stack:
        name = stack.pop()
        if name in wanted:
            continue
        wanted.add(name)
        stack.extend(project.models[name].ref_names)
    return [name for name in project.model_order if name in wanted]


def build_models(engine: sa.Engine, project: SqlProject, names: Iterable[str]) -> list[str]:
    """(Re)build ``names`` and what they read, so a reader never queries a stale definition."""
    order = upstream_models(project, names)
    for name in order:
        materialize_model(engine, project, name)
    return order


def refresh_audit(engine: sa.Engine, project: SqlProject | None = None) -> SqlProject:
    """Build the audit and its summary (and the views they read) once; then read both with
    ``build=False``."""
    project = project or load_project()
    build_models(engine, project, [AUDIT_MODEL, SUMMARY_MODEL])
    return project


AUDIT_COLUMNS = (
    "run_history_id",
    "processor_name",
    "data_date",
    "run_status",
    "audit_class",
    "root_cause",
    "recovery_action",
    "scrapers_without_raw",
    "rows_now",
    "games_expected",
    "zero_context",
)


def load_audit(engine: sa.Engine, project: SqlProject | None = None, *, build: bool = True) -> list[AuditRow]:
    project = project or load_project()
    if build:
        build_models(engine, project, [AUDIT_MODEL])
    audit = sa.table(
        AUDIT_MODEL,
        *(sa.column(name) for name in AUDIT_COLUMNS),
        schema=project.schema,
    )
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(*(audit.c[name] for name in AUDIT_COLUMNS)).order_by(
                audit.c.data_date, audit.c.processor_name, audit.c.run_history_id
            )
        ).all()
    return [
        AuditRow(
            run_history_id=r.run_history_id,
            processor_name=r.processor_name,
            data_date=r.data_date,
            run_status=r.run_status,
            audit_class=r.audit_class,
            root_cause=r.root_cause,
            recovery_action=r.recovery_action,
            scrapers_without_raw=tuple(r.scrapers_without_raw or ()),
            rows_now=int(r.rows_now),
            games_expected=r.games_expected,
            zero_context=r.zero_context,
        )
        for r in rows
    ]


def load_audit_summary(
    engine: sa.Engine, project: SqlProject | None = None, *, build: bool = True
) -> dict[str, dict[str, Any]]:
    """``{processor_name | "all": {zero_record_runs, false_positive, ..., false_positive_pct}}``"""
    project = project or load_project()
    if build:
        build_models(engine, project, [SUMMARY_MODEL])
    relation = sa.table(SUMMARY_MODEL, schema=project.schema)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(sa.text("*")).select_from(relation)).mappings().all()
    return {
        row["processor_name"]: {k: _plain(v) for k, v in row.items() if k != "processor_name"} for row in rows
    }


def _plain(value: Any) -> Any:
    from decimal import Decimal

    return float(value) if isinstance(value, Decimal) else value
