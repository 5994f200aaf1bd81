"""Every read and write of the schedule ledger, the intent log and the orphan list.

Write rules (DESIGN §3):

* a holder's ledger writes run in :meth:`Lease.fenced` transactions *and* are compare-and-set
  on the row (expected state, current attempt, schedule id): a stale holder changes nothing;
* the outcome of a Braze call is recorded on its attempt row *unfenced*, by whoever made the
  call, before the fenced write-back: a holder that lost its lease still leaves the truth
  behind for the next holder to adopt; so is the fact that an intent's send id exists;
* orphans are cancelled only through :func:`claim_orphan_cancel`, whose guard refuses any id
  that is, or could still become, a ledger row's live schedule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError

from nba_notify.lib.db.tables.notifications import (
    LIVE_STATES,
    UNRESOLVED_STATES,
    desired_notifications,
    schedule_attempts,
    schedule_ledger,
    schedule_orphans,
    scheduler_logs,
)
from nba_notify.lib.ledger.lease import Lease
from nba_notify.lib.ledger.planning import (
    AttemptView,
    Desired,
    LedgerRow,
    NotificationPolicy,
    UpcomingGame,
    send_id_for,
)

L = schedule_ledger.c
A = schedule_attempts.c
ORPHAN = schedule_orphans.c

# -- games and desired notifications ----------------------------------------------------------


def load_upcoming_games(conn: sa.Connection, now: datetime, policy: NotificationPolicy) -> list[UpcomingGame]:
    """Games whose notification could still matter: tip-off from (now - lookback - lead) to
    the Braze horizon, postponed/cancelled and unlisted ones included (they withdraw intents),
    games without a tip-off time too (reported, not scheduled) — and, wherever they are now,
    every game the campaign still wants notified or holds a live schedule for: a game that
    moved out of the window (to another day, weeks later) must update or withdraw its intent
    in the same run, never leave it behind at the old time."""
    start = now - timedelta(minutes=policy.missed_lookback_minutes) + policy.lead
    end = now + policy.horizon + policy.lead
    rows = conn.execute(
        sa.text(
            """
            SELECT game_id, home_team, away_team, tipoff_utc, status, listed
              FROM games
             WHERE (tipoff_utc >= :start AND tipoff_utc <= :end)
                OR (tipoff_utc IS NULL AND game_date >= CAST(:start AS date) AND game_date <= CAST(:end AS date))
                OR game_id IN (SELECT game_id FROM desired_notifications WHERE active AND campaign_id = :campaign)
                OR game_id IN (SELECT game_id FROM schedule_ledger
                                WHERE campaign_id = :campaign
                                  AND state IN ('planned', 'creating', 'updating', 'scheduled', 'unknown',
                                                'cancel_requested'))
             ORDER BY tipoff_utc NULLS LAST, game_id
            """
        ),
        {"start": start, "end": end, "campaign": policy.campaign_id},
    ).mappings()
    return [
        UpcomingGame(r["game_id"], r["home_team"], r["away_team"], r["tipoff_utc"], r["status"], r["listed"])
        for r in rows
    ]


def upsert_desired(
    conn: sa.Connection, desired: Sequence[Desired], computed_at: datetime, run_id: str | None
) -> int:
    """Upsert desired rows; returns how many rows were inserted or actually changed (an
    unchanged row is not rewritten, so ``updated_at`` shows real changes only)."""
    if not desired:
        return 0
    values = [{**d.as_row(), "computed_at": computed_at, "run_id": run_id} for d in desired]
    stmt = pg_insert(desired_notifications).values(values)
    ex = stmt.excluded
    changed_cols = (
        "tipoff_utc",
        "send_at_utc",
        "signature",
        "active",
        "reason",
        "game_status",
        "home_team",
        "away_team",
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[desired_notifications.c.intent_key],
        set_={
            **{c: getattr(ex, c) for c in changed_cols},
            "computed_at": ex.computed_at,
            "run_id": ex.run_id,
            "updated_at": sa.func.now(),
        },
        where=sa.or_(
            *[getattr(desired_notifications.c, c).is_distinct_from(getattr(ex, c)) for c in changed_cols]
        ),
    )
    return conn.execute(stmt).rowcount or 0


def load_desired(
    conn: sa.Connection, now: datetime, policy: NotificationPolicy, extra_keys: Iterable[str] = ()
) -> list[Desired]:
    """Desired intents of the campaign that still matter now, plus any named intents (those
    with live ledger rows, whatever their send time)."""
    d = desired_notifications.c
    horizon_start = now - timedelta(minutes=policy.missed_lookback_minutes)
    keys = list(extra_keys)
    condition = sa.or_(d.send_at_utc >= horizon_start, d.send_at_utc.is_(None))
    if keys:
        condition = sa.or_(condition, d.intent_key.in_(keys))
    rows = conn.execute(
        sa.select(desired_notifications).where(d.campaign_id == policy.campaign_id, condition)
    ).mappings()
    return [Desired.from_row(r) for r in rows]


# -- ledger reads -----------------------------------------------------------------------------


def load_ledger(conn: sa.Connection, campaign_id: str, keys: Iterable[str] = ()) -> list[LedgerRow]:
    """Rows that a sync must consider: every non-terminal row of the campaign, and the rows of
    the given intents whatever their state."""
    keys = list(keys)
    condition = L.state.in_((*LIVE_STATES, "planned"))
    if keys:
        condition = sa.or_(condition, L.intent_key.in_(keys))
    rows = conn.execute(
        sa.select(schedule_ledger).where(L.campaign_id == campaign_id, condition).order_by(L.id)
    ).mappings()
    return [LedgerRow.from_row(r) for r in rows]


def load_attempts(conn: sa.Connection, attempt_ids: Iterable[int]) -> dict[int, AttemptView]:
    ids = [i for i in attempt_ids if i is not None]
    if not ids:
        return {}
    rows = conn.execute(
        sa.select(
            schedule_attempts,
            sa.func.extract("epoch", sa.func.clock_timestamp() - A.started_at).label("age_seconds"),
        ).where(A.id.in_(ids))
    ).mappings()
    return {r["id"]: AttemptView.from_row(r) for r in rows}


# -- the intent commit and claims ------------------------------------------------------------


def ensure_intents(lease: Lease, desired: Sequence[Desired]) -> int:
    """The intent commit: one ``planned`` ledger row per intent we are about to act on, in
    one fenced transaction. Idempotent (``ON CONFLICT (intent_key) DO NOTHING``)."""
    if not desired:
        return 0
    values = [
        {
            "intent_key": d.intent_key,
            "game_id": d.game_id,
            "kind": d.kind,
            "campaign_id": d.campaign_id,
            "template_version": d.template_version,
            "send_id": send_id_for(d.intent_key),
            "state": "planned",
            "fence": lease.fence,
        }
        for d in desired
    ]
    with lease.fenced() as conn:
        stmt = pg_insert(schedule_ledger).values(values).on_conflict_do_nothing(index_elements=[L.intent_key])
        return conn.execute(stmt).rowcount or 0


@dataclass(frozen=True)
class Claim:
    """A ledger row claimed for one Braze call under ``fence``; ``attempt_id`` is the intent
    log entry written in the same transaction."""

    row_id: int
    intent_key: str
    game_id: str
    send_id: str
    operation: str  # create | update | delete
    claimed_state: str
    attempt_id: int
    fence: int
    prior_schedule_id: str | None
    prior_state: str
    target_send_at: datetime | None
    target_signature: str | None
    prior_send_at: datetime | None = None
    purpose: str = "sync"  # sync | probe (an identical update that tells moved from replaced)


CLAIM_STATE = {"create": "creating", "update": "updating", "delete": "cancel_requested"}


def claim(
    lease: Lease,
    row: LedgerRow,
    operation: str,
    *,
    expected_states: Sequence[str],
    target_send_at: datetime | None = None,
    target_signature: str | None = None,
    run_id: str | None = None,
    purpose: str = "sync",
) -> Claim | None:
    """Compare-and-set the row into the claimed state and write the in-flight attempt, in one
    fenced transaction. None if the row changed under us (another holder acted) or a live
    sibling blocks a create (the unique index makes two live rows per game impossible)."""
    new_state = CLAIM_STATE[operation]
    try:
        with lease.fenced() as conn:
            values: dict[str, Any] = {
                "state": new_state,
                "fence": lease.fence,
                "attempts": L.attempts + 1,
                "updated_at": sa.func.now(),
            }
            if operation == "create":
                values.update(braze_schedule_id=None, dispatch_id=None, signature=None, send_at_utc=None)
            updated = conn.execute(
                sa.update(schedule_ledger)
                .where(
                    L.id == row.id,
                    L.state.in_(list(expected_states)),
                    L.braze_schedule_id.is_not_distinct_from(row.braze_schedule_id),
                    L.fence <= lease.fence,
                )
                .values(**values)
                .returning(L.id)
            ).first()
            if updated is None:
                return None
            attempt_id = conn.execute(
                sa.insert(schedule_attempts)
                .values(
                    ledger_id=row.id,
                    intent_key=row.intent_key,
                    game_id=row.game_id,
                    operation=operation,
                    fence=lease.fence,
                    holder=lease.holder,
                    run_id=run_id,
                    prior_schedule_id=row.braze_schedule_id,
                    target_send_at=target_send_at,
                    target_signature=target_signature,
                    prior_send_at=row.send_at,
                    purpose=purpose,
                    status="in_flight",
                    started_at=sa.func.clock_timestamp(),
                )
                .returning(A.id)
            ).scalar_one()
            conn.execute(
                sa.update(schedule_ledger).where(L.id == row.id).values(current_attempt_id=attempt_id)
            )
    except IntegrityError:
        return None
    return Claim(
        row_id=row.id,
        intent_key=row.intent_key,
        game_id=row.game_id,
        send_id=row.send_id,
        operation=operation,
        claimed_state=new_state,
        attempt_id=attempt_id,
        fence=lease.fence,
        prior_schedule_id=row.braze_schedule_id,
        prior_state=row.state,
        target_send_at=target_send_at,
        target_signature=target_signature,
        prior_send_at=row.send_at,
        purpose=purpose,
    )


def discard(lease: Lease, row: LedgerRow) -> bool:
    """A planned intent withdrawn before any call: cancelled without touching Braze."""
    with lease.fenced() as conn:
        done = conn.execute(
            sa.update(schedule_ledger)
            .where(L.id == row.id, L.state == "planned")
            .values(
                state="cancelled", fence=lease.fence, cancelled_at=sa.func.now(), updated_at=sa.func.now()
            )
            .returning(L.id)
        ).first()
    return done is not None


def record_send_id_created(engine: sa.Engine, row_id: int) -> bool:
    """Braze confirmed the row's send id exists. Unfenced like :func:`record_outcome`: it is a
    fact about Braze whoever learned it, and it only ever moves from NULL to a time (so it
    touches neither ``state`` nor ``fence``, and no compare-and-set depends on it). True if
    this call recorded it (False: already recorded)."""
    with engine.begin() as conn:
        done = conn.execute(
            sa.update(schedule_ledger)
            .where(L.id == row_id, L.send_id_created_at.is_(None))
            .values(send_id_created_at=sa.func.clock_timestamp())
            .returning(L.id)
        ).first()
    return done is not None


# -- outcomes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What a Braze call told us, in the intent log's words."""

    status: str  # succeeded | failed | ambiguous
    schedule_id: str | None = None
    dispatch_id: str | None = None
    http_status: int | None = None
    error_category: str | None = None
    error_message: str | None = None
    not_found: bool = False

    @classmethod
    def from_schedule_outcome(cls, outcome: Any) -> Outcome:
        kind = str(outcome.kind)
        status = {"SUCCESS": "succeeded", "DEFINITE_FAILURE": "failed", "AMBIGUOUS": "ambiguous"}[kind]
        error = outcome.error
        return cls(
            status=status,
            schedule_id=outcome.schedule_id,
            dispatch_id=outcome.dispatch_id,
            http_status=outcome.status_code,
            error_category=str(error.category) if error is not None else None,
            error_message=str(error.message)[:2000] if error is not None else None,
            not_found=bool(getattr(outcome, "not_found", False)),
        )


