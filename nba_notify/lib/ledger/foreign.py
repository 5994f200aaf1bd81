"""Schedules Braze holds for our campaign that the ledger does not own: possible double pushes.

Braze's ``GET /messages/scheduled_broadcasts`` names the campaign and the next send time of each
listed schedule — never the schedule's id, never its trigger properties — and lists API-created
schedules late or not at all. So the list proves *presence* per send minute, and only that:

* **unowned** at a minute: Braze lists more schedules of the campaign there than the ledger
  accounts for (live ledger rows, open and guarded orphans). A schedule created behind the
  ledger's back (another deployment, a script, a dashboard send of the same campaign). Not
  judged where an unresolved call may have put one (the ambiguity alerts own those) or where a
  schedule left within the list's lag allowance (a moved or cancelled schedule may still be
  listed at its old minute for a while). The list's lag after a *create* only ever shows fewer
  schedules, never more, so it cannot raise this.
* **unlisted**: a schedule the ledger holds live is not listed while a schedule the ledger
  confirmed *later* is (Braze lists in creation order, so the list is current past it). Absent
  that proof — the list may never show API schedules — absence says nothing, and nothing is
  reported.

An unowned minute is recorded in ``foreign_schedules`` and raised as a CRITICAL alert naming
the send time, the games whose intents send then and the schedule id when known. It is
resolved by proof or by an operator, never by a blind delete:

* **adopted by proof** when it can only be one intent's schedule: exactly one unexplained
  schedule at the minute, exactly one active intent of the campaign sending then, and that
  game holds no live schedule of its own. The row becomes ``unidentified`` (live, id unknown):
  the sync creates nothing more, so the fans get exactly one push;
* otherwise an **operator decision** (``nba-notify foreign resolve`` or the
  ``resolve_foreign_schedule_job``): ``delete`` a schedule id the operator names (refused if the
  ledger holds that id), or ``adopt`` it for an intent that has no live schedule (with its id,
  proven live by an identical update that also makes it carry the intent's exact time and
  properties). Every decision is written to ``scheduler_logs`` with who and why.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from nba_notify.lib.clients.braze import RateLimitSnapshot
from nba_notify.lib.db.tables.notifications import (
    LIVE_STATES,
    UNRESOLVED_STATES,
    foreign_schedules,
    schedule_attempts,
    schedule_ledger,
    schedule_orphans,
)
from nba_notify.lib.errors import PipelineError, Severity
from nba_notify.lib.ledger import store, verification
from nba_notify.lib.ledger.alerting import ENTITY, AlertSink, raise_domain_alert
from nba_notify.lib.ledger.lease import Lease, lease_name, new_holder_id
from nba_notify.lib.ledger.planning import Desired, NotificationPolicy, to_minute

F = foreign_schedules.c
L = schedule_ledger.c
A = schedule_attempts.c
O = schedule_orphans.c  # noqa: E741

RULE_FOREIGN = "foreign_schedule"
# How long after we move or cancel a schedule Braze's list may still show it at its old minute.
DEFAULT_LIST_LAG_ALLOWANCE = timedelta(minutes=5)
# Braze's list endpoint shares the workspace's REST limit (250,000 requests/hour) with schedule
# writes: read it at most once a minute, and never eat into the reserve kept for writes.
MIN_LIST_INTERVAL_SECONDS = 60.0
WRITE_RESERVE_FRACTION = 0.05
WRITE_RESERVE_MIN = 100


# -- pure judgement -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unowned:
    """A send minute where Braze lists ``listed`` schedules of the campaign and the ledger
    accounts for ``accounted``."""

    send_at: datetime
    listed: int
    accounted: int

    @property
    def extra(self) -> int:
        return self.listed - self.accounted


def unowned_minutes(listed: Counter, accounted: Counter, unsettled: Iterable[datetime] = ()) -> list[Unowned]:
    """Minutes listed beyond what the ledger accounts for, except unsettled ones (an unresolved
    call may have put a schedule there, or a schedule left it within the list's lag)."""
    skip = {to_minute(t) for t in unsettled}
    return [
        Unowned(minute, n, accounted.get(minute, 0))
        for minute, n in sorted(listed.items())
        if n > accounted.get(minute, 0) and minute not in skip
    ]


def list_current_through(
    listed: Counter, accounted: Counter, confirmed: Iterable[tuple[datetime, datetime | None]]
) -> datetime | None:
    """The latest confirmation of a ledger schedule the list visibly shows (every schedule the
    ledger accounts for at its minute is listed): the list is current up to that moment."""
    visible = [
        confirmed_at
        for send_at, confirmed_at in confirmed
        if confirmed_at is not None
        and listed.get(to_minute(send_at), 0) >= accounted.get(to_minute(send_at), 0)
    ]
    return max(visible) if visible else None


@dataclass(frozen=True)
class ListBudget:
    """Whether this tick may read Braze's list: one read a minute at most, none while Braze said
    to wait (429) or while the hourly quota is down to the reserve kept for schedule writes."""

    last_call_epoch: float | None = None
    limit: int | None = None
    remaining: int | None = None
    reset_epoch: float | None = None

    @classmethod
    def from_state(cls, state: dict[str, Any] | None) -> ListBudget:
        state = state or {}
        return cls(state.get("last_call"), state.get("limit"), state.get("remaining"), state.get("reset"))

    def as_state(self) -> dict[str, Any]:
        return {
            "last_call": self.last_call_epoch,
            "limit": self.limit,
            "remaining": self.remaining,
            "reset": self.reset_epoch,
        }

    def refusal(self, now_epoch: float) -> str | None:
        if self.last_call_epoch is not None and now_epoch - self.last_call_epoch < MIN_LIST_INTERVAL_SECONDS:
            return f"list read {now_epoch - self.last_call_epoch:.0f} s ago (at most one a minute)"
        if self.reset_epoch is not None and now_epoch < self.reset_epoch and self.remaining is not None:
            reserve = max(WRITE_RESERVE_MIN, int((self.limit or 0) * WRITE_RESERVE_FRACTION))
            if self.remaining <= reserve:
                return (
                    f"Braze quota down to {self.remaining} until {datetime.fromtimestamp(self.reset_epoch, UTC):%H:%M:%SZ}"
                    f" (reserve of {reserve} kept for schedule writes)"
                )
        return None

    def after_call(self, now_epoch: float, snapshot: RateLimitSnapshot | None) -> ListBudget:
        if snapshot is None:
            return ListBudget(now_epoch, self.limit, self.remaining, self.reset_epoch)
        return ListBudget(
            now_epoch,
            snapshot.limit,
            snapshot.remaining,
            float(snapshot.reset_epoch) if snapshot.reset_epoch is not None else None,
        )


# -- reading the ledger's side --------------------------------------------------------------------


@dataclass
class Assessment:
    """One comparison of Braze's list with the ledger, over ``(start, end]``."""

    start: datetime
    end: datetime
    listed: Counter
    unowned: list[dict[str, Any]] = field(default_factory=list)
    unlisted: list[dict[str, Any]] = field(default_factory=list)
    unverifiable: int = 0  # live ledger schedules the list does not show, without proof either way
    unsettled: set[datetime] = field(default_factory=set)  # minutes this read cannot judge

    @property
    def listed_total(self) -> int:
        return sum(self.listed.values())


def _accounted(conn: sa.Connection, campaign_id: str, start: datetime, end: datetime) -> Counter:
    ledger = (
        conn.execute(
            sa.select(L.send_at_utc).where(
                L.campaign_id == campaign_id,
                L.state.in_(LIVE_STATES),
                L.send_at_utc > start,
                L.send_at_utc <= end,
            )
        )
        .scalars()
        .all()
    )
    orphans = (
        conn.execute(
            sa.select(O.send_at_utc).where(
                O.campaign_id == campaign_id,
                O.status.in_(("pending", "cancel_claimed", "guarded")),
                O.send_at_utc > start,
                O.send_at_utc <= end,
            )
        )
        .scalars()
        .all()
    )
    return Counter(to_minute(t) for t in (*ledger, *orphans))


def _unsettled(conn: sa.Connection, campaign_id: str, lag: timedelta) -> set[datetime]:
    """Minutes where an unresolved call may have put a schedule, and minutes a schedule left
    (moved, cancelled) within the list's lag allowance (wall clock: the list lags in real time)."""
    rows = conn.execute(
        sa.select(A.target_send_at, A.prior_send_at, L.send_at_utc)
        .select_from(schedule_attempts.join(schedule_ledger, L.id == A.ledger_id))
        .where(
            L.campaign_id == campaign_id,
            sa.or_(
                sa.and_(L.state.in_(UNRESOLVED_STATES), L.current_attempt_id == A.id),
                sa.and_(
                    A.operation.in_(("update", "delete")),
                    sa.func.coalesce(A.finished_at, A.started_at) > sa.func.now() - lag,
                ),
            ),
        )
    ).all()
    left = (
        conn.execute(
            sa.select(O.send_at_utc).where(O.campaign_id == campaign_id, O.resolved_at > sa.func.now() - lag)
        )
        .scalars()
        .all()
    )
    return {to_minute(t) for r in rows for t in r if t is not None} | {
        to_minute(t) for t in left if t is not None
    }


def candidate_games(conn: sa.Connection, campaign_id: str, minute: datetime) -> list[dict[str, Any]]:
    """The active intents of the campaign sending at ``minute``, with what the ledger holds for
    each game: the games a schedule listed there can be for."""
    rows = conn.execute(
        sa.text(
            """
            SELECT d.game_id, d.intent_key, d.kind, d.away_team || '@' || d.home_team AS matchup,
                   (SELECT l.state FROM schedule_ledger l
                     WHERE l.game_id = d.game_id AND l.kind = d.kind AND l.state IN :live LIMIT 1) AS live_state,
                   (SELECT l.braze_schedule_id FROM schedule_ledger l
                     WHERE l.game_id = d.game_id AND l.kind = d.kind AND l.state IN :live LIMIT 1) AS live_schedule_id
              FROM desired_notifications d
             WHERE d.campaign_id = :campaign AND d.active AND d.send_at_utc = :minute
             ORDER BY d.game_id
            """
        ).bindparams(sa.bindparam("live", expanding=True)),
        {"campaign": campaign_id, "minute": minute, "live": list(LIVE_STATES)},
    ).mappings()
    return [dict(r) for r in rows]


def assess(
    conn: sa.Connection,
    listed: Counter,
    policy: NotificationPolicy,
    *,
    start: datetime,
    end: datetime,
    lag_allowance: timedelta = DEFAULT_LIST_LAG_ALLOWANCE,
) -> Assessment:
    """Compare one read of the list (counted per minute in ``(start, end]``) with the ledger."""
    accounted = _accounted(conn, policy.campaign_id, start, end)
    unsettled = _unsettled(conn, policy.campaign_id, lag_allowance)
    result = Assessment(start, end, listed, unsettled=unsettled)
    for slot in unowned_minutes(listed, accounted, unsettled):
        result.unowned.append(
            {
                "send_at_utc": slot.send_at,
                "listed": slot.listed,
                "accounted": slot.accounted,
                "extra": slot.extra,
                "games": candidate_games(conn, policy.campaign_id, slot.send_at),
            }
        )
    confirmed = (
        conn.execute(
            sa.select(L.game_id, L.send_at_utc, L.confirmed_at, L.braze_schedule_id).where(
                L.campaign_id == policy.campaign_id,
                L.state == "scheduled",
                L.send_at_utc > start,
                L.send_at_utc <= end,
            )
        )
        .mappings()
        .all()
    )
    current = list_current_through(
        listed, accounted, [(r["send_at_utc"], r["confirmed_at"]) for r in confirmed]
    )
    for r in confirmed:
        minute = to_minute(r["send_at_utc"])
        if listed.get(minute, 0) >= accounted.get(minute, 0) or minute in unsettled:
            continue
        if current is not None and r["confirmed_at"] is not None and r["confirmed_at"] < current:
            result.unlisted.append(
                {
                    "game_id": r["game_id"],
                    "send_at_utc": r["send_at_utc"],
                    "schedule_id": r["braze_schedule_id"],
                    "confirmed_at": r["confirmed_at"],
                    "list_current_through": current,
                }
            )
        else:
            result.unverifiable += 1
    return result


def list_window(now: datetime, policy: NotificationPolicy) -> tuple[datetime, datetime]:
    """Every send still ahead that we plan for: a foreign push minutes away matters most."""
    return now, now + policy.horizon


def read_listing(braze: Any, policy: NotificationPolicy, start: datetime, end: datetime) -> Counter:
    """One call to Braze's list, counted per minute for our campaign. Raises PipelineError."""
    return verification.listed_per_time(braze.list_scheduled_broadcasts(end), policy.campaign_id, start, end)


# -- recording, adopting, alerting ----------------------------------------------------------------


def describe(row: dict[str, Any]) -> str:
    """The alert's title: game(s), send time, schedule id."""
    when = row["send_at_utc"].astimezone(UTC).strftime("%Y-%m-%d %H:%MZ")
    games = row["games"]
    if len(games) == 1:
        who = f"game {games[0]['game_id']} ({games[0]['matchup']})"
    elif games:
        who = "one of games " + ", ".join(f"{g['game_id']} ({g['matchup']})" for g in games)
    else:
        who = "no game of ours sends then"
    schedule = row.get("braze_schedule_id") or "unknown (Braze's list names no schedule id)"
    extra = row["listed"] - row["accounted"]
    return (
        f"Possible double push: Braze holds {extra} schedule(s) the ledger does not own at {when} for {who}; "
        f"schedule id {schedule}"
    )


WHAT_TO_DO = (
    "Find the schedule in the Braze dashboard (campaign's scheduled sends at that time). Then "
    "`nba-notify foreign resolve --id <id> --delete --schedule-id <schedule id>` to cancel it, or `--adopt` "
    "(with `--schedule-id` if known, `--intent` if several games send then) to keep it as the game's push. "
    "`nba-notify foreign list` shows all."
)


def _alert_key(campaign_id: str, send_at: datetime) -> str:
    return f"{campaign_id}|{send_at.astimezone(UTC):%Y-%m-%dT%H:%MZ}"


@dataclass
class Observation:
    """What one tick saw and did."""

    braze_listed: int | None = None
    list_skipped: str | None = None
    list_error: str | None = None
    open: list[dict[str, Any]] = field(default_factory=list)
    new: list[int] = field(default_factory=list)
    adopted: list[dict[str, Any]] = field(default_factory=list)
    closed: list[dict[str, Any]] = field(default_factory=list)
    unlisted: list[dict[str, Any]] = field(default_factory=list)
    unverifiable: int = 0
    alert_errors: list[str] = field(default_factory=list)
    adopt_error: str | None = None

    def as_metadata(self) -> dict[str, Any]:
        return {
            "braze_listed": self.braze_listed,
            "list_skipped": self.list_skipped,
            "list_error": self.list_error,
            "foreign_open": len(self.open),
            "foreign_new": len(self.new),
            "foreign_adopted": [a["game_id"] for a in self.adopted],
            "foreign_closed": len(self.closed),
            "unlisted": len(self.unlisted),
            "unverifiable_by_list": self.unverifiable,
            "adopt_error": self.adopt_error,
        }


def record(
    engine: sa.Engine,
    assessment: Assessment,
    policy: NotificationPolicy,
    now: datetime,
    observation: Observation,
) -> None:
    """Upsert the unowned minutes as open foreign rows; close open rows in the window that the
    list no longer shows beyond the ledger (gone) and open rows whose send time passed."""
    seen = {to_minute(u["send_at_utc"]) for u in assessment.unowned}
    with engine.begin() as conn:
        for u in assessment.unowned:
            existing = conn.execute(
                sa.select(F.id).where(
                    F.campaign_id == policy.campaign_id, F.send_at_utc == u["send_at_utc"], F.status == "open"
                )
            ).scalar()
            values = {
                "listed": u["listed"],
                "accounted": u["accounted"],
                "games": list(u["games"]),
                "last_seen_at": now,
            }
            if existing is None:
                new_id = conn.execute(
                    sa.insert(foreign_schedules)
                    .values(
                        campaign_id=policy.campaign_id,
                        send_at_utc=u["send_at_utc"],
                        status="open",
                        first_seen_at=now,
                        **values,
                    )
                    .returning(F.id)
                ).scalar_one()
                observation.new.append(new_id)
            else:
                conn.execute(sa.update(foreign_schedules).where(F.id == existing).values(**values))
        closing = conn.execute(
            sa.select(F.id, F.send_at_utc).where(F.campaign_id == policy.campaign_id, F.status == "open")
        ).all()
        for fid, send_at in closing:
            if send_at <= now:
                status, note = "passed", "its send time passed while nobody decided"
            elif (
                assessment.start < send_at <= assessment.end
                and to_minute(send_at) not in seen
                and to_minute(send_at) not in assessment.unsettled
            ):
                status, note = "gone", "no longer listed beyond the ledger's own schedules"
            else:
                continue
            conn.execute(
                sa.update(foreign_schedules)
                .where(F.id == fid)
                .values(
                    status=status, resolved_at=now, resolved_by="observation", resolution=status, note=note
                )
            )
            observation.closed.append({"id": fid, "send_at_utc": send_at, "status": status})


def open_foreign(conn: sa.Connection, campaign_id: str | None = None) -> list[dict[str, Any]]:
    query = sa.select(foreign_schedules).where(F.status == "open").order_by(F.send_at_utc, F.id)
    if campaign_id is not None:
        query = query.where(F.campaign_id == campaign_id)
    return [dict(r) for r in conn.execute(query).mappings()]


def adoptable(row: dict[str, Any]) -> dict[str, Any] | None:
    """The one intent an open foreign schedule can only be, or None: one unexplained schedule,
    one game sending then, and that game holds no live schedule of its own."""
    games = row["games"]
    if row["listed"] - row["accounted"] != 1 or len(games) != 1:
        return None
    game = games[0]
    return game if game.get("live_state") is None else None


def _take_as_live(lease: Lease, desired: Desired, *, schedule_id: str | None, send_at: datetime) -> bool:
    """The intent's row (created if missing) holds the foreign schedule: ``scheduled`` with its id,
    or ``unidentified`` without. Only a row holding no live schedule is touched (fenced CAS)."""
    store.ensure_intents(lease, [desired])
    values: dict[str, Any] = {
        "state": "scheduled" if schedule_id else "unidentified",
        "braze_schedule_id": schedule_id,
        "dispatch_id": None,
        "signature": desired.signature,
        "send_at_utc": send_at,
        "confirmed_at": None,
        "fence": lease.fence,
        "updated_at": sa.func.now(),
        "last_error": None,
        "last_error_category": None,
    }
    with lease.fenced() as conn:
        live = conn.execute(
            sa.select(L.id).where(
                L.game_id == desired.game_id, L.kind == desired.kind, L.state.in_(LIVE_STATES)
            )
        ).first()
        if live is not None:
            return False
        done = conn.execute(
            sa.update(schedule_ledger)
            .where(L.intent_key == desired.intent_key, L.state.not_in(LIVE_STATES))
            .values(**values)
            .returning(L.id)
        ).first()
    return done is not None


def _desired(conn: sa.Connection, intent_key: str) -> Desired | None:
    from nba_notify.lib.db.tables.notifications import desired_notifications

    row = (
        conn.execute(sa.select(desired_notifications).where(desired_notifications.c.intent_key == intent_key))
        .mappings()
        .first()
    )
    return Desired.from_row(row) if row else None


def _close(
    conn: sa.Connection,
    foreign_id: int,
    *,
    status: str,
    by: str,
    resolution: str,
    now: datetime,
    intent_key: str | None = None,
    schedule_id: str | None = None,
    note: str | None = None,
) -> None:
    values: dict[str, Any] = {
        "status": status,
        "resolved_at": now,
        "resolved_by": by[:100],
        "resolution": resolution,
        "note": note,
    }
    if intent_key is not None:
        values["intent_key"] = intent_key
    if schedule_id is not None:
        values["braze_schedule_id"] = schedule_id
    conn.execute(sa.update(foreign_schedules).where(F.id == foreign_id, F.status == "open").values(**values))


def adopt_proven(
    engine: sa.Engine,
    policy: NotificationPolicy,
    now: datetime,
    observation: Observation,
    *,
    lease_wait_seconds: float = 10.0,
) -> None:
    """Adopt every open foreign schedule that can only be one intent's (see :func:`adoptable`)."""
    with engine.connect() as conn:
        candidates = [(r, g) for r in open_foreign(conn, policy.campaign_id) if (g := adoptable(r))]
    if not candidates:
        return
    lease = Lease.acquire(
        engine,
        lease_name(policy.campaign_id),
        new_holder_id("foreign"),
        ttl_seconds=60,
        wait_seconds=lease_wait_seconds,
    )
    try:
        for row, game in candidates:
            with engine.connect() as conn:
                desired = _desired(conn, game["intent_key"])
            if desired is None or not desired.active or desired.send_at != row["send_at_utc"]:
                continue
            if not _take_as_live(
                lease, desired, schedule_id=row["braze_schedule_id"], send_at=row["send_at_utc"]
            ):
                continue
            with engine.begin() as conn:
                _close(
                    conn,
                    row["id"],
                    status="adopted",
                    by=lease.holder,
                    resolution="adopted_by_proof",
                    now=now,
                    intent_key=desired.intent_key,
                    note="the only unexplained schedule at the only intent's send time; the game held none",
                )
                store.write_logs(
                    conn,
                    [
                        {
                            "holder": lease.holder,
                            "fence": lease.fence,
                            "intent_key": desired.intent_key,
                            "game_id": desired.game_id,
                            "action": "adopted",
                            "reason": "foreign_matches_intent",
                            "braze_schedule_id": row["braze_schedule_id"],
                            "send_at": row["send_at_utc"],
                            "details": {
                                "foreign_id": row["id"],
                                "listed": row["listed"],
                                "accounted": row["accounted"],
                            },
                        }
                    ],
                )
            observation.adopted.append(
                {"id": row["id"], "game_id": desired.game_id, "send_at_utc": row["send_at_utc"]}
            )
    finally:
        lease.release()


def alert_open(
    engine: sa.Engine,
    alerts: AlertSink | None,
    policy: NotificationPolicy,
    now: datetime,
    observation: Observation,
) -> None:
    """CRITICAL per open foreign schedule (re-raised each tick: one alert, occurrences bumped);
    the alerts of closed ones are resolved."""
    with engine.connect() as conn:
        observation.open = open_foreign(conn, policy.campaign_id)
    for row in observation.open:
        error = raise_domain_alert(
            engine,
            alerts,
            rule_key=RULE_FOREIGN,
            title=describe(row),
            details={
                "foreign_id": row["id"],
                "send_at": row["send_at_utc"].isoformat(),
                "listed": row["listed"],
                "ledger_accounts_for": row["accounted"],
                "games": row["games"],
                "braze_schedule_id": row["braze_schedule_id"],
                "first_seen_at": row["first_seen_at"].isoformat(),
                "what_to_do": WHAT_TO_DO,
            },
            dedupe_key=_alert_key(policy.campaign_id, row["send_at_utc"]),
            now=now,
            severity=Severity.CRITICAL,
        )
        if error is not None:
            observation.alert_errors.append(error)
    for closed in [*observation.closed, *observation.adopted]:
        resolve_alert(
            engine,
            policy.campaign_id,
            closed["send_at_utc"],
            by="observation",
            note=closed.get("status", "adopted"),
        )


def resolve_alert(engine: sa.Engine, campaign_id: str, send_at: datetime, *, by: str, note: str) -> None:
    from nba_notify.lib.alerts import resolve_matching

    resolve_matching(
        engine,
        rule_key=RULE_FOREIGN,
        entity=ENTITY,
        dedupe_key=_alert_key(campaign_id, send_at),
        by=by,
        note=note,
    )


def observe(
    engine: sa.Engine,
    braze: Any,
    policy: NotificationPolicy,
    *,
    now: datetime,
    alerts: AlertSink | None = None,
    budget: ListBudget | None = None,
    lag_allowance: timedelta = DEFAULT_LIST_LAG_ALLOWANCE,
    wall_clock: Callable[[], float] = time.time,
) -> tuple[Observation, ListBudget]:
    """One tick: read the list (within the budget), record unowned minutes, adopt what is proven,
    alert on the rest. Without a list read, open rows are still alerted (they stay true until
    a read shows otherwise)."""
    observation = Observation()
    budget = budget or ListBudget()
    refusal = budget.refusal(wall_clock())
    if refusal is None:
        start, end = list_window(now, policy)
        try:
            listed = read_listing(braze, policy, start, end)
        except PipelineError as error:
            observation.list_error = str(error)
            snapshot = (
                RateLimitSnapshot(None, 0, int(wall_clock()) + 60) if error.status_code == 429 else None
            )
            budget = budget.after_call(wall_clock(), snapshot)
        else:
            budget = budget.after_call(wall_clock(), getattr(braze, "rate_limit", None))
            observation.braze_listed = sum(listed.values())
            with engine.connect() as conn:
                assessment = assess(conn, listed, policy, start=start, end=end, lag_allowance=lag_allowance)
            observation.unlisted, observation.unverifiable = assessment.unlisted, assessment.unverifiable
            record(engine, assessment, policy, now, observation)
            try:
                adopt_proven(engine, policy, now, observation)
            except PipelineError as error:
                # The lease is busy (a sync is running): the next tick adopts; alert meanwhile.
                observation.adopt_error = str(error)
    else:
        observation.list_skipped = refusal
    alert_open(engine, alerts, policy, now, observation)
    return observation, budget


# -- operator decisions ---------------------------------------------------------------------------

DECISIONS = ("delete", "adopt")


@dataclass(frozen=True)
class Decision:
    applied: bool
    note: str
    status: str | None = None


def resolve_foreign(
    engine: sa.Engine,
    braze: Any,
    policy: NotificationPolicy,
    foreign_id: int,
    *,
    decision: str,
    schedule_id: str | None = None,
    intent_key: str | None = None,
    by: str,
    note: str | None = None,
    now: datetime,
) -> Decision:
    """An operator's decision on an open foreign schedule, audited in ``scheduler_logs``.

    * ``delete`` — cancel ``schedule_id`` at Braze. Refused if the ledger holds that id (live or
      awaited by an unresolved call): the ledger's own schedule is never deleted this way. It is
      recorded as an orphan first, so a failed delete is retried by reconcile.
    * ``adopt`` — the intent (``intent_key``, or the only game sending then) takes the schedule.
      Refused if the game holds a live schedule. With ``schedule_id`` the id is proven live by an
      identical update carrying the intent's time and properties (a 404 refuses); without, the row
      becomes ``unidentified``."""
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {DECISIONS}, not {decision!r}")
    with engine.connect() as conn:
        row = conn.execute(sa.select(foreign_schedules).where(F.id == foreign_id)).mappings().first()
    if row is None or row["status"] != "open":
        return Decision(
            False, f"foreign schedule {foreign_id} is not open (status {row['status'] if row else None})"
        )
    row = dict(row)
    if decision == "delete":
        result = _delete(engine, braze, policy, row, schedule_id, by=by, now=now)
    else:
        result = _adopt(engine, braze, policy, row, schedule_id, intent_key, by=by, now=now)
    store.write_logs(
        engine,
        [
            {
                "holder": f"operator:{by}"[:100],
                "intent_key": intent_key,
                "action": "resolved",
                "reason": f"foreign_{decision}" + ("" if result.applied else "_refused"),
                "braze_schedule_id": schedule_id,
                "send_at": row["send_at_utc"],
                "game_id": row["games"][0]["game_id"] if len(row["games"]) == 1 else None,
                "details": {
                    "foreign_id": foreign_id,
                    "by": by,
                    "operator_note": note,
                    "applied": result.applied,
                    "result": result.note,
                    "games": [g["game_id"] for g in row["games"]],
                },
            }
        ],
    )
    if result.applied:
        with engine.begin() as conn:
            conn.execute(
                sa.update(foreign_schedules)
                .where(F.id == foreign_id)
                .values(resolved_by=by[:100], note=note or result.note)
            )
        resolve_alert(engine, policy.campaign_id, row["send_at_utc"], by=by, note=f"operator: {decision}")
    return result


def _held_by_ledger(conn: sa.Connection, schedule_id: str) -> bool:
    return conn.execute(
        sa.text(
            """
            SELECT EXISTS (SELECT 1 FROM schedule_ledger WHERE braze_schedule_id = :id AND state IN :live)
                OR EXISTS (SELECT 1 FROM schedule_ledger l JOIN schedule_attempts a ON a.id = l.current_attempt_id
                            WHERE l.state IN :unresolved AND a.schedule_id = :id)
            """
        ).bindparams(sa.bindparam("live", expanding=True), sa.bindparam("unresolved", expanding=True)),
        {"id": schedule_id, "live": list(LIVE_STATES), "unresolved": list(UNRESOLVED_STATES)},
    ).scalar_one()


def _delete(
    engine: sa.Engine,
    braze: Any,
    policy: NotificationPolicy,
    row: dict[str, Any],
    schedule_id: str | None,
    *,
    by: str,
    now: datetime,
) -> Decision:
    if not schedule_id:
        return Decision(False, "delete needs --schedule-id: Braze's list does not name schedules")
    with engine.begin() as conn:
        if _held_by_ledger(conn, schedule_id):
            return Decision(
                False, f"schedule {schedule_id} is the ledger's own; it is never deleted as foreign"
            )
        game = row["games"][0] if len(row["games"]) == 1 else {}
        store._insert_orphan(
            conn,
            schedule_id,
            None,
            reason="foreign",
            fence=None,
            campaign_id=policy.campaign_id,
            intent_key=game.get("intent_key"),
            game_id=game.get("game_id"),
            send_at=row["send_at_utc"],
            note=f"foreign schedule {row['id']}, operator {by}",
        )
        orphan_id = conn.execute(sa.select(O.id).where(O.braze_schedule_id == schedule_id)).scalar_one()
    claimed = store.claim_orphan_cancel(engine, orphan_id)
    if claimed is None:
        return Decision(
            False, f"schedule {schedule_id} could not be claimed for cancelling (already done, or held)"
        )
    outcome = store.Outcome.from_schedule_outcome(braze.delete_schedule(policy.campaign_id, schedule_id))
    status = store.finish_orphan(engine, orphan_id, outcome)
    if status == "pending":
        return Decision(
            False, f"Braze did not confirm the delete ({outcome.error_message}); reconcile retries it"
        )
    with engine.begin() as conn:
        _close(
            conn,
            row["id"],
            status="deleted",
            by=by,
            resolution=f"operator_delete_{status}",
            now=now,
            schedule_id=schedule_id,
        )
    return Decision(True, f"schedule {schedule_id} {status} at Braze", "deleted")


def _adopt(
    engine: sa.Engine,
    braze: Any,
    policy: NotificationPolicy,
    row: dict[str, Any],
    schedule_id: str | None,
    intent_key: str | None,
    *,
    by: str,
    now: datetime,
) -> Decision:
    games = row["games"]
    if intent_key is None:
        if len(games) != 1:
            return Decision(False, f"{len(games)} games send then: name the intent with --intent")
        intent_key = games[0]["intent_key"]
    with engine.connect() as conn:
        desired = _desired(conn, intent_key)
        if schedule_id and _held_by_ledger(conn, schedule_id):
            return Decision(False, f"schedule {schedule_id} is already the ledger's own")
    if desired is None or not desired.active or desired.campaign_id != policy.campaign_id:
        return Decision(
            False, f"intent {intent_key} is not an active intent of campaign {policy.campaign_id}"
        )
    if desired.send_at != row["send_at_utc"]:
        return Decision(
            False, f"intent {intent_key} sends at {desired.send_at}, not at the foreign schedule's time"
        )
    if schedule_id:
        outcome = braze.update_schedule(
            policy.campaign_id, schedule_id, desired.send_at, desired.trigger_properties()
        )
        if not outcome.succeeded or (outcome.schedule_id and outcome.schedule_id != schedule_id):
            return Decision(
                False,
                f"Braze did not prove {schedule_id} live in the campaign "
                f"({outcome.kind}: {outcome.error or outcome.schedule_id})",
            )
    lease = Lease.acquire(
        engine, lease_name(policy.campaign_id), new_holder_id("operator"), ttl_seconds=60, wait_seconds=30
    )
    try:
        taken = _take_as_live(lease, desired, schedule_id=schedule_id, send_at=row["send_at_utc"])
    finally:
        lease.release()
    if not taken:
        return Decision(
            False, f"game {desired.game_id} holds a live schedule: delete the foreign one instead"
        )
    with engine.begin() as conn:
        _close(
            conn,
            row["id"],
            status="adopted",
            by=by,
            resolution="operator_adopt",
            now=now,
            intent_key=intent_key,
            schedule_id=schedule_id,
        )
    return Decision(
        True, f"{intent_key} holds it ({'scheduled' if schedule_id else 'unidentified'})", "adopted"
    )


def adopted_without_id(conn: sa.Connection, intent_keys: Iterable[str]) -> frozenset[str]:
    """Of these intents, those holding a foreign schedule adopted without its id."""
    rows = conn.execute(
        sa.select(F.intent_key)
        .select_from(foreign_schedules.join(schedule_ledger, L.intent_key == F.intent_key))
        .where(
            F.intent_key.in_(list(intent_keys)),
            F.status == "adopted",
            F.braze_schedule_id.is_(None),
            L.state == "unidentified",
            L.send_at_utc == F.send_at_utc,
        )
    ).scalars()
    return frozenset(rows)


def foreign_rows(
    conn: sa.Connection, *, include_closed: bool = False, limit: int = 200
) -> list[dict[str, Any]]:
    query = sa.select(foreign_schedules).order_by(F.send_at_utc.desc(), F.id.desc()).limit(limit)
    if not include_closed:
        query = query.where(F.status == "open")
    return [dict(r) for r in conn.execute(query).mappings()]
