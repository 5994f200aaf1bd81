"""Turn a PostgreSQL error raised by a model's or check's SQL into a classified
``PipelineError`` naming the file, the line, and the rendered SQL line at fault.

Classification (documented in dbt_like_sql/README.md):

* VALIDATION -- the SQL itself is wrong and re-running cannot help: SQLSTATE classes
  42 (syntax error, undefined column/table/function), 22 (data exception: bad cast, division
  by zero), 21 (cardinality), 23 (integrity), 0A (feature not supported), 2B (dependent
  objects). Fix the file.
* DATABASE -- everything else (connection lost, lock timeout, serialization failure, disk
  full...): the transaction was rolled back and a retry may succeed.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from nba_notify.lib.errors import ErrorCategory, PipelineError, classify_exception
from nba_notify.lib.sqlmodels.project import FIX_THE_FILE, SqlFile
from nba_notify.lib.sqlmodels.sqltext import line_of_offset, line_text

SQL_DEFECT_SQLSTATE_CLASSES = frozenset({"42", "22", "21", "23", "0A", "2B"})


def category_for_sqlstate(sqlstate: str | None) -> ErrorCategory:
    if sqlstate and sqlstate[:2] in SQL_DEFECT_SQLSTATE_CLASSES:
        return ErrorCategory.VALIDATION
    return ErrorCategory.DATABASE


def sql_failure(
    exc: BaseException,
    sql_file: SqlFile,
    *,
    statement: str,
    body_offset: int,
    action: str,
) -> PipelineError:
    """``statement`` is exactly what was sent; the file's rendered SQL starts at
    ``body_offset`` in it (after ``CREATE VIEW ... AS`` or the check wrapper)."""
    if not isinstance(exc, sa.exc.DBAPIError):
        error = classify_exception(exc)
        error.details.setdefault("file", sql_file.relpath)
        return error
    orig: Any = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    diag = getattr(orig, "diag", None)
    primary = (getattr(diag, "message_primary", None) or str(orig).splitlines()[0]).strip()
    hint = getattr(diag, "message_hint", None)
    position = getattr(diag, "statement_position", None)

    rendered = sql_file.rendered_sql
    rendered_line: int | None = None
    file_line: int | None = None
    if position:
        # PostgreSQL positions are 1-based characters into the statement we sent.
        offset_in_body = int(position) - 1 - body_offset
        if 0 <= offset_in_body <= len(rendered):
            rendered_line = line_of_offset(rendered, offset_in_body)
            file_line = sql_file.template_line(rendered_line)

    where = sql_file.relpath + (f":{file_line}" if file_line else "")
    lines = [f"{where}: {action} failed: {primary}"]
    shown = ""
    if rendered_line is not None:
        shown = line_text(rendered, rendered_line)
        lines.append(f"  rendered line {rendered_line}: {shown.strip()}")
    if hint:
        lines.append(f"  hint: {hint}")
    category = category_for_sqlstate(sqlstate)
    return PipelineError(
        category,
        "\n".join(lines),
        recovery=FIX_THE_FILE if category == ErrorCategory.VALIDATION else None,
        details={
            "file": sql_file.relpath,
            "line": file_line,
            "rendered_line": rendered_line,
            "rendered_text": shown,
            "sqlstate": sqlstate,
            "statement": statement,
        },
    )
