"""A DAGSTER_HOME whose instance stores runs, schedules and sensors in PostgreSQL (via
dagster-postgres), like production — generated for `nba-notify dev` and the demo."""

from __future__ import annotations

from pathlib import Path

import yaml

from nba_notify.lib.db.engine import DAGSTER_DATABASE, dagster_storage_url, ensure_database, with_database


def instance_config(storage_url: str) -> dict:
    return {
        "storage": {"postgres": {"postgres_url": storage_url}},
        "run_coordinator": {
            "module": "dagster.core.run_coordinator",
            "class": "QueuedRunCoordinator",
            "config": {
                "max_concurrent_runs": 4,
                "tag_concurrency_limits": [
                    # one Braze sync at a time per campaign (DESIGN §6)
                    {
                        "key": "nba_notify/braze_campaign",
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


def write_dagster_home(home: Path, server_url: str) -> Path:
    """Create ``home/dagster.yaml`` pointing at a ``dagster`` database on ``server_url``."""
    ensure_database(server_url, DAGSTER_DATABASE)
    storage_url = dagster_storage_url(with_database(server_url, DAGSTER_DATABASE))
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(yaml.safe_dump(instance_config(storage_url), sort_keys=False))
    return home