def record_outcome(engine: sa.Engine, attempt_id: int, outcome: Outcome) -> None:
    """Unfenced and first: the truth about a Braze call outlives the lease of its caller."""
    with engine.begin() as conn:
        conn.execute(
            sa.update(schedule_attempts)
            .where(A.id == attempt_id, A.status == "in_flight")
            .values(
                status=outcome.status,
                schedule_id=outcome.schedule_id,
                dispatch_id=outcome.dispatch_id,
                http_status=outcome.http_status,
                error_category=outcome.error_category,
                error_message=outcome.error_message,
                finished_at=sa.func.clock_timestamp(),
            )
        )


@dataclass(frozen=True)
class WriteBack:
    applied: bool  # the fenced CAS went through
    new_state: str | None = None
    orphaned: str | None = None  # a schedule id recorded as orphan by this write-back
    note: str = ""


def _ledger_values_for(claim: Claim, outcome: Outcome) -> tuple[dict[str, Any], str, str | None]:
    """(ledger values, log action, superseded schedule id) for an outcome of a claim."""
    base: dict[str, Any] = {"updated_at": sa.func.now()}
    op = claim.operation
    if outcome.status == "succeeded":
        if op == "create":
            return (
                {
                    **base,
                    "state": "scheduled",
                    "braze_schedule_id": outcome.schedule_id,
                    "dispatch_id": outcome.dispatch_id,
                    "signature": claim.target_signature,
                    "send_at_utc": claim.target_send_at,
                    "confirmed_at": sa.func.clock_timestamp(),
                    "last_error": None,
                    "last_error_category": None,
                },
                "created",
                None,
            )
        if op == "update":
            new_id = outcome.schedule_id or claim.prior_schedule_id
            superseded = claim.prior_schedule_id if new_id != claim.prior_schedule_id else None
            values = {
                **base,
                "state": "scheduled",
                "braze_schedule_id": new_id,
                "signature": claim.target_signature,
                "send_at_utc": claim.target_send_at,
                "last_error": None,
                "last_error_category": None,
            }
            if superseded:
                values["dispatch_id"] = None  # the new schedule's dispatch is learned from Currents
                values["confirmed_at"] = sa.func.clock_timestamp()  # Braze created a schedule just now
            return values, "updated", superseded
        return (
            {**base, "state": "cancelled", "cancelled_at": sa.func.now(), "last_error": None},
            "cancelled",
            None,
        )
    error = {"last_error": outcome.error_message, "last_error_category": outcome.error_category}
    if claim.purpose == "probe":
        if outcome.status == "failed" and outcome.not_found:
            # The old schedule is gone and the evidence lists one at the target: the update
            # replaced it (a new id we never learned), so the intent is live, unidentified.
            return (
                {
                    **base,
                    "state": "unidentified",
                    "braze_schedule_id": None,
                    "dispatch_id": None,
                    "signature": claim.target_signature,
                    "send_at_utc": claim.target_send_at,
                    "confirmed_at": None,
                },
                "evidence",
                None,
            )
        return {**base, **error, "state": "unknown"}, "unknown", None
    if outcome.status == "failed":
        if op == "create":
            return {**base, **error, "state": "planned"}, "error", None
        if op == "update":
            if outcome.not_found:
                # Braze proves the schedule is gone: the intent needs a fresh create.
                return (
                    {
                        **base,
                        **error,
                        "state": "planned",
                        "braze_schedule_id": None,
                        "dispatch_id": None,
                        "signature": None,
                        "send_at_utc": None,
                    },
                    "error",
                    None,
                )
            return {**base, **error, "state": "scheduled"}, "error", None
        if outcome.not_found:  # delete of an id Braze no longer knows: it is gone
            return (
                {**base, "state": "cancelled", "cancelled_at": sa.func.now(), "last_error": None},
                "cancelled",
                None,
            )
        return {**base, **error, "state": "cancel_requested"}, "error", None
    # ambiguous
    if op == "delete":
        return (
            {**base, **error, "state": "cancel_requested"},
            "error",
            None,
        )  # deletes are idempotent: retried
    values = {**base, **error, "state": "unknown"}
    if op == "create":
        values.update(signature=claim.target_signature, send_at_utc=claim.target_send_at)
    return values, "unknown", None


