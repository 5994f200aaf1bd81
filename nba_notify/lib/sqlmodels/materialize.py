"""Build one model's relation in PostgreSQL, in one transaction.

* view:  ``CREATE OR REPLACE VIEW``; when PostgreSQL refuses because columns were removed,
  renamed or retyped, the view is dropped and created again.
* table: built under ``<name>__build`` and swapped in (drop old, rename new) in the same
  transaction, so readers see the old table or the new one, never a half-built one.

Dropping a relation drops the views built on it, so every project view depending on it is
re-created from the project in the same transaction (in dependency order); a dependent that
is not a model of this project makes the build fail instead of silently disappearing.
All builds in one schema are serialised with a transaction-level advisory lock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from nba_notify.lib.errors import ErrorCategory, PipelineError
from nba_notify.lib.sqlmodels.failures import sql_failure
from nba_notify.lib.sqlmodels.project import SqlModel, SqlProject
from nba_notify.lib.sqlmodels.sqltext import qualified, quote_identifier

BUILD_SUFFIX = "__build"
LOCK_TIMEOUT = "15s"
# PostgreSQL refuses CREATE OR REPLACE VIEW when columns change: 42P16 (dropped or renamed
# column), 42804 (changed data type). Both mean "drop and create".
_VIEW_SHAPE_SQLSTATES = frozenset({"42P16", "42804"})
_RELKIND_DDL = {"v": "VIEW", "r": "TABLE", "m": "MATERIALIZED VIEW", "p": "TABLE"}

Column = tuple[str, str]  # (name, PostgreSQL type)


@dataclass(frozen=True)
class MaterializeOutcome:
    model: str
    relation: str
    materialized: str
    row_count: int
    columns: tuple[Column, ...]
    rendered_sql: str
    rebuilt_dependents: tuple[str, ...] = ()


def materialize_model(engine: sa.Engine, project: SqlProject, name: str) -> MaterializeOutcome:
    model = project.models[name]
    try:
        with engine.begin() as conn:
            _lock_schema(conn, project.schema)
            # Replacing a relation waits for its readers, and readers arriving meanwhile queue
            # behind that wait: give up (retryably) rather than stall every reader.
            conn.execute(
                sa.text("SELECT set_config('lock_timeout', :timeout, true)"),
                {"timeout": LOCK_TIMEOUT},
            )
            conn.exec_driver_sql("CREATE SCHEMA IF NOT EXISTS " + quote_identifier(project.schema))
            existing = _relkind(conn, project.schema, model.name)
            if model.materialized == "view":
                rebuilt = _build_view(conn, project, model, existing)
            else:
                rebuilt = _build_table(conn, project, model, existing)
            row_count = int(conn.exec_driver_sql("SELECT count(*) FROM " + model.relation).scalar_one())
            columns = relation_columns(conn, project.schema, model.name)
    except PipelineError:
        raise
    except sa.exc.SQLAlchemyError as exc:
        raise PipelineError(
            ErrorCategory.DATABASE,
            f"{model.relpath}: building {model.relation} failed: {str(exc).splitlines()[0]}",
            details={"file": model.relpath, "model": model.name},
        ) from exc
    return MaterializeOutcome(
        model=model.name,
        relation=model.relation,
        materialized=model.materialized,
        row_count=row_count,
        columns=columns,
        rendered_sql=model.rendered_sql,
        rebuilt_dependents=rebuilt,
    )


# --------------------------------------------------------------------------- builds


def _build_view(
    conn: sa.Connection, project: SqlProject, model: SqlModel, existing: str | None
) -> tuple[str, ...]:
    if existing is None:
        _create(conn, model)
        return ()
    if existing == "v":
        try:
            with conn.begin_nested():
                _run_model_sql(conn, model, f"CREATE OR REPLACE VIEW {model.relation} AS\n")
            return ()
        except PipelineError as exc:
            if exc.details.get("sqlstate") not in _VIEW_SHAPE_SQLSTATES:
                raise
    return _replace(conn, project, model, existing, lambda: _create(conn, model))


def _build_table(
    conn: sa.Connection, project: SqlProject, model: SqlModel, existing: str | None
) -> tuple[str, ...]:
    build_name = model.name + BUILD_SUFFIX
    build_relation = qualified(project.schema, build_name)
    conn.exec_driver_sql("DROP TABLE IF EXISTS " + build_relation)
    _run_model_sql(conn, model, f"CREATE TABLE {build_relation} AS\n")

    def swap_in() -> None:
        conn.exec_driver_sql(f"ALTER TABLE {build_relation} RENAME TO {quote_identifier(model.name)}")

    if existing is None:
        swap_in()
        return ()
    return _replace(conn, project, model, existing, swap_in)


def _create(conn: sa.Connection, model: SqlModel) -> None:
    """Create ``model`` where nothing of that name exists."""
    if model.materialized == "view":
        _run_model_sql(conn, model, f"CREATE VIEW {model.relation} AS\n")
    else:
        _run_model_sql(conn, model, f"CREATE TABLE {model.relation} AS\n")


def _replace(
    conn: sa.Connection,
    project: SqlProject,
    model: SqlModel,
    existing: str,
    install: Callable[[], None],
) -> tuple[str, ...]:
    """Drop the existing relation (and the views on it), install the new one, re-create the
    dropped project views. Any failure rolls the whole transaction back."""
    dependents = dependent_relations(conn, project.schema, model.name)
    foreign = [
        f"{schema}.{name}"
        for schema, name in dependents
        if schema != project.schema or name not in project.models
    ]
    if foreign:
        raise PipelineError(
            ErrorCategory.VALIDATION,
            f"{model.relpath}: cannot replace {model.relation}: "
            f"{', '.join(sorted(foreign))} depend(s) on it and are not models of this project; "
            "drop or rebuild them first",
            details={"file": model.relpath, "dependents": sorted(foreign)},
        )
    conn.exec_driver_sql(f"DROP {_RELKIND_DDL.get(existing, 'TABLE')} {model.relation} CASCADE")
    install()
    dropped = {name for _, name in dependents}
    rebuilt = []
    for name in project.downstream_of(model.name):
        if name not in dropped:
            continue
        try:
            _create(conn, project.models[name])
        except PipelineError as exc:
            raise PipelineError(
                exc.category,
                f"{model.relpath}: re-creating dependent view {name} after replacing "
                f"{model.relation} failed:\n{exc.message}",
                details={**exc.details, "replacing": model.name, "dependent": name},
                recovery=exc.recovery,
            ) from exc
        rebuilt.append(name)
    return tuple(rebuilt)


def _run_model_sql(conn: sa.Connection, model: SqlModel, prefix: str) -> None:
    statement = prefix + model.rendered_sql
    try:
        # exec_driver_sql hands psycopg an empty parameter list, so '%' must be doubled.
        conn.exec_driver_sql(statement.replace("%", "%%"))
    except sa.exc.DBAPIError as exc:
        raise sql_failure(
            exc, model, statement=statement, body_offset=len(prefix), action="materialization"
        ) from exc


# --------------------------------------------------------------------------- catalog


def _lock_schema(conn: sa.Connection, schema: str) -> None:
    conn.execute(
        sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"nba_notify.sqlmodels:{schema}"},
    )


def _relkind(conn: sa.Connection, schema: str, name: str) -> str | None:
    return conn.execute(
        sa.text(
            "SELECT c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = :schema AND c.relname = :name"
        ),
        {"schema": schema, "name": name},
    ).scalar_one_or_none()


_DEPENDENTS_SQL = sa.text(
    """
    WITH RECURSIVE target(oid) AS (SELECT to_regclass(:relation)::oid),
    dependents(oid) AS (
        SELECT r.ev_class
        FROM target t
        JOIN pg_depend d ON d.refobjid = t.oid
        JOIN pg_rewrite r ON r.oid = d.objid
        WHERE d.classid = 'pg_rewrite'::regclass AND r.ev_class <> t.oid
      UNION
        SELECT r.ev_class
        FROM dependents x
        JOIN pg_depend d ON d.refobjid = x.oid
        JOIN pg_rewrite r ON r.oid = d.objid
        WHERE d.classid = 'pg_rewrite'::regclass AND r.ev_class <> x.oid
    )
    SELECT n.nspname, c.relname
    FROM dependents x
    JOIN pg_class c ON c.oid = x.oid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    ORDER BY n.nspname, c.relname
    """
)


def dependent_relations(conn: sa.Connection, schema: str, name: str) -> list[tuple[str, str]]:
    """Views (at any depth) whose definition reads ``schema.name``."""
    rows = conn.execute(_DEPENDENTS_SQL, {"relation": qualified(schema, name)})
    return [(row[0], row[1]) for row in rows]


def relation_columns(conn: sa.Connection, schema: str, name: str) -> tuple[Column, ...]:
    rows = conn.execute(
        sa.text(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod) "
            "FROM pg_attribute a WHERE a.attrelid = to_regclass(:relation) "
            "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"
        ),
        {"relation": qualified(schema, name)},
    )
    return tuple((row[0], row[1]) for row in rows)
