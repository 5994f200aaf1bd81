"""Alembic environment: always handed a live connection by :func:`nba_notify.lib.db.migrate`."""

from alembic import context

from nba_notify.lib.db.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - `alembic` CLI use is not supported
    raise RuntimeError("run migrations with `nba-notify migrate`")

context.configure(connection=connection, target_metadata=metadata, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
