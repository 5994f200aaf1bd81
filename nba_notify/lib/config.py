"""Environment-driven settings. Every variable is optional: the defaults are the embedded
PostgreSQL and the simulator, so a fresh checkout runs with no configuration at all."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_SIM_PORT = 8765
DEFAULT_WEBHOOK_PORT = 8766
DEFAULT_DASHBOARD_PORT = 8767


def project_home() -> Path:
    """Project-local state (embedded database, generated DAGSTER_HOME, demo artefacts)."""
    return Path(os.environ.get("NBA_NOTIFY_HOME", Path.cwd() / ".nba_notify")).resolve()


def sim_base_url() -> str:
    return os.environ.get("NBA_NOTIFY_SIM_URL", f"http://127.0.0.1:{DEFAULT_SIM_PORT}")


@dataclass(frozen=True)
class Settings:
    database_url: str | None
    bdl_base_url: str
    bdl_api_key: str
    nbac_base_url: str
    braze_rest_endpoint: str
    braze_api_key: str
    braze_campaign_id: str
    currents_token: str
    clock_url: str | None
    webhook_url: str
    # The operators' dashboard (/health) has its own listener; with a password it also asks
    # for HTTP Basic auth (or ``Authorization: Bearer <password>``) and may listen beyond loopback.
    dashboard_user: str = "operator"
    dashboard_password: str | None = None

    @classmethod
    def from_env(cls) -> Settings:
        sim = sim_base_url()
        env = os.environ.get
        return cls(
            database_url=env("NBA_NOTIFY_DATABASE_URL") or None,
            bdl_base_url=env("BDL_BASE_URL", f"{sim}/bdl"),
            bdl_api_key=env("BDL_API_KEY", "sim-bdl-key"),
            nbac_base_url=env("NBAC_BASE_URL", f"{sim}/nbac"),
            braze_rest_endpoint=env("BRAZE_REST_ENDPOINT", f"{sim}/braze"),
            braze_api_key=env("BRAZE_API_KEY", "sim-braze-key"),
            braze_campaign_id=env("BRAZE_CAMPAIGN_ID", "sim-campaign-tipoff"),
            currents_token=env("CURRENTS_TOKEN", "sim-currents-token"),
            # With the simulator, "now" is the simulator's controllable clock; a production
            # deployment sets NBA_NOTIFY_CLOCK=system and the wall clock is used.
            clock_url=(
                env("NBA_NOTIFY_CLOCK_URL", f"{sim}/_sim/clock")
                if env("NBA_NOTIFY_CLOCK", "sim") == "sim"
                else None
            ),
            webhook_url=env("NBA_NOTIFY_WEBHOOK_URL", f"http://127.0.0.1:{DEFAULT_WEBHOOK_PORT}/currents"),
            dashboard_user=env("NBA_NOTIFY_DASHBOARD_USER") or "operator",
            dashboard_password=env("NBA_NOTIFY_DASHBOARD_PASSWORD") or None,
        )
