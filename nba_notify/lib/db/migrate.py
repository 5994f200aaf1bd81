"""Apply Alembic migrations programmatically (``nba-notify migrate``; also run by dev/demo).

Concurrent callers (several Dagster subprocesses, parallel test workers) are serialised with
a transaction-scoped advisory lock, so two upgrades never race on the version table."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from nba_notify.lib.db.engine import get_engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_MIGRATION_LOCK_KEY = 0x6E62615F6D6967  # "nba_mig"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def upgrade(url: str | None = None) -> list[str]:
    """Upgrade to every head; returns the revisions now applied."""
    engine = get_engine(url)
    cfg = alembic_config()
    with engine.begin() as conn:
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_MIGRATION_LOCK_KEY)))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")
        return sorted(MigrationContext.configure(conn).get_current_heads())


def pending_revisions(url: str | None = None) -> list[str]:
    engine = get_engine(url)
    script = ScriptDirectory.from_config(alembic_config())
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_heads()
    # A revision applied as another's dependency (``depends_on``) is not kept as a head in the
    # version table: compare everything reachable from the applied heads with every revision.
    applied = {rev.revision for rev in script.iterate_revisions(current, "base")} if current else set()
    return sorted({rev.revision for rev in script.walk_revisions()} - applied)
