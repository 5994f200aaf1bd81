"""The pure planning rules: no database, no HTTP."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from nba_notify.lib.ledger.planning import (
    ActionKind,
    AttemptView,
    LedgerRow,
    NotificationPolicy,
    ResolutionKind,
    UpcomingGame,
    desired_for_game,
    desired_notifications,
    intent_key,
    plan_actions,
    resolve_intent,
    send_id_for,
    signature,
    to_minute,
)

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
POLICY = NotificationPolicy(campaign_id="camp")
GAME = "0022600301"


def game(tipoff: datetime | None, status: str = "scheduled") -> UpcomingGame:
    return UpcomingGame(GAME, "NYK", "BOS", tipoff, status)


def row(state: str, send_at: datetime | None = None, schedule_id: str | None = "s1", **kw) -> LedgerRow:
    d = desired_for_game(game(send_at + POLICY.lead if send_at else NOW + timedelta(hours=4)), POLICY)
    return LedgerRow(
        id=1,
        intent_key=d.intent_key,
        game_id=GAME,
        kind=POLICY.kind,
        state=state,
        braze_schedule_id=schedule_id,
        signature=kw.pop("sig", d.signature),
        send_at=send_at or d.send_at,
        fence=1,
        send_id=send_id_for(d.intent_key),
        **kw,
    )


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (datetime(2026, 12, 5, 15, 0, 0, tzinfo=UTC), datetime(2026, 12, 5, 15, 0, 1, tzinfo=UTC)),
        (datetime(2026, 12, 5, 15, 0, 0, tzinfo=UTC), datetime(2026, 12, 5, 14, 59, 59, tzinfo=UTC)),
    ],
    ids=["one_second_late", "one_second_early"],
)
def test_scenario_4_signature_ignores_one_second_jitter(a, b):
    assert to_minute(a) == to_minute(b)
    assert signature(a, "NYK", "BOS", "v1") == signature(b, "nyk", " BOS", "v1")


def test_intent_key_is_business_identity_not_send_time():
    early = desired_for_game(game(NOW + timedelta(hours=3)), POLICY)
    late = desired_for_game(game(NOW + timedelta(hours=5)), POLICY)
    assert early.intent_key == late.intent_key == intent_key(GAME, POLICY.kind, "camp", "v1")
    assert early.signature != late.signature
    assert early.send_at == NOW + timedelta(hours=2)


def test_new_game_is_created_unchanged_is_skipped():
    d = desired_for_game(game(NOW + timedelta(hours=4)), POLICY)
    assert [a.kind for a in plan_actions([d], [], NOW, POLICY).actions] == [ActionKind.CREATE]
    plan = plan_actions([d], [row("scheduled")], NOW, POLICY)
    assert plan.actions == [] and [(s.action, s.reason) for s in plan.skips] == [
        ("skipped_unchanged", "unchanged")
    ]


def test_moved_kickoff_is_one_update_unless_the_held_send_is_inside_the_update_buffer():
    old = row("scheduled", send_at=NOW + timedelta(hours=3))
    moved = desired_for_game(game(NOW + timedelta(hours=4, minutes=30)), POLICY)
    assert [a.kind for a in plan_actions([moved], [old], NOW, POLICY).actions] == [ActionKind.UPDATE]
    imminent = row("scheduled", send_at=NOW + timedelta(minutes=19))  # Braze may be dispatching it
    plan = plan_actions([moved], [imminent], NOW, POLICY)
    assert plan.actions == [] and plan.skips[0].reason == "inside_update_buffer"


def test_a_tipoff_moved_earlier_updates_even_when_the_new_send_is_close_never_leaving_the_old_time():
    old = row("scheduled", send_at=NOW + timedelta(hours=3))
    moved_close = desired_for_game(game(NOW + timedelta(minutes=75)), POLICY)  # new send in 15 min
    [action] = plan_actions([moved_close], [old], NOW, POLICY).actions
    assert (action.kind, action.desired.send_at) == (ActionKind.UPDATE, NOW + timedelta(minutes=15))


def test_a_tipoff_moved_into_the_missed_window_cancels_the_old_schedule():
    old = row("scheduled", send_at=NOW + timedelta(hours=3))
    too_late = desired_for_game(game(NOW + timedelta(minutes=61)), POLICY)  # new send in 1 minute
    [action] = plan_actions([too_late], [old], NOW, POLICY).actions
    assert (action.kind, action.reason) == (ActionKind.CANCEL, "moved_into_missed_window")


def test_a_game_moved_weeks_ahead_is_one_update_and_beyond_brazes_limit_a_cancel():
    old = row("scheduled", send_at=NOW + timedelta(hours=3))
    make_up = desired_for_game(game(NOW + timedelta(days=30)), POLICY)  # far beyond the 3-day horizon
    [action] = plan_actions([make_up], [old], NOW, POLICY).actions
    assert action.kind is ActionKind.UPDATE
    next_season = desired_for_game(game(NOW + timedelta(days=120)), POLICY)
    [action] = plan_actions([next_season], [old], NOW, POLICY).actions
    assert (action.kind, action.reason) == (ActionKind.CANCEL, "moved_beyond_braze_limit")


def test_a_game_no_source_lists_any_more_withdraws_its_notification():
    gone = desired_for_game(dataclasses.replace(game(NOW + timedelta(hours=4)), listed=False), POLICY)
    assert (gone.active, gone.reason) == (False, "unlisted")
    [action] = plan_actions([gone], [row("scheduled", send_at=NOW + timedelta(hours=3))], NOW, POLICY).actions
    assert action.kind is ActionKind.CANCEL


def test_missed_window_and_beyond_horizon_are_skipped_with_reasons():
    missed = desired_for_game(game(NOW + timedelta(minutes=61)), POLICY)  # send in 1 minute
    far = desired_for_game(game(NOW + timedelta(days=95)), POLICY)
    plan = plan_actions([missed, dataclasses.replace(far, intent_key="far", game_id="far")], [], NOW, POLICY)
    assert plan.actions == []
    assert sorted(s.reason for s in plan.skips) == ["beyond_horizon", "missed_window"]


BRAZE_SEND_IDS_PER_DAY = 100


def test_default_horizon_keeps_a_first_sync_far_below_brazes_daily_send_id_limit():
    # The busiest slate the NBA plays (15 games) every day for 90 days: each create needs a new send id.
    season = [
        UpcomingGame(
            f"day{day:02d}-game{n:02d}",
            "NYK",
            "BOS",
            NOW + timedelta(days=day, hours=3, minutes=10 * n),
            "scheduled",
        )
        for day in range(90)
        for n in range(15)
    ]
    creates = plan_actions(desired_notifications(season, POLICY), [], NOW, POLICY).of(ActionKind.CREATE)
    assert len(creates) == 3 * 15  # three days of slates; the rest waits for the horizon
    # Even a first sync plus the next day's new games stays well under the daily limit.
    assert len(creates) + 15 <= BRAZE_SEND_IDS_PER_DAY * 0.6
    assert NotificationPolicy(campaign_id="camp").horizon_days <= 90  # never beyond what Braze accepts


@pytest.mark.parametrize("status", ["postponed", "cancelled"])
def test_withdrawn_game_is_one_cancel_or_a_discard_without_a_call(status):
    d = desired_for_game(game(NOW + timedelta(hours=4), status), POLICY)
    assert not d.active
    assert [a.kind for a in plan_actions([d], [row("scheduled")], NOW, POLICY).actions] == [ActionKind.CANCEL]
    assert [a.kind for a in plan_actions([d], [row("planned", schedule_id=None)], NOW, POLICY).actions] == [
        ActionKind.DISCARD
    ]


def test_a_game_missing_from_the_source_proves_nothing():
    assert plan_actions([], [row("scheduled")], NOW, POLICY).actions == []


def test_unresolved_intent_is_resolved_never_recreated():
    d = desired_for_game(game(NOW + timedelta(hours=4)), POLICY)
    for state in ("creating", "updating", "unknown"):
        plan = plan_actions([d], [row(state, schedule_id=None if state != "updating" else "s1")], NOW, POLICY)
        assert [a.kind for a in plan.actions] == [ActionKind.RESOLVE]


def test_template_bump_cancels_the_old_intent_before_creating_the_new_one():
    old = row("scheduled")
    v2 = desired_for_game(game(NOW + timedelta(hours=4)), dataclasses.replace(POLICY, template_version="v2"))
    kinds = [(a.kind, a.intent_key.endswith("v2")) for a in plan_actions([v2], [old], NOW, POLICY).actions]
    assert kinds == [(ActionKind.CANCEL, False), (ActionKind.CREATE, True)]


def test_an_unidentified_schedule_is_left_alone_and_a_needed_change_is_skipped_with_a_reason():
    held = row("unidentified", schedule_id=None)
    same = desired_for_game(game(NOW + timedelta(hours=4)), POLICY)
    assert plan_actions([same], [held], NOW, POLICY).skips[0].reason == "unchanged"
    moved = desired_for_game(game(NOW + timedelta(hours=5)), POLICY)
    plan = plan_actions([moved], [held], NOW, POLICY)
    assert plan.actions == [] and plan.skips[0].reason == "unidentified_cannot_update"
    gone = desired_for_game(game(NOW + timedelta(hours=4), "postponed"), POLICY)
    assert plan_actions([gone], [held], NOW, POLICY).skips[0].reason == "unidentified_cannot_cancel"


def test_already_sent_game_is_not_scheduled_again():
    d = desired_for_game(game(NOW + timedelta(hours=6)), POLICY)
    plan = plan_actions([d], [row("sent", send_at=NOW - timedelta(hours=1))], NOW, POLICY)
    assert plan.actions == [] and plan.skips[0].reason == "already_sent"


def attempt(
    status: str, age: float = 1000.0, operation: str = "create", http_status=None, purpose: str = "sync"
) -> AttemptView:
    return AttemptView(
        id=7,
        operation=operation,
        status=status,
        schedule_id="new" if status == "succeeded" else None,
        dispatch_id=None,
        prior_schedule_id=None,
        target_send_at=NOW,
        target_signature="sig",
        age_seconds=age,
        not_found=http_status == 404,
        purpose=purpose,
    )


@pytest.mark.parametrize(
    ("view", "expected"),
    [
        (attempt("succeeded"), ResolutionKind.ADOPT),
        (attempt("failed"), ResolutionKind.REVERT),
        (attempt("failed", operation="update", http_status=404), ResolutionKind.VANISHED),
        (attempt("in_flight", age=5), ResolutionKind.WAIT),
        (attempt("in_flight", age=1000), ResolutionKind.UNKNOWN),
        (attempt("ambiguous"), ResolutionKind.UNKNOWN),
        (None, ResolutionKind.UNKNOWN),
        (
            attempt("failed", operation="update", http_status=404, purpose="probe"),
            ResolutionKind.UNIDENTIFIED,
        ),
        (attempt("failed", operation="update", http_status=400, purpose="probe"), ResolutionKind.UNKNOWN),
    ],
    ids=[
        "succeeded",
        "failed",
        "update_404",
        "young_in_flight",
        "caller_vanished",
        "ambiguous",
        "no_attempt",
        "probe_404_replaced",
        "probe_failed_stays_unknown",
    ],
)
def test_adopt_or_cancel_resolution(view, expected):
    assert resolve_intent(row("unknown", schedule_id=None), view, POLICY).kind is expected
