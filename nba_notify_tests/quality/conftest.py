"""Quality fixtures: the ingest assets plus the source comparisons against the session
simulator over HTTP, with fast client timeouts, and a Dagster instance for sensor ticks."""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import pytest

from nba_notify.defs.ingest import assets as ingest_assets
from nba_notify.defs.quality import assets as quality_assets
from nba_notify.defs.quality import checks as quality_checks
from nba_notify.defs.quality.resources import BoxScoreDeadlineResource, RetryQueueResource
from nba_notify.defs.resources import build_resources
from nba_notify.lib.config import Settings

INGEST_ASSETS = [
    ingest_assets.bdl_games_raw,
    ingest_assets.bdl_box_scores_raw,
    ingest_assets.nbac_schedule_raw,
    ingest_assets.nbac_box_scores_raw,
    ingest_assets.games,
    ingest_assets.player_box_scores,
]
PIPELINE = [
    *INGEST_ASSETS,
    quality_assets.source_discrepancies,
    quality_assets.box_score_coverage,
    quality_checks.phase2_coverage,
    quality_checks.no_games_missing_between_sources,
    quality_checks.sources_agree_on_games,
    quality_checks.box_scores_published_within_deadline,
]


def with_updates(resource: dg.ConfigurableResource, **updates) -> dg.ConfigurableResource:
    return type(resource)(**{**resource.model_dump(), **updates})


@pytest.fixture
def quality_resources(sim, database_url, monkeypatch) -> dict:
    monkeypatch.setenv("NBA_NOTIFY_SIM_URL", sim.url)
    resources = build_resources(Settings.from_env())
    fast = {"connect_timeout": 1.0, "read_timeout": 1.0, "max_attempts": 2, "retry_base_delay": 0.01}
    resources["bdl"] = with_updates(resources["bdl"], **fast)
    resources["nbac"] = with_updates(resources["nbac"], **fast)
    resources["retry_queue"] = RetryQueueResource()
    resources["box_score_deadline"] = BoxScoreDeadlineResource()
    return resources


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture
def run_pipeline(quality_resources, instance):
    """``run_pipeline(day)`` materializes ingest + discrepancies for a game day;
    ``run_pipeline(day, selection=[...], tags={...})`` runs a subset, e.g. a retry run."""

    def run(day: str, *, selection=None, tags=None, assets=None) -> dg.ExecuteInProcessResult:
        return dg.materialize(
            assets or PIPELINE,
            selection=selection,
            partition_key=day,
            resources=quality_resources,
            instance=instance,
            tags=tags,
            raise_on_error=False,
        )

    return run
