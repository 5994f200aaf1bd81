"""A Dagster webserver and daemon on a generated instance, for end-to-end tests and the UI
path benchmark: the way an operator runs the product, driven through GraphQL like the UI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import httpx
import yaml

from nba_notify.lib.dagster_home import instance_config
from nba_notify.lib.db import engine as db_engine
from nba_notify.lib.web.serve import free_port

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LOCATION = "nba_notify"
REPOSITORY = "__repository__"


def graphql(port: int, query: str, variables: dict | None = None) -> dict:
    response = httpx.post(
        f"http://127.0.0.1:{port}/graphql", json={"query": query, "variables": variables or {}}, timeout=60
    )
    response.raise_for_status()
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


LOCATION_QUERY = """{ workspaceOrError { ... on Workspace { locationEntries { loadStatus
  locationOrLoadError { __typename ... on PythonError { message } } } } } }"""


class Deployment:
    def __init__(self, port: int, home: Path, env: dict[str, str], sim):
        self.port, self.home, self.env, self.sim = port, home, env, sim

    def instance(self) -> dg.DagsterInstance:
        return dg.DagsterInstance.from_config(str(self.home))

    def wait_for_runs(
        self, instance: dg.DagsterInstance, tags: dict[str, str], count: int, timeout: float = 240
    ):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            runs = instance.get_runs(filters=dg.RunsFilter(tags=tags))
            if len(runs) >= count and all(run.is_finished for run in runs):
                return runs
            time.sleep(1)
        raise AssertionError(f"runs tagged {tags} not finished: {[r.status for r in runs]}")


@contextmanager
def running_deployment(
    sim_server, database_server_url: str, env_updates: dict[str, str]
) -> Iterator[Deployment]:
    """Webserver + daemon with ``env_updates`` on a fresh instance storage database."""
    storage = f"dagster_e2e_{uuid.uuid4().hex[:8]}"
    db_engine.ensure_database(database_server_url, storage)
    home = Path(os.environ["NBA_NOTIFY_HOME"]) / f"e2e_{storage}"
    home.mkdir(parents=True)
    config = instance_config(db_engine.with_database(database_server_url, storage))
    config["run_coordinator"]["config"]["dequeue_interval_seconds"] = 1
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    (home / "dagster.yaml").chmod(0o600)
    env = {k: v for k, v in os.environ.items() if k != "NBA_NOTIFY_SIM_URL"}
    env.update(env_updates, DAGSTER_HOME=str(home))
    port = free_port()
    workspace = ["-w", str(REPO / "workspace.yaml")]
    processes = [
        subprocess.Popen(
            [str(BIN / "dagster-webserver"), *workspace, "-h", "127.0.0.1", "-p", str(port)],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        ),
        subprocess.Popen(
            [str(BIN / "dagster-daemon"), "run", *workspace],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        ),
    ]  # fmt: skip
    control_plane_before = sim_server.sim.control_plane_requests
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                [entry] = graphql(port, LOCATION_QUERY)["workspaceOrError"]["locationEntries"]
                if entry["loadStatus"] == "LOADED":
                    error = entry["locationOrLoadError"] or {}
                    assert error.get("__typename") != "PythonError", error.get("message")
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the code location did not load"
            time.sleep(1)
        deployment = Deployment(port, home, env, sim_server)
        deployment.control_plane_before = control_plane_before  # type: ignore[attr-defined]
        yield deployment
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        db_engine.dispose_engines()
        db_engine.drop_database(database_server_url, storage)
