"""Developer tool: autogenerate a migration by diffing the metadata against a scratch
embedded PostgreSQL upgraded to the current heads.

    python -m nba_notify.lib.db.revision 0005 "add foo table" [--head 0001]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from alembic import command

from nba_notify.lib.db import engine as db_engine
from nba_notify.lib.db.migrate import alembic_config, upgrade


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("rev_id")
    parser.add_argument("message")
    parser.add_argument("--head", default=None, help="parent revision when several heads exist")
    args = parser.parse_args()

    server = db_engine.start_embedded_postgres(Path(tempfile.mkdtemp(prefix="nba_rev_")))
    db_engine.ensure_database(server, "revision")
    url = db_engine.with_database(server, "revision")
    upgrade(url)
    cfg = alembic_config()
    with db_engine.get_engine(url).begin() as conn:
        cfg.attributes["connection"] = conn
        kwargs = {"head": args.head} if args.head else {}
        command.revision(cfg, message=args.message, autogenerate=True, rev_id=args.rev_id, **kwargs)


if __name__ == "__main__":
    main()
