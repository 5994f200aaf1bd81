"""Plain-Python entry points (no Dagster needed): what the assets, the demo and the tests call.

    policy = NotificationPolicy(campaign_id=settings.braze_campaign_id)
    refresh_desired(engine, policy, now=clock())
    report = run_sync(engine, braze_client, policy, clock=clock)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from nba_notify.lib.ledger import store
from nba_notify.lib.ledger.planning import Desired, NotificationPolicy, UpcomingGame, desired_notifications
from nba_notify.lib.ledger.sync import BrazeApi, SyncReport, run_sync


@dataclass(frozen=True)
class DesiredRefresh:
    games: list[UpcomingGame]
    desired: list[Desired]
    changed: int

    @property
    def active(self) -> int:
        return sum(1 for d in self.desired if d.active)

    @property
    def withdrawn(self) -> int:
        return sum(1 for d in self.desired if not d.active)


def refresh_desired(
    engine: sa.Engine, policy: NotificationPolicy, *, now: datetime, run_id: str | None = None,
    games: list[UpcomingGame] | None = None,
) -> DesiredRefresh:
    """games -> desired_notifications, in one transaction."""
    with engine.begin() as conn:
        if games is None:
            games = store.load_upcoming_games(conn, now, policy)
        desired = desired_notifications(games, policy)
        changed = store.upsert_desired(conn, desired, now, run_id)
    return DesiredRefresh(games, desired, changed)


def sync_once(
    engine: sa.Engine,
    braze: BrazeApi,
    policy: NotificationPolicy,
    *,
    clock: Callable[[], datetime],
    run_id: str | None = None,
    **kwargs: Any,
) -> SyncReport:
    """Refresh the desired notifications from the games table, then run one sync."""
    refresh_desired(engine, policy, now=clock(), run_id=run_id)
    return run_sync(engine, braze, policy, clock=clock, run_id=run_id, **kwargs)


def resolve_unknown(
    engine: sa.Engine,
    policy: NotificationPolicy,
    intent: str,
    *,
    schedule_id: str | None,
    dispatch_id: str | None = None,
    orphan_ids: Sequence[str] = (),
    lease_wait_seconds: float = 30.0,
) -> store.WriteBack:
    """The operator's answer to a CRITICAL ambiguous-schedule alert, after checking the Braze
    dashboard: the schedule id found (adopted as live), or ``None`` when there is none (the
    intent goes back to ``planned`` and the next sync creates it). Fenced like any holder."""
    from nba_notify.lib.ledger.lease import Lease, lease_name, new_holder_id

    lease = Lease.acquire(engine, lease_name(policy.campaign_id), new_holder_id("operator"),
                          ttl_seconds=60, wait_seconds=lease_wait_seconds)
    try:
        result = store.operator_resolve(lease, intent, schedule_id=schedule_id, dispatch_id=dispatch_id,
                                        orphan_ids=orphan_ids)
        store.write_logs(engine, [{
            "holder": lease.holder, "fence": lease.fence, "intent_key": intent, "game_id": intent.split("|")[0],
            "action": "resolved", "reason": "operator_absent" if schedule_id is None else "operator_adopted",
            "braze_schedule_id": schedule_id, "details": {"applied": result.applied, "note": result.note},
        }])
    finally:
        lease.release()
    return result