def write_back(lease: Lease, claim: Claim, outcome: Outcome) -> WriteBack:
    """The fenced write-back of an outcome. Raises :class:`FenceLost` if the lease moved on;
    returns ``applied=False`` if the row changed under an unchanged fence (should not
    happen; treated like a lost write-back by the caller)."""
    values, _action, superseded = _ledger_values_for(claim, outcome)
    with lease.fenced() as conn:
        done = conn.execute(
            sa.update(schedule_ledger)
            .where(
                L.id == claim.row_id,
                L.state == claim.claimed_state,
                L.current_attempt_id == claim.attempt_id,
                L.fence == claim.fence,
            )
            .values(**values)
            .returning(L.id)
        ).first()
        if done is None:
            return WriteBack(False, note="row changed under the same fence")
        conn.execute(
            sa.update(schedule_attempts).where(A.id == claim.attempt_id).values(resolution="applied")
        )
        if superseded:
            _insert_orphan(
                conn, superseded, claim, reason="superseded", fence=lease.fence, send_at=claim.prior_send_at
            )
    return WriteBack(True, new_state=values["state"], orphaned=superseded)


def settle_lost_write_back(engine: sa.Engine, claim: Claim, outcome: Outcome, campaign_id: str) -> WriteBack:
    """A holder whose fenced write-back lost. Unfenced, under the row lock:

    * if the row still waits on *this* attempt (unresolved, ``current_attempt_id`` = ours),
      the recorded outcome is left for the next holder to adopt;
    * otherwise the row moved on, so a schedule this call produced can never become live:
      it is recorded as an orphan (and cancelled by the caller through the guarded path)."""
    with engine.begin() as conn:
        row = (
            conn.execute(
                sa.select(L.state, L.current_attempt_id, L.braze_schedule_id)
                .where(L.id == claim.row_id)
                .with_for_update()
            )
            .mappings()
            .first()
        )
        if row is None:
            return WriteBack(False, note="ledger row vanished")
        if row["current_attempt_id"] == claim.attempt_id and row["state"] in UNRESOLVED_STATES:
            return WriteBack(False, note="left for adoption")
        produced = (
            outcome.schedule_id
            if outcome.status == "succeeded" and claim.operation in ("create", "update")
            else None
        )
        if produced and produced != row["braze_schedule_id"]:
            _insert_orphan(
                conn,
                produced,
                claim,
                reason="lost_fence",
                fence=claim.fence,
                campaign_id=campaign_id,
                send_at=claim.target_send_at,
            )
            return WriteBack(False, orphaned=produced, note="orphaned: row moved on")
        return WriteBack(False, note="nothing to orphan")


