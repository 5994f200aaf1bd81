"""deploy/dagster.yaml is a working instance: it loads against a real PostgreSQL, and a local
dagster-daemon on it dequeues an EMERGENCY run before older NORMAL ones while keeping one run
per Braze campaign."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import yaml
from sqlalchemy.engine import make_url

from nba_notify.lib.db import engine as db_engine

REPO = Path(__file__).resolve().parents[2]
DEPLOY_YAML = REPO / "deploy" / "dagster.yaml"
LOCATION = "nba_notify_tests.monitoring.deploy_location"
BIN = Path(sys.executable).parent


@pytest.fixture
def dagster_home(database_server_url: str) -> Iterator[tuple[Path, dict[str, str]]]:
    """$DAGSTER_HOME holding deploy/dagster.yaml, its env pointing at a fresh database on the
    test PostgreSQL server (TCP or Unix socket)."""
    name = f"dagster_deploy_{uuid.uuid4().hex[:8]}"
    db_engine.ensure_database(database_server_url, name)
    url = make_url(database_server_url)
    socket_dir = url.query.get("host")
    config = yaml.safe_load(DEPLOY_YAML.read_text())
    if socket_dir:  # embedded pgserver: the documented Unix-socket variant
        config["storage"]["postgres"]["postgres_db"]["params"] = {"host": socket_dir}
    home = Path(tempfile.mkdtemp(prefix="nba_dagster_home_"))
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    env = {
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_HOST": "" if socket_dir else (url.host or "127.0.0.1"),
        "DAGSTER_PG_PORT": str(url.port or 5432),
        "DAGSTER_PG_USERNAME": url.username or "postgres",
        "DAGSTER_PG_PASSWORD": url.password or "",
        "DAGSTER_PG_DB": name,
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield home, env
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        db_engine.drop_database(database_server_url, name)
        shutil.rmtree(home, ignore_errors=True)


def test_deploy_instance_config_loads_on_postgresql_with_queue_limits(dagster_home):
    home, _ = dagster_home
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        # Dagster's queue, plus the asset pages' runs tagged like the jobs
        assert type(instance.run_coordinator).__name__ == "AssetTaggedRunCoordinator"
        assert isinstance(instance.run_coordinator, dg.QueuedRunCoordinator)
        queue = instance.get_concurrency_config().run_queue_config
        assert queue.max_concurrent_runs == 8
        assert {
            "key": "nba_notify/braze_campaign",
            "value": {"applyLimitPerUniqueValue": True},
            "limit": 1,
        } in queue.tag_concurrency_limits
        assert {"key": "dagster/backfill", "limit": 2} in queue.tag_concurrency_limits
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 2
        assert instance.run_monitoring_enabled
        instance.get_runs()  # the schema was created and answers


def _launch(env: dict[str, str], priority: int, campaign: str) -> str:
    tags = {
        "dagster/priority": str(priority),
        "nba_notify/braze_campaign": campaign,
        "test/label": f"{campaign}-{priority}",
    }
    done = subprocess.run(
        [
            str(BIN / "dagster"),
            "job",
            "launch",
            "-m",
            LOCATION,
            "-j",
            "campaign_sync_job",
            "--tags",
            json.dumps(tags),
            "--config-json",
            json.dumps({"ops": {"hold": {"config": {"seconds": 6}}}}),
        ],
        cwd=REPO,
        env={**os.environ, **env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return f"{campaign}-{priority}"


@pytest.mark.slow
def test_local_daemon_dequeues_emergency_first_and_one_run_per_campaign(dagster_home):
    home, env = dagster_home
    # submitted in this order: two NORMAL runs, then an EMERGENCY one, all for one campaign,
    # and a NORMAL run of another campaign
    for priority, campaign in ((0, "tipoff"), (0, "tipoff"), (100, "tipoff"), (0, "final")):
        _launch(env, priority, campaign)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert {r.status for r in instance.get_runs()} == {dg.DagsterRunStatus.QUEUED}
        daemon = subprocess.Popen(
            [str(BIN / "dagster-daemon"), "run", "-m", LOCATION],
            cwd=REPO,
            env={**os.environ, **env, "PYTHONPATH": str(REPO)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # so its code server is stopped with it (no leaked gRPC process)
        )
        try:
            deadline = time.monotonic() + 90
            dequeued: list[dg.DagsterRun] = []
            while time.monotonic() < deadline:
                runs = instance.get_runs()
                dequeued = [r for r in runs if r.status != dg.DagsterRunStatus.QUEUED]
                if len(dequeued) >= 2:
                    break
                time.sleep(0.5)
            labels = sorted(r.tags["test/label"] for r in dequeued)
            still_queued = sorted(
                r.tags["test/label"] for r in instance.get_runs() if r.status == dg.DagsterRunStatus.QUEUED
            )
            # EMERGENCY jumped both older NORMAL runs of its campaign; the other campaign ran
            # alongside; the per-campaign limit held the NORMAL tipoff runs back.
            assert labels == ["final-0", "tipoff-100"], daemon.stderr
            assert still_queued == ["tipoff-0", "tipoff-0"]
            # When the EMERGENCY run finishes, the campaign's slot goes to the next run.
            emergency = next(r for r in dequeued if r.tags["test/label"] == "tipoff-100")
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                if instance.get_run_by_id(emergency.run_id).is_finished and any(
                    r.status != dg.DagsterRunStatus.QUEUED
                    for r in instance.get_runs()
                    if r.tags["test/label"] == "tipoff-0"
                ):
                    break
                time.sleep(0.5)
            assert instance.get_run_by_id(emergency.run_id).status == dg.DagsterRunStatus.SUCCESS
            assert sum(r.status == dg.DagsterRunStatus.QUEUED for r in instance.get_runs()) == 1
        finally:
            os.killpg(daemon.pid, signal.SIGTERM)
            try:
                daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(daemon.pid, signal.SIGKILL)
            # let launched run workers finish (bounded) before the database is dropped
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and any(
                r.status in (dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED)
                for r in instance.get_runs()
            ):
                time.sleep(0.5)


def test_helm_values_apply_the_same_queue_policy_as_dagster_yaml():
    instance_yaml = yaml.safe_load(DEPLOY_YAML.read_text())
    values = yaml.safe_load((REPO / "deploy" / "helm" / "values.yaml").read_text())
    queue = values["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert queue["tagConcurrencyLimits"] == instance_yaml["concurrency"]["runs"]["tag_concurrency_limits"]
    assert queue["maxConcurrentRuns"] == instance_yaml["concurrency"]["runs"]["max_concurrent_runs"]
    assert values["dagsterDaemon"]["runRetries"]["maxRetries"] == instance_yaml["run_retries"]["max_retries"]
    assert (
        values["postgresql"]["postgresqlScheme"]
        == instance_yaml["storage"]["postgres"]["postgres_db"]["scheme"]
    )
