"""End to end the way an external client drives the product: a real Dagster webserver on a
free loopback port, a partitioned run launched through Dagster's own GraphQL client, run by
the default run launcher in its own process against the real PostgreSQL and simulator."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from dagster_graphql import DagsterGraphQLClient

from nba_notify.lib.db.tables.ingest import games
from nba_notify.lib.web.serve import free_port

REPO = Path(__file__).resolve().parent.parent
DAY = "2026-11-22"
DAY_DATE = date.fromisoformat(DAY)


@pytest.fixture
def webserver(tmp_path, database_url, sim):
    home = tmp_path / "dagster_home"
    home.mkdir()
    # No daemon in this test: launch runs directly instead of queueing them.
    (home / "dagster.yaml").write_text(
        "telemetry:\n  enabled: false\n"
        "run_coordinator:\n  module: dagster.core.run_coordinator\n  class: DefaultRunCoordinator\n"
    )
    port = free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "NBA_NOTIFY_DATABASE_URL": database_url,
        "NBA_NOTIFY_SIM_URL": sim.url,
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dagster_webserver",
            "-w",
            str(REPO / "workspace.yaml"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while True:
        status = _location_status(port)
        if status == "LOADED":
            break
        if status is not None and status.startswith("ERROR"):
            proc.kill()
            raise RuntimeError(f"code location failed to load: {status}")
        if proc.poll() is not None:
            raise RuntimeError("webserver exited: " + proc.stderr.read().decode()[-2000:])
        if time.monotonic() > deadline:
            proc.kill()
            raise TimeoutError("webserver did not load the code location in 120 s")
        time.sleep(0.5)
    yield port
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


LOCATION_QUERY = """
{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus
  locationOrLoadError { __typename ... on PythonError { message } } } } } }
"""


def _location_status(port: int) -> str | None:
    """LOADED, LOADING, ERROR: <message>, or None while the server is not up yet."""
    try:
        response = httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": LOCATION_QUERY}, timeout=5)
        entries = response.json()["data"]["workspaceOrError"]["locationEntries"]
    except (httpx.HTTPError, KeyError, TypeError, ValueError):
        return None
    [entry] = entries
    error = entry.get("locationOrLoadError") or {}
    if error.get("__typename") == "PythonError":
        return "ERROR: " + error["message"][:2000]
    return entry["loadStatus"]


def test_partitioned_ingest_run_launched_over_graphql_succeeds(webserver, db, sim):
    client = DagsterGraphQLClient("127.0.0.1", port_number=webserver)
    run_id = client.submit_job_execution("ingest_job", tags={"dagster/partition": DAY})
    deadline = time.monotonic() + 240
    status = client.get_run_status(run_id)
    while status.value not in ("SUCCESS", "FAILURE", "CANCELED"):
        assert time.monotonic() < deadline, f"run {run_id} still {status.value}"
        time.sleep(1)
        status = client.get_run_status(run_id)
    assert status.value == "SUCCESS"
    with db.connect() as conn:
        stored = conn.execute(
            sa.select(sa.func.count()).select_from(games).where(games.c.game_date == DAY_DATE)
        ).scalar_one()
    truth = sim.sim.league.games_on(DAY_DATE)
    assert stored == len(truth) > 0
