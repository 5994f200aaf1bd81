"""Props fixtures: the ingest resources (simulator over HTTP, real PostgreSQL) plus the props
sources pointed at the same simulator, with short timeouts and tiny backoff."""

from __future__ import annotations

import dagster as dg
import pytest

from nba_notify.defs.props import assets as props_assets
from nba_notify.defs.props.resources import build_props_resources
from nba_notify_tests.ingest.conftest import INGEST_ASSETS, ingest_resources, with_updates  # noqa: F401

PROPS_ASSETS = [
    props_assets.odds_api_props_raw,
    props_assets.odds_api_lines_raw,
    props_assets.player_props,
    props_assets.game_lines,
]


@pytest.fixture
def props_resources(ingest_resources, sim, monkeypatch):  # noqa: F811
    monkeypatch.setenv("NBA_NOTIFY_SIM_URL", sim.url)
    resources = {**ingest_resources, **build_props_resources()}
    fast = {"connect_timeout": 1.0, "read_timeout": 2.0, "max_attempts": 3, "retry_base_delay": 0.01}
    resources["odds_api"] = with_updates(resources["odds_api"], **fast)
    resources["bettingpros"] = with_updates(resources["bettingpros"], **fast)
    return resources


@pytest.fixture
def materialize(props_resources):
    def run(day: str, assets, *, last_day: str | None = None, **overrides) -> dg.ExecuteInProcessResult:
        """One game day, or ``day..last_day`` as one single-run backfill."""
        resources = {**props_resources}
        for name, update in overrides.items():
            resources[name] = with_updates(resources[name], **update)
        if last_day:
            tags = {"dagster/asset_partition_range_start": day, "dagster/asset_partition_range_end": last_day}
            return dg.materialize(assets, resources=resources, raise_on_error=False, tags=tags)
        return dg.materialize(assets, partition_key=day, resources=resources, raise_on_error=False)

    return run
