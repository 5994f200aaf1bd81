"""Pure planning: games -> desired notifications; desired + ledger -> actions and skips.

No I/O here. Everything that decides *what* to do with Braze is a function of plain data and
``now``, so the rules (update buffer, missed window, deletes only on proof, one live schedule
per game) are tested without a database and replayed identically by every scheduler.
"""

from __future__ import annotations

import enum
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

DEFAULT_KIND = "tipoff_reminder"
DEFAULT_TEMPLATE_VERSION = "v1"

# Game statuses that prove a notification must not go out (DESIGN §3: deletes only by proof).
# A game missing from one source, or a source returning fewer games, proves nothing; a game
# that no source lists any more (``listed = false``: gone from NBA.com's whole-season schedule
# and from BDL's listing of its day) is withdrawn as "unlisted".
WITHDRAWING_STATUSES = frozenset({"postponed", "cancelled"})
UNLISTED = "unlisted"
# Braze accepts schedule times at most 90 days ahead; a moved game beyond that is cancelled
# (and created again when it comes back within the horizon) rather than updated.
BRAZE_MAX_AHEAD = timedelta(days=89)

LIVE_STATES = frozenset({"creating", "updating", "scheduled", "unknown", "unidentified", "cancel_requested"})
UNRESOLVED_STATES = frozenset({"creating", "updating", "unknown"})
REUSABLE_STATES = frozenset({"planned", "cancelled", "expired"})


@dataclass(frozen=True)
class NotificationPolicy:
    """The knobs of the notification product. Defaults are the product's promise."""

    campaign_id: str
    kind: str = DEFAULT_KIND
    template_version: str = DEFAULT_TEMPLATE_VERSION
    lead_minutes: int = 60
    # No changes inside this many minutes of a send (Braze may already be dispatching).
    update_buffer_minutes: int = 20
    # How far ahead schedules are created. Braze would accept 90 days, but every new intent
    # first needs its send id, and Braze creates at most 100 new send ids per workspace per day.
    # With <= 15 games a day, 3 days keeps a first sync (or a template-version bump, which makes
    # every intent new) at ~45-60 send ids, and steady state at one day's slate (~15/day); the
    # 15-minute sync picks each game up as it enters the horizon, days before its send.
    # 89 days would need ~600 on a first sync. Never above 90 (Braze's own limit).
    horizon_days: int = 3
    # A create needs at least this much time before send_at, otherwise the window is missed.
    min_lead_seconds: int = 120
    # How far back a desired send is still looked at (missed-window skips are logged for it).
    missed_lookback_minutes: int = 180
    # A scheduled row past send_at + grace with no send event is "stale pending".
    send_grace_minutes: int = 15
    # An intent whose Braze call had no knowable outcome is verified by evidence (the
    # scheduled-broadcasts list) until this long before the earliest send it puts at risk; then
    # the fallback applies and the (already raised) CRITICAL alert escalates. 45 minutes leaves
    # a re-create room before the update buffer and gives the on-call at least 30 minutes.
    ambiguous_decision_minutes: int = 45
    # What to do with a create still unproven at the deadline: "hold" (never two: the push may
    # be missed, the alert says so) or "recreate" (never none: a second push is possible if the
    # lost create did land). A duplicate push is worse than a late one: hold by default.
    ambiguous_create_fallback: str = "hold"
    # The send guard (Braze Connected Content asking lib.ledger.guard at send time): "on" when
    # the campaign template carries it, "off" when it does not, "auto" to trust it once Braze
    # has consulted it (send_guard_decisions). While it is live, a schedule whose id we never
    # learned is refused at send time if stale, so the sync may abandon it and create afresh,
    # and an unproven create may be re-created at the deadline (the guard lets one through).
    send_guard: str = "auto"
    # A claim younger than this may still have its Braze call in flight (the caller may be
    # alive but slow): it is left alone rather than declared unknown.
    in_flight_grace_seconds: float = 300.0
    # A row whose send time passed this long ago without a send event is expired by reconcile.
    expire_after_hours: int = 24

    @property
    def lead(self) -> timedelta:
        return timedelta(minutes=self.lead_minutes)

    @property
    def update_buffer(self) -> timedelta:
        return timedelta(minutes=self.update_buffer_minutes)

    @property
    def horizon(self) -> timedelta:
        return timedelta(days=self.horizon_days)


# -- identity and normalisation -------------------------------------------------------------


def intent_key(game_id: str, kind: str, campaign_id: str, template_version: str) -> str:
    """Business identity of a notification: never send_at (a moved tip-off is an *update* of
    the same intent, not a new one)."""
    return f"{game_id}|{kind}|{campaign_id}|{template_version}"


