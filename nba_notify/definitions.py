"""The code location: everything under ``nba_notify/defs``, plus one location-wide policy.

The policy: every job without its own executor — above all the implicit ``__ASSET_JOB`` the UI
uses for "Materialize" on the asset pages — runs in-process, like the named jobs. Our steps
are small HTTP and SQL calls; a process per step costs a second or two each (DESIGN §7) and
made the UI path many times slower than the same work run as a job."""

import warnings
from pathlib import Path

import dagster as dg

LOCATION_EXECUTOR = dg.in_process_executor

# Dagster itself passes the beta ``owners`` parameter when it copies a sensor while loading a
# defs folder, and warns about it on every load (35 lines in 20 minutes of `nba-notify dev`).
warnings.filterwarnings(
    "ignore", message="Parameter `owners` of initializer `SensorDefinition", category=Warning
)


def load() -> dg.Definitions:
    """The same Definitions Dagster loads (used by the CLI, the demo and tests)."""
    return dg.Definitions.merge(
        dg.load_from_defs_folder(path_within_project=Path(__file__).parent),
        dg.Definitions(executor=LOCATION_EXECUTOR),
    )


@dg.definitions
def defs() -> dg.Definitions:
    return load()
