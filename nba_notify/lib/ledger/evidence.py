"""Evidence for intents whose Braze call had no knowable outcome — never a blind re-create.

Braze exposes no lookup of one schedule: no idempotency key on create, no "get schedule by id",
and ``GET /messages/scheduled_broadcasts`` names the *campaign* and the next send time of each
listed schedule, never its id — and may list API-created schedules late or not at all. What it
does give is a count per send minute. This module turns those counts into proof:

* **accounted** at a minute = the schedules we know are live there: confirmed ledger rows,
  ``unidentified`` rows (proven live, id unknown) and open orphans (live until cancelled);
* **extra** = listed - accounted: schedules Braze holds there that no confirmed row explains;
* **the list is current past a moment** when a schedule whose create Braze confirmed *after*
  that moment is visible (every accounted schedule at its minute is listed). Braze lists in
  creation order after a lag, so an earlier schedule would be visible too.

Verdicts, per unknown intent (``UnknownIntent``):

============================  ======================================================
create, extra >= candidates    PRESENT: it landed; live at the target, id unknown
create, extra == 0, current    ABSENT: it did not land; create again (same send id)
update, old held, new extra    SPLIT: Braze issued a new id and kept the old one: the
                               old id (known) is at the wrong time -> cancel it;
                               the new one is live at the target, id unknown
update, old gone, new extra    PROBE: moved in place or replaced; an identical update
                               of the old id tells which (200: adopt it; 404: the new
                               one is live, id unknown). Safe: the old id is not live
                               at the old time, so nothing can be duplicated there
update, old held, no new,      NOT_APPLIED: the old schedule stands; the planner
current                        updates it again
anything else                  UNDECIDED: wait for evidence until the decision
                               deadline, then the policy's fallback
============================  ======================================================

Pure functions; :mod:`nba_notify.lib.ledger.sync` does the list call and applies verdicts.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from nba_notify.lib.ledger.planning import to_minute


class Verdict(enum.StrEnum):
    PRESENT = "present"
    ABSENT = "absent"
    SPLIT = "split"
    PROBE = "probe"
    NOT_APPLIED = "not_applied"
    UNDECIDED = "undecided"


@dataclass(frozen=True)
class UnknownIntent:
    """An intent whose last call may or may not have reached Braze."""

    row_id: int
    operation: str  # create | update
    target: datetime  # the send time the call asked for
    prior_schedule_id: str | None  # the schedule the update was applied to (None for a create)
    prior_send_at: datetime | None  # where that schedule was before the update
    since: datetime  # when the call ended (or was given up on): anything Braze applied, it applied before

    @property
    def earliest_send_at_risk(self) -> datetime:
        """The first moment a push could go out for this intent: the old time may still be live."""
        times = [t for t in (self.target, self.prior_send_at) if t is not None]
        return min(times)


@dataclass(frozen=True)
class Confirmed:
    """A schedule Braze confirmed: live at ``send_at``; ``created_at`` when Braze confirmed its
    create (None when unknown, e.g. adopted from an operator: it then proves nothing about lag)."""

    send_at: datetime
    created_at: datetime | None


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    reason: str


@dataclass(frozen=True)
class Listing:
    """One read of the campaign's scheduled-broadcasts list, counted per send minute, and the
    window it covers (minutes outside it are not evidence of anything)."""

    counts: Counter
    start: datetime
    end: datetime

    def covers(self, minute: datetime) -> bool:
        return self.start < minute <= self.end


def judge(
    unknowns: Sequence[UnknownIntent],
    listing: Listing,
    confirmed: Sequence[Confirmed],
    accounted_elsewhere: Iterable[datetime] = (),
    uncertain: Iterable[datetime] = (),
) -> dict[int, Judgement]:
    """A verdict for every unknown intent (by ledger row id). ``accounted_elsewhere``: send times
    of other schedules known to be live (unidentified rows, open orphans); ``uncertain``: times
    a call still in flight may put a schedule at (they make presence there unprovable)."""
    accounted: Counter = Counter(to_minute(c.send_at) for c in confirmed)
    accounted.update(to_minute(t) for t in accounted_elsewhere)
    extra = {
        minute: listing.counts.get(minute, 0) - accounted.get(minute, 0) for minute in _minutes(unknowns)
    }
    current_through = _current_through(listing, confirmed, accounted)
    # How many unknowns could explain a schedule at each minute (ties make presence unprovable).
    candidates: Counter = Counter(to_minute(u.target) for u in unknowns)
    for u in unknowns:
        if u.operation == "update" and u.prior_send_at is not None:
            candidates[to_minute(u.prior_send_at)] += 1
    candidates.update(to_minute(t) for t in uncertain)

    verdicts = {}
    for u in unknowns:
        verdicts[u.row_id] = _judge_one(u, listing, extra, candidates, current_through)
    return verdicts


def _minutes(unknowns: Iterable[UnknownIntent]) -> set[datetime]:
    out = set()
    for u in unknowns:
        out.add(to_minute(u.target))
        if u.prior_send_at is not None:
            out.add(to_minute(u.prior_send_at))
    return out


def _current_through(listing: Listing, confirmed: Sequence[Confirmed], accounted: Counter) -> datetime | None:
    """The latest confirmed create the list visibly shows (None: the list proves nothing)."""
    visible = [
        c.created_at
        for c in confirmed
        if c.created_at is not None
        and listing.covers(to_minute(c.send_at))
        and listing.counts.get(to_minute(c.send_at), 0) >= accounted.get(to_minute(c.send_at), 0)
    ]
    return max(visible) if visible else None


def _judge_one(
    u: UnknownIntent,
    listing: Listing,
    extra: dict[datetime, int],
    candidates: Counter,
    current_through: datetime | None,
) -> Judgement:
    new = to_minute(u.target)
    if not listing.covers(new):
        return Judgement(Verdict.UNDECIDED, "target_outside_listing")
    current = current_through is not None and current_through > u.since
    at_new = extra.get(new, 0)
    if u.operation == "create" or u.prior_schedule_id is None:
        if at_new >= 1 and at_new >= candidates[new]:
            return Judgement(Verdict.PRESENT, "listed_beyond_known_schedules")
        if at_new == 0 and current:
            return Judgement(Verdict.ABSENT, "not_listed_while_later_creates_are")
        return Judgement(Verdict.UNDECIDED, "ambiguous_listing" if at_new >= 1 else "listing_not_current")
    old = to_minute(u.prior_send_at) if u.prior_send_at is not None else None
    if old is None or old == new or not listing.covers(old):
        return Judgement(Verdict.UNDECIDED, "old_time_not_in_listing")
    at_old = extra.get(old, 0)
    if candidates[new] > 1 or candidates[old] > 1:
        return Judgement(Verdict.UNDECIDED, "shared_minute")
    if at_new >= 1 and at_old >= 1:
        return Judgement(Verdict.SPLIT, "new_schedule_and_old_schedule_both_listed")
    if at_new >= 1 and at_old <= 0:
        return Judgement(Verdict.PROBE, "old_time_empty_new_time_listed")
    if at_new == 0 and at_old >= 1 and current:
        return Judgement(Verdict.NOT_APPLIED, "old_schedule_still_listed_nothing_new")
    return Judgement(Verdict.UNDECIDED, "listing_not_current")


def decision_deadline(u: UnknownIntent, decision_minutes: int) -> datetime:
    """Past this, an undecided intent gets the policy's fallback (and its alert escalates)."""
    return u.earliest_send_at_risk - timedelta(minutes=decision_minutes)
