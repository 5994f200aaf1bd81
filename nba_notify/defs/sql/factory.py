"""Dagster wiring of a parsed SQL project: one asset per model, one asset check per check,
an external AssetSpec per source no Python asset writes, and ``sql_models_job``.

Thin shells only: parsing, building and checking live in ``nba_notify.lib.sqlmodels``."""

import hashlib
import warnings
from collections.abc import Iterable

import dagster as dg

from nba_notify.defs.resources import PostgresResource
from nba_notify.lib.sqlmodels import (
    SqlCheck,
    SqlModel,
    SqlProject,
    markdown_table,
    materialize_model,
    run_check,
)
from nba_notify.lib.sqlmodels.sources import AssetKeyPath

SQL_MODELS_JOB = "sql_models_job"
FOLDER_TAG = "sql_folder"
SOURCES_GROUP = "sql_sources"
KINDS = {"sql", "postgres"}


def _unique_keys(paths: Iterable[AssetKeyPath]) -> list[dg.AssetKey]:
    return [dg.AssetKey(list(path)) for path in dict.fromkeys(paths)]


def upstream_keys(project: SqlProject, sql_file: SqlModel | SqlCheck) -> list[dg.AssetKey]:
    """Assets a file reads: the models it refs and the assets writing its sources."""
    paths: list[AssetKeyPath] = [(name,) for name in sql_file.ref_names]
    for source_id in sql_file.source_ids:
        paths.extend(project.sources[source_id].asset_keys)
    return _unique_keys(paths)


def _sql_markdown(sql: str) -> dg.MetadataValue:
    return dg.MetadataValue.md(f"```sql\n{sql}\n```")


def _code_reference(path: str) -> dg.CodeReferencesMetadataValue:
    """Lets the UI open the SQL file. The API is marked beta; its warning is noise here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        return dg.CodeReferencesMetadataValue(
            code_references=[dg.LocalFileCodeReference(file_path=path, line_number=1)]
        )


def folder_tag_value(model: SqlModel) -> str:
    # Tag values cannot contain "/": nested folders are joined with ".".
    return model.folder.replace("/", ".") if model.folder else "root"


def sql_model_asset(project: SqlProject, model: SqlModel) -> dg.AssetsDefinition:
    tags = {FOLDER_TAG: folder_tag_value(model), **{tag: "" for tag in model.config.tags}}

    @dg.asset(
        name=model.name,
        deps=upstream_keys(project, model),
        group_name=model.group_name,
        kinds=KINDS,
        description=model.config.description or f"SQL model {model.relpath}",
        tags=tags,
        # The rendered SQL is the code: a changed file shows the asset as changed in the UI.
        code_version=hashlib.sha256(f"{model.materialized}\n{model.rendered_sql}".encode()).hexdigest()[:16],
        metadata={
            "dagster/table_name": f"{model.schema}.{model.name}",
            "sql_file": model.relpath,
            "materialized": model.materialized,
            "dagster/code_references": _code_reference(str(model.path)),
        },
    )
    def _sql_model(context: dg.AssetExecutionContext, database: PostgresResource) -> dg.MaterializeResult:
        outcome = materialize_model(database.engine(), project, model.name)
        if outcome.rebuilt_dependents:
            context.log.info(
                f"re-created dependent views {', '.join(outcome.rebuilt_dependents)} "
                f"after replacing {outcome.relation}"
            )
        metadata: dict[str, object] = {
            "dagster/row_count": outcome.row_count,
            "dagster/column_schema": dg.TableSchema(
                columns=[dg.TableColumn(name=name, type=type_) for name, type_ in outcome.columns]
            ),
            "relation": outcome.relation,
            "materialized": outcome.materialized,
            "rendered_sql": _sql_markdown(outcome.rendered_sql),
        }
        if outcome.rebuilt_dependents:
            metadata["rebuilt_dependents"] = list(outcome.rebuilt_dependents)
        return dg.MaterializeResult(metadata=metadata)

    return _sql_model


def sql_asset_check(project: SqlProject, check: SqlCheck) -> dg.AssetChecksDefinition:
    target = dg.AssetKey(list(check.target))
    additional = [key for key in upstream_keys(project, check) if key != target]
    severity = dg.AssetCheckSeverity.ERROR if check.config.severity == "ERROR" else dg.AssetCheckSeverity.WARN

    @dg.asset_check(
        asset=target,
        name=check.name,
        description=check.config.description or f"SQL check {check.relpath}",
        blocking=check.config.blocking,
        additional_deps=additional or None,
        metadata={
            "sql_file": check.relpath,
            "severity": check.config.severity,
            "dagster/code_references": _code_reference(str(check.path)),
        },
    )
    def _sql_check(database: PostgresResource) -> dg.AssetCheckResult:
        outcome = run_check(database.engine(), check)
        metadata: dict[str, object] = {
            "offending_row_count": outcome.offending_count,
            "sql_file": check.relpath,
            "rendered_sql": _sql_markdown(outcome.rendered_sql),
        }
        if not outcome.passed:
            shown = len(outcome.sample_rows)
            metadata["offending_rows"] = dg.MetadataValue.md(
                f"First {shown} of {outcome.offending_count} offending rows\n\n"
                + markdown_table(outcome.columns, outcome.sample_rows)
            )
        return dg.AssetCheckResult(
            passed=outcome.passed,
            severity=severity,
            metadata=metadata,
            description=(
                None if outcome.passed else f"{outcome.offending_count} offending row(s) from {check.relpath}"
            ),
        )

    return _sql_check


def source_asset_specs(project: SqlProject) -> list[dg.AssetSpec]:
    """External assets for tables no Python asset writes, so lineage reaches them."""
    specs: dict[dg.AssetKey, dg.AssetSpec] = {}
    for source in project.sources.values():
        if not source.external:
            continue
        key = dg.AssetKey(list(source.asset_keys[0]))
        specs.setdefault(
            key,
            dg.AssetSpec(
                key=key,
                description=source.description or f"PostgreSQL table {source.schema}.{source.table}",
                group_name=SOURCES_GROUP,
                kinds={"postgres"},
                metadata={"dagster/table_name": f"{source.schema}.{source.table}"},
            ),
        )
    return list(specs.values())


def sql_models_selection(project: SqlProject, folder: str | None = None) -> dg.AssetSelection:
    """Every SQL model of ``project``, or those of one folder (``staging``, ``marts``...).

    From the CLI/UI the same selections are ``tag:sql_folder=staging`` or ``group:staging``."""
    names = [
        model.name
        for model in project.models.values()
        if folder is None or folder_tag_value(model) == folder.replace("/", ".")
    ]
    return dg.AssetSelection.assets(*(dg.AssetKey(name) for name in names))


def build_sql_definitions(project: SqlProject) -> dg.Definitions:
    assets: list[dg.AssetsDefinition | dg.AssetSpec] = [
        sql_model_asset(project, model) for model in project.models.values()
    ]
    assets.extend(source_asset_specs(project))
    checks = [sql_asset_check(project, check) for check in project.checks.values()]
    jobs = []
    if project.models:
        jobs.append(
            dg.define_asset_job(
                SQL_MODELS_JOB,
                selection=sql_models_selection(project),
                description="Build every dbt_like_sql model (and run the checks on them).",
                # SQL steps are small: one process avoids a second of start-up per model.
                executor_def=dg.in_process_executor,
            )
        )
    return dg.Definitions(assets=assets, asset_checks=checks, jobs=jobs)
