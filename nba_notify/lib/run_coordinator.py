"""Runs launched from the asset pages get the same run tags as the jobs.

The Dagster UI materializes an asset selection as the implicit ``__ASSET_JOB`` (it picks the
first job the assets share, and the implicit job sorts first), and that job carries no tags.
Run-level limits (``tag_concurrency_limits`` on ``nba_notify/braze_campaign``) read *run* tags,
so a Braze sync started from the asset pages would escape the one-run-per-campaign queue.

The fix is declared where the fact lives: a Braze-writing asset carries the asset tag
``nba_notify/braze_campaign: <campaign id>``, and this coordinator copies every
:data:`RUN_SCOPED_ASSET_TAGS` tag of the run's selected assets onto the run before it is
queued — for UI launches, backfill runs and sensor/schedule runs alike. Jobs that already carry
the tag are unchanged. Used by the generated instance (``nba-notify dev`` and every CLI command)
and ``deploy/dagster.yaml``; the daemon and webserver must have ``nba_notify`` installed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dagster import DagsterRun, QueuedRunCoordinator, SubmitRunContext

BRAZE_CAMPAIGN_TAG = "nba_notify/braze_campaign"
# Asset tags that are really run-level facts (they drive the run queue's limits).
RUN_SCOPED_ASSET_TAGS = (BRAZE_CAMPAIGN_TAG,)


def run_tags_from_asset_tags(
    asset_tags: Iterable[Mapping[str, str]], run_tags: Mapping[str, str]
) -> dict[str, str]:
    """The run-scoped tags the selected assets declare and the run lacks. Two assets that
    disagree on a value cannot share a run's limit; the run then keeps the first (sorted)."""
    found: dict[str, set[str]] = {}
    for tags in asset_tags:
        for key in RUN_SCOPED_ASSET_TAGS:
            if tags.get(key):
                found.setdefault(key, set()).add(tags[key])
    return {key: sorted(values)[0] for key, values in found.items() if key not in run_tags}


def selected_asset_tags(run: DagsterRun, workspace: Any) -> list[Mapping[str, str]]:
    keys = run.asset_selection or set()
    if not keys or workspace is None:
        return []
    graph = workspace.asset_graph
    return [graph.get(key).tags for key in keys if graph.has(key)]


class AssetTaggedRunCoordinator(QueuedRunCoordinator):
    """QueuedRunCoordinator that first adds the selected assets' run-scoped tags to the run."""

    def submit_run(self, context: SubmitRunContext) -> DagsterRun:
        run = context.dagster_run
        extra = run_tags_from_asset_tags(selected_asset_tags(run, context.workspace), run.tags)
        if extra:
            self._instance.add_run_tags(run.run_id, extra)
            reloaded = self._instance.get_run_by_id(run.run_id)
            context = SubmitRunContext(reloaded or run, context.workspace)
        return super().submit_run(context)


def braze_writer_tags() -> dict[str, str]:
    """The tag every Braze-writing job and asset carries: the campaign it writes to."""
    from nba_notify.lib.config import Settings

    return {BRAZE_CAMPAIGN_TAG: Settings.from_env().braze_campaign_id or "unset"}
