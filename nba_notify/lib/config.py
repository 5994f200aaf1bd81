"""Environment-driven settings, under one explicit mode.

``NBA_NOTIFY_MODE`` is ``simulator`` (the default) or ``production``:

* **simulator** — every upstream is the simulator at ``NBA_NOTIFY_SIM_URL`` (loopback only),
  "now" is the simulator's clock, credentials are the simulator's public dummy values. Real
  endpoint and credential settings (``BRAZE_REST_ENDPOINT``, ``BDL_BASE_URL``, ...) are
  *ignored* and listed in :attr:`Settings.ignored`, so a fresh checkout, the demo and the
  tests can never reach a real API, whatever the shell exports.
* **production** — the real APIs (defaults below, each overridable), the wall clock, and
  credentials read from the environment only (resources get them as ``dg.EnvVar``). No
  simulator-only endpoint (``/_sim/...``) is ever called.
"""

from __future__ import annotations

import enum
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_SIM_PORT = 8765
DEFAULT_WEBHOOK_PORT = 8766
DEFAULT_DASHBOARD_PORT = 8767

MODE_VARIABLE = "NBA_NOTIFY_MODE"
# First season the daily partitions cover (start year: 2019 = 2019-20); "2019-20" also accepted.
FIRST_SEASON_VARIABLE = "NBA_NOTIFY_FIRST_SEASON"
DEFAULT_FIRST_SEASON = 2019

# Production defaults of the public upstreams (Braze's REST endpoint is per workspace cluster).
BDL_PRODUCTION_URL = "https://api.balldontlie.io"
NBAC_CDN_PRODUCTION_URL = "https://cdn.nba.com"
NBAC_STATS_PRODUCTION_URL = "https://stats.nba.com"

# The simulator's public dummy credentials (SimConfig's defaults): nothing secret about them.
SIM_BDL_API_KEY = "sim-bdl-key"
SIM_BRAZE_API_KEY = "sim-braze-key"
SIM_BRAZE_CAMPAIGN_ID = "sim-campaign-tipoff"
SIM_CURRENTS_TOKEN = "sim-currents-token"

# Settings that point at a real upstream or carry a real upstream credential: honoured in
# production, ignored (and reported) in simulator mode.
UPSTREAM_VARIABLES = (
    "BDL_BASE_URL",
    "BDL_API_KEY",
    "NBAC_BASE_URL",
    "NBAC_STATS_BASE_URL",
    "BRAZE_REST_ENDPOINT",
    "BRAZE_API_KEY",
    "BRAZE_CAMPAIGN_ID",
    "ODDS_API_BASE_URL",
    "ODDS_API_KEY",
    "BETTINGPROS_BASE_URL",
    "BETTINGPROS_API_KEY",
)
# Outbound alert channels: real destinations too; the demo and the tests drop them.
ALERT_CHANNEL_VARIABLES = (
    "NBA_NOTIFY_ALERT_WEBHOOK_URL",
    "NBA_NOTIFY_SMTP_HOST",
    "NBA_NOTIFY_SMTP_PORT",
    "NBA_NOTIFY_SMTP_FROM",
    "NBA_NOTIFY_SMTP_TO",
    "NBA_NOTIFY_SMTP_STARTTLS",
    "NBA_NOTIFY_SMTP_USERNAME",
    "NBA_NOTIFY_SMTP_PASSWORD",
)
# What production cannot run without (the public NBA/BDL hosts have defaults; Braze has none).
PRODUCTION_REQUIRED = (
    "BDL_API_KEY",
    "BRAZE_REST_ENDPOINT",
    "BRAZE_API_KEY",
    "BRAZE_CAMPAIGN_ID",
    "CURRENTS_TOKEN",
)
# Values that are secrets wherever they come from: reach resources as dg.EnvVar, never shown.
SECRET_VARIABLES = (
    "BDL_API_KEY",
    "ODDS_API_KEY",
    "BETTINGPROS_API_KEY",
    "BRAZE_API_KEY",
    "CURRENTS_TOKEN",
    "NBA_NOTIFY_DATABASE_URL",
    "NBA_NOTIFY_DATABASE_PASSWORD",
    "NBA_NOTIFY_ALERT_WEBHOOK_URL",
    "NBA_NOTIFY_SMTP_PASSWORD",
)


class Mode(enum.StrEnum):
    SIMULATOR = "simulator"
    PRODUCTION = "production"


class ConfigurationError(ValueError):
    """A setting that cannot work; the message names the variable and the fix."""


def project_home() -> Path:
    """Project-local state (embedded database, generated DAGSTER_HOME, demo artefacts)."""
    return Path(os.environ.get("NBA_NOTIFY_HOME", Path.cwd() / ".nba_notify")).resolve()


def sim_base_url() -> str:
    return os.environ.get("NBA_NOTIFY_SIM_URL", f"http://127.0.0.1:{DEFAULT_SIM_PORT}")


