"""Where the database is and how we connect to it.

One SQL dialect everywhere: PostgreSQL. ``NBA_NOTIFY_DATABASE_URL`` points at any server;
without it an embedded PostgreSQL is started from the ``pgserver`` wheel under the project's
local state directory, so a machine without PostgreSQL still runs everything.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

from nba_notify.lib.config import project_home

APP_DATABASE = "nba_notify"
DAGSTER_DATABASE = "dagster"

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()
_embedded_servers: dict[Path, object] = {}


def start_embedded_postgres(data_dir: Path | None = None, *, keep_running: bool = False) -> str:
    """Start (or attach to) the embedded PostgreSQL and return a server-level URL.

    pgserver reference-counts handles across processes, so a second command attaches to the
    running server instead of starting another; the last one to exit stops it, unless
    ``keep_running`` (``nba-notify db url``: other tools are about to use the URL; ``nba-notify
    db stop`` ends it). The URL is a Unix-socket URL."""
    import pgserver

    data_dir = (data_dir or project_home() / "pg").resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    server = _embedded_servers.get(data_dir)
    if server is None:
        # Whoever starts it stops it: a command that finds it running (left by `db url` or
        # `env` for other tools, or owned by `nba-notify dev`) leaves it running.
        already_running = (data_dir / "postmaster.pid").exists()
        keep = keep_running or already_running
        server = pgserver.get_server(data_dir, cleanup_mode=None if keep else "stop")
        _embedded_servers[data_dir] = server
    elif keep_running:
        server.cleanup_mode = None  # type: ignore[attr-defined]
    return server.get_uri()  # type: ignore[attr-defined]


def stop_embedded_postgres(data_dir: Path | None = None) -> bool:
    """Stop the embedded server unless another live process (``nba-notify dev``, a run)
    still holds it: pgserver stops it when the last handle closes. True if it is stopped."""
    import pgserver

    data_dir = (data_dir or project_home() / "pg").resolve()
    if not (data_dir / "postmaster.pid").exists():
        return True
    server = _embedded_servers.pop(data_dir, None) or pgserver.get_server(data_dir, cleanup_mode="stop")
    server.cleanup_mode = "stop"  # type: ignore[attr-defined]
    server.cleanup()  # type: ignore[attr-defined]
    return not (data_dir / "postmaster.pid").exists()


def psql_path() -> Path:
    """The psql that ships with the embedded server (works against any server)."""
    from pgserver._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH) / "psql"


def release_embedded_postgres() -> None:
    """Release this process's handles on embedded servers: the last process attached stops
    the server (pgserver's reference count), so no postmaster outlives the commands that
    started it (a server this process found running is left running: see
    :func:`start_embedded_postgres`). Also runs at interpreter exit; calling it first makes a stop on SIGTERM
    independent of how the process then ends."""
    while _embedded_servers:
        _, server = _embedded_servers.popitem()
        server.cleanup()  # type: ignore[attr-defined]


def with_database(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def ensure_database(server_url: str, database: str) -> None:
    """CREATE DATABASE if missing (needs a connection to the maintenance database)."""
    admin = sa.create_engine(
        sqlalchemy_url(with_database(server_url, "postgres")), isolation_level="AUTOCOMMIT"
    )
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": database}
            ).scalar()
            if not exists:
                conn.exec_driver_sql("CREATE DATABASE " + _quoted(conn, database))
    finally:
        admin.dispose()


def drop_database(server_url: str, database: str) -> None:
    admin = sa.create_engine(
        sqlalchemy_url(with_database(server_url, "postgres")), isolation_level="AUTOCOMMIT"
    )
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql("DROP DATABASE IF EXISTS " + _quoted(conn, database) + " WITH (FORCE)")
    finally:
        admin.dispose()


def _quoted(conn: sa.Connection, name: str) -> str:
    """Identifiers cannot be bound parameters; quote with the dialect's own preparer."""
    if not name.replace("_", "").isalnum():
        raise ValueError(f"refusing unsafe database name {name!r}")
    return conn.dialect.identifier_preparer.quote_identifier(name)


def resolve_database_url() -> str:
    """The application database URL: the environment's, or the embedded server's."""
    url = os.environ.get("NBA_NOTIFY_DATABASE_URL")
    if url:
        return url
    server = start_embedded_postgres()
    ensure_database(server, APP_DATABASE)
    return with_database(server, APP_DATABASE)


def sqlalchemy_url(url: str) -> str:
    """Our own engine speaks psycopg 3. A URL without a password takes
    ``NBA_NOTIFY_DATABASE_PASSWORD`` when set (so the password need not sit in the URL)."""
    parsed: URL = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    password = os.environ.get("NBA_NOTIFY_DATABASE_PASSWORD")
    if password and not parsed.password:
        parsed = parsed.set(password=password)
    return parsed.render_as_string(hide_password=False)


def dagster_storage_url(url: str) -> str:
    """dagster-postgres issues ``NOTIFY ..., %(x)s`` which only psycopg2 accepts (DESIGN §7)."""
    parsed = make_url(url).set(drivername="postgresql+psycopg2")
    return parsed.render_as_string(hide_password=False)


def get_engine(url: str | None = None) -> Engine:
    """One pooled engine per URL per process."""
    url = sqlalchemy_url(url or resolve_database_url())
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
            _engines[url] = engine
        return engine


def dispose_engines() -> None:
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