def _insert_orphan(
    conn: sa.Connection,
    schedule_id: str,
    claim: Claim | None,
    *,
    reason: str,
    fence: int | None,
    campaign_id: str | None = None,
    intent_key: str | None = None,
    game_id: str | None = None,
    send_at: datetime | None = None,
    dispatch_id: str | None = None,
    note: str | None = None,
    status: str = "pending",
) -> None:
    if campaign_id is None:
        campaign_id = conn.execute(
            sa.select(L.campaign_id).where(L.id == claim.row_id)  # type: ignore[union-attr]
        ).scalar_one()
    conn.execute(
        pg_insert(schedule_orphans)
        .values(
            braze_schedule_id=schedule_id,
            campaign_id=campaign_id,
            intent_key=intent_key or (claim.intent_key if claim else None),
            game_id=game_id or (claim.game_id if claim else None),
            reason=reason,
            source_attempt_id=claim.attempt_id if claim else None,
            send_at_utc=send_at,
            dispatch_id=dispatch_id,
            status=status,
            recorded_fence=fence,
            note=note,
        )
        .on_conflict_do_nothing(index_elements=[ORPHAN.braze_schedule_id])
    )


# -- resolution writes ------------------------------------------------------------------------


def adopt(lease: Lease, row: LedgerRow, attempt: AttemptView, campaign_id: str) -> WriteBack:
    """Take a succeeded attempt's schedule as the live one (fenced CAS on the row still
    waiting on that attempt). An update that returned a new id supersedes the prior id."""
    superseded = None
    values: dict[str, Any] = {
        "state": "scheduled",
        "fence": lease.fence,
        "signature": attempt.target_signature,
        "send_at_utc": attempt.target_send_at,
        "last_error": None,
        "last_error_category": None,
        "updated_at": sa.func.now(),
    }
    if attempt.operation == "create":
        values.update(braze_schedule_id=attempt.schedule_id, dispatch_id=attempt.dispatch_id)
    elif attempt.operation == "update":
        new_id = attempt.schedule_id or attempt.prior_schedule_id
        values["braze_schedule_id"] = new_id
        if new_id != attempt.prior_schedule_id:
            superseded = attempt.prior_schedule_id
            values["dispatch_id"] = None
    with lease.fenced() as conn:
        done = conn.execute(
            sa.update(schedule_ledger)
            .where(L.id == row.id, L.state.in_(UNRESOLVED_STATES), L.current_attempt_id == attempt.id)
            .values(**values)
            .returning(L.id)
        ).first()
        if done is None:
            return WriteBack(False, note="row changed")
        conn.execute(sa.update(schedule_attempts).where(A.id == attempt.id).values(resolution="adopted"))
        if superseded:
            _insert_orphan(
                conn,
                superseded,
                None,
                reason="superseded",
                fence=lease.fence,
                campaign_id=campaign_id,
                intent_key=row.intent_key,
                game_id=row.game_id,
                send_at=attempt.prior_send_at,
            )
    return WriteBack(True, new_state="scheduled", orphaned=superseded)