def send_id_for(intent: str) -> str:
    """Deterministic Braze ``send_id`` per intent: Currents send events carry it, so a send
    correlates to its intent even if an ambiguous create never told us the schedule id."""
    return "nba_" + hashlib.sha256(intent.encode()).hexdigest()[:28]


def to_minute(when: datetime) -> datetime:
    """UTC, rounded to the nearest minute (half up): a one-second jitter either side of a
    round tip-off time (scenario 4: 15:00:01 vs 15:00:00, or 14:59:59) is not a change."""
    if when.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    utc = when.astimezone(UTC)
    floor = utc.replace(second=0, microsecond=0)
    return floor + timedelta(minutes=1) if (utc - floor) >= timedelta(seconds=30) else floor


def signature(send_at: datetime, home_team: str, away_team: str, template_version: str) -> str:
    """Everything Braze holds that matters, from normalised values only."""
    return (
        f"{to_minute(send_at):%Y-%m-%dT%H:%MZ}|{away_team.strip().upper()}@{home_team.strip().upper()}"
        f"|{template_version}"
    )


# -- games -> desired -------------------------------------------------------------------------


@dataclass(frozen=True)
class UpcomingGame:
    game_id: str  # the league's game id (NBA.com gameId): the notification's identity
    home_team: str
    away_team: str
    tipoff_utc: datetime | None
    status: str
    listed: bool = True  # false: no source lists the game any more


@dataclass(frozen=True)
class Desired:
    intent_key: str
    game_id: str
    kind: str
    campaign_id: str
    template_version: str
    home_team: str
    away_team: str
    tipoff_utc: datetime | None
    send_at: datetime | None
    signature: str | None
    active: bool
    reason: str  # scheduled | postponed | cancelled | unlisted | no_tipoff
    game_status: str

    def trigger_properties(self) -> dict[str, Any]:
        """What the campaign templates into the push (and the simulator keys its truth by)."""
        return {
            "game_id": self.game_id,
            "home_team": self.home_team,
            "away_team": self.away_team,
            "tipoff_utc": self.tipoff_utc.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            if self.tipoff_utc
            else None,
            "template_version": self.template_version,
            # What the send guard compares with the game's current send time at send time.
            "send_at": self.send_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if self.send_at else None,
        }

    def as_row(self) -> dict[str, Any]:
        return {
            "intent_key": self.intent_key,
            "game_id": self.game_id,
            "kind": self.kind,
            "campaign_id": self.campaign_id,
            "template_version": self.template_version,
            "home_team": self.home_team,
            "away_team": self.away_team,
            "tipoff_utc": self.tipoff_utc,
            "send_at_utc": self.send_at,
            "signature": self.signature,
            "active": self.active,
            "reason": self.reason,
            "game_status": self.game_status,
        }

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Desired:
        return cls(
            intent_key=row["intent_key"],
            game_id=row["game_id"],
            kind=row["kind"],
            campaign_id=row["campaign_id"],
            template_version=row["template_version"],
            home_team=row["home_team"],
            away_team=row["away_team"],
            tipoff_utc=row["tipoff_utc"],
            send_at=row["send_at_utc"],
            signature=row["signature"],
            active=row["active"],
            reason=row["reason"],
            game_status=row["game_status"],
        )


def desired_for_game(game: UpcomingGame, policy: NotificationPolicy) -> Desired:
    key = intent_key(game.game_id, policy.kind, policy.campaign_id, policy.template_version)
    withdrawn = game.status in WITHDRAWING_STATUSES or not game.listed
    send_at = to_minute(game.tipoff_utc - policy.lead) if game.tipoff_utc is not None else None
    if game.status in WITHDRAWING_STATUSES:
        reason = game.status
    elif not game.listed:
        reason = UNLISTED
    elif send_at is None:
        reason = "no_tipoff"
    else:
        reason = "scheduled"
    return Desired(
        intent_key=key,
        game_id=game.game_id,
        kind=policy.kind,
        campaign_id=policy.campaign_id,
        template_version=policy.template_version,
        home_team=game.home_team,
        away_team=game.away_team,
        tipoff_utc=game.tipoff_utc,
        send_at=send_at,
        signature=signature(send_at, game.home_team, game.away_team, policy.template_version)
        if send_at is not None
        else None,
        active=not withdrawn and send_at is not None,
        reason=reason,
        game_status=game.status,
    )


