"""Ingest fixtures: resources pointed at the session simulator, with short timeouts and
tiny backoff so fault tests finish in seconds."""

from __future__ import annotations

import dagster as dg
import pytest

from nba_notify.defs.ingest import assets as ingest_assets
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


@pytest.fixture
def ingest_resources(sim, database_url, monkeypatch):
    monkeypatch.setenv("NBA_NOTIFY_SIM_URL", sim.url)
    resources = build_resources(Settings.from_env())
    fast = {"connect_timeout": 1.0, "read_timeout": 1.0, "max_attempts": 3, "retry_base_delay": 0.01}
    resources["bdl"] = with_updates(resources["bdl"], **fast)
    resources["nbac"] = with_updates(resources["nbac"], **fast)
    return resources


def with_updates(resource: dg.ConfigurableResource, **updates) -> dg.ConfigurableResource:
    """A copy with some fields changed (Dagster resolves config from the constructor, so
    pydantic's model_copy would not take effect)."""
    return type(resource)(**{**resource.model_dump(), **updates})


@pytest.fixture
def materialize_day(ingest_resources):
    def run(day: str, assets=None, *, tags=None, **overrides) -> dg.ExecuteInProcessResult:
        resources = {**ingest_resources}
        for name, update in overrides.items():
            resources[name] = with_updates(resources[name], **update)
        return dg.materialize(
            assets or INGEST_ASSETS,
            partition_key=None if tags else day,
            resources=resources,
            raise_on_error=False,
            tags=tags,
        )

    return run
