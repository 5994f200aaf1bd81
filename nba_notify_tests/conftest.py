"""Shared fixtures: a real PostgreSQL (embedded unless NBA_NOTIFY_TEST_DATABASE_URL is set)
migrated once per session, and helpers to start with clean tables."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from nba_notify.lib.config import ALERT_CHANNEL_VARIABLES, MODE_VARIABLE, UPSTREAM_VARIABLES
from nba_notify.lib.db import engine as db_engine
from nba_notify.lib.db.migrate import upgrade
from nba_notify.lib.db.tables import metadata
from nba_notify.sim.server import SimServer

# Keep Dagster and our own state out of the developer's checkout during tests.
_SESSION_HOME = Path(tempfile.mkdtemp(prefix="nba_notify_test_home_"))
os.environ.setdefault("NBA_NOTIFY_HOME", str(_SESSION_HOME))

# Hermetic: whatever the shell exports (a production host's endpoints, keys, alert channels,
# mode or instance), the suite talks only to its own simulator on loopback and its own instance.
for _name in (*UPSTREAM_VARIABLES, *ALERT_CHANNEL_VARIABLES, "CURRENTS_TOKEN", MODE_VARIABLE, "DAGSTER_HOME"):
    os.environ.pop(_name, None)


@pytest.fixture(scope="session")
def database_server_url() -> str:
    """A server-level URL; each session works in its own fresh database on it."""
    url = os.environ.get("NBA_NOTIFY_TEST_DATABASE_URL")
    if url:
        return url
    return db_engine.start_embedded_postgres(_SESSION_HOME / "pg")


@pytest.fixture(scope="session")
def database_url(database_server_url: str) -> Iterator[str]:
    name = f"nba_notify_test_{uuid.uuid4().hex[:10]}"
    db_engine.ensure_database(database_server_url, name)
    url = db_engine.with_database(database_server_url, name)
    upgrade(url)
    previous = os.environ.get("NBA_NOTIFY_DATABASE_URL")
    os.environ["NBA_NOTIFY_DATABASE_URL"] = url
    yield url
    if previous is None:
        os.environ.pop("NBA_NOTIFY_DATABASE_URL", None)
    else:
        os.environ["NBA_NOTIFY_DATABASE_URL"] = previous
    db_engine.dispose_engines()
    db_engine.drop_database(database_server_url, name)


@pytest.fixture(scope="session")
def engine(database_url: str) -> sa.Engine:
    return db_engine.get_engine(database_url)


def truncate_all(engine: sa.Engine) -> None:
    names = ", ".join(
        engine.dialect.identifier_preparer.quote_identifier(t.name) for t in metadata.sorted_tables
    )
    with engine.begin() as conn:
        conn.exec_driver_sql("TRUNCATE " + names + " RESTART IDENTITY CASCADE")


@pytest.fixture
def db(engine: sa.Engine) -> sa.Engine:
    """An engine on empty tables (seed data such as default alert rules is re-applied by the
    domain's own fixture if it needs it)."""
    truncate_all(engine)
    return engine


# --- the simulator (BDL, NBA.com, Braze over real HTTP on loopback) ------------------------


@pytest.fixture(scope="session")
def sim_server() -> Iterator[SimServer]:
    """One simulator for the whole session; use the ``sim`` fixture, which resets it."""
    with SimServer() as server:
        yield server


@pytest.fixture
def sim(sim_server: SimServer) -> SimServer:
    """The session's simulator, reset: default clock (2026-11-24 15:00 UTC, frozen), no faults,
    no game overrides, request counts zeroed. ``sim.url``, ``sim.control``, ``sim.sim.league``."""
    sim_server.control.reset()
    return sim_server