def mark_unidentified(
    lease: Lease, row: LedgerRow, attempt: AttemptView | None, *, send_at: datetime, signature: str | None
) -> WriteBack:
    """Evidence proves Braze holds this intent's schedule at ``send_at`` but we never learned its
    id: live, ``unidentified`` (it will send; it cannot be changed)."""
    with lease.fenced() as conn:
        done = conn.execute(
            sa.update(schedule_ledger)
            .where(
                L.id == row.id,
                L.state.in_(UNRESOLVED_STATES),
                L.current_attempt_id.is_not_distinct_from(attempt.id if attempt else row.current_attempt_id),
            )
            .values(
                state="unidentified",
                braze_schedule_id=None,
                dispatch_id=None,
                signature=signature,
                send_at_utc=send_at,
                confirmed_at=None,
                fence=lease.fence,
                updated_at=sa.func.now(),
                last_error=None,
                last_error_category=None,
            )
            .returning(L.id)
        ).first()
        if done is not None and attempt is not None:
            conn.execute(sa.update(schedule_attempts).where(A.id == attempt.id).values(resolution="evidence"))
    return WriteBack(done is not None, new_state="unidentified" if done is not None else None)


def release_prior_schedule(
    lease: Lease,
    row: LedgerRow,
    campaign_id: str,
    *,
    reason: str,
    then_state: str,
    send_at: datetime | None,
    signature: str | None,
) -> WriteBack:
    """The schedule an ambiguous update was applied to (``row.braze_schedule_id``) is proven — or,
    past the decision deadline, presumed — to be at the wrong time: record it as an orphan at its
    old send time (reconcile's guarded path cancels it) and let the row stand for the target only
    (``then_state``: ``unidentified`` when a schedule is proven there, ``unknown`` otherwise)."""
    prior = row.braze_schedule_id
    with lease.fenced() as conn:
        done = conn.execute(
            sa.update(schedule_ledger)
            .where(
                L.id == row.id,
                L.state.in_(UNRESOLVED_STATES),
                L.braze_schedule_id.is_not_distinct_from(prior),
            )
            .values(
                state=then_state,
                braze_schedule_id=None,
                dispatch_id=None,
                signature=signature,
                send_at_utc=send_at,
                confirmed_at=None,
                fence=lease.fence,
                updated_at=sa.func.now(),
            )
            .returning(L.id)
        ).first()
        if done is not None and prior is not None:
            _insert_orphan(
                conn,
                prior,
                None,
                reason=reason,
                fence=lease.fence,
                campaign_id=campaign_id,
                intent_key=row.intent_key,
                game_id=row.game_id,
                send_at=row.send_at,
            )
    return WriteBack(done is not None, new_state=then_state if done is not None else None, orphaned=prior)


