"""End to end in production mode, with the simulator posing as the real APIs: a Dagster
webserver and daemon on the project's generated instance, driven through GraphQL the way the
UI drives them.

Proves: every secret resource field reaches the UI as an environment variable; the README's
UI backfill route (the ingest group over a date range) is one run; "Materialize all" of the
notifications group runs in one process with the campaign tag, on the wall clock, without a
single call to the simulator's control plane; ``doctor`` passes on this deployment."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import httpx
import pytest
import sqlalchemy as sa
import yaml

from nba_notify.lib.dagster_home import instance_config
from nba_notify.lib.db import engine as db_engine
from nba_notify.lib.db.tables.notifications import desired_notifications
from nba_notify.lib.ingest.parse import EASTERN
from nba_notify.lib.run_coordinator import BRAZE_CAMPAIGN_TAG
from nba_notify.lib.web.serve import free_port

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LOCATION = "nba_notify"
REPOSITORY = "__repository__"
NOTIFICATION_ASSETS = ["upcoming_games", "desired_notifications", "braze_schedules", "notification_sends"]
SECRET_FIELDS = {("bdl", "api_key"), ("braze", "api_key"), ("database", "url")}


def production_env(sim_url: str, database_url: str) -> dict[str, str]:
    """The simulator posing as the real APIs, configured exactly as production would be."""
    return {
        "NBA_NOTIFY_MODE": "production",
        "NBA_NOTIFY_DATABASE_URL": database_url,
        "BDL_BASE_URL": f"{sim_url}/bdl",
        "BDL_API_KEY": "sim-bdl-key",
        "NBAC_BASE_URL": f"{sim_url}/nbac",
        "NBAC_STATS_BASE_URL": f"{sim_url}/nbac-stats",
        "BRAZE_REST_ENDPOINT": f"{sim_url}/braze",
        "BRAZE_API_KEY": "sim-braze-key",
        "BRAZE_CAMPAIGN_ID": "sim-campaign-tipoff",
        "CURRENTS_TOKEN": "e2e-currents-token-long-and-random",
    }


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


@pytest.fixture(scope="module")
def deployment(sim_server, database_server_url, database_url) -> Iterator[Deployment]:
    sim_server.control.reset()
    # The simulator's clock a week behind the wall: anything scheduled from its "now" would
    # land on other days than the wall clock's, so the runs below show which clock was used.
    sim_server.control.set_clock(datetime.now(UTC) - timedelta(days=7))
    storage = f"dagster_e2e_{uuid.uuid4().hex[:8]}"
    db_engine.ensure_database(database_server_url, storage)
    home = Path(os.environ["NBA_NOTIFY_HOME"]) / f"e2e_{storage}"
    home.mkdir(parents=True)
    config = instance_config(db_engine.with_database(database_server_url, storage))
    config["run_coordinator"]["config"]["dequeue_interval_seconds"] = 1
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    (home / "dagster.yaml").chmod(0o600)
    env = {k: v for k, v in os.environ.items() if k != "NBA_NOTIFY_SIM_URL"}
    env.update(production_env(sim_server.url, database_url), DAGSTER_HOME=str(home))
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


RESOURCES_QUERY = """query($selector: RepositorySelector!) {
  allTopLevelResourceDetailsOrError(repositorySelector: $selector) {
    __typename ... on ResourceDetailsList { results { name configuredValues { key value type } } } } }"""


def test_every_secret_resource_field_reaches_the_ui_as_an_environment_variable(deployment):
    selector = {"repositoryName": REPOSITORY, "repositoryLocationName": LOCATION}
    data = graphql(deployment.port, RESOURCES_QUERY, {"selector": selector})[
        "allTopLevelResourceDetailsOrError"
    ]
    fields = {
        (resource["name"], value["key"]): value
        for resource in data["results"]
        for value in resource["configuredValues"]
    }
    for field in SECRET_FIELDS:
        assert fields[field]["type"] == "ENV_VAR", field
    assert fields[("braze", "api_key")]["value"] == "BRAZE_API_KEY"
    text = str(data)
    for secret in ("sim-braze-key", "sim-bdl-key", deployment.env["CURRENTS_TOKEN"], "postgresql://"):
        assert secret not in text


BACKFILL_MUTATION = """mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
  __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }"""

LAUNCH_MUTATION = """mutation($params: ExecutionParams!) { launchPipelineExecution(executionParams: $params) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
  ... on InvalidSubsetError { message } ... on RunConfigValidationInvalid { errors { message } } } }"""


def test_ui_routes_backfill_the_ingest_group_as_one_run_and_materialize_notifications_like_the_job(
    deployment,
):
    today = datetime.now(EASTERN).date()
    days = [today.isoformat(), (today + timedelta(days=1)).isoformat()]
    group = [
        "bdl_games_raw",
        "bdl_box_scores_raw",
        "nbac_schedule_raw",
        "nbac_box_scores_raw",
        "games",
        "player_box_scores",
    ]
    # README: Assets -> ingest -> Materialize all -> a date range
    backfill = graphql(
        deployment.port,
        BACKFILL_MUTATION,
        {"params": {"partitionNames": days, "assetSelection": [{"path": [k]} for k in group], "tags": []}},
    )["launchPartitionBackfill"]
    assert backfill["__typename"] == "LaunchBackfillSuccess", backfill
    with deployment.instance() as instance:
        [ingest_run] = deployment.wait_for_runs(instance, {"dagster/backfill": backfill["backfillId"]}, 1)
        assert ingest_run.status == dg.DagsterRunStatus.SUCCESS
        # "Materialize all" on the notifications group: what the UI sends
        params = {
            "mode": "default",
            "executionMetadata": {"tags": []},
            "runConfigData": "{}",
            "selector": {
                "repositoryLocationName": LOCATION,
                "repositoryName": REPOSITORY,
                "pipelineName": "__ASSET_JOB",
                "assetSelection": [{"path": [k]} for k in NOTIFICATION_ASSETS],
                "assetCheckSelection": [],
            },
        }
        launched = graphql(deployment.port, LAUNCH_MUTATION, {"params": params})["launchPipelineExecution"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        run_id = launched["run"]["runId"]
        deadline = time.monotonic() + 180
        while not instance.get_run_by_id(run_id).is_finished:
            assert time.monotonic() < deadline
            time.sleep(1)
        run = instance.get_run_by_id(run_id)
        assert run.status == dg.DagsterRunStatus.SUCCESS
        assert run.tags[BRAZE_CAMPAIGN_TAG] == "sim-campaign-tipoff"
        events = [r.event_log_entry.dagster_event for r in instance.get_records_for_run(run_id).records]
        step_pids = {e.pid for e in events if e is not None and e.is_step_event}
        assert len(step_pids) == 1  # one process for every step, as in braze_sync_job
    # production mode: the wall clock chose the games, and the simulator's clock was never read
    with db_engine.get_engine(deployment.env["NBA_NOTIFY_DATABASE_URL"]).connect() as conn:
        planned = conn.execute(sa.select(sa.func.count()).select_from(desired_notifications)).scalar_one()
    assert planned > 0
    assert deployment.sim.sim.control_plane_requests == deployment.control_plane_before


def test_doctor_passes_on_a_working_production_deployment(deployment, monkeypatch, capsys):
    from nba_notify.cli import main

    for name, value in deployment.env.items():
        monkeypatch.setenv(name, value)
    code = main(["doctor"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "FAIL" not in out and out.strip().splitlines()[-1].startswith("OK:")
    assert deployment.sim.sim.control_plane_requests == deployment.control_plane_before
