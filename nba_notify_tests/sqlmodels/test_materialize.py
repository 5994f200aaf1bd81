"""Building models in PostgreSQL: views, atomic table swaps, dependents, and SQL errors that
name the file and the rendered line."""

from __future__ import annotations

import threading
import time

import dagster as dg
import pytest
import sqlalchemy as sa

from nba_notify.defs.sql.factory import build_sql_definitions
from nba_notify.lib.errors import ErrorCategory, PipelineError
from nba_notify.lib.sqlmodels import load_project, materialize_model
from nba_notify.lib.sqlmodels.failures import category_for_sqlstate
from nba_notify_tests.sqlmodels.conftest import SOURCES, add_games


def relkind(engine: sa.Engine, schema: str, name: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(
            sa.text(
                "SELECT c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = :s AND c.relname = :n"
            ),
            {"s": schema, "n": name},
        ).scalar_one_or_none()


def count(engine: sa.Engine, schema: str, name: str) -> int:
    with engine.connect() as conn:
        return conn.exec_driver_sql(f'SELECT count(*) FROM "{schema}"."{name}"').scalar_one()


def test_view_materialization_reports_row_count_columns_and_rendered_sql(
    db, schema, write_project, resources
):
    add_games(db, "g1", "g2")
    add_games(db, "g3", status="final")
    root = write_project(
        {
            "models/staging/scheduled_games.sql": """
                {{ config(description='Games still to be played.') }}
                SELECT game_id, tipoff_utc
                FROM {{ source('public', 'games') }}
                WHERE status = 'scheduled'
            """
        }
    )
    defs = build_sql_definitions(load_project(root, schema=schema, sources=SOURCES))
    result = dg.materialize(list(defs.assets), resources=resources)

    assert result.success
    (materialization,) = result.asset_materializations_for_node("scheduled_games")
    metadata = materialization.metadata
    assert metadata["dagster/row_count"].value == 2
    columns = metadata["dagster/column_schema"].value.columns
    assert [(c.name, c.type) for c in columns] == [
        ("game_id", "character varying(16)"),
        ("tipoff_utc", "timestamp with time zone"),
    ]
    assert 'FROM "public"."games"' in metadata["rendered_sql"].value
    assert metadata["relation"].value == f'"{schema}"."scheduled_games"'
    assert relkind(db, schema, "scheduled_games") == "v"
    # A view follows its source without being rebuilt.
    add_games(db, "g4")
    assert count(db, schema, "scheduled_games") == 3


def test_view_whose_columns_change_is_recreated_with_its_dependent_views(db, schema, write_project):
    files = {
        "models/base.sql": "SELECT 1 AS a, 2 AS b",
        "models/uses_a.sql": "SELECT a FROM {{ ref('base') }}",
    }
    project = load_project(write_project(files), schema=schema, sources=SOURCES)
    for name in project.models:
        materialize_model(db, project, name)

    # Dropping column b is refused by CREATE OR REPLACE VIEW: drop and create instead.
    files["models/base.sql"] = "SELECT 10 AS a"
    project = load_project(write_project(files), schema=schema, sources=SOURCES)
    outcome = materialize_model(db, project, "base")

    assert outcome.columns == (("a", "integer"),)
    assert outcome.rebuilt_dependents == ("uses_a",)
    with db.connect() as conn:
        assert conn.exec_driver_sql(f'SELECT a FROM "{schema}"."uses_a"').scalar_one() == 10


def test_change_that_breaks_a_dependent_view_rolls_back_entirely(db, schema, write_project):
    files = {
        "models/base.sql": "SELECT 1 AS a, 2 AS b",
        "models/uses_b.sql": "SELECT b FROM {{ ref('base') }}",
    }
    project = load_project(write_project(files), schema=schema, sources=SOURCES)
    for name in project.models:
        materialize_model(db, project, name)

    files["models/base.sql"] = "SELECT 1 AS a"
    project = load_project(write_project(files), schema=schema, sources=SOURCES)
    with pytest.raises(PipelineError) as caught:
        materialize_model(db, project, "base")

    message = caught.value.message
    assert message.startswith("models/base.sql: re-creating dependent view uses_b")
    assert 'models/uses_b.sql:1: materialization failed: column "b" does not exist' in message
    with db.connect() as conn:
        assert conn.exec_driver_sql(f'SELECT b FROM "{schema}"."uses_b"').scalar_one() == 2


def test_table_materialization_is_idempotent_and_leaves_no_build_table(db, schema, write_project):
    add_games(db, "g1", "g2")
    root = write_project(
        {
            "models/marts/game_counts.sql": """
                {{ config(materialized='table') }}
                SELECT status, count(*) AS games FROM {{ source('public', 'games') }} GROUP BY status
            """
        }
    )
    project = load_project(root, schema=schema, sources=SOURCES)
    first = materialize_model(db, project, "game_counts")
    second = materialize_model(db, project, "game_counts")

    assert first.row_count == second.row_count == 1
    assert first.columns == second.columns == (("status", "character varying(16)"), ("games", "bigint"))
    assert relkind(db, schema, "game_counts") == "r"
    assert relkind(db, schema, "game_counts__build") is None
    add_games(db, "g3", status="final")
    assert materialize_model(db, project, "game_counts").row_count == 2


def test_readers_see_the_old_table_until_the_rebuilt_one_is_swapped_in(db, schema, write_project):
    add_games(db, "g1", "g2")
    root = write_project(
        {
            "models/t.sql": """
                {{ config(materialized='table') }}
                SELECT game_id FROM {{ source('public', 'games') }}
            """
        }
    )
    project = load_project(root, schema=schema, sources=SOURCES)
    materialize_model(db, project, "t")
    add_games(db, "g3")

    reader = db.connect()
    reader_txn = reader.begin()
    assert reader.exec_driver_sql(f'SELECT count(*) FROM "{schema}"."t"').scalar_one() == 2
    outcome: list = []
    builder = threading.Thread(target=lambda: outcome.append(materialize_model(db, project, "t")))
    builder.start()
    try:
        # The builder has built the new table and now waits for the reader to let go.
        deadline = time.monotonic() + 15
        with db.connect() as observer:
            while not observer.execute(
                sa.text(
                    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE NOT granted "
                    "AND relation = to_regclass(:rel)::oid)"
                ),
                {"rel": f'"{schema}"."t"'},
            ).scalar_one():
                assert time.monotonic() < deadline, "builder never reached the swap"
                time.sleep(0.02)
            # Half-built state is invisible to everyone else.
            assert (
                observer.execute(
                    sa.text("SELECT to_regclass(:rel)"), {"rel": f'"{schema}"."t__build"'}
                ).scalar_one()
                is None
            )
        assert reader.exec_driver_sql(f'SELECT count(*) FROM "{schema}"."t"').scalar_one() == 2
    finally:
        reader_txn.commit()
        reader.close()
        builder.join(timeout=30)
    assert outcome and outcome[0].row_count == 3
    assert count(db, schema, "t") == 3


def test_failed_table_rebuild_keeps_the_previous_table_and_its_dependents(db, schema, write_project):
    add_games(db, "g1", "g2")
    files = {
        "models/t.sql": """
            {{ config(materialized='table') }}
            SELECT game_id, 1 AS one FROM {{ source('public', 'games') }}
        """,
        "models/on_t.sql": "SELECT game_id FROM {{ ref('t') }}",
    }
    project = load_project(write_project(files), schema=schema, sources=SOURCES)
    materialize_model(db, project, "t")
    materialize_model(db, project, "on_t")

    files["models/t.sql"] = """
        {{ config(materialized='table') }}
        SELECT game_id, 1 / (CASE WHEN game_id = 'g2' THEN 0 ELSE 1 END) AS one
        FROM {{ source('public', 'games') }}
    """
    broken = load_project(write_project(files), schema=schema, sources=SOURCES)
    with pytest.raises(PipelineError) as caught:
        materialize_model(db, broken, "t")

    assert caught.value.category == ErrorCategory.VALIDATION
    assert "models/t.sql" in caught.value.message
    assert "division by zero" in caught.value.message
    assert count(db, schema, "t") == 2
    assert count(db, schema, "on_t") == 2
    assert relkind(db, schema, "t__build") is None


def test_rebuild_that_would_drop_a_view_outside_the_project_is_refused(db, schema, write_project):
    add_games(db, "g1")
    root = write_project(
        {
            "models/t.sql": "{{ config(materialized='table') }}\nSELECT game_id FROM {{ source('public', 'games') }}"
        }
    )
    project = load_project(root, schema=schema, sources=SOURCES)
    materialize_model(db, project, "t")
    with db.begin() as conn:
        conn.exec_driver_sql(f'CREATE VIEW "{schema}"."hand_made" AS SELECT * FROM "{schema}"."t"')

    with pytest.raises(PipelineError) as caught:
        materialize_model(db, project, "t")
    assert f"{schema}.hand_made" in caught.value.message
    assert count(db, schema, "hand_made") == 1


def test_switching_a_model_from_view_to_table_replaces_the_relation(db, schema, write_project):
    add_games(db, "g1")
    files = {
        "models/m.sql": "SELECT game_id FROM {{ source('public', 'games') }}",
        "models/on_m.sql": "SELECT count(*) AS n FROM {{ ref('m') }}",
    }
    project = load_project(write_project(files), schema=schema, sources=SOURCES)
    materialize_model(db, project, "m")
    materialize_model(db, project, "on_m")

    files["models/m.sql"] = "{{ config(materialized='table') }}\n" + files["models/m.sql"]
    project = load_project(write_project(files), schema=schema, sources=SOURCES)
    outcome = materialize_model(db, project, "m")

    assert relkind(db, schema, "m") == "r"
    assert outcome.rebuilt_dependents == ("on_m",)
    assert count(db, schema, "on_m") == 1


SQL_WITH_TYPO = """
{{ config(
    materialized='view',
    description='the multi-line header renders to nothing, shifting rendered lines'
) }}
SELECT
    game_id,
    tipoff_utcc
FROM {{ source('public', 'games') }}
"""


def test_sql_error_names_the_file_line_and_offending_rendered_line(db, schema, write_project):
    root = write_project({"models/staging/bad.sql": SQL_WITH_TYPO})
    project = load_project(root, schema=schema, sources=SOURCES)

    with pytest.raises(PipelineError) as caught:
        materialize_model(db, project, "bad")

    error = caught.value
    assert error.category == ErrorCategory.VALIDATION
    assert error.message.startswith("models/staging/bad.sql:7: materialization failed:")
    assert 'column "tipoff_utcc" does not exist' in error.message
    assert "rendered line 3: tipoff_utcc" in error.message
    assert (error.details["line"], error.details["rendered_line"]) == (7, 3)
    assert error.details["sqlstate"] == "42703"
    assert relkind(db, schema, "bad") is None


def test_sql_error_fails_the_dagster_materialization_with_file_and_line(db, schema, write_project, resources):
    root = write_project({"models/staging/bad.sql": SQL_WITH_TYPO})
    defs = build_sql_definitions(load_project(root, schema=schema, sources=SOURCES))

    result = dg.materialize(list(defs.assets), resources=resources, raise_on_error=False)

    assert not result.success
    (failure,) = result.get_step_failure_events()
    # Dagster wraps the exception raised by the asset; ours is the cause shown in the UI.
    message = failure.step_failure_data.error.cause.message
    assert message.startswith("nba_notify.lib.errors.PipelineError: [VALIDATION]")
    assert "models/staging/bad.sql:7" in message
    assert "rendered line 3: tipoff_utcc" in message


def test_sql_defects_are_validation_errors_and_server_trouble_is_a_database_error():
    assert category_for_sqlstate("42703") == ErrorCategory.VALIDATION  # undefined column
    assert category_for_sqlstate("22012") == ErrorCategory.VALIDATION  # division by zero
    assert category_for_sqlstate("40001") == ErrorCategory.DATABASE  # serialization failure
    assert category_for_sqlstate("57014") == ErrorCategory.DATABASE  # statement timeout
    assert category_for_sqlstate(None) == ErrorCategory.DATABASE
