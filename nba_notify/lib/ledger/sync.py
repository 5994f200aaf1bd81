"""The schedule sync: plan -> intent commit -> send id (once per intent) -> claim -> Braze
call (no transaction open) -> record outcome -> fenced write-back; then cancel what is
provably orphaned.

Send ids: Braze accepts a ``send_id`` on a schedule create only once ``POST /sends/id/create``
made it, and creates at most 100 new ones per workspace per day. So an intent's deterministic
send id is created right before its first schedule create and recorded on the ledger row
(``send_id_created_at``); updates, deletes and later re-creates of the same intent reuse it.
Those calls are reported apart (``braze_calls["send_id_create"]``, log action
``send_id_created``) and are not schedule writes. A send id that could not be created (daily
limit, auth, ambiguous answer) leaves its intent ``planned`` for the next sync: a schedule is
never created without its send id, since only the send id ties a Currents send to its intent
when a create's answer is lost.

One run holds the campaign's lease for its whole duration. Every step that could be
interrupted leaves the database in a state the next holder understands:

==========================  ===============================================================
crash after ...             the next run finds ...
==========================  ===============================================================
intent commit               ``planned`` rows: it claims and creates them (exactly one each)
send id answered            a row whose send id is not recorded: it is created again
                            (idempotent at Braze, not counted twice), then the schedule
claim (call maybe sent)     ``creating``/``updating`` + an ``in_flight`` attempt: after the
                            in-flight grace it is ``unknown`` - never re-created, a CRITICAL
                            alert names the game before its send time
Braze answered              same as above (the answer was only in memory)
outcome recorded            a succeeded attempt: the schedule id is adopted
write-back                  ``scheduled``: nothing to do (skipped_unchanged)
==========================  ===============================================================

``checkpoint(name, **context)`` is called at each of those points; tests use it to
interleave real concurrent runs and to kill a run exactly there.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa

from nba_notify.lib.errors import ErrorCategory, PipelineError, Severity
from nba_notify.lib.ledger import evidence, store, verification
from nba_notify.lib.ledger.alerting import (
    AlertSink,
    raise_unchangeable_alert,
    raise_unresolved_alert,
    resolve_unresolved_alert,
)
from nba_notify.lib.ledger.lease import (
    LEASE_TTL_SECONDS,
    LEASE_WAIT_SECONDS,
    FenceLost,
    Lease,
    lease_name,
    new_holder_id,
)
from nba_notify.lib.ledger.planning import (
    Action,
    ActionKind,
    AttemptView,
    Desired,
    LedgerRow,
    NotificationPolicy,
    ResolutionKind,
    plan_actions,
    resolve_intent,
)

log = logging.getLogger(__name__)

Checkpoint = Callable[..., None]


def no_checkpoint(name: str, **context: Any) -> None:
    return None


class BrazeApi(Protocol):
    """The subset of :class:`nba_notify.lib.clients.braze.BrazeClient` the sync uses."""

    def create_schedule(
        self,
        campaign_id: str,
        send_at: datetime,
        trigger_properties: dict[str, Any],
        audience: dict[str, Any] | None = None,
        send_id: str | None = None,
    ) -> Any: ...

    def update_schedule(
        self,
        campaign_id: str,
        schedule_id: str,
        send_at: datetime,
        trigger_properties: dict[str, Any] | None = None,
    ) -> Any: ...

    def delete_schedule(self, campaign_id: str, schedule_id: str) -> Any: ...

    def create_send_id(self, campaign_id: str, send_id: str) -> Any: ...

    def list_scheduled_broadcasts(self, end_time: datetime) -> list[dict[str, Any]]: ...


@dataclass
class SyncReport:
    holder: str
    fence: int | None = None
    run_id: str | None = None
    counts: Counter = field(default_factory=Counter)
    skip_reasons: Counter = field(default_factory=Counter)
    braze_calls: Counter = field(default_factory=Counter)
    errors: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    lost_fence: bool = False
    duration_seconds: float = 0.0

    @property
    def write_calls(self) -> int:
        """Braze *schedule* writes (create, update, delete): what "minimal calls" counts."""
        return sum(v for k, v in self.braze_calls.items() if k in ("create", "update", "delete"))

    @property
    def send_id_calls(self) -> int:
        """``POST /sends/id/create`` calls: one per new intent, reported apart from writes."""
        return self.braze_calls["send_id_create"]

    def as_metadata(self) -> dict[str, Any]:
        return {
            "holder": self.holder,
            "fence": self.fence,
            "counts": dict(self.counts),
            "skip_reasons": dict(self.skip_reasons),
            "braze_calls": dict(self.braze_calls),
            "braze_write_calls": self.write_calls,
            "braze_send_id_calls": self.send_id_calls,
            "errors": self.errors[:20],
            "alerts": self.alerts[:50],
            "lost_fence": self.lost_fence,
            "duration_seconds": round(self.duration_seconds, 3),
        }


# Errors after which further writes in this run would only hit the same wall.
STOP_CATEGORIES = frozenset({str(ErrorCategory.AUTH), str(ErrorCategory.RATE_LIMIT)})
# The same for the send-id endpoint (its daily limit, or a key without the sends.id.create
# permission): no further send ids this run, but schedule writes for intents whose send ids
# exist go on.
SEND_ID_STOP_REASONS = {
    str(ErrorCategory.RATE_LIMIT): "send_id_rate_limited",
    str(ErrorCategory.AUTH): "send_id_auth_rejected",
}


# Skips that leave a push going out as it is, though the game changed: a person must act.
UNCHANGEABLE_REASONS = frozenset({"unidentified_cannot_update", "unidentified_cannot_cancel"})


class _Stop(Exception):
    """Stop issuing Braze writes in this run (rate limited, auth rejected, lease lost)."""


class ScheduleSync:
    """One run. Use :func:`run_sync` (acquires and releases the lease around it)."""

    def __init__(
        self,
        engine: sa.Engine,
        braze: BrazeApi,
        policy: NotificationPolicy,
        lease: Lease,
        *,
        clock: Callable[[], datetime],
        run_id: str | None = None,
        checkpoint: Checkpoint = no_checkpoint,
        alerts: AlertSink | None = None,
        clock_refresh_seconds: float = 5.0,
    ):
        self.engine = engine
        self.braze = braze
        self.policy = policy
        self.lease = lease
        self._clock = clock
        self.run_id = run_id
        self.checkpoint = checkpoint
        self.alerts = alerts
        self.report = SyncReport(holder=lease.holder, fence=lease.fence, run_id=run_id)
        self._now: datetime | None = None
        self._now_read_at = 0.0
        self._clock_refresh_seconds = clock_refresh_seconds
        self._logs: list[dict[str, Any]] = []
        # Why send ids cannot be created for the rest of this run (None: they can).
        self._send_id_block: str | None = None
        self._guard_live: bool | None = None

    @property
    def guard_live(self) -> bool:
        """The send guard will refuse a stale schedule at send time (see :mod:`.guard`)."""
        if self._guard_live is None:
            mode = self.policy.send_guard
            if mode in ("on", "off"):
                self._guard_live = mode == "on"
            else:
                from nba_notify.lib.ledger.guard import guard_is_live

                with self.engine.connect() as conn:
                    self._guard_live = guard_is_live(conn, self.policy.campaign_id)
        return self._guard_live

    # -- time ---------------------------------------------------------------------------------

    def now(self, fresh: bool = False) -> datetime:
        stale = time.monotonic() - self._now_read_at > self._clock_refresh_seconds
        if self._now is None or fresh or stale:
            self._now = self._clock().astimezone(UTC)
            self._now_read_at = time.monotonic()
        return self._now

    # -- logging ------------------------------------------------------------------------------

    def log(
        self,
        action: str,
        *,
        intent_key: str | None = None,
        game_id: str | None = None,
        reason: str | None = None,
        braze_schedule_id: str | None = None,
        send_at: datetime | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        self._logs.append(
            {
                "run_id": self.run_id,
                "holder": self.lease.holder,
                "fence": self.lease.fence,
                "action": action,
                "intent_key": intent_key,
                "game_id": game_id,
                "reason": reason,
                "braze_schedule_id": braze_schedule_id,
                "send_at": send_at,
                "details": dict(details) if details else None,
            }
        )

    def flush_logs(self) -> None:
        logs, self._logs = self._logs, []
        store.write_logs(self.engine, logs)

    def _error(
        self, action: Action | None, outcome: store.Outcome | None, message: str, **extra: Any
    ) -> None:
        entry = {
            "intent_key": action.intent_key if action else None,
            "game_id": action.game_id if action else None,
            "message": message,
            "category": outcome.error_category if outcome else extra.get("category"),
            "http_status": outcome.http_status if outcome else None,
            **extra,
        }
        self.report.errors.append(entry)

    # -- the run --------------------------------------------------------------------------------

    def execute(self) -> SyncReport:
        started = time.monotonic()
        try:
            self.resolve_unresolved()
            self._apply_plan()
            self.cancel_orphans()
        except FenceLost as lost:
            self.report.lost_fence = True
            self.log("error", reason="lease_lost", details={"fence": lost.fence, "current": lost.current})
        finally:
            self.flush_logs()
            self.report.duration_seconds = time.monotonic() - started
        return self.report

    def load_state(self) -> tuple[list[Desired], list[LedgerRow]]:
        now = self.now()
        with self.engine.connect() as conn:
            ledger = store.load_ledger(conn, self.policy.campaign_id)
            desired = store.load_desired(conn, now, self.policy, extra_keys=[r.intent_key for r in ledger])
            known = {r.intent_key for r in ledger}
            missing = [d.intent_key for d in desired if d.intent_key not in known]
            if missing:
                ledger += store.load_ledger(conn, self.policy.campaign_id, keys=missing)
                ledger = list({r.id: r for r in ledger}.values())
        return desired, ledger

    # -- phase 1: settle unresolved intents ---------------------------------------------------

    def resolve_unresolved(self) -> None:
        """Settle every intent whose last call has no applied outcome: from the outcome the call
        recorded where there is one (adopt-or-cancel), otherwise from evidence — one read of
        Braze's scheduled-broadcasts list per run (:mod:`.evidence`)."""
        self._resolve_settled_alerts()
        desired, ledger = self.load_state()
        unresolved = [r for r in ledger if r.state in ("creating", "updating", "unknown")]
        if not unresolved:
            return
        desired_by_key = {d.intent_key: d for d in desired}
        with self.engine.connect() as conn:
            attempts = store.load_attempts(conn, [r.current_attempt_id for r in unresolved])
        unknown: list[tuple[LedgerRow, AttemptView, Desired | None]] = []
        in_flight: list[AttemptView] = []
        for row in unresolved:
            attempt = attempts.get(row.current_attempt_id) if row.current_attempt_id else None
            kind = self.resolve_row(row, attempt, desired_by_key.get(row.intent_key))
            if kind is ResolutionKind.UNKNOWN and attempt is not None:
                unknown.append((row, attempt, desired_by_key.get(row.intent_key)))
            elif kind is ResolutionKind.WAIT and attempt is not None:
                in_flight.append(attempt)
        if unknown:
            self.weigh_evidence(unknown, in_flight)

    def resolve_row(
        self, row: LedgerRow, attempt: AttemptView | None, desired: Desired | None
    ) -> ResolutionKind:
        resolution = resolve_intent(row, attempt, self.policy)
        kind = resolution.kind
        common = {"intent_key": row.intent_key, "game_id": row.game_id}
        if kind is ResolutionKind.ADOPT and attempt is not None:
            done = store.adopt(self.lease, row, attempt, self.policy.campaign_id)
            if done.applied:
                self.report.counts["adopted"] += 1
                self.log(
                    "adopted",
                    **common,
                    reason=resolution.reason,
                    braze_schedule_id=attempt.schedule_id or attempt.prior_schedule_id,
                    send_at=attempt.target_send_at,
                    details={"attempt_id": attempt.id, "superseded": done.orphaned},
                )
                self._settled(row, f"adopted: {resolution.reason}")
            return kind
        if kind in (ResolutionKind.REVERT, ResolutionKind.VANISHED) and attempt is not None:
            done = store.revert(self.lease, row, attempt, vanished=kind is ResolutionKind.VANISHED)
            if done.applied:
                self.report.counts["reverted"] += 1
                self.log(
                    "resolved",
                    **common,
                    reason=resolution.reason,
                    braze_schedule_id=attempt.prior_schedule_id,
                    details={"attempt_id": attempt.id, "new_state": done.new_state},
                )
                self._settled(row, f"reverted: {resolution.reason}")
            return kind
        if kind is ResolutionKind.UNIDENTIFIED and attempt is not None and attempt.target_send_at is not None:
            done = store.mark_unidentified(
                self.lease, row, attempt, send_at=attempt.target_send_at, signature=attempt.target_signature
            )
            if done.applied:
                self.report.counts["unidentified"] += 1
                self.log(
                    "evidence",
                    **common,
                    reason=resolution.reason,
                    send_at=attempt.target_send_at,
                    details={"attempt_id": attempt.id, "verdict": "present"},
                )
                self._settled(row, "the replacement schedule is live (id unknown)")
            return kind
        # WAIT or UNKNOWN: nothing can be done from the call itself.
        if kind is ResolutionKind.UNKNOWN and row.state != "unknown":
            store.mark_unknown(self.lease, row)
            self.log(
                "unknown",
                **common,
                reason=resolution.reason,
                details={"attempt_id": attempt.id if attempt else None},
            )
            self._alert_unresolved(row, desired, attempt, resolution.reason)
        self.report.counts["unresolved_waiting" if kind is ResolutionKind.WAIT else "unresolved_unknown"] += 1
        return kind

    def weigh_evidence(
        self, unknown: list[tuple[LedgerRow, AttemptView, Desired | None]], in_flight: list[AttemptView]
    ) -> None:
        views = {
            row.id: view for row, attempt, _ in unknown if (view := unknown_view(row, attempt)) is not None
        }
        if not views:
            return
        listing = self._read_listing(views.values(), in_flight)
        verdicts: dict[int, evidence.Judgement] = {}
        if listing is not None:
            with self.engine.connect() as conn:
                confirmed = [
                    evidence.Confirmed(send_at, at)
                    for send_at, at in store.confirmed_schedules(
                        conn, self.policy.campaign_id, listing.start, listing.end
                    )
                ]
                elsewhere = store.live_elsewhere(conn, self.policy.campaign_id, listing.start, listing.end)
            uncertain = [t for a in in_flight for t in (a.target_send_at, a.prior_send_at) if t is not None]
            verdicts = evidence.judge(
                list(views.values()), listing, confirmed, elsewhere, uncertain=uncertain
            )
        for row, attempt, desired in unknown:
            view = views.get(row.id)
            if view is None:
                continue
            judgement = verdicts.get(row.id, evidence.Judgement(evidence.Verdict.UNDECIDED, "no_listing"))
            self._apply_verdict(row, attempt, desired, view, judgement)

    def _read_listing(self, views: Any, in_flight: list[AttemptView]) -> evidence.Listing | None:
        now = self.now()
        minutes = [t for v in views for t in (v.target, v.prior_send_at) if t is not None]
        minutes += [t for a in in_flight for t in (a.target_send_at, a.prior_send_at) if t is not None]
        future = [t for t in minutes if t > now]
        if not future:
            return None
        # A day past the latest minute of interest: later confirmed creates, visible or not, are
        # what prove the list current (Braze answers whole UTC days anyway).
        end = max(future) + timedelta(days=1)
        try:
            entries = self.braze.list_scheduled_broadcasts(end)
        except PipelineError as error:
            self.log("error", reason="evidence_list_failed", details={"error": str(error)})
            return None
        self.report.braze_calls["list"] += 1
        return evidence.Listing(
            verification.listed_per_time(entries, self.policy.campaign_id, now, end), now, end
        )

    def _apply_verdict(
        self,
        row: LedgerRow,
        attempt: AttemptView,
        desired: Desired | None,
        view: evidence.UnknownIntent,
        judgement: evidence.Judgement,
    ) -> None:
        verdict = judgement.verdict
        common = {"intent_key": row.intent_key, "game_id": row.game_id, "send_at": view.target}
        details = {
            "attempt_id": attempt.id,
            "verdict": str(verdict),
            "operation": view.operation,
            "earliest_send_at_risk": view.earliest_send_at_risk.isoformat(),
        }
        signature = attempt.target_signature or row.signature
        done: store.WriteBack | None = None
        if verdict is evidence.Verdict.PRESENT:
            done = store.mark_unidentified(self.lease, row, attempt, send_at=view.target, signature=signature)
        elif verdict in (evidence.Verdict.ABSENT, evidence.Verdict.NOT_APPLIED):
            done = store.revert(self.lease, row, attempt)
        elif verdict is evidence.Verdict.SPLIT:
            done = store.release_prior_schedule(
                self.lease,
                row,
                self.policy.campaign_id,
                reason="split_update",
                then_state="unidentified",
                send_at=view.target,
                signature=signature,
            )
        elif verdict is evidence.Verdict.PROBE:
            self.log("evidence", **common, reason=judgement.reason, details=details)
            self._probe(row, attempt, desired, view)
            return
        else:
            self._undecided(row, attempt, desired, view, judgement, signature)
            return
        self.log(
            "evidence",
            **common,
            reason=judgement.reason,
            details={
                **details,
                "applied": done.applied,
                "new_state": done.new_state,
                "released": done.orphaned,
            },
        )
        if done.applied:
            self.report.counts[f"evidence_{verdict}"] += 1
            self._settled(row, f"evidence: {verdict} ({judgement.reason})")

    def _probe(
        self, row: LedgerRow, attempt: AttemptView, desired: Desired | None, view: evidence.UnknownIntent
    ) -> None:
        """The identical update again, on the old id: 200 = it was moved in place (adopt it); 404 =
        it was replaced and the replacement is live at the target (unidentified). Safe because the
        evidence shows nothing of ours left at the old time."""
        if desired is None or row.braze_schedule_id is None:
            return
        action = Action(ActionKind.UPDATE, row.intent_key, row.game_id, desired, row, "evidence_probe")
        claim = store.claim(
            self.lease,
            row,
            "update",
            expected_states=("unknown",),
            target_send_at=view.target,
            target_signature=attempt.target_signature or row.signature,
            run_id=self.run_id,
            purpose="probe",
        )
        if claim is None:
            return
        self.checkpoint("after_claim", claim=claim)
        result = self.braze.update_schedule(
            self.policy.campaign_id, row.braze_schedule_id, view.target, desired.trigger_properties()
        )
        self._finish(action, claim, result, "update")
        if result.succeeded or result.not_found:
            self._settled(row, "evidence: the probe told moved from replaced")

    def _undecided(
        self,
        row: LedgerRow,
        attempt: AttemptView,
        desired: Desired | None,
        view: evidence.UnknownIntent,
        judgement: evidence.Judgement,
        signature: str | None,
    ) -> None:
        deadline = evidence.decision_deadline(view, self.policy.ambiguous_decision_minutes)
        self.report.counts["evidence_undecided"] += 1
        changed = desired is not None and (not desired.active or desired.signature != signature)
        if changed:
            # The game moved or was withdrawn while we cannot see its schedule: if the lost call
            # landed, its push goes out as it was. The on-call must know now, not at the deadline.
            self._alert_unresolved(row, desired, attempt, "game_changed_while_unresolved")
        if self.now() < deadline:
            return
        common = {"intent_key": row.intent_key, "game_id": row.game_id, "send_at": view.target}
        if view.operation == "update":
            # Past the deadline a push at the old time would be the wrong one: withdraw the old id
            # (it may have been moved to the target, then the target is simply created again).
            released = store.release_prior_schedule(
                self.lease,
                row,
                self.policy.campaign_id,
                reason="deadline_withdraw_old",
                then_state="unknown",
                send_at=view.target,
                signature=signature,
            )
            self.log(
                "evidence",
                **common,
                reason="deadline_withdraw_old",
                details={
                    "attempt_id": attempt.id,
                    "released": released.orphaned,
                    "applied": released.applied,
                },
            )
        if self.guard_live:
            # The lost call may have landed at the target: the guard lets one dispatch of the
            # intent through at send time, so creating again cannot make a fan's second push.
            current = replace(row, braze_schedule_id=None, send_at=view.target)
            done = store.leave_to_send_guard(
                self.lease,
                current,
                self.policy.campaign_id,
                then_state="planned",
                note="deadline: re-created under the send guard",
            )
            self.log(
                "evidence",
                **common,
                reason="deadline_recreate_guarded",
                details={"attempt_id": attempt.id, "applied": done.applied},
            )
            self.report.counts["evidence_deadline_recreate"] += 1
            if done.applied:
                self._settled(row, "re-created under the send guard")
            return
        if self.policy.ambiguous_create_fallback == "recreate":
            done = store.revert(self.lease, row, attempt)
            self.log(
                "evidence",
                **common,
                reason="deadline_recreate",
                details={"attempt_id": attempt.id, "applied": done.applied},
            )
            self.report.counts["evidence_deadline_recreate"] += 1
            return
        self.report.counts["evidence_deadline_hold"] += 1
        self._alert_unresolved(row, desired, attempt, judgement.reason, escalated=True)

    def _resolve_settled_alerts(self) -> None:
        """An ambiguity alert whose intent has since been settled by any path (a Currents send
        event proved it, an operator answered, a later run adopted it) is resolved. A schedule
        that still cannot be changed has its alert raised again by the plan below."""
        with self.engine.connect() as conn:
            settled = store.settled_alert_intents(conn, self.policy.campaign_id)
        for intent_key, state in settled:
            error = resolve_unresolved_alert(
                self.engine, intent_key, by=self.lease.holder, note=f"settled: {state}"
            )
            if error:
                self.log(
                    "error", intent_key=intent_key, reason="alert_resolve_failed", details={"error": error}
                )

    def _settled(self, row: LedgerRow, note: str) -> None:
        error = resolve_unresolved_alert(self.engine, row.intent_key, by=self.lease.holder, note=note)
        if error:
            self.log(
                "error",
                intent_key=row.intent_key,
                game_id=row.game_id,
                reason="alert_resolve_failed",
                details={"error": error},
            )

    def _alert_unresolved(
        self,
        row: LedgerRow,
        desired: Desired | None,
        attempt: AttemptView | None,
        reason: str,
        *,
        escalated: bool = False,
    ) -> None:
        view = unknown_view(row, attempt) if attempt is not None else None
        earliest = (
            view.earliest_send_at_risk if view else (row.send_at or (desired.send_at if desired else None))
        )
        deadline = evidence.decision_deadline(view, self.policy.ambiguous_decision_minutes) if view else None
        error = raise_unresolved_alert(
            self.engine,
            self.alerts,
            row=row,
            desired=desired,
            attempt=attempt,
            reason=reason,
            now=self.now(),
            earliest_send_at=earliest,
            deadline=deadline,
            fallback=self.policy.ambiguous_create_fallback,
            escalated=escalated,
        )
        self.report.alerts.append(row.game_id)
        self.log(
            "alerted",
            intent_key=row.intent_key,
            game_id=row.game_id,
            reason=("escalated_" if escalated else "unresolved_") + reason,
            send_at=earliest,
            details={"error": error, "deadline": deadline.isoformat() if deadline else None},
        )

    # -- phase 2: plan and act --------------------------------------------------------------

    def _apply_plan(self) -> None:
        desired, ledger = self.load_state()
        plan = plan_actions(
            desired,
            ledger,
            self.now(),
            self.policy,
            guard_live=self.guard_live,
            not_guardable=self._adopted_foreign(ledger),
        )
        unchanged: list[str] = []
        rows_by_key = {r.intent_key: r for r in ledger}
        desired_by_key = {d.intent_key: d for d in desired}
        for skip in plan.skips:
            self.report.counts[skip.action] += 1
            if skip.action == "skipped":
                self.report.skip_reasons[skip.reason] += 1
            if skip.reason in UNCHANGEABLE_REASONS:
                self._alert_unchangeable(
                    rows_by_key[skip.intent_key], desired_by_key[skip.intent_key], skip.reason
                )
            if skip.action == "skipped_unchanged" and skip.reason == "unchanged":
                unchanged.append(skip.game_id)
                continue
            self.log(
                skip.action,
                intent_key=skip.intent_key,
                game_id=skip.game_id,
                reason=skip.reason,
                braze_schedule_id=skip.braze_schedule_id,
                send_at=skip.send_at,
            )
        if unchanged:
            # One row per run, not per game: a sync every few minutes over a full slate would
            # otherwise write millions of identical rows a season.
            self.log(
                "skipped_unchanged", reason="unchanged", details={"count": len(unchanged), "games": unchanged}
            )

        # The intent commit: every create we are about to attempt has a planned row first.
        new_intents = [
            a.desired for a in plan.of(ActionKind.CREATE) if a.row is None and a.desired is not None
        ]
        if new_intents:
            store.ensure_intents(self.lease, new_intents)
            with self.engine.connect() as conn:
                rows = {
                    r.intent_key: r
                    for r in store.load_ledger(
                        conn, self.policy.campaign_id, keys=[d.intent_key for d in new_intents]
                    )
                }
            plan.actions = [
                Action(a.kind, a.intent_key, a.game_id, a.desired, rows.get(a.intent_key), a.reason)
                if a.kind is ActionKind.CREATE and a.row is None
                else a
                for a in plan.actions
            ]
        self.flush_logs()
        self.checkpoint(
            "after_intent_commit", fence=self.lease.fence, planned=[d.intent_key for d in new_intents]
        )

        try:
            for action in plan.actions:
                if action.kind is ActionKind.RESOLVE:
                    continue  # handled in phase 1; a row still unresolved is left alone
                self.lease.renew_if_due()
                self.act(action)
        except _Stop:
            pass

    def _adopted_foreign(self, ledger: list[LedgerRow]) -> frozenset[str]:
        """Unidentified rows holding a foreign schedule adopted without its id: it carries no send
        id of ours, so the send guard cannot refuse it; a change must alert, not abandon it."""
        keys = [r.intent_key for r in ledger if r.state == "unidentified"]
        if not keys:
            return frozenset()
        from nba_notify.lib.ledger.foreign import adopted_without_id

        with self.engine.connect() as conn:
            return adopted_without_id(conn, keys)

    def act(self, action: Action) -> None:
        row = action.row
        if row is None:
            self._error(
                action, None, "intent row missing after intent commit", category=str(ErrorCategory.DATABASE)
            )
            return
        if action.kind is ActionKind.ABANDON:
            then = "planned" if action.desired is not None and action.desired.active else "cancelled"
            done = store.leave_to_send_guard(
                self.lease, row, self.policy.campaign_id, then_state=then, note=action.reason
            )
            if done.applied:
                self.report.counts["left_to_send_guard"] += 1
                self.log(
                    "cancelled",
                    intent_key=row.intent_key,
                    game_id=row.game_id,
                    reason=action.reason,
                    send_at=row.send_at,
                    details={"braze_call": False, "new_state": then},
                )
            return
        if action.kind is ActionKind.DISCARD:
            if store.discard(self.lease, row):
                self.report.counts["discarded"] += 1
                self.log(
                    "cancelled",
                    intent_key=row.intent_key,
                    game_id=row.game_id,
                    reason=action.reason,
                    details={"braze_call": False},
                )
            return
        if action.kind is ActionKind.CREATE:
            self._create(action, row)
        elif action.kind is ActionKind.UPDATE:
            self._update(action, row)
        elif action.kind is ActionKind.CANCEL:
            self._cancel(action, row)

    def _create(self, action: Action, row: LedgerRow) -> None:
        d = action.desired
        assert d is not None and d.send_at is not None
        if d.send_at - self.now() < timedelta(seconds=self.policy.min_lead_seconds):
            self._skip(action, "missed_window", d.send_at)
            return
        if not self._ensure_send_id(action, row):
            return
        claim = store.claim(
            self.lease,
            row,
            "create",
            expected_states=("planned", "cancelled", "expired"),
            target_send_at=d.send_at,
            target_signature=d.signature,
            run_id=self.run_id,
        )
        if claim is None:
            self._skip(action, "claimed_elsewhere_or_blocked", d.send_at)
            return
        self.checkpoint("after_claim", claim=claim)
        result = self.braze.create_schedule(
            self.policy.campaign_id, d.send_at, d.trigger_properties(), send_id=row.send_id
        )
        self._finish(action, claim, result, "create")

    def _ensure_send_id(self, action: Action, row: LedgerRow) -> bool:
        """The intent's send id exists at Braze before a schedule create names it: created once
        per intent and recorded on its row. False (the intent stays ``planned``, the reason is
        logged) if it could not be created; never a create without it."""
        if row.send_id_created:
            return True
        send_at = action.desired.send_at if action.desired else None
        if self._send_id_block is not None:
            self._skip(action, self._send_id_block, send_at)
            return False
        result = self.braze.create_send_id(self.policy.campaign_id, row.send_id)
        self.report.braze_calls["send_id_create"] += 1
        self.checkpoint("after_send_id_answer", row=row, result=result)
        common = {"intent_key": row.intent_key, "game_id": row.game_id, "send_at": send_at}
        if result.succeeded:
            store.record_send_id_created(self.engine, row.id)
            self.report.counts["send_ids_created"] += 1
            self.log(
                "send_id_created",
                **common,
                details={"send_id": row.send_id, "daily_remaining": result.rate_limit_remaining},
            )
            return True
        error = result.error
        category = str(error.category) if error is not None else None
        if category in SEND_ID_STOP_REASONS and not result.ambiguous:
            reason = SEND_ID_STOP_REASONS[category]
            self._send_id_block = reason
        else:
            reason = "send_id_create_ambiguous" if result.ambiguous else "send_id_create_failed"
        message = error.message if error is not None else reason
        self.report.counts["error"] += 1
        self.log(
            "error",
            **common,
            reason=reason,
            details={
                "send_id": row.send_id,
                "error": message,
                "category": category,
                "http_status": result.status_code,
                "retry_after_seconds": error.details.get("retry_after_seconds") if error else None,
            },
        )
        self._error(
            action,
            None,
            f"send id {row.send_id} not created: {message}",
            category=category,
            http_status=result.status_code,
            reason=reason,
        )
        return False

    def _update(self, action: Action, row: LedgerRow) -> None:
        d = action.desired
        assert d is not None and d.send_at is not None and row.braze_schedule_id is not None
        closest = min(t for t in (row.send_at, d.send_at) if t is not None)
        if closest - self.now() < self.policy.update_buffer:
            self._skip(action, "inside_update_buffer", d.send_at)
            return
        claim = store.claim(
            self.lease,
            row,
            "update",
            expected_states=("scheduled",),
            target_send_at=d.send_at,
            target_signature=d.signature,
            run_id=self.run_id,
        )
        if claim is None:
            self._skip(action, "claimed_elsewhere_or_blocked", d.send_at)
            return
        self.checkpoint("after_claim", claim=claim)
        result = self.braze.update_schedule(
            self.policy.campaign_id, row.braze_schedule_id, d.send_at, d.trigger_properties()
        )
        self._finish(action, claim, result, "update")

    def _cancel(self, action: Action, row: LedgerRow) -> None:
        assert row.braze_schedule_id is not None
        claim = store.claim(
            self.lease, row, "delete", expected_states=("scheduled", "cancel_requested"), run_id=self.run_id
        )
        if claim is None:
            self._skip(action, "claimed_elsewhere_or_blocked", row.send_at)
            return
        self.checkpoint("after_claim", claim=claim)
        result = self.braze.delete_schedule(self.policy.campaign_id, row.braze_schedule_id)
        self._finish(action, claim, result, "delete")

    def _skip(self, action: Action, reason: str, send_at: datetime | None) -> None:
        self.report.counts["skipped"] += 1
        self.report.skip_reasons[reason] += 1
        self.log(
            "skipped", intent_key=action.intent_key, game_id=action.game_id, reason=reason, send_at=send_at
        )

    def _finish(self, action: Action, claim: store.Claim, result: Any, call: str) -> None:
        self.report.braze_calls[call] += 1
        self.checkpoint("after_braze_answer", claim=claim, result=result)
        outcome = store.Outcome.from_schedule_outcome(result)
        store.record_outcome(self.engine, claim.attempt_id, outcome)
        self.checkpoint("after_outcome_recorded", claim=claim, outcome=outcome)
        try:
            written = store.write_back(self.lease, claim, outcome)
        except FenceLost:
            self._settle_lost(action, claim, outcome)
            raise
        if not written.applied:
            # Same fence, but the row moved (e.g. a send event marked it sent): never force it.
            self._settle_lost(action, claim, outcome)
            return
        self.checkpoint("after_write_back", claim=claim, outcome=outcome)
        self._log_outcome(action, claim, outcome, written)
        if written.orphaned:
            self.report.counts["superseded"] += 1
        answered_gone = outcome.not_found and (call == "delete" or claim.purpose == "probe")
        if outcome.status != "succeeded" and not answered_gone:
            self._error(
                action, outcome, outcome.error_message or outcome.status, outcome_status=outcome.status
            )
            if outcome.status == "ambiguous" and call != "delete":
                self._alert_ambiguous(claim)
            if outcome.status == "failed" and outcome.error_category in STOP_CATEGORIES:
                raise _Stop()

    def _alert_unchangeable(self, row: LedgerRow, desired: Desired, reason: str) -> None:
        error = raise_unchangeable_alert(
            self.engine, self.alerts, row=row, desired=desired, reason=reason, now=self.now()
        )
        self.report.alerts.append(row.game_id)
        self.log(
            "alerted",
            intent_key=row.intent_key,
            game_id=row.game_id,
            reason=reason,
            send_at=row.send_at,
            details={"error": error} if error else None,
        )

    def _alert_ambiguous(self, claim: store.Claim) -> None:
        """An outcome that just became unknown is alerted at once, naming the earliest push at risk."""
        with self.engine.connect() as conn:
            rows = store.load_ledger(conn, self.policy.campaign_id, keys=[claim.intent_key])
            attempts = store.load_attempts(conn, [claim.attempt_id])
            desired = {
                d.intent_key: d
                for d in store.load_desired(conn, self.now(), self.policy, extra_keys=[claim.intent_key])
            }
        for row in rows:
            if row.intent_key == claim.intent_key and row.state == "unknown":
                self._alert_unresolved(
                    row, desired.get(row.intent_key), attempts.get(claim.attempt_id), "ambiguous_outcome"
                )

    def _log_outcome(
        self, action: Action, claim: store.Claim, outcome: store.Outcome, written: store.WriteBack
    ) -> None:
        common = {"intent_key": claim.intent_key, "game_id": claim.game_id, "send_at": claim.target_send_at}
        details = {"attempt_id": claim.attempt_id, "reason": action.reason}
        if claim.purpose == "probe" and outcome.not_found:
            # The old schedule is gone and the list shows one at the target: Braze replaced it.
            self.report.counts["unidentified"] += 1
            self.log(
                "evidence",
                **common,
                reason="probe_not_found",
                braze_schedule_id=claim.prior_schedule_id,
                details={**details, "verdict": "present", "new_state": written.new_state},
            )
            return
        if outcome.status == "succeeded" or (claim.operation == "delete" and outcome.not_found):
            verb = {"create": "created", "update": "updated", "delete": "cancelled"}[claim.operation]
            self.report.counts[verb] += 1
            sid = outcome.schedule_id or claim.prior_schedule_id
            if written.orphaned:
                details["superseded_schedule_id"] = written.orphaned
            self.log(verb, **common, reason=action.reason, braze_schedule_id=sid, details=details)
        elif outcome.status == "ambiguous" and claim.operation != "delete":
            self.report.counts["unknown"] += 1
            self.log(
                "unknown",
                **common,
                reason="ambiguous_" + claim.operation,
                braze_schedule_id=claim.prior_schedule_id,
                details={**details, "error": outcome.error_message, "http_status": outcome.http_status},
            )
        else:
            self.report.counts["error"] += 1
            self.log(
                "error",
                **common,
                reason=f"{claim.operation}_{outcome.status}",
                braze_schedule_id=claim.prior_schedule_id,
                details={
                    **details,
                    "error": outcome.error_message,
                    "category": outcome.error_category,
                    "http_status": outcome.http_status,
                },
            )

    def _settle_lost(self, action: Action, claim: store.Claim, outcome: store.Outcome) -> None:
        self.report.lost_fence = True
        settled = store.settle_lost_write_back(self.engine, claim, outcome, self.policy.campaign_id)
        self.log(
            "orphaned" if settled.orphaned else "error",
            intent_key=claim.intent_key,
            game_id=claim.game_id,
            reason="lost_fence",
            braze_schedule_id=settled.orphaned or outcome.schedule_id,
            details={"attempt_id": claim.attempt_id, "outcome": outcome.status, "note": settled.note},
        )
        if settled.orphaned:
            # Provably never live: cancel it now through the guarded path.
            self.cancel_orphans(only=settled.orphaned)

    # -- phase 3: orphans -------------------------------------------------------------------

    def cancel_orphans(self, only: str | None = None) -> int:
        """Delete schedule ids recorded as orphans (and only those), each claimed by a guarded
        compare-and-set that refuses any id a ledger row holds or could still adopt."""
        with self.engine.connect() as conn:
            orphans = store.open_orphans(conn, self.policy.campaign_id)
        cancelled = 0
        for orphan in orphans:
            if only is not None and orphan["braze_schedule_id"] != only:
                continue
            claimed = store.claim_orphan_cancel(self.engine, orphan["id"])
            if claimed is None:
                continue
            self.report.braze_calls["delete"] += 1
            result = self.braze.delete_schedule(claimed["campaign_id"], claimed["braze_schedule_id"])
            outcome = store.Outcome.from_schedule_outcome(result)
            status = store.finish_orphan(self.engine, orphan["id"], outcome)
            self.log(
                "cancelled" if status in ("cancelled", "gone") else "error",
                game_id=claimed["game_id"],
                intent_key=orphan["intent_key"],
                reason=f"orphan_{orphan['reason']}",
                braze_schedule_id=claimed["braze_schedule_id"],
                details={"orphan_status": status},
            )
            if status in ("cancelled", "gone"):
                cancelled += 1
                self.report.counts["orphans_cancelled"] += 1
        return cancelled


