"""Helpers for SQL-project tests: throwaway project directories and a fresh PostgreSQL
schema per test, so temporary models never meet each other or the real ``analytics``."""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from nba_notify.defs.resources import PostgresResource
from nba_notify.lib.db.tables.ingest import games

SOURCES = {
    "public": {
        "games": {"asset_key": "games"},
        "player_box_scores": {"asset_key": "player_box_scores"},
        "scrape_events": {"external": True},
    }
}

ProjectWriter = Callable[[dict[str, str]], Path]


@pytest.fixture
def write_project(tmp_path: Path) -> ProjectWriter:
    """``write_project({"models/staging/a.sql": "...", "checks/c.sql": "..."})`` -> root.
    File bodies are dedented, so tests can indent them."""

    def write(files: dict[str, str]) -> Path:
        root = tmp_path / "dbt_like_sql"
        (root / "models").mkdir(parents=True, exist_ok=True)
        for relpath, body in files.items():
            path = root / relpath
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(body).lstrip("\n"), encoding="utf-8")
        return root

    return write


@pytest.fixture
def schema(db: sa.Engine) -> Iterator[str]:
    """A schema name nobody else uses; dropped with everything in it afterwards."""
    name = f"sqlt_{uuid.uuid4().hex[:10]}"
    yield name
    with db.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.fixture
def resources(database_url: str) -> dict[str, PostgresResource]:
    return {"database": PostgresResource(url=database_url)}


def add_games(
    engine: sa.Engine,
    *keys: str,
    status: str = "scheduled",
    tipoff: datetime | None = datetime(2026, 11, 25, 0, 30, tzinfo=UTC),
) -> None:
    """Games of 2026-11-24 (BOS at NYK), one per key."""
    rows = [
        {
            "game_id": key,
            "game_date": date(2026, 11, 24),
            "home_team": "NYK",
            "away_team": "BOS",
            "tipoff_utc": tipoff,
            "status": status,
            "in_bdl": True,
            "in_nbac": True,
        }
        for key in keys
    ]
    with engine.begin() as conn:
        conn.execute(sa.insert(games), rows)
