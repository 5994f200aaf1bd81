"""The simulated Braze, spoken to over raw HTTP as the real API would be."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from nba_notify.sim.braze import CURRENTS_BATCH_SIZE, SEND_EVENT_TYPE
from nba_notify_tests.braze.conftest import API_KEY, CAMPAIGN, CURRENTS_TOKEN

CREATE = "/braze/campaigns/trigger/schedule/create"
UPDATE = "/braze/campaigns/trigger/schedule/update"
DELETE = "/braze/campaigns/trigger/schedule/delete"
LIST = "/braze/messages/scheduled_broadcasts"
SEND_ID_CREATE = "/braze/sends/id/create"
AUTH = {"Authorization": f"Bearer {API_KEY}"}


def call(sim, method: str, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
    headers = kwargs.pop("headers", AUTH)
    return httpx.request(method, sim.url + path, json=body, headers=headers, timeout=10, **kwargs)


def create_body(game_id: str = "g1", time: str = "2026-11-24T23:00:00Z", **overrides: Any) -> dict:
    body = {
        "campaign_id": CAMPAIGN,
        "broadcast": True,
        "trigger_properties": {"game_id": game_id, "home_team": "BOS", "away_team": "NYK"},
        "schedule": {"time": time},
    }
    body.update(overrides)
    return body


def create(sim, **kwargs: Any) -> dict:
    response = call(sim, "POST", CREATE, create_body(**kwargs))
    assert response.status_code == 201, response.text
    return response.json()


def create_send_id(sim, send_id: str, campaign_id: str = CAMPAIGN) -> httpx.Response:
    return call(sim, "POST", SEND_ID_CREATE, {"campaign_id": campaign_id, "send_id": send_id})


def truth_schedule(sim, schedule_id: str) -> dict:
    return next(s for s in sim.sim.braze.truth()["schedules"] if s["schedule_id"] == schedule_id)


def test_create_update_delete_round_trip_is_recorded_in_ground_truth(sim):
    created = create(sim)
    assert set(created) == {"schedule_id", "dispatch_id", "message"} and created["message"] == "success"

    moved = call(
        sim,
        "POST",
        UPDATE,
        {
            "campaign_id": CAMPAIGN,
            "schedule_id": created["schedule_id"],
            "schedule": {"time": "2026-11-24T23:30:00Z"},
        },
    )
    assert moved.status_code == 200 and moved.json()["schedule_id"] == created["schedule_id"]
    record = truth_schedule(sim, created["schedule_id"])
    assert record["time"] == "2026-11-24T23:30:00Z" and record["status"] == "scheduled"
    assert record["dispatch_id"] == created["dispatch_id"]
    assert [h["action"] for h in record["history"]] == ["created", "updated"]

    deleted = call(sim, "POST", DELETE, {"campaign_id": CAMPAIGN, "schedule_id": created["schedule_id"]})
    assert deleted.status_code == 200 and deleted.json() == {"message": "success"}
    record = truth_schedule(sim, created["schedule_id"])
    assert record["status"] == "cancelled" and record["cancelled_at"] == "2026-11-24T15:00:00Z"
    assert sim.sim.braze.live_schedules_for("g1") == []


def test_unknown_or_no_longer_live_schedule_ids_answer_404(sim):
    created = create(sim)
    gone = {"campaign_id": CAMPAIGN, "schedule_id": created["schedule_id"]}
    assert call(sim, "POST", DELETE, gone).status_code == 200
    again = call(sim, "POST", DELETE, gone)
    assert again.status_code == 404 and again.json()["message"] == "Schedule not found"
    update_gone = call(sim, "POST", UPDATE, {**gone, "schedule": {"time": "2026-11-24T23:30:00Z"}})
    assert update_gone.status_code == 404
    unknown = call(sim, "POST", DELETE, {"campaign_id": CAMPAIGN, "schedule_id": "no-such-id"})
    assert unknown.status_code == 404

    sent = create(sim, game_id="g2", time="2026-11-24T16:00:00Z")
    sim.sim.clock.advance(timedelta(hours=2))
    assert (
        call(sim, "POST", DELETE, {"campaign_id": CAMPAIGN, "schedule_id": sent["schedule_id"]}).status_code
        == 404
    )


def test_requests_without_the_bearer_key_are_rejected(sim):
    for headers in ({}, {"Authorization": API_KEY}, {"Authorization": "Bearer wrong"}):
        response = call(sim, "POST", CREATE, create_body(), headers=headers)
        assert response.status_code == 401
        assert "x-ratelimit-remaining" in response.headers
    assert sim.sim.braze.truth()["schedules"] == []


def test_every_response_carries_rate_limit_headers(sim):
    sim.control.add_fault("status", route="braze.list", times=1, params={"code": 503})
    responses = [
        call(sim, "POST", CREATE, create_body()),  # 201
        call(sim, "POST", CREATE, create_body(time="yesterday")),  # 400
        call(sim, "POST", DELETE, {"campaign_id": CAMPAIGN, "schedule_id": "x"}),  # 404
        call(sim, "GET", LIST, params={"end_time": "2026-11-25"}),  # 503 (fault)
        call(sim, "GET", LIST, params={"end_time": "2026-11-25"}),  # 200
    ]
    assert [r.status_code for r in responses] == [201, 400, 404, 503, 200]
    remaining = [int(r.headers["X-RateLimit-Remaining"]) for r in responses]
    assert remaining == sorted(remaining, reverse=True) and remaining[0] == 249_999
    for response in responses:
        assert int(response.headers["X-RateLimit-Limit"]) == 250_000
        assert int(response.headers["X-RateLimit-Reset"]) > 1_700_000_000  # epoch seconds


def test_hourly_quota_exhausted_answers_429_with_headers(sim):
    sim.sim.config.braze_rate_limit_per_hour = 2
    sim.sim.reset()
    statuses = [call(sim, "POST", CREATE, create_body(game_id=f"g{i}")).status_code for i in range(3)]
    assert statuses == [201, 201, 429]
    limited = call(sim, "GET", LIST, params={"end_time": "2026-11-25"})
    assert limited.status_code == 429
    assert limited.headers["X-RateLimit-Remaining"] == "0" and limited.headers["X-RateLimit-Limit"] == "2"
    assert len(sim.sim.braze.truth()["schedules"]) == 2


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"campaign_id": "unknown-campaign"}, "not found"),
        ({"schedule": {}}, "schedule.time is required"),
        ({"schedule": {"time": "next tuesday"}}, "not ISO 8601"),
        ({"schedule": {"time": "2026-11-24T14:59:00Z"}}, "in the past"),
        ({"schedule": {"time": "2027-02-23T15:01:00Z"}}, "90 days"),
        ({"trigger_properties": {"home_team": "BOS", "away_team": "NYK"}}, "game_id is required"),
        ({"broadcast": False}, "broadcast must be true"),
        ({"trigger_properties": {"game_id": "g", "home_team": "BOS", "away_team": "XXX"}}, "away_team"),
        (
            {"audience": {"email_subscription_status": {"comparison": "is", "value": "opted_in"}}},
            "unsupported",
        ),
    ],
)
def test_invalid_create_is_a_braze_shaped_400_and_creates_nothing(sim, overrides, problem):
    response = call(sim, "POST", CREATE, create_body(**overrides))
    assert response.status_code == 400
    body = response.json()
    assert body["message"] and any(problem in error for error in body["errors"]), body
    assert sim.sim.braze.truth()["schedules"] == []


def test_schedule_exactly_90_days_ahead_is_accepted(sim):
    create(sim, time="2027-02-22T15:00:00Z")


def test_list_names_the_campaign_and_next_send_time_of_live_api_schedules(sim):
    first = create(sim, game_id="g1", time="2026-11-24T23:00:00Z")
    create(sim, game_id="g2", time="2026-11-25T01:00:00Z")
    create(sim, game_id="g3", time="2026-11-26T01:00:00Z")  # after end_time's midnight
    call(sim, "POST", DELETE, {"campaign_id": CAMPAIGN, "schedule_id": first["schedule_id"]})
    # end_time counts as midnight UTC of its date: 2026-11-26T00:00Z
    listed = call(sim, "GET", LIST, params={"end_time": "2026-11-26T20:00:00Z"}).json()
    assert listed["message"] == "success"
    assert listed["scheduled_broadcasts"] == [
        {
            "name": "NBA tip-off reminder",
            "id": CAMPAIGN,
            "type": "Campaign",
            "tags": [],
            "next_send_time": "2026-11-25T01:00:00Z",
            "schedule_type": "UTC",
        }
    ]
    assert call(sim, "GET", LIST).status_code == 400  # end_time is required


def test_list_lag_fault_delays_or_hides_api_schedules(sim):
    sim.control.add_fault("list_lag", route="braze.list", params={"seconds": 600})
    create(sim)
    entries = lambda: call(sim, "GET", LIST, params={"end_time": "2026-11-26"}).json()["scheduled_broadcasts"]  # noqa: E731
    assert entries() == []
    sim.control.advance(599)
    assert entries() == []
    sim.control.advance(1)
    assert len(entries()) == 1

    sim.control.clear_faults(kind="list_lag")
    sim.control.add_fault("list_lag", route="braze.list", params={"never": True})
    assert entries() == []
    sim.sim.clock.advance(timedelta(hours=2))
    assert entries() == [] and len(sim.sim.braze.live_schedules_for("g1")) == 1


def test_clock_past_send_time_messages_each_follower_once_and_posts_currents_batches(sim, receiver):
    sim.sim.config.audience_per_team = 60  # 120 followers: more than one Currents batch
    sim.sim.reset()
    assert create_send_id(sim, "send-abc").status_code == 201
    created = create(sim, game_id="0022600123", send_id="send-abc")
    create(sim, game_id="later", time="2026-11-25T23:00:00Z")

    sim.control.advance(8 * 3600 - 1)  # one second early: nothing yet
    assert receiver.posts == [] and sim.sim.braze.messages_for("0022600123") == {}
    sim.control.advance(1)  # the POST returns only after delivery was attempted

    messages = sim.sim.braze.messages_for("0022600123")
    assert len(messages) == 120 and set(messages.values()) == {1}
    assert {u.split("-")[1] for u in messages} == {"BOS", "NYK"}
    assert [len(p["body"]["events"]) for p in receiver.posts] == [CURRENTS_BATCH_SIZE, 20]
    assert all(p["authorization"] == f"Bearer {CURRENTS_TOKEN}" for p in receiver.posts)
    events = [e for p in receiver.posts for e in p["body"]["events"]]
    assert len({e["id"] for e in events}) == 120
    event = events[0]
    assert event["event_type"] == SEND_EVENT_TYPE
    assert event["time"] == int(datetime(2026, 11, 24, 23, tzinfo=UTC).timestamp())
    assert set(event["user"]) == {"user_id", "external_user_id", "device_id", "timezone"}
    assert event["properties"]["campaign_id"] == CAMPAIGN
    assert event["properties"]["dispatch_id"] == created["dispatch_id"]
    assert event["properties"]["send_id"] == "send-abc"
    assert event["properties"]["platform"] in ("ios", "android")
    assert truth_schedule(sim, created["schedule_id"])["status"] == "sent"
    currents = sim.sim.braze.truth()["currents"]
    assert currents["batches_delivered"] == 2 and currents["batches_pending"] == 0
    assert sim.sim.braze.messages_for("later") == {}


def test_failed_currents_batch_stays_in_outbox_and_is_redelivered(sim, receiver):
    receiver.script.extend([503, 429])
    create(sim)
    sim.control.advance(8 * 3600)
    assert [p["status"] for p in receiver.posts] == [503]
    assert sim.sim.braze.truth()["currents"]["batches_pending"] == 1

    sim.control.advance(1)  # within the backoff: no new attempt
    assert len(receiver.posts) == 1
    sim.control.advance(60)  # backoff elapsed: retried, answered 429, still pending
    assert [p["status"] for p in receiver.posts] == [503, 429]

    flushed = httpx.post(sim.url + "/_sim/braze/flush", timeout=10).json()
    assert flushed == {"attempted": 1, "delivered": 1, "pending": 0}
    bodies = [p["body"]["events"] for p in receiver.posts]
    assert bodies[0] == bodies[1] == bodies[2]  # the same events each time, none lost
    assert len(receiver.delivered_event_ids()) == 6
    batch = sim.sim.braze.truth()["currents"]["batches"][0]
    assert batch["status"] == "delivered" and batch["attempts"] == 3


def test_unreachable_receiver_keeps_batches_until_it_comes_back(sim, receiver):
    sim.sim.config.currents_url = "http://127.0.0.1:9/currents"  # nothing listens on port 9
    create(sim)
    sim.control.advance(8 * 3600)
    currents = sim.sim.braze.truth()["currents"]
    assert currents["batches_pending"] == 1 and currents["post_attempts"] == 1
    sim.sim.config.currents_url = receiver.url
    assert sim.sim.braze.flush_outbox()["delivered"] == 1
    assert len(receiver.delivered_event_ids()) == 6


def test_duplicate_delivery_fault_resends_the_same_event_ids(sim, receiver):
    sim.control.add_fault("duplicate_delivery", route="braze.currents", times=1)
    create(sim)
    sim.control.advance(8 * 3600)
    ids = receiver.delivered_event_ids()
    assert len(ids) == 12 and ids[:6] == ids[6:]
    assert sim.sim.braze.truth()["currents"]["duplicate_batch_sends"] == 1
    assert set(sim.sim.braze.messages_for("g1").values()) == {1}  # one push each, two reports


def test_two_live_schedules_for_one_game_message_every_follower_twice(sim):
    create(sim, game_id="dup")
    create(sim, game_id="dup", time="2026-11-24T23:01:00Z")
    assert len(sim.sim.braze.live_schedules_for("dup")) == 2
    sim.control.advance(9 * 3600)
    messages = sim.sim.braze.messages_for("dup")
    assert len(messages) == 6 and set(messages.values()) == {2}
    truth = sim.control.state()["braze"]
    assert truth["duplicate_messages"] == 6 and truth["games_with_duplicates"] == ["dup"]


def test_deleted_and_moved_schedules_send_only_at_their_final_time(sim):
    cancelled = create(sim, game_id="cancelled")
    moved = create(sim, game_id="moved")
    call(sim, "POST", DELETE, {"campaign_id": CAMPAIGN, "schedule_id": cancelled["schedule_id"]})
    call(
        sim,
        "POST",
        UPDATE,
        {
            "campaign_id": CAMPAIGN,
            "schedule_id": moved["schedule_id"],
            "schedule": {"time": "2026-11-25T02:00:00Z"},
        },
    )
    sim.control.advance(9 * 3600)  # 00:00Z: past the original time only
    assert sim.sim.braze.messages_for("cancelled") == {} and sim.sim.braze.messages_for("moved") == {}
    sim.control.advance(2 * 3600)
    assert len(sim.sim.braze.messages_for("moved")) == 6
    assert truth_schedule(sim, moved["schedule_id"])["sent_at"] == "2026-11-25T02:00:00Z"


def test_connected_audience_filter_selects_fans_by_favorite_team(sim):
    audience = {
        "OR": [
            {
                "custom_attribute": {
                    "custom_attribute_name": "favorite_team",
                    "comparison": "equals",
                    "value": "LAL",
                }
            },
            {
                "custom_attribute": {
                    "custom_attribute_name": "favorite_team",
                    "comparison": "equals",
                    "value": "GSW",
                }
            },
        ]
    }
    body = create_body(game_id="aud", audience=audience, trigger_properties={"game_id": "aud"})
    del body["broadcast"]
    assert call(sim, "POST", CREATE, body).status_code == 201
    sim.control.advance(9 * 3600)
    assert sorted(sim.sim.braze.messages_for("aud")) == [
        "fan-GSW-001",
        "fan-GSW-002",
        "fan-GSW-003",
        "fan-LAL-001",
        "fan-LAL-002",
        "fan-LAL-003",
    ]


def test_new_id_on_update_fault_leaves_old_schedule_live_as_well(sim):
    sim.control.add_fault("new_id_on_update", route="braze.update", times=1)
    old = create(sim, game_id="g6")
    answer = call(
        sim,
        "POST",
        UPDATE,
        {
            "campaign_id": CAMPAIGN,
            "schedule_id": old["schedule_id"],
            "schedule": {"time": "2026-11-24T23:30:00Z"},
        },
    ).json()
    assert answer["schedule_id"] != old["schedule_id"]
    live = {s["schedule_id"]: s for s in sim.sim.braze.live_schedules_for("g6")}
    assert set(live) == {old["schedule_id"], answer["schedule_id"]}
    assert live[old["schedule_id"]]["time"] == "2026-11-24T23:00:00Z"
    assert live[answer["schedule_id"]]["time"] == "2026-11-24T23:30:00Z"
    assert live[answer["schedule_id"]]["replaces"] == old["schedule_id"]


def test_new_id_on_update_without_keep_old_cancels_the_old_schedule(sim):
    sim.control.add_fault("new_id_on_update", route="braze.update", times=1, params={"keep_old": False})
    old = create(sim, game_id="g7")
    answer = call(
        sim,
        "POST",
        UPDATE,
        {
            "campaign_id": CAMPAIGN,
            "schedule_id": old["schedule_id"],
            "schedule": {"time": "2026-11-24T23:30:00Z"},
        },
    ).json()
    assert [s["schedule_id"] for s in sim.sim.braze.live_schedules_for("g7")] == [answer["schedule_id"]]


def test_call_counters_count_every_request_per_route(sim):
    create(sim)
    call(sim, "POST", CREATE, create_body(time="bad"))
    call(sim, "POST", DELETE, {"campaign_id": CAMPAIGN, "schedule_id": "x"})
    call(sim, "GET", LIST, params={"end_time": "2026-11-25"})
    create_send_id(sim, "s-1")
    create_send_id(sim, "s-1")
    truth = sim.control.state()
    assert truth["braze"]["calls"] == {
        "braze.create": 2,
        "braze.update": 0,
        "braze.delete": 1,
        "braze.send_id_create": 2,
        "braze.list": 1,
    }
    assert truth["braze"]["applied"] == {
        "braze.create": 1,
        "braze.update": 0,
        "braze.delete": 0,
        "braze.send_id_create": 1,
    }
    assert truth["request_counts"]["braze.create"] == 2
    assert truth["request_counts"]["braze.send_id_create"] == 2


def test_reset_forgets_schedules_messages_and_outbox(sim):
    create(sim)
    sim.control.advance(9 * 3600)
    sim.control.reset()
    truth = sim.control.state()["braze"]
    assert truth["schedules"] == [] and truth["messages"] == {} and truth["currents"]["batches"] == []


def test_control_route_points_currents_elsewhere_and_sets_the_default_list_lag(sim, receiver):
    control = sim.url + "/_sim/braze/config"
    answer = httpx.post(control, json={"currents_url": None, "list_lag_seconds": 120}, timeout=10).json()
    assert answer["currents_url"] is None and answer["list_lag_seconds"] == 120
    create(sim)
    assert call(sim, "GET", LIST, params={"end_time": "2026-11-26"}).json()["scheduled_broadcasts"] == []
    sim.control.advance(120)
    assert len(call(sim, "GET", LIST, params={"end_time": "2026-11-26"}).json()["scheduled_broadcasts"]) == 1
    sim.control.advance(8 * 3600)
    currents = sim.sim.braze.truth()["currents"]
    assert currents["batches_without_connector"] == 1 and receiver.posts == []


# -- send identifiers -------------------------------------------------------------------------


def test_send_id_create_records_the_pair_and_answers_with_the_daily_limit_headers(sim):
    response = create_send_id(sim, "nba_abc")
    assert response.status_code == 201 and response.json() == {"message": "success", "send_id": "nba_abc"}
    assert (
        response.headers["X-RateLimit-Limit"] == "100" and response.headers["X-RateLimit-Remaining"] == "99"
    )
    # The daily limit resets at the next simulated UTC midnight (the clock is at 2026-11-24 15:00Z).
    assert int(response.headers["X-RateLimit-Reset"]) == int(datetime(2026, 11, 25, tzinfo=UTC).timestamp())
    truth = sim.sim.braze.truth()
    assert truth["send_ids"] == [
        {
            "campaign_id": CAMPAIGN,
            "send_id": "nba_abc",
            "created_at": "2026-11-24T15:00:00Z",
            "day": "2026-11-24",
        }
    ]
    assert truth["send_ids_created_per_day"] == {"2026-11-24": 1}


def test_recreating_an_existing_send_id_succeeds_without_counting_again(sim):
    first = create_send_id(sim, "nba_abc")
    again = create_send_id(sim, "nba_abc")
    assert again.status_code == 201 and again.json()["send_id"] == "nba_abc"
    assert first.headers["X-RateLimit-Remaining"] == again.headers["X-RateLimit-Remaining"] == "99"
    truth = sim.sim.braze.truth()
    assert len(truth["send_ids"]) == 1 and truth["send_ids_created_per_day"] == {"2026-11-24": 1}


def test_send_ids_over_the_daily_limit_answer_429_until_the_next_simulated_utc_day(sim):
    sim.sim.config.braze_send_id_daily_limit = 2
    sim.sim.reset()
    assert [create_send_id(sim, f"s-{i}").status_code for i in range(2)] == [201, 201]
    limited = create_send_id(sim, "s-2")
    assert limited.status_code == 429 and limited.json()["message"] == "Daily send identifier limit exceeded"
    assert limited.headers["X-RateLimit-Limit"] == "2" and limited.headers["X-RateLimit-Remaining"] == "0"
    assert int(limited.headers["X-RateLimit-Reset"]) == int(datetime(2026, 11, 25, tzinfo=UTC).timestamp())
    assert int(limited.headers["Retry-After"]) == 9 * 3600  # 15:00Z -> midnight, in simulated seconds
    assert create_send_id(sim, "s-0").status_code == 201  # an existing pair is not a new one
    assert {s["send_id"] for s in sim.sim.braze.truth()["send_ids"]} == {"s-0", "s-1"}

    sim.control.advance(9 * 3600)  # 2026-11-25 00:00Z: a new day, a new allowance
    renewed = create_send_id(sim, "s-2")
    assert renewed.status_code == 201 and renewed.headers["X-RateLimit-Remaining"] == "1"
    assert sim.sim.braze.truth()["send_ids_created_per_day"] == {"2026-11-24": 2, "2026-11-25": 1}


def test_send_id_for_an_unknown_campaign_or_without_a_usable_id_is_a_400(sim):
    unknown = create_send_id(sim, "s-1", campaign_id="no-such-campaign")
    assert unknown.status_code == 400 and "not found" in unknown.json()["errors"][0]
    too_long = create_send_id(sim, "x" * 65)
    assert too_long.status_code == 400 and "64 characters" in too_long.json()["errors"][0]
    assert sim.sim.braze.truth()["send_ids"] == []


def test_send_id_is_per_campaign(sim):
    sim.sim.braze.add_campaign("other-campaign", "Other")
    assert create_send_id(sim, "shared", campaign_id="other-campaign").status_code == 201
    response = call(sim, "POST", CREATE, create_body(send_id="shared"))
    assert response.status_code == 400 and "shared" in response.json()["errors"][0]


def test_schedule_create_with_a_send_id_never_created_is_rejected_and_creates_nothing(sim):
    response = call(sim, "POST", CREATE, create_body(send_id="nba_never_created"))
    assert response.status_code == 400
    body = response.json()
    assert body["message"] == "Invalid send_id"
    assert "'nba_never_created'" in body["errors"][0] and "/sends/id/create" in body["errors"][0]
    assert sim.sim.braze.truth()["schedules"] == []
    assert create_send_id(sim, "nba_never_created").status_code == 201
    created = create(sim, send_id="nba_never_created")
    assert truth_schedule(sim, created["schedule_id"])["send_id"] == "nba_never_created"


def test_transport_faults_apply_to_send_id_create(sim):
    sim.control.add_fault("status", route="braze.send_id_create", times=1, params={"code": 503})
    assert create_send_id(sim, "s-1").status_code == 503
    assert sim.sim.braze.truth()["send_ids"] == []
    assert create_send_id(sim, "s-1").status_code == 201
