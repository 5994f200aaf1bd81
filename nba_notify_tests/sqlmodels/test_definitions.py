"""The real dbt_like_sql project as Dagster definitions: lineage to the Python assets,
external sources, groups, selection by folder, and sql_models_job end to end."""

from __future__ import annotations

import dagster as dg
import pytest

from nba_notify.defs.resources import PostgresResource
from nba_notify.defs.sql.definitions import sql_models
from nba_notify.defs.sql.factory import SQL_MODELS_JOB, sql_models_selection
from nba_notify.lib.errors import PipelineError
from nba_notify.lib.sqlmodels import PROJECT_DIR_ENV, load_project
from nba_notify_tests.sqlmodels.conftest import add_games

STAGING = {"stg_games", "stg_player_box_scores", "stg_scrape_events", "stg_processor_runs"}


def with_database(url: str | None = None) -> dg.Definitions:
    return dg.Definitions.merge(
        sql_models(), dg.Definitions(resources={"database": PostgresResource(url=url)})
    )


@pytest.fixture(scope="module")
def graph():
    # Resolving validates resources, so bind one (it connects only when an asset runs).
    return with_database().resolve_asset_graph()


def test_every_model_is_an_asset_with_lineage_to_the_asset_writing_its_source(graph):
    stg_games = graph.get(dg.AssetKey("stg_games"))
    assert stg_games.parent_keys == {dg.AssetKey("games")}
    assert stg_games.group_name == "staging"
    assert {"sql", "postgres"} <= set(stg_games.kinds)
    assert stg_games.description.startswith("One row per league game")
    assert graph.get(dg.AssetKey("stg_player_box_scores")).parent_keys == {dg.AssetKey("player_box_scores")}
    # games is written by a Python asset elsewhere, so it is only referenced here.
    assert graph.get(dg.AssetKey("games")).is_external


def test_tables_no_python_asset_writes_are_declared_as_external_sources(graph):
    scrape_events = graph.get(dg.AssetKey("scrape_events"))
    assert scrape_events.is_external and scrape_events.group_name == "sql_sources"
    assert graph.get(dg.AssetKey("stg_scrape_events")).parent_keys == {dg.AssetKey("scrape_events")}


def test_checks_are_attached_to_the_assets_named_in_their_config(graph):
    assert dg.AssetCheckKey(dg.AssetKey("stg_games"), "games_without_tipoff") in graph.asset_check_keys
    assert (
        dg.AssetCheckKey(dg.AssetKey("stg_player_box_scores"), "duplicate_player_rows")
        in graph.asset_check_keys
    )


def test_models_are_selectable_by_folder_tag_and_group(graph):
    project = load_project()
    assert sql_models_selection(project, "staging").resolve(graph) == {dg.AssetKey(name) for name in STAGING}
    by_tag = dg.AssetSelection.tag("sql_folder", "staging").resolve(graph)
    by_group = dg.AssetSelection.groups("staging").resolve(graph)
    assert by_tag == by_group == {dg.AssetKey(name) for name in STAGING}


def test_sql_models_job_builds_every_model_and_runs_their_checks(db, database_url):
    add_games(db, "0022600301")
    add_games(db, "0022600302", tipoff=None)
    defs = with_database(database_url)

    result = defs.resolve_job_def(SQL_MODELS_JOB).execute_in_process(raise_on_error=False)

    built = {m.asset_key.to_user_string() for m in result.get_asset_materialization_events()}
    assert built >= STAGING
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    checks_on_models = {c.name for c in load_project().checks.values() if c.target_is_model}
    assert set(evaluations) == checks_on_models
    missing = evaluations["games_without_tipoff"]
    assert not missing.passed and missing.metadata["offending_row_count"].value == 1
    assert "0022600302" in missing.metadata["offending_rows"].value
    assert evaluations["duplicate_player_rows"].passed


def test_a_broken_sql_file_fails_definition_loading_naming_file_and_line(write_project, monkeypatch):
    root = write_project({"models/staging/stg_x.sql": "SELECT 1 AS x\nFROM {{ ref('nowhere') }}\n"})
    monkeypatch.setenv(PROJECT_DIR_ENV, str(root))
    with pytest.raises(PipelineError) as caught:
        sql_models()
    assert "models/staging/stg_x.sql:2: unknown ref('nowhere')" in caught.value.message


def test_unpartitioned_models_build_downstream_of_a_daily_partitioned_python_asset(db, database_url):
    @dg.asset(name="games", partitions_def=dg.DailyPartitionsDefinition(start_date="2026-10-01"))
    def games_asset() -> None:
        """Stands in for the daily-partitioned ingest asset."""

    defs = dg.Definitions.merge(with_database(database_url), dg.Definitions(assets=[games_asset]))
    assert defs.resolve_asset_graph().get(dg.AssetKey("stg_games")).parent_keys == {dg.AssetKey("games")}

    result = defs.resolve_job_def(SQL_MODELS_JOB).execute_in_process(raise_on_error=False)

    assert result.success
    assert result.asset_materializations_for_node("stg_games")
