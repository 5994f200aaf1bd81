"""Reconcile, pre-send verification and count reconcile: the repairs of seed 000's workflow.

All of them take the campaign's lease (same fence sequence as the sync), and none of them
deletes anything but recorded orphans: the live schedule the ledger holds is never a
candidate (scenario 6's post-run dedupe is gone for good).

* :func:`reconcile` (daily): resolve unresolved intents, cancel orphans, re-correlate
  unmatched Currents events, expire rows whose send time is long past with no send event.
* :func:`pre_send_verification` (every 10 minutes): for schedules about to leave the
  update window, prove they still exist at Braze — by the scheduled-broadcasts list when it
  shows them, otherwise by re-sending the identical update (idempotent; a 404 is proof the
  schedule is gone, and the intent is re-planned and created, within a per-run limit).
* :func:`count_reconcile`: desired vs ledger vs Braze's list (positive evidence only).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from nba_notify.lib.db.tables.notifications import desired_notifications, schedule_ledger
from nba_notify.lib.errors import PipelineError
from nba_notify.lib.ledger import store, verification
from nba_notify.lib.ledger.alerting import RULE_COUNT_MISMATCH, AlertSink, raise_domain_alert
from nba_notify.lib.ledger.lease import (
    LEASE_TTL_SECONDS,
    LEASE_WAIT_SECONDS,
    Lease,
    lease_name,
    new_holder_id,
)
from nba_notify.lib.ledger.planning import Desired, LedgerRow, NotificationPolicy
from nba_notify.lib.ledger.sync import BrazeApi, Checkpoint, ScheduleSync, SyncReport, no_checkpoint
from nba_notify.lib.ledger.webhook_store import rematch_unmatched

L = schedule_ledger.c


def _with_lease(
    engine: sa.Engine,
    braze: BrazeApi,
    policy: NotificationPolicy,
    *,
    clock: Callable[[], datetime],
    prefix: str,
    run_id: str | None,
    alerts: AlertSink | None,
    checkpoint: Checkpoint,
    lease_ttl_seconds: float,
    lease_wait_seconds: float,
    work: Callable[[ScheduleSync], None],
) -> SyncReport:
    lease = Lease.acquire(
        engine,
        lease_name(policy.campaign_id),
        new_holder_id(prefix),
        ttl_seconds=lease_ttl_seconds,
        wait_seconds=lease_wait_seconds,
    )
    sync = ScheduleSync(
        engine, braze, policy, lease, clock=clock, run_id=run_id, checkpoint=checkpoint, alerts=alerts
    )
    try:
        try:
            work(sync)
        finally:
            sync.flush_logs()
    except Exception:
        lease.release()
        raise
    lease.release()
    return sync.report


def reconcile(
    engine: sa.Engine,
    braze: BrazeApi,
    policy: NotificationPolicy,
    *,
    clock: Callable[[], datetime],
    run_id: str | None = None,
    alerts: AlertSink | None = None,
    checkpoint: Checkpoint = no_checkpoint,
    lease_ttl_seconds: float = LEASE_TTL_SECONDS,
    lease_wait_seconds: float = LEASE_WAIT_SECONDS,
) -> SyncReport:
    def work(sync: ScheduleSync) -> None:
        sync.resolve_unresolved()
        checkpoint("reconcile_after_resolve")
        sync.cancel_orphans()
        sync.report.counts["sends_rematched"] += rematch_unmatched(engine)
        sync.report.counts["expired"] += expire_past_sends(sync)

    return _with_lease(
        engine,
        braze,
        policy,
        clock=clock,
        prefix="reconcile",
        run_id=run_id,
        alerts=alerts,
        checkpoint=checkpoint,
        lease_ttl_seconds=lease_ttl_seconds,
        lease_wait_seconds=lease_wait_seconds,
        work=work,
    )


def expire_past_sends(sync: ScheduleSync) -> int:
    """Rows still ``scheduled`` a day after their send time with no send event are misses:
    mark them ``expired`` (fenced) so they stop counting as live; the stale-pending alert
    has long fired for them."""
    cutoff = sync.now() - timedelta(hours=sync.policy.expire_after_hours)
    with sync.lease.fenced() as conn:
        rows = (
            conn.execute(
                sa.update(schedule_ledger)
                .where(
                    L.state.in_(("scheduled", "unidentified")),
                    L.send_at_utc < cutoff,
                    L.campaign_id == sync.policy.campaign_id,
                )
                .values(state="expired", fence=sync.lease.fence, updated_at=sa.func.now())
                .returning(L.intent_key, L.game_id, L.braze_schedule_id, L.send_at_utc)
            )
            .mappings()
            .all()
        )
    for r in rows:
        sync.log(
            "expired",
            intent_key=r["intent_key"],
            game_id=r["game_id"],
            reason="no_send_event",
            braze_schedule_id=r["braze_schedule_id"],
            send_at=r["send_at_utc"],
        )
    return len(rows)


@dataclass
class PreSendReport:
    verified_by_list: int = 0
    verified_by_probe: int = 0
    recreated: int = 0
    vanished: list[str] = field(default_factory=list)
    skipped_limit: int = 0
    sync: SyncReport | None = None

    def as_metadata(self) -> dict[str, Any]:
        return {
            "verified_by_list": self.verified_by_list,
            "verified_by_probe": self.verified_by_probe,
            "recreated": self.recreated,
            "vanished": self.vanished,
            "skipped_limit": self.skipped_limit,
            **({"sync": self.sync.as_metadata()} if self.sync else {}),
        }


def pre_send_verification(
    engine: sa.Engine,
    braze: BrazeApi,
    policy: NotificationPolicy,
    *,
    clock: Callable[[], datetime],
    window_minutes: int = 15,
    max_probes: int = 50,
    max_recreates: int = 20,
    run_id: str | None = None,
    alerts: AlertSink | None = None,
    lease_ttl_seconds: float = LEASE_TTL_SECONDS,
    lease_wait_seconds: float = LEASE_WAIT_SECONDS,
) -> PreSendReport:
    """Schedules whose send is between ``buffer`` and ``buffer + window`` from now get their
    last check before the update window closes (a 10-minute schedule sees each once or
    twice). Listed at the right time = verified for free; otherwise the identical update is
    re-sent (idempotent at Braze): success = it exists, 404 = proof it is gone -> the row is
    re-planned and created now, at most ``max_recreates`` per run. Unresolved intents get
    their CRITICAL alerts refreshed."""
    result = PreSendReport()

    def work(sync: ScheduleSync) -> None:
        sync.resolve_unresolved()
        now = sync.now()
        start, end = (
            now + policy.update_buffer,
            now + policy.update_buffer + timedelta(minutes=window_minutes),
        )
        with engine.connect() as conn:
            rows = [
                LedgerRow.from_row(r)
                for r in conn.execute(
                    sa.select(schedule_ledger)
                    .where(
                        L.state == "scheduled",
                        L.campaign_id == policy.campaign_id,
                        L.send_at_utc > start,
                        L.send_at_utc <= end,
                    )
                    .order_by(L.send_at_utc, L.id)
                ).mappings()
            ]
            desired = {
                r["intent_key"]: Desired.from_row(r)
                for r in conn.execute(
                    sa.select(desired_notifications).where(
                        desired_notifications.c.intent_key.in_([r.intent_key for r in rows])
                    )
                ).mappings()
            }
        if not rows:
            return
        listed: Counter = Counter()
        try:
            entries = braze.list_scheduled_broadcasts(end)
            sync.report.braze_calls["list"] += 1
            listed = verification.listed_per_time(entries, policy.campaign_id, start, end)
        except PipelineError as error:
            sync.log("error", reason="list_failed", details={"error": str(error)})
        known_at: Counter = Counter(r.send_at for r in rows)
        probes = 0
        for row in rows:
            # The list proves existence only if it shows at least as many schedules at that
            # minute as the ledger holds there (it names campaigns, never schedules).
            if row.send_at is not None and listed.get(row.send_at, 0) >= known_at[row.send_at]:
                result.verified_by_list += 1
                continue
            if probes >= max_probes:
                result.skipped_limit += 1
                continue
            probes += 1
            d = desired.get(row.intent_key)
            if d is None or not d.active or d.signature != row.signature or row.send_at is None:
                continue  # the sync owns changes; verification only proves existence
            claim = store.claim(
                sync.lease,
                row,
                "update",
                expected_states=("scheduled",),
                target_send_at=row.send_at,
                target_signature=row.signature,
                run_id=run_id,
            )
            if claim is None:
                continue
            outcome_raw = braze.update_schedule(
                policy.campaign_id,
                row.braze_schedule_id,
                row.send_at,  # type: ignore[arg-type]
                d.trigger_properties(),
            )
            sync.report.braze_calls["update"] += 1
            outcome = store.Outcome.from_schedule_outcome(outcome_raw)
            store.record_outcome(engine, claim.attempt_id, outcome)
            written = store.write_back(sync.lease, claim, outcome)
            if outcome.status == "succeeded":
                result.verified_by_probe += 1
                sync.log(
                    "resolved",
                    intent_key=row.intent_key,
                    game_id=row.game_id,
                    reason="presend_verified",
                    braze_schedule_id=outcome.schedule_id,
                    send_at=row.send_at,
                    details={"superseded": written.orphaned},
                )
            elif outcome.not_found:
                result.vanished.append(row.game_id)
                sync.log(
                    "error",
                    intent_key=row.intent_key,
                    game_id=row.game_id,
                    reason="presend_vanished",
                    braze_schedule_id=row.braze_schedule_id,
                    send_at=row.send_at,
                )
        sync.cancel_orphans()
        if result.vanished:
            # Provably missing (404): recreate now, within the safe limit.
            sync.flush_logs()
            before = sync.report.counts["created"]
            _recreate_vanished(sync, result.vanished[:max_recreates])
            result.recreated = sync.report.counts["created"] - before
            result.skipped_limit += max(0, len(result.vanished) - max_recreates)

    result.sync = _with_lease(
        engine,
        braze,
        policy,
        clock=clock,
        prefix="presend",
        run_id=run_id,
        alerts=alerts,
        checkpoint=no_checkpoint,
        lease_ttl_seconds=lease_ttl_seconds,
        lease_wait_seconds=lease_wait_seconds,
        work=work,
    )
    return result


def _recreate_vanished(sync: ScheduleSync, game_ids: list[str]) -> None:
    from nba_notify.lib.ledger.planning import Action, ActionKind, plan_actions

    desired, ledger = sync.load_state()
    plan = plan_actions(desired, ledger, sync.now(), sync.policy)
    wanted = set(game_ids)
    for action in plan.of(ActionKind.CREATE):
        if action.game_id in wanted and action.row is not None:
            sync.act(
                Action(
                    action.kind,
                    action.intent_key,
                    action.game_id,
                    action.desired,
                    action.row,
                    "presend_recreate",
                )
            )


@dataclass
class CountReconcile:
    counts: verification.Counts
    listed_beyond_ledger: list[dict[str, Any]]
    missing: list[dict[str, Any]]
    unresolved: list[dict[str, Any]]
    list_error: str | None = None
    alert_error: str | None = None

    @property
    def mismatch(self) -> bool:
        return self.counts.mismatch or bool(self.listed_beyond_ledger)

    def as_metadata(self) -> dict[str, Any]:
        return {
            **self.counts.as_dict(),
            "listed_beyond_ledger": [{k: str(v) for k, v in r.items()} for r in self.listed_beyond_ledger],
            "missing": len(self.missing),
            "unresolved": len(self.unresolved),
            "list_error": self.list_error,
        }


def count_reconcile(
    engine: sa.Engine,
    braze: BrazeApi | None,
    policy: NotificationPolicy,
    *,
    now: datetime,
    alerts: AlertSink | None = None,
    raise_alert: bool = True,
) -> CountReconcile:
    """Ledger vs Braze vs desired. Read-only (no lease needed). One list call at most."""
    from nba_notify.lib.ledger import foreign

    listed: Counter = Counter()
    list_error = None
    start, end = verification.count_window(now, policy)
    if braze is not None:
        try:
            listed = verification.listed_per_time(
                braze.list_scheduled_broadcasts(end), policy.campaign_id, start, end
            )
        except PipelineError as error:
            list_error = str(error)
    with engine.connect() as conn:
        # Beyond what the ledger accounts for (open and guarded orphans too), where nothing of ours
        # is unsettled: the foreign schedules (the count sensor records, adopts and alerts them).
        beyond = foreign.assess(conn, listed, policy, start=start, end=end).unowned if listed else []
        result = CountReconcile(
            counts=verification.counts(
                conn, now, policy, braze_listed=sum(listed.values()) if braze else None
            ),
            listed_beyond_ledger=[
                {
                    "send_at_utc": u["send_at_utc"],
                    "listed": u["listed"],
                    "ledger_live": u["accounted"],
                    "games": [g["game_id"] for g in u["games"]],
                }
                for u in beyond
            ],
            missing=verification.missing_schedules(conn, now, policy),
            unresolved=verification.unresolved_schedules(conn),
            list_error=list_error,
        )
    if result.mismatch and raise_alert:
        result.alert_error = raise_domain_alert(
            engine,
            alerts,
            rule_key=RULE_COUNT_MISMATCH,
            title=f"Braze schedule counts disagree: {result.counts.key()}",
            details=result.as_metadata(),
            dedupe_key=policy.campaign_id,
            now=now,
        )
    return result


__all__ = [
    "reconcile",
    "pre_send_verification",
    "count_reconcile",
    "expire_past_sends",
    "PreSendReport",
    "CountReconcile",
    "Desired",
]
