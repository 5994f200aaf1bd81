"""The operator's command line works on the one persistent instance the UI uses, reaches the
database, says what to run when migrations are missing, and ingests any season's dates."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import uuid

import dagster as dg
import pytest
import sqlalchemy as sa
import yaml
from sqlalchemy.engine import make_url

from nba_notify.cli import main
from nba_notify.lib.dagster_home import PASSWORD_VARIABLE, write_dagster_home
from nba_notify.lib.db import engine as db_engine
from nba_notify.lib.db.tables.ingest import games


@pytest.fixture
def operator_home(tmp_path, monkeypatch, database_url, sim):
    """A fresh NBA_NOTIFY_HOME, no DAGSTER_HOME: what an operator's shell looks like."""
    monkeypatch.setenv("NBA_NOTIFY_HOME", str(tmp_path))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setenv("NBA_NOTIFY_SIM_URL", sim.url)
    yield tmp_path
    os.environ.pop("DAGSTER_HOME", None)  # set by the command for itself and its children


@pytest.fixture
def empty_database(database_server_url, monkeypatch):
    name = f"never_migrated_{uuid.uuid4().hex[:8]}"
    db_engine.ensure_database(database_server_url, name)
    url = db_engine.with_database(database_server_url, name)
    monkeypatch.setenv("NBA_NOTIFY_DATABASE_URL", url)
    yield url
    db_engine.dispose_engines()
    db_engine.drop_database(database_server_url, name)


def test_reprocess_plan_on_a_never_migrated_database_says_migrations_are_missing_and_what_to_run(
    operator_home, empty_database, capsys
):
    assert main(["reprocess", "--plan"]) == 2
    err = capsys.readouterr().err
    assert "missing migrations" in err and "run `nba-notify migrate`" in err
    assert "SQL project" not in err


def test_ingest_of_a_2024_25_date_range_is_one_run_on_the_persistent_instance_with_progress(
    operator_home, db, sim, capsys
):
    assert main(["ingest", "--from", "2024-11-01", "--to", "2024-11-03"]) == 0
    out = capsys.readouterr().out
    assert "in this process (no daemon running)" in out
    assert "games                  2024-11-03 (3/3)" in out and out.strip().splitlines()[-1].startswith(
        "OK: 3"
    )
    with db.connect() as conn:
        days = conn.execute(sa.select(sa.func.count(sa.distinct(games.c.game_date)))).scalar_one()
    assert days == 3
    # a past season's schedule came from the stats host, asked the way it wants to be asked
    counts = sim.control.state()["request_counts"]
    assert counts.get("nbac.schedule_season", 0) >= 1 and counts.get("nbac.schedule_season.refused", 0) == 0
    # the run is on the persistent instance under NBA_NOTIFY_HOME, as one run over the range
    home = operator_home / "dagster_home"
    assert os.environ["DAGSTER_HOME"] == str(home)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs(filters=dg.RunsFilter(tags={"nba_notify/launched_by": "nba-notify ingest"}))
        assert len(runs) == 1 and runs[0].status == dg.DagsterRunStatus.SUCCESS
        assert runs[0].tags["dagster/asset_partition_range_start"] == "2024-11-01"
        assert runs[0].tags["dagster/asset_partition_range_end"] == "2024-11-03"


def test_ingest_refuses_dates_outside_the_partitions_and_says_how_to_reach_them(operator_home, capsys):
    assert main(["ingest", "--from", "2015-11-01"]) == 2
    assert "NBA_NOTIFY_FIRST_SEASON" in capsys.readouterr().err
    assert main(["ingest", "--from", "20241101"]) == 2


def test_plain_dagster_cli_joins_the_same_instance_after_nba_notify_env(operator_home, database_url, capsys):
    assert main(["env"]) == 0
    exports = dict(
        line.removeprefix("export ").split("=", 1)
        for line in capsys.readouterr().out.splitlines()
        if "=" in line
    )
    home = exports["DAGSTER_HOME"]
    assert home == str(operator_home / "dagster_home")
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env["DAGSTER_HOME"] = home
    info = subprocess.run(
        [sys.executable, "-m", "dagster", "instance", "info"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert info.returncode == 0, info.stderr[-2000:]
    assert f"$DAGSTER_HOME: {home}" in info.stdout and "PostgresRunStorage" in info.stdout
    with dg.DagsterInstance.from_config(home) as instance:
        assert type(instance.run_coordinator).__name__ == "AssetTaggedRunCoordinator"


def test_db_url_is_masked_unless_secrets_are_asked_for(monkeypatch, database_url, capsys):
    with_password = make_url(database_url).set(password="s3cret-pw").render_as_string(hide_password=False)
    monkeypatch.setenv("NBA_NOTIFY_DATABASE_URL", with_password)
    assert main(["db", "url"]) == 0
    assert "s3cret-pw" not in capsys.readouterr().out
    assert main(["db", "url", "--show-secrets"]) == 0
    assert "s3cret-pw" in capsys.readouterr().out


def test_generated_instance_config_reads_the_password_from_the_environment_and_is_private(
    tmp_path, database_server_url, monkeypatch
):
    server = make_url(database_server_url).set(password="s3cret-pw").render_as_string(hide_password=False)
    home = write_dagster_home(tmp_path / "dagster_home", server)
    config_file = home / "dagster.yaml"
    text = config_file.read_text()
    assert "s3cret-pw" not in text
    assert yaml.safe_load(text)["storage"]["postgres"]["postgres_db"]["password"] == {
        "env": PASSWORD_VARIABLE
    }
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    monkeypatch.setenv(PASSWORD_VARIABLE, "s3cret-pw")  # the embedded server trusts local sockets
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
