"""Importing this package registers every table family in :data:`metadata`."""

from nba_notify.lib.db.metadata import metadata
from nba_notify.lib.db.tables import ingest  # noqa: F401
from nba_notify.lib.db.tables import monitoring  # noqa: F401
from nba_notify.lib.db.tables import notifications  # noqa: F401
from nba_notify.lib.db.tables import quality  # noqa: F401
from nba_notify.lib.db.tables import webhook  # noqa: F401

__all__ = ["metadata"]
