"""Loading a SQL project: what ref()/source()/config() record, dependency order, and every
load-time failure naming the file and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from nba_notify.lib.errors import ErrorCategory, PipelineError
from nba_notify.lib.sqlmodels import load_project
from nba_notify.lib.sqlmodels.project import PROJECT_DIR_ENV, dependency_order, find_project_dir
from nba_notify.lib.sqlmodels.sqltext import top_level_semicolons
from nba_notify_tests.sqlmodels.conftest import SOURCES


def load(root: Path):
    return load_project(root, sources=SOURCES)


def load_error(root: Path) -> PipelineError:
    with pytest.raises(PipelineError) as caught:
        load(root)
    assert caught.value.category == ErrorCategory.VALIDATION
    return caught.value


def test_ref_and_source_render_to_relations_and_are_recorded_with_their_lines(write_project):
    root = write_project(
        {
            "models/staging/base.sql": "SELECT game_id FROM {{ source('public', 'games') }}\n",
            "models/marts/report.sql": """
                {{ config(materialized='table') }}
                SELECT b.game_id
                FROM {{ ref('base') }} AS b
            """,
        }
    )
    project = load(root)
    report = project.models["report"]
    assert report.rendered_sql == 'SELECT b.game_id\nFROM "analytics"."base" AS b'
    assert [(r.name, r.line) for r in report.refs] == [("base", 3)]
    base = project.models["base"]
    assert [(s.schema, s.table, s.line) for s in base.sources] == [("public", "games", 1)]
    assert base.rendered_sql == 'SELECT game_id FROM "public"."games"'


def test_refs_inside_jinja_control_flow_count_only_when_rendered(write_project):
    root = write_project(
        {
            "models/a.sql": "SELECT 1 AS x\n",
            "models/b.sql": "SELECT 2 AS x\n",
            "models/never.sql": "SELECT 3 AS x\n",
            "models/union_all.sql": """
                {% set parts = ['a', 'b'] %}
                {% for part in parts %}
                SELECT x FROM {{ ref(part) }}{% if not loop.last %} UNION ALL{% endif %}
                {% endfor %}
                {% if false %}{{ ref('never') }}{% endif %}
            """,
        }
    )
    model = load(root).models["union_all"]
    assert model.ref_names == ("a", "b")
    assert {ref.line for ref in model.refs} == {3}
    assert "never" not in model.rendered_sql


def test_models_are_ordered_after_the_models_they_ref(write_project):
    root = write_project(
        {
            "models/marts/z_report.sql": "SELECT * FROM {{ ref('b_mid') }} JOIN {{ ref('a_base') }} USING (x)",
            "models/staging/b_mid.sql": "SELECT * FROM {{ ref('a_base') }}",
            "models/staging/a_base.sql": "SELECT 1 AS x",
            "models/staging/c_alone.sql": "SELECT 2 AS y",
        }
    )
    order = list(load(root).models)
    assert sorted(order) == ["a_base", "b_mid", "c_alone", "z_report"]
    assert order.index("a_base") < order.index("b_mid") < order.index("z_report")


def test_dependency_order_reports_the_cycle_in_ref_direction():
    order, cycle = dependency_order({"a": ("b",), "b": ("c",), "c": ("a",), "d": ()})
    assert order == ()
    assert cycle is not None and cycle[0] == cycle[-1]
    steps = list(zip(cycle, cycle[1:], strict=False))
    assert all(following in {"a": "b", "b": "c", "c": "a"}[current] for current, following in steps)


def test_cycle_is_rejected_naming_every_file_and_ref_line(write_project):
    root = write_project(
        {
            "models/staging/one.sql": "SELECT * FROM {{ ref('two') }}",
            "models/staging/two.sql": "-- two\nSELECT * FROM {{ ref('three') }}",
            "models/marts/three.sql": "-- three\n\nSELECT * FROM {{ ref('one') }}",
        }
    )
    message = load_error(root).message
    assert "dependency cycle" in message
    assert "models/staging/one.sql:1 ref('two')" in message
    assert "models/staging/two.sql:2 ref('three')" in message
    assert "models/marts/three.sql:3 ref('one')" in message


def test_model_referring_to_itself_is_a_cycle(write_project):
    root = write_project({"models/loop.sql": "SELECT * FROM {{ ref('loop') }}"})
    assert "dependency cycle" in load_error(root).message


def test_unknown_ref_is_rejected_with_file_and_line(write_project):
    root = write_project(
        {
            "models/staging/stg_games.sql": "SELECT 1 AS x",
            "models/marts/report.sql": """
                SELECT *
                FROM {{ ref('stg_games') }}
                JOIN {{ ref('stg_gamez') }} USING (x)
            """,
        }
    )
    error = load_error(root)
    assert "models/marts/report.sql:3: unknown ref('stg_gamez')" in error.message
    assert "did you mean 'stg_games'?" in error.message
    assert error.details["problems"] == [
        {
            "file": "models/marts/report.sql",
            "line": 3,
            "message": error.details["problems"][0]["message"],
        }
    ]


def test_jinja_syntax_error_names_file_and_line(write_project):
    root = write_project(
        {
            "models/ok.sql": "SELECT 1 AS x",
            "models/broken.sql": "SELECT\n  x\nFROM {{ ref('ok' }}\n",
        }
    )
    message = load_error(root).message
    assert "models/broken.sql:3: Jinja syntax error" in message


def test_undefined_jinja_variable_names_file_and_line(write_project):
    root = write_project({"models/typo.sql": "SELECT 1 AS x\n{{ ref_typo('x') }}\n"})
    assert "models/typo.sql:2: UndefinedError" in load_error(root).message


def test_source_not_declared_in_sources_yml_is_rejected_with_line(write_project):
    root = write_project({"models/m.sql": "-- m\nSELECT * FROM {{ source('public', 'nope') }}"})
    message = load_error(root).message
    assert "models/m.sql:2: source('public', 'nope') is not declared in sources.yml" in message


def test_every_problem_of_the_project_is_reported_at_once(write_project):
    root = write_project(
        {
            "models/a.sql": "SELECT * FROM {{ ref('missing_a') }}",
            "models/b.sql": "SELECT {{ broken",
            "checks/c.sql": "SELECT 1",
        }
    )
    error = load_error(root)
    files = {problem["file"] for problem in error.details["problems"]}
    assert files == {"models/a.sql", "models/b.sql", "checks/c.sql"}
    assert "3 problem(s)" in error.message


def test_model_config_defaults_to_a_view_grouped_by_its_folder(write_project):
    root = write_project(
        {
            "models/staging/plain.sql": "SELECT 1 AS x",
            "models/top.sql": "SELECT 1 AS x",
            "models/marts/custom.sql": """
                {{ config(materialized='table', group='quality', description='d', tags=['daily']) }}
                SELECT 1 AS x
            """,
        }
    )
    models = load(root).models
    assert models["plain"].materialized == "view"
    assert models["plain"].group_name == "staging"
    assert models["top"].group_name == "sql_models"
    custom = models["custom"]
    assert (custom.materialized, custom.group_name, custom.config.tags) == ("table", "quality", ("daily",))
    assert custom.config.description == "d"


def test_unknown_config_option_is_rejected_at_the_config_line(write_project):
    root = write_project({"models/m.sql": "-- m\n{{ config(materialised='table') }}\nSELECT 1"})
    assert "models/m.sql:2: config(): unknown option(s) ['materialised']" in load_error(root).message


def test_check_severity_defaults_to_blocking_error_and_warn_does_not_block(write_project):
    root = write_project(
        {
            "models/m.sql": "SELECT 1 AS x",
            "checks/hard.sql": "{{ config(asset='m') }}\nSELECT * FROM {{ ref('m') }} WHERE x < 0",
            "checks/soft.sql": "{{ config(asset='m', severity='warn') }}\nSELECT 1 WHERE false",
            "checks/on_python.sql": "{{ config(asset='games', blocking=false) }}\nSELECT 1 WHERE false",
        }
    )
    checks = load(root).checks
    assert (checks["hard"].config.severity, checks["hard"].config.blocking) == ("ERROR", True)
    assert (checks["soft"].config.severity, checks["soft"].config.blocking) == ("WARN", False)
    assert checks["hard"].target_is_model and checks["hard"].target == ("m",)
    assert not checks["on_python"].target_is_model and checks["on_python"].target == ("games",)
    assert checks["on_python"].config.blocking is False


def test_check_without_target_asset_is_rejected(write_project):
    root = write_project({"checks/orphan.sql": "SELECT 1 WHERE false"})
    assert "checks/orphan.sql:1: a check needs {{ config(asset=" in load_error(root).message


def test_a_second_statement_is_rejected(write_project):
    root = write_project({"models/m.sql": "SELECT 1 AS x;\nDROP TABLE games;"})
    assert "models/m.sql:1: must be a single SELECT statement" in load_error(root).message


def test_a_trailing_semicolon_is_allowed(write_project):
    root = write_project({"models/m.sql": "SELECT 1 AS x;\n"})
    assert load(root).models["m"].rendered_sql == "SELECT 1 AS x"


def test_semicolons_in_strings_identifiers_comments_and_dollar_quotes_are_not_statements():
    sql = (
        "SELECT 'a;b', E'it\\'s;', \"we;ird\", $$x;y$$, $t$;$t$ -- c;\n"
        "/* one; /* nested; */ still; */ FROM t; SELECT 2"
    )
    assert top_level_semicolons(sql) == [sql.index("; SELECT 2")]


def test_duplicate_model_names_in_different_folders_are_rejected(write_project):
    root = write_project({"models/a/x.sql": "SELECT 1", "models/b/x.sql": "SELECT 2"})
    message = load_error(root).message
    assert "models/b/x.sql: duplicate model name 'x' (models/a/x.sql)" in message


def test_model_named_like_a_source_asset_is_rejected(write_project):
    root = write_project({"models/games.sql": "SELECT * FROM {{ source('public', 'games') }}"})
    assert "model name 'games' is also the asset key" in load_error(root).message


def test_every_rendered_line_knows_its_template_line(write_project):
    root = write_project(
        {
            "models/a.sql": "SELECT 1 AS x",
            "models/b.sql": "SELECT 2 AS x",
            "models/m.sql": """
                {{ config(
                    materialized='view'
                ) }}
                SELECT x
                FROM (
                {% for part in ['a', 'b'] %}
                    SELECT x FROM {{ ref(part) }}
                    {% if not loop.last %}UNION ALL{% endif %}
                {% endfor %}
                ) AS parts
                WHERE x > 0
            """,
        }
    )
    model = load(root).models["m"]
    lines = model.rendered_sql.splitlines()
    origin = {text.strip(): model.template_line(n) for n, text in enumerate(lines, 1) if text.strip()}
    assert origin["SELECT x"] == 4
    assert origin['SELECT x FROM "analytics"."b"'] == 7
    assert origin["UNION ALL"] == 8
    assert origin["WHERE x > 0"] == 11


def test_project_dir_is_found_next_to_the_package_and_overridable(tmp_path, monkeypatch):
    monkeypatch.delenv(PROJECT_DIR_ENV, raising=False)
    assert find_project_dir() == Path(__file__).resolve().parents[2] / "dbt_like_sql"
    monkeypatch.setenv(PROJECT_DIR_ENV, str(tmp_path))
    assert find_project_dir() == tmp_path.resolve()


def test_the_real_project_loads_with_its_sources_yml():
    project = load_project()
    assert {"stg_games", "stg_player_box_scores", "stg_scrape_events"} <= set(project.models)
    assert project.source("public", "games").asset_keys == (("games",),)
    assert project.source("public", "scrape_events").external
    assert project.checks["games_without_tipoff"].target == ("stg_games",)
