"""Targeted reprocessing launched as real Dagster backfills: a webserver on loopback, the
CLI's ``reprocess --apply`` and the UI's ``reprocess_job`` both launch backfills of exactly
the real-loss game days (the daemon is not running, so they stay requested)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from nba_notify.cli import main
from nba_notify.defs.quality.jobs import reprocess_job
from nba_notify.defs.resources import PostgresResource
from nba_notify.lib.web.serve import free_port
from nba_notify_tests.quality.histories import (
    D_PROCESSOR_FAILED,
    D_SCRAPED_SINCE,
    D_SCRAPER_FAILED,
    write_history,
)

REPO = Path(__file__).resolve().parents[2]
BACKFILL = """
query ($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill { id status partitionNames assetSelection { path } tags { key value } }
  }
}
"""


@pytest.fixture(scope="module")
def webserver(tmp_path_factory, database_url):
    home = tmp_path_factory.mktemp("dagster_home")
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home), "NBA_NOTIFY_DATABASE_URL": database_url}
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
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            status = httpx.post(
                f"{url}/graphql",
                json={
                    "query": "{ workspaceOrError { __typename ... on Workspace { locationEntries { loadStatus } } } }"
                },
                timeout=2,
            ).json()
            entries = status["data"]["workspaceOrError"]["locationEntries"]
            if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                break
        except (httpx.HTTPError, KeyError, TypeError, ValueError):
            pass
        if proc.poll() is not None:
            raise RuntimeError("webserver exited: " + proc.stderr.read().decode()[-2000:])
        assert time.monotonic() < deadline, "webserver did not load the code location in 120 s"
        time.sleep(0.5)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def backfill(url: str, backfill_id: str) -> dict:
    body = httpx.post(f"{url}/graphql", json={"query": BACKFILL, "variables": {"id": backfill_id}}).json()
    return body["data"]["partitionBackfillOrError"]


def test_reprocess_apply_launches_backfills_of_exactly_the_real_loss_game_days(db, webserver, capsys):
    write_history(db)

    assert main(["reprocess", "--apply", "--webserver-url", webserver, "--json"]) == 0

    report = json.loads(capsys.readouterr().out)
    launched = {b["backfill_id"]: b for b in report["launched"]}
    assert len(launched) == 3
    seen = {}
    for backfill_id, planned in launched.items():
        stored = backfill(webserver, backfill_id)
        assert stored["__typename"] == "PartitionBackfill" and stored["status"] == "REQUESTED"
        assert {"/".join(a["path"]) for a in stored["assetSelection"]} == set(planned["asset_keys"])
        assert {t["key"]: t["value"] for t in stored["tags"]}["nba_notify/reprocess"] == planned["action"]
        for partition in stored["partitionNames"]:
            seen[partition] = planned["action"]
    assert seen == {
        D_PROCESSOR_FAILED.isoformat(): "reprocess_from_raw",
        D_SCRAPED_SINCE.isoformat(): "reprocess_from_raw",
        D_SCRAPER_FAILED.isoformat(): "rescrape",
    }


def test_reprocess_job_from_the_ui_launches_the_days_given_in_its_config(db, webserver, database_url):
    write_history(db)
    result = reprocess_job.execute_in_process(
        run_config={
            "ops": {
                "launch_reprocess_backfills": {
                    "config": {"partitions": [D_SCRAPER_FAILED.isoformat()], "webserver_url": webserver}
                }
            }
        },
        resources={"database": PostgresResource(url=database_url)},
    )
    [output] = [e for e in result.all_events if e.event_type_value == "STEP_OUTPUT"]
    [launched] = output.event_specific_data.metadata["backfills"].value
    assert launched["partitions"] == [D_SCRAPER_FAILED.isoformat()]
    assert backfill(webserver, launched["backfill_id"])["partitionNames"] == [D_SCRAPER_FAILED.isoformat()]


def test_a_day_that_has_data_is_refused_not_reprocessed(db, webserver, capsys):
    write_history(db)
    assert main(["reprocess", "--apply", "--date", "2026-11-11", "--webserver-url", webserver]) == 2
    assert "not in the reprocess plan" in capsys.readouterr().err