def guarded_id(send_id: str, send_at: datetime | None) -> str:
    """The orphan list's name for a schedule we cannot cancel (no id): the intent's send id and
    its send time."""
    return (
        f"unidentified:{send_id}:{send_at.astimezone(UTC):%Y-%m-%dT%H:%MZ}"
        if send_at
        else f"unidentified:{send_id}"
    )


def leave_to_send_guard(
    lease: Lease, row: LedgerRow, campaign_id: str, *, then_state: str, note: str
) -> WriteBack:
    """A schedule whose id we never learned (``unidentified``, or possibly landed when its call
    was ambiguous) is stale: record it as a ``guarded`` orphan at its send time (evidence keeps
    accounting for it; the send guard refuses it when Braze asks) and free the intent
    (``then_state``: ``planned`` to create afresh, ``cancelled`` when the game is withdrawn)."""
    with lease.fenced() as conn:
        done = conn.execute(
            sa.update(schedule_ledger)
            .where(
                L.id == row.id,
                L.state.in_((*UNRESOLVED_STATES, "unidentified")),
                L.braze_schedule_id.is_(None),
            )
            .values(
                state=then_state,
                signature=None,
                send_at_utc=None,
                dispatch_id=None,
                fence=lease.fence,
                updated_at=sa.func.now(),
                last_error=note,
                cancelled_at=sa.func.now() if then_state == "cancelled" else None,
            )
            .returning(L.id)
        ).first()
        if done is not None and row.send_at is not None:
            _insert_orphan(
                conn,
                guarded_id(row.send_id, row.send_at),
                None,
                reason="left_to_guard",
                fence=lease.fence,
                campaign_id=campaign_id,
                intent_key=row.intent_key,
                game_id=row.game_id,
                send_at=row.send_at,
                note=note,
                status="guarded",
            )
    return WriteBack(done is not None, new_state=then_state if done is not None else None)


def confirmed_schedules(conn: sa.Connection, campaign_id: str, start: datetime, end: datetime) -> list[tuple]:
    """(send_at, confirmed_at) of every schedule the ledger holds with a known id in the window."""
    return [
        tuple(r)
        for r in conn.execute(
            sa.select(L.send_at_utc, L.confirmed_at).where(
                L.campaign_id == campaign_id,
                L.state.in_(("scheduled", "updating", "cancel_requested")),
                L.send_at_utc > start,
                L.send_at_utc <= end,
            )
        )
    ]


def settled_alert_intents(conn: sa.Connection, campaign_id: str) -> list[tuple[str, str]]:
    """(intent_key, state) of open ambiguity alerts whose intent is no longer awaiting an answer."""
    rows = conn.execute(
        sa.text(
            """
            SELECT l.intent_key, l.state
              FROM alerts a JOIN schedule_ledger l ON l.intent_key = a.dedupe_key
             WHERE a.rule_key = 'ambiguous_schedule' AND a.status <> 'RESOLVED'
               AND l.campaign_id = :campaign
               AND l.state NOT IN ('creating', 'updating', 'unknown', 'unidentified')
            """
        ),
        {"campaign": campaign_id},
    ).all()
    return [(r.intent_key, r.state) for r in rows]


def live_elsewhere(conn: sa.Connection, campaign_id: str, start: datetime, end: datetime) -> list[datetime]:
    """Send times of other schedules known live in the window: unidentified rows and open orphans."""
    unidentified = (
        conn.execute(
            sa.select(L.send_at_utc).where(
                L.campaign_id == campaign_id,
                L.state == "unidentified",
                L.send_at_utc > start,
                L.send_at_utc <= end,
            )
        )
        .scalars()
        .all()
    )
    orphans = (
        conn.execute(
            sa.select(ORPHAN.send_at_utc).where(
                ORPHAN.campaign_id == campaign_id,
                ORPHAN.status.in_(("pending", "cancel_claimed", "guarded")),
                ORPHAN.send_at_utc > start,
                ORPHAN.send_at_utc <= end,
            )
        )
        .scalars()
        .all()
    )
    return [*unidentified, *orphans]


