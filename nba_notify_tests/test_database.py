"""The database layer: migrations are the schema, and they agree with the metadata."""

import threading

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from nba_notify.lib.db.migrate import pending_revisions, upgrade
from nba_notify.lib.db.tables import metadata


def test_migrations_match_metadata(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert diff == [], f"metadata and migrations disagree; write a migration: {diff}"


def test_migrate_is_idempotent_and_leaves_nothing_pending(database_url):
    first = upgrade(database_url)
    second = upgrade(database_url)
    assert first == second
    assert pending_revisions(database_url) == []


def test_concurrent_migrate_calls_serialise(database_url):
    errors: list[BaseException] = []

    def run() -> None:
        try:
            upgrade(database_url)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_every_table_exists(engine):
    existing = set(sa.inspect(engine).get_table_names())
    assert set(metadata.tables) <= existing