def desired_notifications(games: Iterable[UpcomingGame], policy: NotificationPolicy) -> list[Desired]:
    return [desired_for_game(g, policy) for g in games]


# -- ledger view ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerRow:
    id: int
    intent_key: str
    game_id: str
    kind: str
    state: str
    braze_schedule_id: str | None
    signature: str | None
    send_at: datetime | None
    fence: int
    send_id: str
    dispatch_id: str | None = None
    current_attempt_id: int | None = None
    send_id_created_at: datetime | None = None

    @property
    def send_id_created(self) -> bool:
        """Braze confirmed this intent's send id exists: a create may name it."""
        return self.send_id_created_at is not None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> LedgerRow:
        return cls(
            id=row["id"],
            intent_key=row["intent_key"],
            game_id=row["game_id"],
            kind=row["kind"],
            state=row["state"],
            braze_schedule_id=row["braze_schedule_id"],
            signature=row["signature"],
            send_at=row["send_at_utc"],
            fence=row["fence"],
            send_id=row["send_id"],
            dispatch_id=row.get("dispatch_id"),
            current_attempt_id=row.get("current_attempt_id"),
            send_id_created_at=row.get("send_id_created_at"),
        )


# -- actions ----------------------------------------------------------------------------------


class ActionKind(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    CANCEL = "cancel"  # delete at Braze (proof: game withdrawn, or intent superseded)
    DISCARD = "discard"  # withdrawn before anything reached Braze: no call
    RESOLVE = "resolve"  # unresolved intent: adopt-or-cancel from its attempt
    # a schedule whose id we never learned is stale: left for the send guard to refuse (no call)
    ABANDON = "abandon"


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    intent_key: str
    game_id: str
    desired: Desired | None = None
    row: LedgerRow | None = None
    reason: str = ""

    @property
    def order(self) -> int:
        # Deletes first: a superseded intent's schedule must be gone before its successor is
        # created (one live schedule per game and kind, enforced by a unique index too).
        return {
            ActionKind.RESOLVE: 0,
            ActionKind.DISCARD: 1,
            ActionKind.CANCEL: 2,
            ActionKind.ABANDON: 3,
            ActionKind.UPDATE: 4,
            ActionKind.CREATE: 5,
        }[self.kind]


@dataclass(frozen=True)
class Skip:
    intent_key: str
    game_id: str
    action: str  # skipped_unchanged | skipped
    reason: str  # unchanged | already_sent | missed_window | inside_update_buffer | beyond_horizon | ...
    send_at: datetime | None = None
    braze_schedule_id: str | None = None


@dataclass
class Plan:
    actions: list[Action] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)

    def of(self, kind: ActionKind) -> list[Action]:
        return [a for a in self.actions if a.kind is kind]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for a in self.actions:
            out[str(a.kind)] += 1
        for s in self.skips:
            out[f"{s.action}:{s.reason}"] += 1
        return dict(out)


