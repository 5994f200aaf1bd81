"""The project's one persistent Dagster instance: ``$NBA_NOTIFY_HOME/dagster_home`` (unless
``DAGSTER_HOME`` is set), storing runs, schedules, sensors and backfills in PostgreSQL (via
dagster-postgres), like production. Every ``nba-notify`` command and ``nba-notify dev`` use it,
so the UI, the daemon and the CLI see the same runs.

The generated ``dagster.yaml`` holds no secret: a database password is read from
``NBA_NOTIFY_DATABASE_PASSWORD`` at run time (dagster-postgres ``env:`` config), and the file is
written with mode 0600."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.engine import make_url

from nba_notify.lib.config import project_home
from nba_notify.lib.db.engine import DAGSTER_DATABASE, ensure_database, with_database
from nba_notify.lib.run_coordinator import BRAZE_CAMPAIGN_TAG

PASSWORD_VARIABLE = "NBA_NOTIFY_DATABASE_PASSWORD"


def default_dagster_home() -> Path:
    """``DAGSTER_HOME`` when set, else the project's own under ``NBA_NOTIFY_HOME``."""
    explicit = os.environ.get("DAGSTER_HOME")
    return Path(explicit).resolve() if explicit else project_home() / "dagster_home"


def storage_config(storage_url: str) -> dict[str, Any]:
    """dagster-postgres ``postgres_db`` for the server of ``storage_url``; its password, if
    any, is referenced by environment variable, never written."""
    url = make_url(storage_url)
    params = {key: value for key, value in url.query.items()}
    db: dict[str, Any] = {
        "username": url.username or "postgres",
        # a Unix-socket server (the embedded one) has no host: the socket dir is in params
        "hostname": url.host or "",
        "port": url.port or 5432,
        "db_name": url.database or DAGSTER_DATABASE,
        # dagster-postgres's NOTIFY needs psycopg2 (DESIGN §7)
        "scheme": "postgresql+psycopg2",
    }
    if url.password or os.environ.get(PASSWORD_VARIABLE):
        db["password"] = {"env": PASSWORD_VARIABLE}
    if params:
        db["params"] = params
    return {"postgres": {"postgres_db": db}}


def instance_config(storage_url: str) -> dict:
    return {
        "storage": storage_config(storage_url),
        "run_coordinator": {
            # QueuedRunCoordinator that also gives UI-launched asset runs the run tags the
            # assets declare (lib/run_coordinator.py)
            "module": "nba_notify.lib.run_coordinator",
            "class": "AssetTaggedRunCoordinator",
            "config": {
                "max_concurrent_runs": 4,
                "tag_concurrency_limits": [
                    # one Braze sync at a time per campaign (DESIGN §6)
                    {
                        "key": BRAZE_CAMPAIGN_TAG,
                        "limit": 1,
                        "value": {"applyLimitPerUniqueValue": True},
                    },
                ],
            },
        },
        "run_monitoring": {"enabled": True, "start_timeout_seconds": 180},
        "run_retries": {"enabled": True, "max_retries": 0},
        "telemetry": {"enabled": False},
    }


def database_password(server_url: str) -> str | None:
    return os.environ.get(PASSWORD_VARIABLE) or make_url(server_url).password or None


def dagster_process_env(server_url: str) -> dict[str, str]:
    """What a Dagster process on this instance needs in its environment."""
    password = database_password(server_url)
    return {PASSWORD_VARIABLE: password} if password else {}


def write_dagster_home(home: Path, server_url: str) -> Path:
    """Create ``home/dagster.yaml`` pointing at a ``dagster`` database on ``server_url``."""
    ensure_database(server_url, DAGSTER_DATABASE)
    storage_url = with_database(server_url, DAGSTER_DATABASE)
    home.mkdir(parents=True, exist_ok=True)
    path = home / "dagster.yaml"
    text = yaml.safe_dump(instance_config(storage_url), sort_keys=False)
    # Created 0600 before a byte is written (no window where others could read it).
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(path, 0o600)  # an existing file keeps its old mode through O_TRUNC
    return home
