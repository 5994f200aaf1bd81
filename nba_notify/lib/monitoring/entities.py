"""Which monitored sync entity a Dagster asset or job belongs to — the one small table that
ties Dagster's vocabulary (asset keys, job names) to seed 001's (``entity_type``).

Asset keys are written as Dagster's user-facing strings (``"a/b"`` for ``AssetKey(["a", "b"])``).
"""

from __future__ import annotations

GAMES_SCHEDULE = "games_schedule"
BOX_SCORES = "box_scores"
LIVE_SCOREBOARD = "live_scoreboard"
NOTIFICATIONS_SYNC = "notifications_sync"

ENTITIES = (GAMES_SCHEDULE, BOX_SCORES, LIVE_SCOREBOARD, NOTIFICATIONS_SYNC)

ENTITY_BY_ASSET: dict[str, str] = {
    "bdl_games_raw": GAMES_SCHEDULE,
    "nbac_schedule_raw": GAMES_SCHEDULE,
    "games": GAMES_SCHEDULE,
    "bdl_box_scores_raw": BOX_SCORES,
    "nbac_box_scores_raw": BOX_SCORES,
    "player_box_scores": BOX_SCORES,
    "desired_notifications": NOTIFICATIONS_SYNC,
    "braze_schedules": NOTIFICATIONS_SYNC,
}

# Jobs whose runs count for an entity even when no mapped asset appears in them (op jobs, or
# runs that failed before any asset event).
ENTITY_BY_JOB: dict[str, str] = {
    "live_scoreboard_job": LIVE_SCOREBOARD,
    "schedule_refresh_job": GAMES_SCHEDULE,
    "braze_sync_job": NOTIFICATIONS_SYNC,
}

# Expected cadence (seed 001: schedule every 15 min, box scores daily, live every 30 s).
SYNC_FREQUENCY_SECONDS: dict[str, int] = {
    GAMES_SCHEDULE: 900,
    BOX_SCORES: 86400,
    LIVE_SCOREBOARD: 30,
    NOTIFICATIONS_SYNC: 900,
}


def entity_for_asset(asset_key: str) -> str | None:
    return ENTITY_BY_ASSET.get(asset_key) or ENTITY_BY_ASSET.get(asset_key.rsplit("/", 1)[-1])


def asset_key_for_step(step_key: str) -> str:
    """Dagster names an asset's op after its key with ``__`` between path parts."""
    return step_key.replace("__", "/")


def source_for_asset(asset_key: str) -> str:
    name = asset_key.rsplit("/", 1)[-1]
    for prefix in ("bdl", "nbac", "braze"):
        if name.startswith(prefix + "_"):
            return prefix
    return "derived"