def plan_actions(
    desired: Sequence[Desired],
    ledger: Sequence[LedgerRow],
    now: datetime,
    policy: NotificationPolicy,
    *,
    guard_live: bool = False,
    not_guardable: frozenset[str] = frozenset(),
) -> Plan:
    """Compare what should exist with what the ledger says exists.

    * an intent whose last call has no known outcome is RESOLVED first, never re-created;
    * unchanged signature -> skipped_unchanged (zero Braze calls);
    * changed signature (tip-off moved, same day or another) -> one UPDATE, unless the held
      send time is inside the update buffer; a new time Braze cannot take -> one CANCEL;
    * game postponed/cancelled/gone from every feed -> one CANCEL (the only proofs that delete);
    * no desired row at all -> nothing (absence proves nothing);
    * at most one live schedule per game and kind: a live schedule of a superseded intent
      (e.g. template version bump) is cancelled before its successor is created.

    ``not_guardable``: intents whose ``unidentified`` schedule does not carry our send id (a
    foreign schedule adopted by proof), so the send guard could not refuse it if left stale.
    """
    plan = Plan()
    desired_by_key = {d.intent_key: d for d in desired}
    ledger_by_key = {r.intent_key: r for r in ledger}
    rows_by_game_kind: dict[tuple[str, str], list[LedgerRow]] = defaultdict(list)
    for row in ledger:
        rows_by_game_kind[(row.game_id, row.kind)].append(row)
    current_keys_by_game_kind = {(d.game_id, d.kind): d.intent_key for d in desired}

    for key in sorted(set(desired_by_key) | set(ledger_by_key)):
        d = desired_by_key.get(key)
        row = ledger_by_key.get(key)
        game_id = d.game_id if d else row.game_id  # type: ignore[union-attr]

        if row is not None and row.state in UNRESOLVED_STATES:
            plan.actions.append(Action(ActionKind.RESOLVE, key, game_id, d, row, "unresolved"))
            continue

        if row is not None and row.state == "unidentified":
            _plan_unidentified(plan, row, d, now, policy, guard_live and key not in not_guardable)
            continue

        if d is None:
            # No opinion about this intent. If a newer intent exists for the same game and
            # kind, this one is superseded and its live schedule must go.
            successor = current_keys_by_game_kind.get((row.game_id, row.kind))  # type: ignore[union-attr]
            if successor is not None and successor != key and row is not None:
                _withdraw(plan, row, "superseded_intent", game_id)
            continue

        if not d.active:
            if row is not None:
                _withdraw(plan, row, d.reason, game_id)
            continue

        siblings = [r for r in rows_by_game_kind[(d.game_id, d.kind)] if r.intent_key != key]
        if (row is not None and row.state == "sent") or any(r.state == "sent" for r in siblings):
            action = "skipped_unchanged" if row is not None and row.signature == d.signature else "skipped"
            plan.skips.append(
                Skip(key, game_id, action, "already_sent", d.send_at, row.braze_schedule_id if row else None)
            )
            continue

        if row is None or row.state in REUSABLE_STATES:
            reason = _create_window_problem(d, now, policy)
            if reason is not None:
                plan.skips.append(Skip(key, game_id, "skipped", reason, d.send_at))
            else:
                plan.actions.append(
                    Action(ActionKind.CREATE, key, game_id, d, row, "new" if row is None else row.state)
                )
            continue

        if row.state == "scheduled":
            if row.signature == d.signature:
                plan.skips.append(
                    Skip(key, game_id, "skipped_unchanged", "unchanged", d.send_at, row.braze_schedule_id)
                )
                continue
            change = _change_of_scheduled(row, d, now, policy)
            if isinstance(change, Skip):
                plan.skips.append(change)
            else:
                plan.actions.append(change)
            continue

        if row.state == "cancel_requested":
            # The game came back before the delete finished: finish the delete (idempotent),
            # the next run creates afresh. Rare, and never risks two live schedules.
            plan.actions.append(Action(ActionKind.CANCEL, key, game_id, d, row, "retry_cancel"))
            continue

    plan.actions.sort(key=lambda a: (a.order, a.intent_key))
    return plan


def _plan_unidentified(
    plan: Plan, row: LedgerRow, d: Desired | None, now: datetime, policy: NotificationPolicy, guard_live: bool
) -> None:
    """A schedule proven live whose id we never learned: nothing can change it through the API.
    With the send guard live it is abandoned — the guard refuses it at send time, stale as it is
    — and the intent is created afresh where the game now wants it. Without the guard the change
    is skipped with a reason the sync alerts on (CRITICAL: a push will go out as it is)."""
    if d is None:
        return
    if d.active and row.signature == d.signature:
        plan.skips.append(Skip(row.intent_key, row.game_id, "skipped_unchanged", "unchanged", d.send_at))
        return
    if guard_live:
        reason = "stale_left_to_send_guard" if d.active else f"{d.reason}_left_to_send_guard"
        plan.actions.append(Action(ActionKind.ABANDON, row.intent_key, row.game_id, d, row, reason))
        if d.active and _create_window_problem(d, now, policy) is None:
            plan.actions.append(
                Action(ActionKind.CREATE, row.intent_key, row.game_id, d, row, "after_abandon")
            )
        return
    reason = "unidentified_cannot_update" if d.active else "unidentified_cannot_cancel"
    plan.skips.append(Skip(row.intent_key, row.game_id, "skipped", reason, d.send_at))


def _change_of_scheduled(
    row: LedgerRow, d: Desired, now: datetime, policy: NotificationPolicy
) -> Action | Skip:
    """A live schedule whose game changed (tip-off moved, same day or another): one UPDATE to
    the new send time, whatever the horizon (updates cost no send id). The schedule Braze
    holds is at the *old* time, so that is the time the update buffer protects: inside it Braze
    may already be dispatching, and nothing is changed. A new time Braze cannot take (past, or
    more than 90 days ahead) cancels the old schedule instead: a push at the old time would be
    the wrong one."""
    key, game_id = row.intent_key, row.game_id
    held = row.send_at
    if held is not None and held - now < policy.update_buffer:
        return Skip(key, game_id, "skipped", "inside_update_buffer", d.send_at, row.braze_schedule_id)
    if d.send_at is None or d.send_at - now < timedelta(seconds=policy.min_lead_seconds):
        return Action(ActionKind.CANCEL, key, game_id, d, row, "moved_into_missed_window")
    if d.send_at - now > BRAZE_MAX_AHEAD:
        return Action(ActionKind.CANCEL, key, game_id, d, row, "moved_beyond_braze_limit")
    return Action(ActionKind.UPDATE, key, game_id, d, row, "signature_changed")


