"""One persistent Dagster instance for the UI, the daemon and every ``nba-notify`` command.

``DAGSTER_HOME`` wins when set; otherwise ``$NBA_NOTIFY_HOME/dagster_home`` is (re)generated
for the configured database and this process (and every process it starts) points at it.
Plain ``dagster`` commands join the same instance after ``eval "$(nba-notify env)"``."""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path

from nba_notify.lib.dagster_home import PASSWORD_VARIABLE, dagster_process_env, write_dagster_home
from nba_notify.lib.db import engine as db_engine
from nba_notify.lib.db.migrate import pending_revisions


@dataclass(frozen=True)
class OperatorInstance:
    database_url: str
    dagster_home: Path
    generated: bool  # False: DAGSTER_HOME was given and used as is
    embedded: bool = False  # the database is the embedded server under NBA_NOTIFY_HOME


def use_operator_instance(*, keep_database_running: bool = False) -> OperatorInstance:
    """Point this process at the project's database and persistent Dagster instance.
    ``keep_database_running``: leave an embedded server up after this process (``env``:
    other tools are about to use it)."""
    if keep_database_running and not os.environ.get("NBA_NOTIFY_DATABASE_URL"):
        db_engine.start_embedded_postgres(keep_running=True)
    embedded = not os.environ.get("NBA_NOTIFY_DATABASE_URL")
    database_url = db_engine.resolve_database_url()
    server_url = db_engine.with_database(database_url, "postgres")
    explicit = os.environ.get("DAGSTER_HOME")
    if explicit:
        home, generated = Path(explicit).resolve(), False
    else:
        from nba_notify.lib.config import project_home

        home, generated = write_dagster_home(project_home() / "dagster_home", server_url), True
        os.environ["DAGSTER_HOME"] = str(home)
    os.environ.setdefault("NBA_NOTIFY_DATABASE_URL", database_url)
    for name, value in dagster_process_env(server_url).items():
        os.environ.setdefault(name, value)
    return OperatorInstance(database_url, home, generated, embedded)


class NotMigrated(Exception):
    """The database lacks migrations; the message says what to run."""


def require_migrated(database_url: str) -> None:
    missing = pending_revisions(database_url)
    if missing:
        raise NotMigrated(
            f"the database is missing migrations (heads not applied: {', '.join(missing)}): "
            "run `nba-notify migrate` first"
        )


def shell_exports(instance: OperatorInstance) -> list[str]:
    """``export`` lines that put a shell (and plain ``dagster``) on this instance. The database
    URL is exported only when it carries no password; a password stays in its own variable."""
    from sqlalchemy.engine import make_url

    lines = [f"export DAGSTER_HOME={shlex.quote(str(instance.dagster_home))}"]
    if not make_url(instance.database_url).password:
        lines.append(f"export NBA_NOTIFY_DATABASE_URL={shlex.quote(instance.database_url)}")
    elif not os.environ.get(PASSWORD_VARIABLE):
        lines.append(f"# the database password: export {PASSWORD_VARIABLE}=... (never printed)")
    if instance.embedded:
        lines.append("# the embedded PostgreSQL stays running for these tools; `nba-notify db stop` stops it")
    return lines