def unknown_view(row: LedgerRow, attempt: AttemptView | None) -> evidence.UnknownIntent | None:
    """What an unknown intent may have done at Braze, from its row and its last attempt: a
    create (no schedule held) at the attempt's target, or an update of the held schedule from
    the row's send time to the target."""
    if attempt is None:
        return None
    target = attempt.target_send_at or row.send_at
    if target is None:
        return None
    prior = row.braze_schedule_id
    # When the call ended — or, for a caller that vanished, now: whatever it applied, it applied before.
    since = attempt.finished_at or (
        attempt.started_at + timedelta(seconds=attempt.age_seconds) if attempt.started_at else None
    )
    if since is None:
        return None
    return evidence.UnknownIntent(
        row_id=row.id,
        operation="update" if prior else "create",
        target=target,
        prior_schedule_id=prior,
        prior_send_at=row.send_at if prior else None,
        since=since,
    )


def run_sync(
    engine: sa.Engine,
    braze: BrazeApi,
    policy: NotificationPolicy,
    *,
    clock: Callable[[], datetime],
    holder: str | None = None,
    run_id: str | None = None,
    checkpoint: Checkpoint = no_checkpoint,
    alerts: AlertSink | None = None,
    lease_ttl_seconds: float = LEASE_TTL_SECONDS,
    lease_wait_seconds: float = LEASE_WAIT_SECONDS,
) -> SyncReport:
    """Acquire the campaign lease, run one sync, release the lease.

    If this run lost its lease mid-way (it paused past its TTL and a newer holder took over),
    its last call's outcome is recorded but not applied. It then takes the lease again (as a
    new holder, waiting for the current one) and runs once more, so that when it finishes
    its own work is adopted and whatever it made obsolete is cancelled: the system converges
    when *any* run finishes, not only at the next scheduled one.

    A crash (any ``BaseException`` that is not an ``Exception``, or the process dying) leaves
    the lease to expire on its own, as a real crash would."""
    holder = holder or new_holder_id("sync")
    report = _run_once(
        engine,
        braze,
        policy,
        clock=clock,
        holder=holder,
        run_id=run_id,
        checkpoint=checkpoint,
        alerts=alerts,
        lease_ttl_seconds=lease_ttl_seconds,
        lease_wait_seconds=lease_wait_seconds,
    )
    if report.lost_fence:
        try:
            settle = _run_once(
                engine,
                braze,
                policy,
                clock=clock,
                holder=f"{holder}-settle",
                run_id=run_id,
                checkpoint=no_checkpoint,
                alerts=alerts,
                lease_ttl_seconds=lease_ttl_seconds,
                lease_wait_seconds=lease_wait_seconds,
            )
        except PipelineError as error:
            # Someone else holds the lease for longer than we wait: they (or the next run) settle it.
            report.counts["settle_deferred"] += 1
            report.errors.append(
                {"message": f"settle deferred: {error}", "category": str(error.category), "deferred": True}
            )
        else:
            report.counts.update(settle.counts)
            report.skip_reasons.update(settle.skip_reasons)
            report.braze_calls.update(settle.braze_calls)
            report.errors.extend(settle.errors)
            report.alerts.extend(settle.alerts)
            report.counts["settle_runs"] += 1
    return report


