"""The dbt_like_sql project as Dagster definitions (models, checks, sources, sql_models_job).

Loading fails with ``file:line: message`` for every bad model or check, so a broken SQL file
is seen at deploy time, not at 3 a.m."""

import dagster as dg

from nba_notify.defs.sql.factory import build_sql_definitions
from nba_notify.lib.sqlmodels import load_project


@dg.definitions
def sql_models() -> dg.Definitions:
    return build_sql_definitions(load_project())
