"""The UI path against the job path, and the operator's ingest command (figures only).

    PYTHONPATH=. .venv/bin/python nba_notify_tests/benchmarks/bench_ui_path.py [--season-from D --season-to D]

1. "Materialize all" of the notifications group as the UI sends it (``__ASSET_JOB`` with the
   group's assets, through GraphQL, queued and launched by a real daemon) against the same work
   as ``braze_sync_job``: launch-to-finished wall time and the run's own duration, median of 3.
2. ``nba-notify ingest`` of one date, as a fresh process (no daemon: in-process run).
3. ``nba-notify ingest`` of a whole past season (2024-25 by default) through the simulator.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def launch_and_wait(deployment, instance, selector: dict) -> tuple[float, float]:
    from nba_notify_tests.production.deployment import graphql
    from nba_notify_tests.production.test_production_e2e import LAUNCH_MUTATION

    params = {
        "mode": "default",
        "executionMetadata": {"tags": []},
        "runConfigData": "{}",
        "selector": selector,
    }
    started = time.perf_counter()
    launched = graphql(deployment.port, LAUNCH_MUTATION, {"params": params})["launchPipelineExecution"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    while not instance.get_run_by_id(run_id).is_finished:
        time.sleep(0.1)
    wall = time.perf_counter() - started
    record = instance.get_run_record_by_id(run_id)
    assert record.dagster_run.status.value == "SUCCESS", run_id
    return wall, record.end_time - record.start_time


def ui_vs_job(sim_server, server_url: str, database_url: str, repeats: int = 3) -> dict[str, float]:
    from nba_notify_tests.production.deployment import LOCATION, REPOSITORY, running_deployment
    from nba_notify_tests.production.test_production_e2e import NOTIFICATION_ASSETS

    env = {
        "NBA_NOTIFY_SIM_URL": sim_server.url,
        "NBA_NOTIFY_DATABASE_URL": database_url,
        "NBA_NOTIFY_MODE": "simulator",
    }
    base = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}
    job = {**base, "pipelineName": "braze_sync_job"}
    ui = {
        **base,
        "pipelineName": "__ASSET_JOB",
        "assetSelection": [{"path": [key]} for key in NOTIFICATION_ASSETS],
        "assetCheckSelection": [],
    }
    figures: dict[str, list[tuple[float, float]]] = {"job": [], "ui": []}
    with running_deployment(sim_server, server_url, env) as deployment, deployment.instance() as instance:
        launch_and_wait(deployment, instance, job)  # warm-up: first sync creates the schedules
        for _ in range(repeats):
            figures["job"].append(launch_and_wait(deployment, instance, job))
            figures["ui"].append(launch_and_wait(deployment, instance, ui))
    out = {}
    for name, values in figures.items():
        out[f"{name}_wall_s"] = statistics.median(v[0] for v in values)
        out[f"{name}_run_s"] = statistics.median(v[1] for v in values)
    out["ratio_wall"] = out["ui_wall_s"] / out["job_wall_s"]
    out["ratio_run"] = out["ui_run_s"] / out["job_run_s"]
    return out


def cli_ingest(env: dict[str, str], start: str, end: str) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [str(Path(sys.executable).parent / "nba-notify"), "ingest", "--from", start, "--to", end],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return seconds, done.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--season-from", default="2024-10-01")
    parser.add_argument("--season-to", default="2025-04-30")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="nba_bench_ui_"))
    os.environ["NBA_NOTIFY_HOME"] = str(home)
    os.environ.pop("DAGSTER_HOME", None)

    import dagster as dg

    from nba_notify.definitions import load
    from nba_notify.defs.resources import build_resources
    from nba_notify.lib.config import Settings
    from nba_notify.lib.db import engine as db_engine
    from nba_notify.lib.db.migrate import upgrade
    from nba_notify.lib.ingest.parse import EASTERN
    from nba_notify.sim.app import SimConfig
    from nba_notify.sim.server import SimServer

    server = db_engine.start_embedded_postgres(home / "pg")
    db_engine.ensure_database(server, "bench_ui")
    database_url = db_engine.with_database(server, "bench_ui")
    upgrade(database_url)
    os.environ["NBA_NOTIFY_DATABASE_URL"] = database_url
    with SimServer(SimConfig(start=datetime.now(UTC))) as sim:
        os.environ["NBA_NOTIFY_SIM_URL"] = sim.url
        today = datetime.now(EASTERN).date()
        resources = build_resources(Settings.from_env())
        job = load().resolve_job_def("ingest_job")
        for day in (today, today + timedelta(days=1)):
            assert job.execute_in_process(
                partition_key=day.isoformat(), resources=resources, instance=dg.DagsterInstance.ephemeral()
            ).success
        ui = ui_vs_job(sim, server, database_url)
        print(
            f"notifications group, median of 3: UI 'Materialize all' (__ASSET_JOB) {ui['ui_wall_s']:.2f} s "
            f"launch-to-finished ({ui['ui_run_s']:.2f} s run); braze_sync_job {ui['job_wall_s']:.2f} s "
            f"({ui['job_run_s']:.2f} s run); ratio {ui['ratio_wall']:.2f}x wall, {ui['ratio_run']:.2f}x run"
        )
        env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
        seconds, last = cli_ingest(env, today.isoformat(), today.isoformat())
        print(
            f"nba-notify ingest, one date ({today}), fresh process, in-process run: {seconds:.1f} s - {last}"
        )
        seconds, last = cli_ingest(env, args.season_from, args.season_to)
        print(
            f"nba-notify ingest {args.season_from}..{args.season_to} (past season): {seconds:.1f} s - {last}"
        )


if __name__ == "__main__":
    main()