def _run_once(
    engine: sa.Engine,
    braze: BrazeApi,
    policy: NotificationPolicy,
    *,
    clock: Callable[[], datetime],
    holder: str,
    run_id: str | None,
    checkpoint: Checkpoint,
    alerts: AlertSink | None,
    lease_ttl_seconds: float,
    lease_wait_seconds: float,
) -> SyncReport:
    lease = Lease.acquire(
        engine,
        lease_name(policy.campaign_id),
        holder,
        ttl_seconds=lease_ttl_seconds,
        wait_seconds=lease_wait_seconds,
    )
    sync = ScheduleSync(
        engine, braze, policy, lease, clock=clock, run_id=run_id, checkpoint=checkpoint, alerts=alerts
    )
    try:
        report = sync.execute()
    except Exception:
        lease.release()
        raise
    lease.release()
    return report


def first_error(report: SyncReport) -> PipelineError | None:
    """The report's first error as a classified PipelineError (for Dagster failure metadata)."""
    if not report.errors:
        return None
    e = report.errors[0]
    category = (
        ErrorCategory(e["category"]) if e.get("category") in ErrorCategory.__members__ else ErrorCategory.API
    )
    return PipelineError(
        category,
        f"{len(report.errors)} Braze schedule operation(s) failed; first: {e.get('game_id')}: {e.get('message')}",
        details={"errors": report.errors[:20]},
        status_code=e.get("http_status"),
        severity=Severity.HIGH,
    )


__all__ = ["ScheduleSync", "SyncReport", "run_sync", "first_error", "Checkpoint", "no_checkpoint", "BrazeApi"]
