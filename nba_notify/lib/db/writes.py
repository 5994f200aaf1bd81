"""The one write path for processed tables.

Seed 004's tracking bug came from 24 processors each setting ``rows_inserted`` by hand in
their own ``save_data()``; some forgot, and 93% of "zero-record" alerts were false. Here every
processor writes through :func:`replace_partition`, which counts the rows PostgreSQL actually
returned from the INSERT, and :func:`record_processor_run` stores exactly that count — nobody
can report a number they did not write.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from nba_notify.lib.db.tables.ingest import processor_run_history
from nba_notify.lib.errors import PipelineError, classify_exception


@dataclass(frozen=True)
class WriteResult:
    table: str
    deleted: int
    inserted: int


def replace_partition(
    conn: sa.Connection,
    table: sa.Table,
    *,
    where: sa.ColumnElement[bool],
    rows: Sequence[Mapping[str, Any]],
) -> WriteResult:
    """Delete the partition's rows and insert the new ones, inside the caller's transaction,
    so re-materialising a date replaces it (never duplicates) and readers never see it half
    written. ``inserted`` is the number of rows PostgreSQL returned from the INSERT."""
    deleted = conn.execute(table.delete().where(where)).rowcount
    inserted = 0
    if rows:
        key = next(iter(table.primary_key.columns))
        inserted = len(conn.execute(table.insert().returning(key), list(rows)).all())
    return WriteResult(table.name, deleted, inserted)


def upsert_rows(
    conn: sa.Connection,
    table: sa.Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    key: Sequence[str],
    compare: Sequence[str] | None = None,
) -> WriteResult:
    """Insert rows, or update the existing row with the same ``key``, inside the caller's
    transaction; ``inserted`` counts the rows PostgreSQL returned. With ``compare`` (columns),
    an existing row is rewritten only if one of them changed, so an unchanged re-run writes —
    and reports — nothing; by default (``None``: every non-key column) likewise; ``()``
    rewrites every row. Nothing is ever deleted here."""
    if not rows:
        return WriteResult(table.name, 0, 0)
    columns = [c for c in rows[0] if c not in key]
    compare = list(compare) if compare is not None else columns
    stmt = pg_insert(table).values(list(rows))
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c[k] for k in key],
        set_={c: stmt.excluded[c] for c in columns},
        where=sa.or_(*[table.c[c].is_distinct_from(stmt.excluded[c]) for c in compare]) if compare else None,
    )
    first_key = table.c[key[0]]
    written = len(conn.execute(stmt.returning(first_key)).all())
    return WriteResult(table.name, 0, written)


@dataclass
class ProcessorRun:
    """Collects the write results of one processor run; the run's ``records_processed`` is
    their sum and nothing else."""

    processor_name: str
    data_date: date | None
    run_id: str | None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    writes: list[WriteResult] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    _t0: float = field(default_factory=time.perf_counter)

    def add(self, result: WriteResult) -> WriteResult:
        self.writes.append(result)
        return result

    @property
    def records_processed(self) -> int:
        return sum(w.inserted for w in self.writes)

    @property
    def records_deleted(self) -> int:
        return sum(w.deleted for w in self.writes)

    @property
    def duration_seconds(self) -> float:
        return time.perf_counter() - self._t0


@contextmanager
def processor_run(
    engine: sa.Engine, processor_name: str, data_date: date | None, run_id: str | None
) -> Iterator[tuple[sa.Connection, ProcessorRun]]:
    """``with processor_run(engine, "games", d, run_id) as (conn, run): run.add(replace_partition(...))``

    The data writes commit in one transaction; the history row is written afterwards in its
    own transaction — success with the real count, or failure with the classified error (the
    data transaction having rolled back, so nothing was half-written)."""
    run = ProcessorRun(processor_name, data_date, run_id)
    try:
        with engine.begin() as conn:
            yield conn, run
    except BaseException as exc:
        error = classify_exception(exc) if isinstance(exc, Exception) else None
        _write_history(engine, run, "failed", error)
        if error is not None and error is not exc:
            raise error from exc
        raise
    _write_history(engine, run, "success", None)


def _write_history(engine: sa.Engine, run: ProcessorRun, status: str, error: PipelineError | None) -> None:
    with engine.begin() as conn:
        conn.execute(
            processor_run_history.insert().values(
                processor_name=run.processor_name,
                data_date=run.data_date,
                run_id=run.run_id,
                status=status,
                records_processed=run.records_processed if status == "success" else 0,
                records_deleted=run.records_deleted if status == "success" else 0,
                started_at=run.started_at,
                finished_at=datetime.now(UTC),
                duration_seconds=run.duration_seconds,
                error_message=str(error) if error else None,
                details=jsonable(
                    {
                        **run.details,
                        "writes": [w.__dict__ for w in run.writes] if status == "success" else [],
                        **({"error": error.as_dict()} if error else {}),
                    }
                ),
            )
        )


def jsonable(value: Any) -> Any:
    """JSONB columns take plain JSON: dates, UUIDs and enums become strings."""
    return json.loads(json.dumps(value, default=str))
