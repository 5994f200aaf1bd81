"""Bring up the local stack the CLI commands share: database (embedded unless configured),
migrations, simulator, webhook receiver, and the environment that points the product at them.

`nba-notify demo` runs it in-process; `nba-notify dev` also launches `dagster dev`, passing
everything through environment variables so Dagster's subprocesses attach to the same
PostgreSQL and simulator instead of starting their own (DESIGN §7)."""

from __future__ import annotations

import os
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from nba_notify.lib.config import project_home
from nba_notify.lib.dagster_home import write_dagster_home
from nba_notify.lib.db import engine as db_engine
from nba_notify.lib.db.migrate import upgrade
from nba_notify.lib.web.serve import BackgroundServer
from nba_notify.sim.app import SimConfig
from nba_notify.sim.server import SimServer


@dataclass
class Stack:
    database_url: str
    server_url: str
    dagster_home: Path
    sim: SimServer
    webhook: BackgroundServer
    env: dict[str, str] = field(default_factory=dict)
    # The operators' health dashboard, on its own listener (never the public Currents one).
    dashboard: BackgroundServer | None = None

    def apply_env(self, exit_stack: ExitStack | None = None) -> None:
        """Point this process at the stack; with ``exit_stack``, restore the environment on exit."""
        if exit_stack is not None:
            previous = {name: os.environ.get(name) for name in self.env}
            exit_stack.callback(_restore_env, previous)
        os.environ.update(self.env)


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
) -> Stack:
    """``scratch_database`` (demo, benchmarks): work in a database of that name, dropped and
    re-created first on the same server, so a run never touches — or trips over — the
    application database's real state. ``dashboard_port`` (0 = any free port) also serves the
    health dashboard on loopback."""
    home = project_home()
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
    dagster_home = write_dagster_home(home / "dagster_home", server_url)

    from nba_notify.webhook.app import create_app, create_dashboard_app

    webhook = BackgroundServer(create_app(database_url=database_url), port=webhook_port)
    dashboard = (
        BackgroundServer(create_dashboard_app(database_url=database_url), port=dashboard_port)
        if dashboard_port is not None
        else None
    )
    config = SimConfig(
        seed=seed,
        rate=sim_rate,
        currents_url=f"{webhook.url}/currents",
        audience_per_team=audience_per_team,
    )
    if sim_start is not None:
        config.start = sim_start
    sim = SimServer(config, port=sim_port)
    exit_stack.enter_context(webhook)
    if dashboard is not None:
        exit_stack.enter_context(dashboard)
    exit_stack.enter_context(sim)
    exit_stack.callback(db_engine.dispose_engines)
    env = {
        "NBA_NOTIFY_DATABASE_URL": database_url,
        "NBA_NOTIFY_SIM_URL": sim.url,
        "NBA_NOTIFY_WEBHOOK_URL": f"{webhook.url}/currents",
        "DAGSTER_HOME": str(dagster_home),
    }
    return Stack(database_url, server_url, dagster_home, sim, webhook, env, dashboard)
