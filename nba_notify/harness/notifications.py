"""Run the notification jobs in-process without Dagster plumbing (the demo, scripts, tests).

from nba_notify.harness.notifications import execute
result = execute("braze_sync_job")            # sync + every check, resources from the env
result = execute("full_verify_job")
failed = failed_checks(result)                # [] when every check passed
"""

from typing import Any

import dagster as dg

from nba_notify.defs.notifications import assets, checks, jobs
from nba_notify.defs.resources import build_resources
from nba_notify.lib.config import Settings


def notification_definitions(
    resources: dict[str, Any] | None = None, settings: Settings | None = None
) -> dg.Definitions:
    """The notification domain alone (``games`` stays an external upstream)."""
    return dg.Definitions.merge(
        dg.load_definitions_from_modules([assets, checks, jobs]),
        dg.Definitions(resources=resources if resources is not None else build_resources(settings)),
    )


def execute(
    job_name: str,
    *,
    resources: dict[str, Any] | None = None,
    settings: Settings | None = None,
    instance: dg.DagsterInstance | None = None,
    run_config: dict[str, Any] | None = None,
    raise_on_error: bool = False,
) -> dg.ExecuteInProcessResult:
    job = notification_definitions(resources, settings).resolve_job_def(job_name)
    return job.execute_in_process(instance=instance, run_config=run_config, raise_on_error=raise_on_error)


def check_results(result: dg.ExecuteInProcessResult) -> list[dg.AssetCheckEvaluation]:
    return [
        event.event_specific_data  # type: ignore[misc]
        for event in result.all_events
        if event.event_type_value == "ASSET_CHECK_EVALUATION"
    ]


def failed_checks(result: dg.ExecuteInProcessResult) -> list[str]:
    return sorted(e.check_name for e in check_results(result) if not e.passed)
