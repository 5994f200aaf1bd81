"""The dbt-like SQL runner: ``dbt_like_sql/`` models and checks, parsed with Jinja2 and
built in PostgreSQL. Pure logic; the Dagster wiring is in ``nba_notify.defs.sql``.

    project = load_project()                       # or load_project(path, schema=...)
    materialize_model(engine, project, "stg_games")  # -> MaterializeOutcome
    run_check(engine, project.checks["games_without_tipoff"])  # -> CheckOutcome
"""

from nba_notify.lib.sqlmodels.checks import CheckOutcome, markdown_table, run_check
from nba_notify.lib.sqlmodels.materialize import MaterializeOutcome, materialize_model
from nba_notify.lib.sqlmodels.project import (
    DEFAULT_SCHEMA,
    PROJECT_DIR_ENV,
    CheckConfig,
    ModelConfig,
    SqlCheck,
    SqlModel,
    SqlProject,
    find_project_dir,
    load_project,
)
from nba_notify.lib.sqlmodels.sources import SourceTable

__all__ = [
    "DEFAULT_SCHEMA",
    "PROJECT_DIR_ENV",
    "CheckConfig",
    "CheckOutcome",
    "MaterializeOutcome",
    "ModelConfig",
    "SourceTable",
    "SqlCheck",
    "SqlModel",
    "SqlProject",
    "find_project_dir",
    "load_project",
    "markdown_table",
    "materialize_model",
    "run_check",
]
