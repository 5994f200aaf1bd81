"""Bring up the local stack the CLI commands share: database (embedded unless configured),
migrations, simulator, webhook receiver, and the environment that points the product at them.

`nba-notify demo` runs it in-process; `nba-notify dev` also launches `dagster dev`, passing
everything through environment variables so Dagster's subprocesses attach to the same
PostgreSQL and simulator instead of starting their own (DESIGN §7).

``hermetic=True`` (the demo, benchmarks): simulator mode whatever the shell says, and every
setting naming a real upstream or alert channel removed from the environment for the
duration, listed in :attr:`Stack.ignored` so the caller can say what it ignored."""

from __future__ import annotations

import os
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from nba_notify.lib.config import (
    ALERT_CHANNEL_VARIABLES,
    MODE_VARIABLE,
    UPSTREAM_VARIABLES,
    Mode,
    Settings,
    current_mode,
    project_home,
)
from nba_notify.lib.dagster_home import dagster_process_env, default_dagster_home, write_dagster_home
from nba_notify.lib.db import engine as db_engine
from nba_notify.lib.db.migrate import upgrade
from nba_notify.lib.web.serve import BackgroundServer
from nba_notify.sim.app import SimConfig
from nba_notify.sim.server import SimServer

# What a hermetic stack never lets through: real upstreams and their credentials (our
# receiver's token included: the simulator presents its own), real alert channels.
HERMETIC_DROPS = (*UPSTREAM_VARIABLES, "CURRENTS_TOKEN", *ALERT_CHANNEL_VARIABLES)
# Re-pointed at the stack's own simulator and receiver, so never reported as ignored.
_REPOINTED = ("NBA_NOTIFY_SIM_URL", "NBA_NOTIFY_WEBHOOK_URL")


def ignored_settings(env: dict[str, str] | None = None) -> list[str]:
    """The settings a hermetic run will ignore, as ``NAME`` (``NAME=value`` for the mode)."""
    env = dict(os.environ) if env is None else env
    ignored = [name for name in HERMETIC_DROPS if env.get(name)]
    if env.get(MODE_VARIABLE) and env[MODE_VARIABLE].strip().lower() != Mode.SIMULATOR:
        ignored.insert(0, f"{MODE_VARIABLE}={env[MODE_VARIABLE]}")
    return ignored


@dataclass
class Stack:
    database_url: str
    server_url: str
    dagster_home: Path
    sim: SimServer | None  # None in production mode: the real upstreams are used
    webhook: BackgroundServer
    # variables to set; a None value means "unset" (hermetic stacks drop real endpoints)
    env: dict[str, str | None] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    # The operators' health dashboard, on its own listener (never the public Currents one).
    dashboard: BackgroundServer | None = None

    def child_env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """``base`` (default: this process's environment) pointed at the stack."""
        return environment_with(self.env, base)

    def apply_env(self, exit_stack: ExitStack | None = None) -> None:
        """Point this process at the stack; with ``exit_stack``, restore the environment on exit."""
        if exit_stack is not None:
            previous = {name: os.environ.get(name) for name in self.env}
            exit_stack.callback(_restore_env, previous)
        _restore_env(self.env)


def environment_with(changes: dict[str, str | None], base: dict[str, str] | None = None) -> dict[str, str]:
    merged = dict(os.environ if base is None else base)
    for name, value in changes.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged


def _restore_env(previous: dict[str, str | None]) -> None:
    for name, value in previous.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def start_stack(
    exit_stack: ExitStack,
    *,
    sim_start: datetime | None = None,
    sim_rate: float = 0.0,
    seed: int = 2026,
    sim_port: int = 0,
    webhook_port: int = 0,
    dashboard_port: int | None = None,
    audience_per_team: int = 5,
    scratch_database: str | None = None,
    hermetic: bool = False,
    full_season: bool = False,
) -> Stack:
    """``scratch_database`` (demo, benchmarks): work in a database of that name, dropped and
    re-created first on the same server, so a run never touches — or trips over — the
    application database's real state. ``hermetic``: see the module docstring. Outside a
    hermetic stack, production mode starts no simulator. ``dashboard_port`` (0 = any free port)
    also serves the health dashboard on loopback. ``full_season``: the simulator serves a season
    as the league runs it (``SimConfig.full_season``)."""
    home = project_home()
    ignored = ignored_settings() if hermetic else []
    with_simulator = hermetic or current_mode() is Mode.SIMULATOR
    external = os.environ.get("NBA_NOTIFY_DATABASE_URL")
    if external:
        server_url = db_engine.with_database(external, "postgres")
        database_url = external
    else:
        server_url = db_engine.start_embedded_postgres(home / "pg")
        database_url = db_engine.with_database(server_url, db_engine.APP_DATABASE)
    if scratch_database:
        db_engine.drop_database(server_url, scratch_database)
        database_url = db_engine.with_database(server_url, scratch_database)
    if not external or scratch_database:
        db_engine.ensure_database(server_url, make_url(database_url).database)
    upgrade(database_url)
    dagster_home = write_dagster_home(default_dagster_home(), server_url)

    from nba_notify.webhook.app import create_app, create_dashboard_app

    env: dict[str, str | None] = {}
    if hermetic:
        env.update({name: None for name in (*HERMETIC_DROPS, *_REPOINTED)})
        env[MODE_VARIABLE] = Mode.SIMULATOR.value
    settings = Settings.from_env(environment_with(env))
    webhook = BackgroundServer(create_app(database_url=database_url, settings=settings), port=webhook_port)
    exit_stack.enter_context(webhook)
    dashboard = None
    if dashboard_port is not None:
        dashboard = BackgroundServer(
            create_dashboard_app(database_url=database_url, settings=settings), port=dashboard_port
        )
        exit_stack.enter_context(dashboard)
    sim = None
    if with_simulator:
        config = SimConfig(
            seed=seed,
            rate=sim_rate,
            currents_url=f"{webhook.url}/currents",
            currents_token=settings.currents_token,  # what the receiver expects
            audience_per_team=audience_per_team,
            # the simulated campaign's template asks the product's send guard at send time
            braze_send_guard_url=f"{webhook.url}/braze/send-guard",
            braze_send_guard_token=settings.currents_token,
            full_season=full_season,
        )
        if sim_start is not None:
            config.start = sim_start
        sim = SimServer(config, port=sim_port)
        exit_stack.enter_context(sim)
        env["NBA_NOTIFY_SIM_URL"] = sim.url
        env["NBA_NOTIFY_WEBHOOK_URL"] = f"{webhook.url}/currents"
        env["NBA_NOTIFY_SEND_GUARD"] = "on"
    exit_stack.callback(db_engine.dispose_engines)
    env.update(
        {
            "NBA_NOTIFY_DATABASE_URL": database_url,
            "DAGSTER_HOME": str(dagster_home),
            **dagster_process_env(server_url),
        }
    )
    return Stack(database_url, server_url, dagster_home, sim, webhook, env, ignored, dashboard)
