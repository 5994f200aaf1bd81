"""Resources injected into every asset, sensor and check. The environment changes URLs and
credentials, never which class is used: with no configuration they point at the embedded
PostgreSQL and the simulator."""

from __future__ import annotations

from datetime import datetime

import dagster as dg
import sqlalchemy as sa

from nba_notify.lib.clock import make_clock
from nba_notify.lib.config import Settings
from nba_notify.lib.db.engine import get_engine


class PostgresResource(dg.ConfigurableResource):
    """The application database. ``url=None`` means NBA_NOTIFY_DATABASE_URL or, failing
    that, the embedded PostgreSQL."""

    url: str | None = None

    def engine(self) -> sa.Engine:
        return get_engine(self.url)


class ClockResource(dg.ConfigurableResource):
    """``url`` is the simulator's clock endpoint; ``None`` means the system clock."""

    url: str | None = None

    def now(self) -> datetime:
        return make_clock(self.url).now()


def build_resources(settings: Settings | None = None) -> dict[str, dg.ConfigurableResource]:
    settings = settings or Settings.from_env()
    return {
        "database": PostgresResource(url=settings.database_url),
        "clock": ClockResource(url=settings.clock_url),
    }


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources=build_resources())