def current_mode(env: Mapping[str, str] | None = None) -> Mode:
    raw = (os.environ if env is None else env).get(MODE_VARIABLE, Mode.SIMULATOR).strip().lower()
    try:
        return Mode(raw)
    except ValueError:
        raise ConfigurationError(
            f"{MODE_VARIABLE}={raw!r}: must be 'simulator' (the default) or 'production'"
        ) from None


def first_season(env: Mapping[str, str] | None = None) -> int:
    """The first season (start year) the game-day partitions cover."""
    raw = (os.environ if env is None else env).get(FIRST_SEASON_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_FIRST_SEASON
    head = raw.split("-", 1)[0]
    if not (head.isdigit() and len(head) == 4 and 1946 <= int(head) <= 2100):
        raise ConfigurationError(
            f"{FIRST_SEASON_VARIABLE}={raw!r}: give the season's start year (2019) or label (2019-20)"
        )
    return int(head)


def is_loopback_url(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
    nbac_stats_base_url: str
    mode: Mode = Mode.SIMULATOR
    # variables set in the environment that this mode does not use (simulator: real upstreams)
    ignored: tuple[str, ...] = field(default=())
    # The operators' dashboard (/health) has its own listener; with a password it also asks
    # for HTTP Basic auth (or ``Authorization: Bearer <password>``) and may listen beyond loopback.
    dashboard_user: str = "operator"
    dashboard_password: str | None = None

    @property
    def production(self) -> bool:
        return self.mode is Mode.PRODUCTION

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        mode = current_mode(env)
        database_url = env.get("NBA_NOTIFY_DATABASE_URL") or None
        if mode is Mode.PRODUCTION:
            return cls(
                mode=mode,
                database_url=database_url,
                bdl_base_url=env.get("BDL_BASE_URL") or BDL_PRODUCTION_URL,
                bdl_api_key=env.get("BDL_API_KEY", ""),
                nbac_base_url=env.get("NBAC_BASE_URL") or NBAC_CDN_PRODUCTION_URL,
                nbac_stats_base_url=env.get("NBAC_STATS_BASE_URL") or NBAC_STATS_PRODUCTION_URL,
                braze_rest_endpoint=env.get("BRAZE_REST_ENDPOINT", ""),
                braze_api_key=env.get("BRAZE_API_KEY", ""),
                braze_campaign_id=env.get("BRAZE_CAMPAIGN_ID", ""),
                currents_token=env.get("CURRENTS_TOKEN", ""),
                clock_url=None,  # the wall clock
                webhook_url=env.get("NBA_NOTIFY_WEBHOOK_URL", ""),
                dashboard_user=env.get("NBA_NOTIFY_DASHBOARD_USER") or "operator",
                dashboard_password=env.get("NBA_NOTIFY_DASHBOARD_PASSWORD") or None,
            )
        sim = env.get("NBA_NOTIFY_SIM_URL") or f"http://127.0.0.1:{DEFAULT_SIM_PORT}"
        webhook_url = env.get("NBA_NOTIFY_WEBHOOK_URL") or f"http://127.0.0.1:{DEFAULT_WEBHOOK_PORT}/currents"
        for name, url in (("NBA_NOTIFY_SIM_URL", sim), ("NBA_NOTIFY_WEBHOOK_URL", webhook_url)):
            if not is_loopback_url(url):
                raise ConfigurationError(
                    f"{name}={url!r} is not a loopback address: simulator mode only talks to this "
                    f"machine. Point it at 127.0.0.1, or set {MODE_VARIABLE}=production for real APIs."
                )
        return cls(
            mode=mode,
            database_url=database_url,
            bdl_base_url=f"{sim}/bdl",
            bdl_api_key=SIM_BDL_API_KEY,
            nbac_base_url=f"{sim}/nbac",
            nbac_stats_base_url=f"{sim}/nbac-stats",
            braze_rest_endpoint=f"{sim}/braze",
            braze_api_key=SIM_BRAZE_API_KEY,
            braze_campaign_id=SIM_BRAZE_CAMPAIGN_ID,
            # our own receiver's token, not an upstream's: honoured in both modes
            currents_token=env.get("CURRENTS_TOKEN") or SIM_CURRENTS_TOKEN,
            clock_url=f"{sim}/_sim/clock",
            webhook_url=webhook_url,
            ignored=tuple(name for name in UPSTREAM_VARIABLES if env.get(name)),
            dashboard_user=env.get("NBA_NOTIFY_DASHBOARD_USER") or "operator",
            dashboard_password=env.get("NBA_NOTIFY_DASHBOARD_PASSWORD") or None,
        )

    def missing_for_production(self, env: Mapping[str, str] | None = None) -> list[str]:
        """Required production variables that are unset (empty in simulator mode)."""
        if not self.production:
            return []
        env = os.environ if env is None else env
        return [name for name in PRODUCTION_REQUIRED if not env.get(name)]
