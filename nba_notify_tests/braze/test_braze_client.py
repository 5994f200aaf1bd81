"""The Braze client against the simulated Braze over loopback: every outcome classified as
SUCCESS, DEFINITE_FAILURE (not applied) or AMBIGUOUS (may have been applied)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from nba_notify.lib.clients.braze import (
    BrazeClient,
    OutcomeKind,
    format_schedule_time,
    list_end_time_param,
)
from nba_notify.lib.clients.http import RetryPolicy, Timeouts
from nba_notify.lib.errors import ErrorCategory
from nba_notify.lib.web.serve import free_port
from nba_notify_tests.braze.conftest import API_KEY, CAMPAIGN

TIPOFF_SEND = datetime(2026, 11, 24, 23, 0, tzinfo=UTC)
PROPS = {"game_id": "0022600123", "home_team": "BOS", "away_team": "NYK"}


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(sim, sleeps):
    with BrazeClient(
        sim.url + "/braze",
        API_KEY,
        timeouts=Timeouts(connect=1, read=0.5, write=1, pool=1),
        retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05, max_retry_after=120),
        sleep=sleeps.append,
        seed=3,
    ) as braze:
        yield braze


def live(sim, game_id: str = "0022600123") -> list[dict]:
    return sim.sim.braze.live_schedules_for(game_id)


def wait_until(predicate, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_create_update_delete_succeed_with_braze_ids_and_rate_limit_snapshot(sim, client):
    assert client.create_send_id(CAMPAIGN, "s-1").succeeded
    created = client.create_schedule(CAMPAIGN, TIPOFF_SEND, PROPS, send_id="s-1")
    assert created.kind is OutcomeKind.SUCCESS and created.status_code == 201
    assert created.schedule_id and created.dispatch_id and created.error is None
    assert created.rate_limit_remaining == 249_998
    [record] = live(sim)
    assert record["schedule_id"] == created.schedule_id and record["dispatch_id"] == created.dispatch_id
    assert record["broadcast"] is True and record["send_id"] == "s-1"

    moved = client.update_schedule(CAMPAIGN, created.schedule_id, TIPOFF_SEND + timedelta(minutes=5))
    assert moved.succeeded and moved.schedule_id == created.schedule_id
    assert live(sim)[0]["time"] == "2026-11-24T23:05:00Z"

    cancelled = client.delete_schedule(CAMPAIGN, created.schedule_id)
    assert cancelled.succeeded and cancelled.schedule_id == created.schedule_id
    assert live(sim) == []
    assert client.rate_limit is not None and client.rate_limit.remaining == 249_996
    assert client.recorder.summary()["api_calls"] == 4


def test_schedule_time_is_sent_as_utc_minute_with_z(sim, client):
    eastern = timezone(timedelta(hours=-5))
    jittered = datetime(2026, 11, 24, 18, 0, 42, 123456, tzinfo=eastern)  # 23:00:42Z
    client.create_schedule(CAMPAIGN, jittered, PROPS)
    assert live(sim)[0]["schedule"]["time"] == "2026-11-24T23:00:00Z"
    assert format_schedule_time(jittered) == format_schedule_time(TIPOFF_SEND) == "2026-11-24T23:00:00Z"


def test_naive_send_time_is_rejected_without_calling_braze(sim, client):
    outcome = client.create_schedule(CAMPAIGN, datetime(2026, 11, 24, 23, 0), PROPS)
    assert outcome.kind is OutcomeKind.DEFINITE_FAILURE
    assert outcome.error.category is ErrorCategory.VALIDATION
    assert sim.sim.braze.call_counts()["braze.create"] == 0


def test_validation_400_is_a_definite_failure(sim, client):
    outcome = client.create_schedule(CAMPAIGN, datetime(2026, 11, 24, 14, 0, tzinfo=UTC), PROPS)
    assert outcome.kind is OutcomeKind.DEFINITE_FAILURE and outcome.status_code == 400
    assert outcome.error.category is ErrorCategory.API and "in the past" in outcome.error.details["body"]
    assert live(sim) == []


def test_delete_of_unknown_schedule_is_a_definite_failure_marked_not_found(sim, client):
    outcome = client.delete_schedule(CAMPAIGN, "never-existed")
    assert outcome.kind is OutcomeKind.DEFINITE_FAILURE and outcome.status_code == 404
    assert outcome.not_found and outcome.error.details["not_found"] is True


def test_wrong_api_key_is_a_definite_auth_failure(sim):
    with BrazeClient(sim.url + "/braze", "wrong-key", sleep=lambda s: None) as braze:
        outcome = braze.create_schedule(CAMPAIGN, TIPOFF_SEND, PROPS)
    assert outcome.kind is OutcomeKind.DEFINITE_FAILURE and outcome.status_code == 401
    assert outcome.error.category is ErrorCategory.AUTH
    assert live(sim) == []


def test_timeout_after_braze_applied_the_create_is_ambiguous_and_the_schedule_exists(sim, client):
    sim.control.add_fault("timeout_after_apply", route="braze.create", times=1, params={"seconds": 1.0})
    outcome = client.create_schedule(CAMPAIGN, TIPOFF_SEND, PROPS)
    assert outcome.kind is OutcomeKind.AMBIGUOUS and outcome.schedule_id is None
    assert outcome.error.category is ErrorCategory.TIMEOUT
    assert outcome.error.details["possibly_applied"] is True
    assert sim.sim.braze.call_counts()["braze.create"] == 1  # never retried
    assert len(live(sim)) == 1  # ...and yet Braze has it


def test_slow_create_that_lands_after_the_client_gave_up_is_ambiguous(sim, client):
    sim.control.add_fault("timeout", route="braze.create", times=1, params={"seconds": 0.8})
    outcome = client.create_schedule(CAMPAIGN, TIPOFF_SEND, PROPS)
    assert outcome.kind is OutcomeKind.AMBIGUOUS
    assert sim.sim.braze.call_counts()["braze.create"] == 1
    # The request was still in Braze's hands: it lands after the client stopped waiting.
    assert wait_until(lambda: len(live(sim)) == 1)


def test_5xx_on_create_is_ambiguous_and_not_retried(sim, client):
    sim.control.add_fault("status", route="braze.create", times=1, params={"code": 500})
    outcome = client.create_schedule(CAMPAIGN, TIPOFF_SEND, PROPS)
    assert outcome.kind is OutcomeKind.AMBIGUOUS and outcome.status_code == 500
    assert sim.sim.braze.call_counts()["braze.create"] == 1


def test_5xx_on_delete_is_ambiguous(sim, client):
    created = client.create_schedule(CAMPAIGN, TIPOFF_SEND, PROPS)
    sim.control.add_fault("status", route="braze.delete", times=1, params={"code": 502})
    outcome = client.delete_schedule(CAMPAIGN, created.schedule_id)
    assert outcome.kind is OutcomeKind.AMBIGUOUS


def test_single_429_is_retried_and_succeeds(sim, client, sleeps):
    sim.control.add_fault("status", route="braze.create", times=1, params={"code": 429})
    outcome = client.create_schedule(CAMPAIGN, TIPOFF_SEND, PROPS)
    assert outcome.succeeded and len(sleeps) == 1
    assert sim.sim.braze.call_counts()["braze.create"] == 2 and len(live(sim)) == 1


def test_persistent_rate_limit_is_retried_then_a_definite_failure(sim, client, sleeps):
    sim.control.add_fault("rate_limit", route="braze.*", params={"per_minute": 1})
    assert client.create_schedule(CAMPAIGN, TIPOFF_SEND, PROPS).succeeded  # the minute's one slot
    outcome = client.create_schedule(CAMPAIGN, TIPOFF_SEND, {**PROPS, "game_id": "other"})
    assert outcome.kind is OutcomeKind.DEFINITE_FAILURE and outcome.status_code == 429
    assert outcome.error.category is ErrorCategory.RATE_LIMIT and outcome.rate_limit_remaining == 0
    assert len(sleeps) == 2 and all(s >= 1 for s in sleeps)  # waited as X-RateLimit-Reset said
    assert live(sim, "other") == []


def test_hourly_quota_with_a_far_reset_is_not_slept_through(sim, sleeps):
    sim.sim.config.braze_rate_limit_per_hour = 1
    sim.sim.reset()
    with BrazeClient(
        sim.url + "/braze",
        API_KEY,
        retry=RetryPolicy(max_attempts=3, max_retry_after=0.5),
        sleep=sleeps.append,
    ) as braze:
        assert braze.create_schedule(CAMPAIGN, TIPOFF_SEND, PROPS).succeeded
        outcome = braze.create_schedule(CAMPAIGN, TIPOFF_SEND, {**PROPS, "game_id": "other"})
    assert outcome.kind is OutcomeKind.DEFINITE_FAILURE and outcome.status_code == 429
    assert sleeps == [] and outcome.error.details["retry_after_seconds"] > 0


def test_connection_refused_is_a_definite_failure(sleeps):
    with BrazeClient(f"http://127.0.0.1:{free_port()}/braze", API_KEY, sleep=sleeps.append) as braze:
        outcome = braze.create_schedule(CAMPAIGN, TIPOFF_SEND, PROPS)
    assert outcome.kind is OutcomeKind.DEFINITE_FAILURE
    assert outcome.error.category is ErrorCategory.NETWORK
    assert outcome.error.details["possibly_applied"] is False


def test_unreadable_success_answer_is_ambiguous_for_create_but_done_for_delete(sim, client):
    sim.control.add_fault("malformed", route="braze.create", times=1)
    created = client.create_schedule(CAMPAIGN, TIPOFF_SEND, PROPS)
    assert created.kind is OutcomeKind.AMBIGUOUS and created.status_code == 201
    [record] = live(sim)
    sim.control.add_fault("truncate", route="braze.delete", times=1)
    deleted = client.delete_schedule(CAMPAIGN, record["schedule_id"])
    assert deleted.kind is OutcomeKind.SUCCESS and live(sim) == []


def test_update_that_returns_a_new_id_reports_it_and_the_old_one_stays_live(sim, client):
    sim.control.add_fault("new_id_on_update", route="braze.update", times=1)
    created = client.create_schedule(CAMPAIGN, TIPOFF_SEND, PROPS)
    moved = client.update_schedule(CAMPAIGN, created.schedule_id, TIPOFF_SEND + timedelta(minutes=30))
    assert moved.succeeded and moved.schedule_id != created.schedule_id
    assert {s["schedule_id"] for s in live(sim)} == {created.schedule_id, moved.schedule_id}


def test_timeout_after_applied_update_is_ambiguous_and_the_move_happened(sim, client):
    created = client.create_schedule(CAMPAIGN, TIPOFF_SEND, PROPS)
    sim.control.add_fault("timeout_after_apply", route="braze.update", times=1, params={"seconds": 1.0})
    moved = client.update_schedule(CAMPAIGN, created.schedule_id, TIPOFF_SEND + timedelta(minutes=10))
    assert moved.kind is OutcomeKind.AMBIGUOUS
    assert live(sim)[0]["time"] == "2026-11-24T23:10:00Z"


def test_list_returns_entries_up_to_end_time_and_records_rate_limit(sim, client):
    client.create_schedule(CAMPAIGN, TIPOFF_SEND, PROPS)
    client.create_schedule(CAMPAIGN, TIPOFF_SEND + timedelta(hours=3), {**PROPS, "game_id": "late"})
    entries = client.list_scheduled_broadcasts(TIPOFF_SEND + timedelta(hours=1))
    assert [e["next_send_time"] for e in entries] == ["2026-11-24T23:00:00Z"]
    assert entries[0]["id"] == CAMPAIGN
    assert client.rate_limit.remaining == 249_997


def test_list_never_shows_api_schedules_under_the_never_lag_fault(sim, client):
    sim.control.add_fault("list_lag", route="braze.list", params={"never": True})
    assert client.create_schedule(CAMPAIGN, TIPOFF_SEND, PROPS).succeeded
    assert client.list_scheduled_broadcasts(TIPOFF_SEND + timedelta(days=1)) == []


def test_list_end_time_is_rounded_up_to_the_next_utc_midnight():
    assert list_end_time_param(datetime(2026, 11, 24, 23, 5, tzinfo=UTC)) == "2026-11-25T00:00:00Z"
    assert list_end_time_param(datetime(2026, 11, 25, 0, 0, tzinfo=UTC)) == "2026-11-25T00:00:00Z"
    eastern = timezone(timedelta(hours=-5))
    assert list_end_time_param(datetime(2026, 11, 24, 20, 0, tzinfo=eastern)) == "2026-11-26T00:00:00Z"


# -- send identifiers -------------------------------------------------------------------------


def send_ids(sim) -> list[str]:
    return [s["send_id"] for s in sim.sim.braze.truth()["send_ids"]]


def test_create_send_id_succeeds_and_reports_the_daily_limit_apart_from_the_hourly_one(sim, client):
    outcome = client.create_send_id(CAMPAIGN, "nba_1")
    assert outcome.kind is OutcomeKind.SUCCESS and outcome.send_id == "nba_1" and outcome.status_code == 201
    assert outcome.rate_limit.limit == 100 and outcome.rate_limit_remaining == 99
    assert client.send_id_rate_limit.remaining == 99 and client.rate_limit is None
    again = client.create_send_id(CAMPAIGN, "nba_1")
    assert again.succeeded and again.rate_limit_remaining == 99  # an existing pair costs nothing
    assert send_ids(sim) == ["nba_1"]


def test_schedule_create_naming_an_uncreated_send_id_is_a_definite_failure(sim, client):
    outcome = client.create_schedule(CAMPAIGN, TIPOFF_SEND, PROPS, send_id="nba_missing")
    assert outcome.kind is OutcomeKind.DEFINITE_FAILURE and outcome.status_code == 400
    assert "nba_missing" in outcome.error.details["body"]
    assert live(sim) == []


def test_ambiguous_send_id_create_is_retried_as_idempotent_and_counted_once(sim, client, sleeps):
    # Applied, then the answer is held past the read timeout: the retry finds the pair and succeeds.
    sim.control.add_fault(
        "timeout_after_apply", route="braze.send_id_create", times=1, params={"seconds": 1.0}
    )
    outcome = client.create_send_id(CAMPAIGN, "nba_1")
    assert outcome.succeeded and len(sleeps) == 1
    assert sim.sim.braze.call_counts()["braze.send_id_create"] == 2
    assert send_ids(sim) == ["nba_1"]
    assert sim.sim.braze.truth()["send_ids_created_per_day"] == {"2026-11-24": 1}


def test_send_id_create_unanswered_after_the_retries_is_ambiguous_and_safe_to_repeat(sim, client):
    sim.control.add_fault("timeout", route="braze.send_id_create", times=3, params={"seconds": 0.8})
    outcome = client.create_send_id(CAMPAIGN, "nba_1")
    assert outcome.kind is OutcomeKind.AMBIGUOUS and outcome.send_id is None
    assert outcome.error.category is ErrorCategory.TIMEOUT
    assert sim.sim.braze.call_counts()["braze.send_id_create"] == 3  # the retry budget, then reported
    # The held requests land after the client gave up; asking again is harmless.
    assert wait_until(lambda: send_ids(sim) == ["nba_1"])
    assert client.create_send_id(CAMPAIGN, "nba_1").succeeded
    assert sim.sim.braze.truth()["send_ids_created_per_day"] == {"2026-11-24": 1}


def test_send_id_daily_limit_is_a_definite_rate_limit_failure_not_slept_through(sim, client, sleeps):
    sim.sim.config.braze_send_id_daily_limit = 1
    sim.sim.reset()
    assert client.create_send_id(CAMPAIGN, "nba_1").succeeded
    outcome = client.create_send_id(CAMPAIGN, "nba_2")
    assert outcome.kind is OutcomeKind.DEFINITE_FAILURE and outcome.rate_limited
    assert outcome.error.category is ErrorCategory.RATE_LIMIT and outcome.rate_limit_remaining == 0
    assert sleeps == [] and outcome.error.details["retry_after_seconds"] == 9 * 3600
    assert sim.sim.braze.call_counts()["braze.send_id_create"] == 2
    assert send_ids(sim) == ["nba_1"]


def test_send_id_for_an_unknown_campaign_is_a_definite_failure(sim, client):
    outcome = client.create_send_id("no-such-campaign", "nba_1")
    assert outcome.kind is OutcomeKind.DEFINITE_FAILURE and outcome.status_code == 400
    assert outcome.error.category is ErrorCategory.API
