"""Run an SQL check: its query returns offending rows; none means the check passes.

One read-only statement returns both the first rows and the total count
(``count(*) OVER ()`` is computed before ``LIMIT``), so the two always agree."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from nba_notify.lib.errors import ErrorCategory, PipelineError
from nba_notify.lib.sqlmodels.failures import sql_failure
from nba_notify.lib.sqlmodels.project import SqlCheck

TOTAL_COLUMN = "__sqlmodels_offending_total"
MAX_CELL_CHARS = 80


@dataclass(frozen=True)
class CheckOutcome:
    check: str
    offending_count: int
    columns: tuple[str, ...]
    sample_rows: tuple[tuple[Any, ...], ...]
    rendered_sql: str

    @property
    def passed(self) -> bool:
        return self.offending_count == 0


def check_statement(check: SqlCheck) -> tuple[str, int]:
    """The wrapped query and where the check's own SQL starts in it."""
    prefix = f'SELECT q.*, count(*) OVER () AS "{TOTAL_COLUMN}" FROM (\n'
    # sample_rows is an int validated at load time (1..1000), not user text.
    suffix = f"\n) AS q LIMIT {int(check.config.sample_rows)}"
    return prefix + check.rendered_sql + suffix, len(prefix)


def run_check(engine: sa.Engine, check: SqlCheck) -> CheckOutcome:
    statement, body_offset = check_statement(check)
    try:
        with engine.connect() as conn, conn.begin():
            # A check only reads; a read-only transaction guarantees it.
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            try:
                result = conn.exec_driver_sql(statement.replace("%", "%%"))
            except sa.exc.DBAPIError as exc:
                raise sql_failure(
                    exc, check, statement=statement, body_offset=body_offset, action="check"
                ) from exc
            keys = list(result.keys())
            rows = result.all()
    except PipelineError:
        raise
    except sa.exc.SQLAlchemyError as exc:
        raise PipelineError(
            ErrorCategory.DATABASE,
            f"{check.relpath}: running the check failed: {str(exc).splitlines()[0]}",
            details={"file": check.relpath, "check": check.name},
        ) from exc
    total_index = keys.index(TOTAL_COLUMN)
    columns = tuple(k for i, k in enumerate(keys) if i != total_index)
    sample = tuple(tuple(v for i, v in enumerate(row) if i != total_index) for row in rows)
    count = int(rows[0][total_index]) if rows else 0
    return CheckOutcome(
        check=check.name,
        offending_count=count,
        columns=columns,
        sample_rows=sample,
        rendered_sql=check.rendered_sql,
    )


def markdown_table(columns: tuple[str, ...], rows: tuple[tuple[Any, ...], ...]) -> str:
    """A GitHub-flavoured markdown table; cells are shortened and pipes escaped."""
    if not columns:
        return "_no columns_"

    def cell(value: Any) -> str:
        text = "NULL" if value is None else str(value)
        text = text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
        return text if len(text) <= MAX_CELL_CHARS else text[: MAX_CELL_CHARS - 1] + "…"

    header = "| " + " | ".join(cell(c) for c in columns) + " |"
    rule = "| " + " | ".join("---" for _ in columns) + " |"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join([header, rule, *body])
