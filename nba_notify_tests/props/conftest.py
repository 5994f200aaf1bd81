"""Props fixtures: the ingest resources (simulator over HTTP, real PostgreSQL) plus the props
sources pointed at the same simulator, with short timeouts and tiny backoff.

Ingesting game days is the slow part, so modules that only need the league's games and box
scores ingest once (``ingested_days``) and clear just the props tables between tests."""

from __future__ import annotations

import os

import dagster as dg
import pytest
import sqlalchemy as sa

from nba_notify.defs.props import assets as props_assets
from nba_notify.defs.props.resources import build_props_resources
from nba_notify.defs.resources import build_resources
from nba_notify.lib.config import Settings
from nba_notify.lib.db.tables.ingest import processor_run_history, scrape_events
from nba_notify.lib.db.tables.props import game_lines, odds_api_usage, player_props, prop_events
from nba_notify_tests.conftest import truncate_all
from nba_notify_tests.ingest.conftest import INGEST_ASSETS, with_updates

__all__ = ["INGEST_ASSETS", "PROPS_ASSETS", "run_assets"]

PROPS_ASSETS = [
    props_assets.odds_api_props_raw,
    props_assets.odds_api_lines_raw,
    props_assets.player_props,
    props_assets.game_lines,
]
FAST = {"connect_timeout": 1.0, "read_timeout": 2.0, "max_attempts": 3, "retry_base_delay": 0.01}
PROPS_SCRAPERS = ("odds_api_props", "odds_api_lines", "bettingpros_props")
PROPS_PROCESSORS = ("player_props", "player_props_bettingpros", "game_lines")


def make_resources(sim_url: str) -> dict[str, dg.ConfigurableResource]:
    env = {**os.environ, "NBA_NOTIFY_SIM_URL": sim_url}
    resources = {**build_resources(Settings.from_env(env)), **build_props_resources(env)}
    for name in ("bdl", "nbac"):
        resources[name] = with_updates(resources[name], **{**FAST, "read_timeout": 1.0})
    for name in ("odds_api", "bettingpros"):
        resources[name] = with_updates(resources[name], **FAST)
    return resources


def run_assets(
    resources, day: str, assets, *, last_day: str | None = None, **overrides
) -> dg.ExecuteInProcessResult:
    """One game day, or ``day..last_day`` as one single-run backfill."""
    resources = {**resources}
    for name, update in overrides.items():
        resources[name] = with_updates(resources[name], **update)
    if last_day:
        tags = {"dagster/asset_partition_range_start": day, "dagster/asset_partition_range_end": last_day}
        return dg.materialize(assets, resources=resources, raise_on_error=False, tags=tags)
    return dg.materialize(assets, partition_key=day, resources=resources, raise_on_error=False)


def clear_props(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        for table in (player_props, game_lines, prop_events, odds_api_usage):
            conn.execute(table.delete())
        conn.execute(scrape_events.delete().where(scrape_events.c.scraper_name.in_(PROPS_SCRAPERS)))
        conn.execute(
            processor_run_history.delete().where(processor_run_history.c.processor_name.in_(PROPS_PROCESSORS))
        )


@pytest.fixture
def materialize(sim, database_url):
    resources = make_resources(sim.url)

    def run(day: str, assets, *, last_day: str | None = None, **overrides) -> dg.ExecuteInProcessResult:
        return run_assets(resources, day, assets, last_day=last_day, **overrides)

    return run


def ingest_once(engine: sa.Engine, sim_server, days: tuple[str, str]) -> None:
    """Empty tables, a reset simulator, the league's games and box scores for ``days``."""
    truncate_all(engine)
    sim_server.control.reset()
    result = run_assets(make_resources(sim_server.url), days[0], INGEST_ASSETS, last_day=days[1])
    assert result.success
