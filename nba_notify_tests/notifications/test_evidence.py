"""The evidence rules for calls with no knowable outcome (pure): what the scheduled-broadcasts
list's counts per send minute prove, and what they do not."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from nba_notify.lib.ledger.evidence import (
    Confirmed,
    Listing,
    UnknownIntent,
    Verdict,
    decision_deadline,
    judge,
)

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
M = NOW + timedelta(hours=3)  # the unknown create's target
OLD, NEW = NOW + timedelta(hours=2), NOW + timedelta(hours=5)  # an update's old and new send times
CALL_ENDED = NOW - timedelta(minutes=10)


def listing(**at: int) -> Listing:
    times = {"M": M, "O": OLD, "N": NEW, "X": NOW + timedelta(hours=4)}
    return Listing(Counter({times[k]: v for k, v in at.items()}), NOW, NOW + timedelta(days=1))


def create(row_id: int = 1, target: datetime = M) -> UnknownIntent:
    return UnknownIntent(row_id, "create", target, None, None, CALL_ENDED)


def update(row_id: int = 2) -> UnknownIntent:
    return UnknownIntent(row_id, "update", NEW, "sched-old", OLD, CALL_ENDED)


LATER_CREATE = Confirmed(
    NOW + timedelta(hours=4), CALL_ENDED + timedelta(minutes=1)
)  # at "X", after the call
EARLIER_CREATE = Confirmed(NOW + timedelta(hours=4), CALL_ENDED - timedelta(minutes=1))


def test_a_create_listed_beyond_every_known_schedule_landed():
    [j] = judge([create()], listing(M=1), []).values()
    assert j.verdict is Verdict.PRESENT


def test_a_create_absent_while_a_later_create_is_listed_did_not_land():
    [j] = judge([create()], listing(X=1), [LATER_CREATE]).values()
    assert j.verdict is Verdict.ABSENT


def test_absence_proves_nothing_while_the_list_lags_behind_the_call():
    assert (
        judge([create()], listing(), [LATER_CREATE])[1].verdict is Verdict.UNDECIDED
    )  # later create not listed yet
    assert (
        judge([create()], listing(X=1), [EARLIER_CREATE])[1].verdict is Verdict.UNDECIDED
    )  # nothing newer shown
    assert (
        judge([create()], listing(X=1), [Confirmed(LATER_CREATE.send_at, None)])[1].verdict
        is Verdict.UNDECIDED
    )


def test_known_schedules_at_the_same_minute_are_accounted_before_any_is_attributed():
    shared = [Confirmed(M, CALL_ENDED - timedelta(hours=1)), Confirmed(M, CALL_ENDED - timedelta(hours=1))]
    assert judge([create()], listing(M=2), shared)[1].verdict is not Verdict.PRESENT
    assert judge([create()], listing(M=3), shared)[1].verdict is Verdict.PRESENT
    assert judge([create()], listing(M=2), shared, accounted_elsewhere=[M])[1].verdict is not Verdict.PRESENT


def test_one_extra_schedule_for_two_unknown_creates_at_one_minute_proves_neither():
    verdicts = judge([create(1), create(2)], listing(M=1), [])
    assert {j.verdict for j in verdicts.values()} == {Verdict.UNDECIDED}


def test_a_call_still_in_flight_at_the_same_minute_makes_presence_unprovable():
    assert judge([create()], listing(M=1), [], uncertain=[M])[1].verdict is Verdict.UNDECIDED


def test_an_update_that_kept_the_old_schedule_and_made_a_new_one_is_split():
    assert judge([update()], listing(O=1, N=1), [])[2].verdict is Verdict.SPLIT


def test_an_update_whose_old_time_emptied_is_probed_to_tell_moved_from_replaced():
    assert judge([update()], listing(N=1), [])[2].verdict is Verdict.PROBE


def test_an_update_that_left_the_old_schedule_alone_was_not_applied_once_the_list_is_current():
    assert judge([update()], listing(O=1, X=1), [LATER_CREATE])[2].verdict is Verdict.NOT_APPLIED
    assert judge([update()], listing(O=1), [])[2].verdict is Verdict.UNDECIDED


def test_the_decision_deadline_is_set_by_the_earliest_push_at_risk():
    moved_later = update()
    assert moved_later.earliest_send_at_risk == OLD
    assert decision_deadline(moved_later, 45) == OLD - timedelta(minutes=45)
    assert decision_deadline(create(), 45) == M - timedelta(minutes=45)


def test_a_target_outside_the_listing_window_is_undecided():
    far = create(target=NOW + timedelta(days=3))
    assert judge([far], listing(), [])[1].verdict is Verdict.UNDECIDED