def _withdraw(plan: Plan, row: LedgerRow, reason: str, game_id: str) -> None:
    if row.state == "planned":
        plan.actions.append(Action(ActionKind.DISCARD, row.intent_key, game_id, None, row, reason))
    elif row.state in ("scheduled", "cancel_requested"):
        plan.actions.append(Action(ActionKind.CANCEL, row.intent_key, game_id, None, row, reason))


def _create_window_problem(d: Desired, now: datetime, policy: NotificationPolicy) -> str | None:
    if d.send_at is None:
        return "no_tipoff"
    if d.send_at - now < timedelta(seconds=policy.min_lead_seconds):
        return "missed_window"
    if d.send_at > now + policy.horizon:
        return "beyond_horizon"
    return None


# -- resolution of unresolved intents ---------------------------------------------------------


@dataclass(frozen=True)
class AttemptView:
    id: int
    operation: str  # create | update | delete
    status: str  # in_flight | succeeded | failed | ambiguous
    schedule_id: str | None
    dispatch_id: str | None
    prior_schedule_id: str | None
    target_send_at: datetime | None
    target_signature: str | None
    age_seconds: float
    not_found: bool = False
    prior_send_at: datetime | None = None
    purpose: str = "sync"  # sync | probe
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> AttemptView:
        return cls(
            id=row["id"],
            operation=row["operation"],
            status=row["status"],
            schedule_id=row["schedule_id"],
            dispatch_id=row["dispatch_id"],
            prior_schedule_id=row["prior_schedule_id"],
            target_send_at=row["target_send_at"],
            target_signature=row["target_signature"],
            age_seconds=float(row["age_seconds"]),
            not_found=row["http_status"] == 404,
            prior_send_at=row.get("prior_send_at"),
            purpose=row.get("purpose") or "sync",
            started_at=row.get("started_at"),
            finished_at=row.get("finished_at"),
        )


class ResolutionKind(enum.StrEnum):
    WAIT = "wait"  # the call may still be in flight by a live (slow) holder
    ADOPT = "adopt"  # the attempt succeeded: take its schedule id as the live one
    REVERT = "revert"  # the attempt provably failed: back to the pre-claim state
    VANISHED = "vanished"  # update answered 404: the schedule is gone, plan a new create
    UNIDENTIFIED = "unidentified"  # a probe answered 404: the replacement is live, id unknown
    UNKNOWN = "unknown"  # no way to know from the call itself: weigh evidence (never re-create blindly)


@dataclass(frozen=True)
class Resolution:
    kind: ResolutionKind
    attempt: AttemptView | None
    reason: str


def resolve_intent(row: LedgerRow, attempt: AttemptView | None, policy: NotificationPolicy) -> Resolution:
    """Adopt-or-cancel for an unresolved ledger row, from the outcome its current attempt
    recorded (the caller records it unfenced, even after losing its lease)."""
    if attempt is None:
        return Resolution(ResolutionKind.UNKNOWN, None, "no_attempt_recorded")
    if attempt.status == "succeeded":
        return Resolution(ResolutionKind.ADOPT, attempt, f"{attempt.operation}_succeeded")
    if attempt.status == "failed":
        if attempt.purpose == "probe":
            # The probe ran because evidence showed the old schedule gone from its old time.
            if attempt.not_found:
                return Resolution(ResolutionKind.UNIDENTIFIED, attempt, "probe_not_found")
            return Resolution(ResolutionKind.UNKNOWN, attempt, "probe_failed")
        if attempt.operation == "update" and attempt.not_found:
            return Resolution(ResolutionKind.VANISHED, attempt, "update_not_found")
        return Resolution(ResolutionKind.REVERT, attempt, f"{attempt.operation}_failed")
    if attempt.status == "in_flight" and attempt.age_seconds < policy.in_flight_grace_seconds:
        return Resolution(ResolutionKind.WAIT, attempt, "call_may_be_in_flight")
    reason = "caller_vanished" if attempt.status == "in_flight" else "ambiguous_outcome"
    return Resolution(ResolutionKind.UNKNOWN, attempt, reason)
