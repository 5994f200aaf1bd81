"""Importing this package registers every table family in :data:`metadata`."""

from nba_notify.lib.db.metadata import metadata
from nba_notify.lib.db.tables import (
    ingest,  # noqa: F401
    monitoring,  # noqa: F401
    notifications,  # noqa: F401
    props,  # noqa: F401
    quality,  # noqa: F401
    webhook,  # noqa: F401
)

__all__ = ["metadata"]