def revert(lease: Lease, row: LedgerRow, attempt: AttemptView, *, vanished: bool = False) -> WriteBack:
    """The attempt provably failed: back to the state before the claim (a failed create to
    ``planned``; a failed update to ``scheduled`` on the prior id; a 404 update to
    ``planned`` with no id, since Braze proved the schedule gone)."""
    if attempt.operation == "create" or vanished:
        values: dict[str, Any] = {
            "state": "planned",
            "braze_schedule_id": None,
            "dispatch_id": None,
            "signature": None,
            "send_at_utc": None,
        }
    else:
        values = {"state": "scheduled", "braze_schedule_id": attempt.prior_schedule_id}
    values.update(fence=lease.fence, updated_at=sa.func.now())
    with lease.fenced() as conn:
        done = conn.execute(
            sa.update(schedule_ledger)
            .where(L.id == row.id, L.state.in_(UNRESOLVED_STATES), L.current_attempt_id == attempt.id)
            .values(**values)
            .returning(L.id)
        ).first()
        if done is not None:
            conn.execute(sa.update(schedule_attempts).where(A.id == attempt.id).values(resolution="reverted"))
    return WriteBack(done is not None, new_state=values["state"] if done is not None else None)


def mark_unknown(lease: Lease, row: LedgerRow) -> WriteBack:
    """The row's call has no knowable outcome. A call still ``in_flight`` past the grace is given
    up on now: its ``finished_at`` records that moment (whatever it applied at Braze, it applied
    before), while a late caller may still record its real outcome over it."""
    with lease.fenced() as conn:
        done = conn.execute(
            sa.update(schedule_ledger)
            .where(
                L.id == row.id,
                L.state.in_(UNRESOLVED_STATES),
                L.current_attempt_id.is_not_distinct_from(row.current_attempt_id),
            )
            .values(state="unknown", fence=lease.fence, updated_at=sa.func.now())
            .returning(L.id)
        ).first()
        if done is not None and row.current_attempt_id is not None:
            conn.execute(
                sa.update(schedule_attempts)
                .where(A.id == row.current_attempt_id, A.status == "in_flight", A.finished_at.is_(None))
                .values(finished_at=sa.func.clock_timestamp(), error_message="caller vanished: given up on")
            )
    return WriteBack(done is not None, new_state="unknown" if done is not None else None)


OPERATOR_DECISIONS = ("exists", "absent")


def operator_resolve(
    lease: Lease,
    intent: str,
    *,
    decision: str,
    schedule_id: str | None = None,
    dispatch_id: str | None = None,
    orphan_ids: Sequence[str] = (),
    seen_at: datetime | None = None,
) -> WriteBack:
    """An operator's answer for an intent whose schedule we cannot see, with what real Braze
    shows them (the campaign's scheduled sends and their times, rarely an id):

    * ``exists`` — a send for it is scheduled (at ``seen_at``; by default the time the lost
      call asked for). With its id the schedule is adopted (``scheduled``, signature unknown:
      the next sync re-sends the desired time unless it could only be the target); without,
      ``unidentified``;
    * ``absent`` — there is none: back to ``planned``, the next sync creates it (same send id).

    ``orphan_ids`` are further schedules found for it, recorded as orphans for reconcile to
    cancel. Only rows whose schedule we cannot see (unresolved or unidentified) are touched."""
    if decision not in OPERATOR_DECISIONS:
        raise ValueError(f"decision must be one of {OPERATOR_DECISIONS}, not {decision!r}")
    with lease.fenced() as conn:
        row = (
            conn.execute(sa.select(schedule_ledger).where(L.intent_key == intent).with_for_update())
            .mappings()
            .first()
        )
        if row is None or row["state"] not in (*UNRESOLVED_STATES, "unidentified"):
            return WriteBack(
                False, note=f"intent is not awaiting a decision (state {row['state'] if row else None})"
            )
        attempt = (
            conn.execute(
                sa.select(A.target_signature, A.target_send_at).where(A.id == row["current_attempt_id"])
            )
            .mappings()
            .first()
        )
        target_at = attempt["target_send_at"] if attempt else row["send_at_utc"]
        when = seen_at or target_at
        # The signature says what Braze holds; only the target's is known for sure.
        signature = (
            (attempt["target_signature"] if attempt else row["signature"]) if when == target_at else None
        )
        if decision == "absent":
            values: dict[str, Any] = {
                "state": "planned",
                "braze_schedule_id": None,
                "dispatch_id": None,
                "signature": None,
                "send_at_utc": None,
            }
        elif schedule_id is not None:
            # A lost create could only be at its target; a lost update's schedule may be at the
            # old time or the new: unknown signature, so the next sync re-sends the desired time.
            known = row["braze_schedule_id"] is None and when == target_at
            values = {
                "state": "scheduled",
                "braze_schedule_id": schedule_id,
                "dispatch_id": dispatch_id,
                "signature": signature if known else None,
                "send_at_utc": when,
            }
        else:
            values = {
                "state": "unidentified",
                "braze_schedule_id": None,
                "dispatch_id": None,
                "signature": signature,
                "send_at_utc": when,
            }
        prior = row["braze_schedule_id"]
        values.update(fence=lease.fence, updated_at=sa.func.now(), last_error=None, last_error_category=None)
        conn.execute(sa.update(schedule_ledger).where(L.id == row["id"]).values(**values))
        for orphan in {*orphan_ids, *([prior] if prior and decision == "absent" else [])}:
            if orphan != schedule_id:
                _insert_orphan(
                    conn,
                    orphan,
                    None,
                    reason="operator",
                    fence=lease.fence,
                    campaign_id=row["campaign_id"],
                    intent_key=intent,
                    game_id=row["game_id"],
                    send_at=row["send_at_utc"] if orphan == prior else None,
                )
    return WriteBack(True, new_state=values["state"])


