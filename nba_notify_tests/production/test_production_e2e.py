"""End to end in production mode, with the simulator posing as the real APIs: a Dagster
webserver and daemon on the project's generated instance, driven through GraphQL the way the
UI drives them.

Proves: every secret resource field reaches the UI as an environment variable; the README's
UI backfill route (the ingest group over a date range) is one run; "Materialize all" of the
notifications group runs in one process with the campaign tag, on the wall clock, without a
single call to the simulator's control plane; ``doctor`` passes on this deployment."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
import sqlalchemy as sa

from nba_notify.lib.db import engine as db_engine
from nba_notify.lib.db.tables.notifications import desired_notifications
from nba_notify.lib.ingest.parse import EASTERN
from nba_notify.lib.run_coordinator import BRAZE_CAMPAIGN_TAG
from nba_notify_tests.production.deployment import (
    LOCATION,
    REPOSITORY,
    Deployment,
    graphql,
    running_deployment,
)

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


@pytest.fixture(scope="module")
def deployment(sim_server, database_server_url, database_url) -> Iterator[Deployment]:
    sim_server.control.reset()
    # The simulator's clock a week behind the wall: anything scheduled from its "now" would
    # land on other days than the wall clock's, so the runs below show which clock was used.
    sim_server.control.set_clock(datetime.now(UTC) - timedelta(days=7))
    with running_deployment(
        sim_server, database_server_url, production_env(sim_server.url, database_url)
    ) as running:
        yield running


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


PARTITIONS_QUERY = """query($key: AssetKeyInput!) { assetNodeOrError(assetKey: $key) {
  ... on AssetNode { partitionKeysByDimension { partitionKeys } } } }"""


def test_the_ui_offers_every_game_day_from_2019_20_through_tomorrow(deployment):
    node = graphql(deployment.port, PARTITIONS_QUERY, {"key": {"path": ["games"]}})["assetNodeOrError"]
    [dimension] = node["partitionKeysByDimension"]
    keys = dimension["partitionKeys"]
    tomorrow = (datetime.now(EASTERN).date() + timedelta(days=1)).isoformat()
    assert keys[0] == "2019-10-01" and keys[-1] == tomorrow
