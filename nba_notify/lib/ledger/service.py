"""Plain-Python entry points (no Dagster needed): what the assets, the demo and the tests call.

policy = NotificationPolicy(campaign_id=settings.braze_campaign_id)
refresh_desired(engine, policy, now=clock())
report = run_sync(engine, braze_client, policy, clock=clock)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from nba_notify.lib.ledger import store
from nba_notify.lib.ledger.lease import LEASE_WAIT_SECONDS, Lease, lease_name, new_holder_id
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
    engine: sa.Engine,
    policy: NotificationPolicy,
    *,
    now: datetime,
    run_id: str | None = None,
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
    decision: str,
    schedule_id: str | None = None,
    dispatch_id: str | None = None,
    orphan_ids: Sequence[str] = (),
    by: str = "operator",
    note: str | None = None,
    seen_at: datetime | None = None,
    lease_wait_seconds: float = LEASE_WAIT_SECONDS,
) -> store.WriteBack:
    """The operator's answer to a CRITICAL ambiguous-schedule alert, from what the Braze
    dashboard shows (see :func:`store.operator_resolve`): ``exists`` (with the schedule id if
    known) or ``absent``. Fenced like any holder; recorded in ``scheduler_logs`` with who and
    why; the alert is resolved."""
    from nba_notify.lib.ledger.alerting import ENTITY, RULE_AMBIGUOUS

    lease = Lease.acquire(
        engine,
        lease_name(policy.campaign_id),
        new_holder_id("operator"),
        ttl_seconds=60,
        wait_seconds=lease_wait_seconds,
    )
    try:
        result = store.operator_resolve(
            lease,
            intent,
            decision=decision,
            schedule_id=schedule_id,
            dispatch_id=dispatch_id,
            orphan_ids=orphan_ids,
            seen_at=seen_at,
        )
        store.write_logs(
            engine,
            [
                {
                    "holder": lease.holder,
                    "fence": lease.fence,
                    "intent_key": intent,
                    "game_id": intent.split("|")[0],
                    "action": "resolved",
                    "reason": f"operator_{decision}",
                    "braze_schedule_id": schedule_id,
                    "details": {
                        "applied": result.applied,
                        "note": result.note,
                        "by": by,
                        "operator_note": note,
                        "new_state": result.new_state,
                        "orphans": list(orphan_ids),
                    },
                }
            ],
        )
    finally:
        lease.release()
    if result.applied:
        from nba_notify.lib.alerts import resolve_matching

        resolve_matching(
            engine,
            rule_key=RULE_AMBIGUOUS,
            entity=ENTITY,
            dedupe_key=intent,
            by=by,
            note=f"operator: {decision}" + (f" ({note})" if note else ""),
        )
    return result


def unknown_intents(engine: sa.Engine, now: datetime, policy: NotificationPolicy) -> list[dict[str, Any]]:
    """Every intent whose schedule we cannot see or change, with the earliest send it puts at
    risk and its decision deadline (what ``nba-notify unknown list`` and the check show)."""
    from nba_notify.lib.ledger.verification import unresolved_schedules

    with engine.connect() as conn:
        rows = unresolved_schedules(conn, include_unidentified=True)
    out = []
    for r in rows:
        times = [t for t in (r["target_send_at"], r["prior_send_at"], r["send_at_utc"]) if t is not None]
        earliest = min(times) if times else None
        out.append(
            {
                **r,
                "earliest_send_at_risk": earliest,
                "decision_deadline": earliest - timedelta(minutes=policy.ambiguous_decision_minutes)
                if earliest
                else None,
                "minutes_to_risk": round((earliest - now).total_seconds() / 60, 1) if earliest else None,
            }
        )
    return out