# -- orphans ----------------------------------------------------------------------------------

# An orphan may be cancelled only if no ledger row holds it as live, and no unresolved row
# could still adopt it (it is not the schedule of any unresolved row's current attempt).
CLAIM_ORPHAN_SQL = sa.text(
    """
    UPDATE schedule_orphans o
       SET status = 'cancel_claimed', resolved_at = clock_timestamp()
     WHERE o.id = :id
       AND o.status IN ('pending', 'cancel_claimed')
       AND NOT EXISTS (
             SELECT 1 FROM schedule_ledger l
              WHERE l.braze_schedule_id = o.braze_schedule_id
                AND l.state IN ('creating', 'updating', 'scheduled', 'unknown', 'unidentified', 'cancel_requested'))
       AND NOT EXISTS (
             SELECT 1 FROM schedule_ledger l
               JOIN schedule_attempts a ON a.id = l.current_attempt_id
              WHERE l.state IN ('creating', 'updating', 'unknown')
                AND a.schedule_id = o.braze_schedule_id)
    RETURNING o.id, o.braze_schedule_id, o.campaign_id, o.game_id
    """
)


def open_orphans(conn: sa.Connection, campaign_id: str, limit: int = 500) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(schedule_orphans)
        .where(ORPHAN.campaign_id == campaign_id, ORPHAN.status.in_(("pending", "cancel_claimed")))
        .order_by(ORPHAN.id)
        .limit(limit)
    ).mappings()
    return [dict(r) for r in rows]


def claim_orphan_cancel(engine: sa.Engine, orphan_id: int) -> dict[str, Any] | None:
    with engine.begin() as conn:
        row = conn.execute(CLAIM_ORPHAN_SQL, {"id": orphan_id}).mappings().first()
    return dict(row) if row else None


def finish_orphan(engine: sa.Engine, orphan_id: int, outcome: Outcome) -> str:
    """cancelled (deleted now), gone (Braze no longer knew it) or back to pending (retry)."""
    if outcome.status == "succeeded":
        status = "cancelled"
    elif outcome.not_found:
        status = "gone"
    else:
        status = "pending"
    with engine.begin() as conn:
        conn.execute(
            sa.update(schedule_orphans)
            .where(ORPHAN.id == orphan_id)
            .values(
                status=status,
                resolved_at=sa.func.clock_timestamp(),
                note=outcome.error_message if status == "pending" else None,
            )
        )
    return status


# -- logs -------------------------------------------------------------------------------------


def write_logs(engine_or_conn: sa.Engine | sa.Connection, entries: Sequence[Mapping[str, Any]]) -> None:
    """Append-only audit rows; not fenced (they record what happened, whoever did it)."""
    if not entries:
        return
    rows = [
        {
            "run_id": e.get("run_id"),
            "holder": e.get("holder"),
            "fence": e.get("fence"),
            "intent_key": e.get("intent_key"),
            "game_id": e.get("game_id"),
            "action": e["action"],
            "reason": e.get("reason"),
            "braze_schedule_id": e.get("braze_schedule_id"),
            "send_at_utc": e.get("send_at"),
            "details": e.get("details"),
        }
        for e in entries
    ]
    if isinstance(engine_or_conn, sa.Engine):
        with engine_or_conn.begin() as conn:
            conn.execute(sa.insert(scheduler_logs), rows)
    else:
        engine_or_conn.execute(sa.insert(scheduler_logs), rows)
