"""The code location: everything under ``nba_notify/defs``."""

from pathlib import Path

import dagster as dg


def load() -> dg.Definitions:
    """The same Definitions Dagster loads (used by the CLI, the demo and tests)."""
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)


@dg.definitions
def defs() -> dg.Definitions:
    return load()
