"""SQL checks: offending rows fail the check with their count and a sample; severity and
blocking decide whether downstream models still build."""

from __future__ import annotations

import dagster as dg
import pytest

from nba_notify.defs.sql.factory import build_sql_definitions
from nba_notify.lib.errors import ErrorCategory, PipelineError
from nba_notify.lib.sqlmodels import load_project, markdown_table, materialize_model, run_check
from nba_notify_tests.sqlmodels.conftest import SOURCES, add_games

PROJECT = {
    "models/staging/stg.sql": """
        SELECT game_id, status, tipoff_utc FROM {{ source('public', 'games') }}
    """,
    "models/marts/downstream.sql": """
        SELECT count(*) AS games FROM {{ ref('stg') }}
    """,
    "checks/missing_tipoff.sql": """
        {{ config(asset='stg', description='Scheduled games have a tip-off.') }}
        SELECT game_id, status
        FROM {{ ref('stg') }}
        WHERE tipoff_utc IS NULL
        ORDER BY game_id
    """,
    "checks/finished_games.sql": """
        {{ config(asset='stg', severity='WARN') }}
        SELECT game_id FROM {{ ref('stg') }} WHERE status = 'final'
    """,
}


def run(write_project, schema, resources, files=PROJECT, extra_assets=()):
    project = load_project(write_project(files), schema=schema, sources=SOURCES)
    defs = build_sql_definitions(project)
    result = dg.materialize(
        [*defs.assets, *defs.asset_checks, *extra_assets],
        resources=resources,
        raise_on_error=False,
    )
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    return result, evaluations


def built(result, name: str) -> bool:
    return bool(result.asset_materializations_for_node(name))


def test_failing_error_check_reports_its_count_and_first_rows_and_blocks_downstream(
    db, schema, write_project, resources
):
    add_games(db, *(f"g{i:02d}" for i in range(25)), tipoff=None)

    result, evaluations = run(write_project, schema, resources)

    check = evaluations["missing_tipoff"]
    assert not check.passed
    assert check.severity == dg.AssetCheckSeverity.ERROR
    assert check.metadata["offending_row_count"].value == 25
    table = check.metadata["offending_rows"].value
    assert table.startswith("First 20 of 25 offending rows")
    assert "| game_id | status |" in table
    assert "| g00 | scheduled |" in table and "| g19 | scheduled |" in table
    assert "g20" not in table
    # Blocking: the model downstream of the failed asset is not built.
    assert built(result, "stg")
    assert not built(result, "downstream")


def test_passing_check_reports_zero_offending_rows(db, schema, write_project, resources):
    add_games(db, "g1", "g2")

    result, evaluations = run(write_project, schema, resources)

    assert result.success
    assert evaluations["missing_tipoff"].passed
    assert evaluations["missing_tipoff"].metadata["offending_row_count"].value == 0
    assert "offending_rows" not in evaluations["missing_tipoff"].metadata
    assert built(result, "downstream")


def test_warn_check_fails_with_warn_severity_without_blocking_downstream(
    db, schema, write_project, resources
):
    add_games(db, "g1", status="final")

    result, evaluations = run(write_project, schema, resources)

    check = evaluations["finished_games"]
    assert not check.passed
    assert check.severity == dg.AssetCheckSeverity.WARN
    assert check.metadata["offending_row_count"].value == 1
    assert evaluations["missing_tipoff"].passed
    assert built(result, "downstream")


def test_check_can_guard_a_python_asset(db, schema, write_project, resources):
    add_games(db, "g1", tipoff=None)

    @dg.asset(name="games")
    def games_asset() -> None:
        """Stands in for the ingest asset writing public.games."""

    files = {
        "models/stg.sql": "SELECT 1 AS x",
        "checks/raw_games_without_tipoff.sql": """
            {{ config(asset='games') }}
            SELECT game_id FROM {{ source('public', 'games') }} WHERE tipoff_utc IS NULL
        """,
    }
    _, evaluations = run(write_project, schema, resources, files, extra_assets=[games_asset])

    check = evaluations["raw_games_without_tipoff"]
    assert check.asset_key == dg.AssetKey("games")
    assert not check.passed
    assert check.metadata["offending_row_count"].value == 1


def test_check_sql_error_names_file_and_rendered_line(db, schema, write_project):
    files = {
        "models/m.sql": "SELECT 1 AS x",
        "checks/typo.sql": """
            {{ config(asset='m') }}
            SELECT x
            FROM {{ ref('m') }}
            WHERE y > 0
        """,
    }
    project = load_project(write_project(files), schema=schema, sources=SOURCES)
    materialize_model(db, project, "m")
    with pytest.raises(PipelineError) as caught:
        run_check(db, project.checks["typo"])
    assert caught.value.category == ErrorCategory.VALIDATION
    assert caught.value.message.startswith("checks/typo.sql:4: check failed:")
    assert "rendered line 3: WHERE y > 0" in caught.value.message


def test_checks_run_in_a_read_only_transaction(db, schema, write_project):
    files = {
        "models/m.sql": "SELECT 1 AS x",
        "checks/writes.sql": """
            {{ config(asset='m') }}
            SELECT nextval('{{ schema }}.counter') AS bumped
        """,
    }
    project = load_project(write_project(files), schema=schema, sources=SOURCES)
    with db.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        conn.exec_driver_sql(f'CREATE SEQUENCE "{schema}".counter')
    with pytest.raises(PipelineError) as caught:
        run_check(db, project.checks["writes"])
    assert "read-only transaction" in caught.value.message


def test_markdown_table_escapes_pipes_and_newlines_and_shows_nulls():
    table = markdown_table(("a", "b"), (("x|y", None), ("line\nbreak", 3)))
    assert table.splitlines() == [
        "| a | b |",
        "| --- | --- |",
        "| x\\|y | NULL |",
        "| line break | 3 |",
    ]
