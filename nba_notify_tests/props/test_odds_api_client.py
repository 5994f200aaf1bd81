"""The Odds API client against the simulator over real HTTP: the endpoints the real API has,
its quota headers and credit costs, its 401/422/429 answers classified — and the key, which
travels in the URL, never in a message, a stored request or a log line."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from nba_notify.lib.clients.http import RetryPolicy, Timeouts
from nba_notify.lib.clients.odds_api import OddsApiClient, call_cost
from nba_notify.lib.errors import ErrorCategory, PipelineError
from nba_notify.lib.props import parse

KEY = "sim-odds-api-key"
FAST = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05)
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # the simulator's default clock
TONIGHT = (datetime(2026, 11, 24, 17, 0, tzinfo=UTC), datetime(2026, 11, 25, 8, 0, tzinfo=UTC))


def make(sim, key: str = KEY) -> OddsApiClient:
    return OddsApiClient(
        sim.url + "/odds-api", key, timeouts=Timeouts(connect=1, read=3), retry=FAST, sleep=lambda s: None
    )


@pytest.fixture
def odds(sim) -> Iterator[OddsApiClient]:
    with make(sim) as client:
        yield client


def sim_state(sim, **changes) -> dict:
    if changes:
        return httpx.post(sim.url + "/_sim/odds-api/state", json=changes).json()
    return httpx.get(sim.url + "/_sim/odds-api/state").json()


def test_events_are_free_and_name_teams_in_full(sim, odds):
    page = odds.events(*TONIGHT)
    events = parse.odds_api_events(page.payload)
    truth = sim.control.truth_games(NOW.date())
    assert {(e.home_team, e.away_team) for e in events} == {(g["home"], g["away"]) for g in truth}
    assert all(e.home_name.count(" ") >= 1 for e in events)  # "Boston Celtics", not "BOS"
    assert page.quota.last == 0 and page.quota.remaining == sim_state(sim)["remaining"]
    assert "apiKey" not in page.params


def test_event_odds_cost_markets_returned_times_regions_and_carry_player_lines(sim, odds):
    event = parse.odds_api_events(odds.events(*TONIGHT).payload)[0]
    before = sim_state(sim)["used"]
    page = odds.event_odds(event.event_id, ["player_points", "player_assists"], ["us", "eu"])
    assert page.quota.last == call_cost(["player_points", "player_assists"], ["us", "eu"]) == 4
    assert page.quota.used == before + 4 and page.quota.remaining == sim_state(sim)["remaining"]
    quotes = parse.odds_api_props(page.payload)
    assert {q.market for q in quotes} == {"player_points", "player_assists"}
    assert {q.book for q in quotes} == {"draftkings", "fanduel", "betmgm", "pinnacle"}
    assert all(q.over_price is not None and q.under_price is not None and q.line % 0.5 == 0 for q in quotes)
    assert odds.readings[-1] == page.quota


def test_props_are_not_posted_far_ahead_and_cost_nothing_then(sim, odds):
    far = parse.odds_api_events(odds.events(NOW + timedelta(days=5), NOW + timedelta(days=6)).payload)[0]
    page = odds.event_odds(far.event_id)
    assert parse.odds_api_props(page.payload) == [] and page.quota.last == 0


def test_historical_snapshots_are_wrapped_and_cost_ten_times(sim, odds):
    day_start = datetime(2026, 11, 22, 5, 0, tzinfo=UTC)
    listing = odds.historical_events(
        day_start + timedelta(hours=10), day_start, day_start + timedelta(hours=24)
    )
    assert {"timestamp", "previous_timestamp", "next_timestamp", "data"} <= set(listing.payload)
    assert listing.quota.last == 1
    event = parse.odds_api_events(listing.payload)[0]
    page = odds.historical_event_odds(event.event_id, event.commence_time - timedelta(minutes=15))
    assert (
        page.quota.last
        == call_cost(["player_points", "player_rebounds", "player_assists"], ["us"], historical=True)
        == 30
    )
    assert parse.odds_api_props(page.payload)
    lines = odds.historical_odds(
        day_start + timedelta(hours=12), commence_from=day_start, commence_to=day_start + timedelta(hours=24)
    )
    assert lines.quota.last == 30 and parse.odds_api_lines(lines.payload)[1]


def test_an_invalid_key_is_auth_and_the_key_is_nowhere(sim, caplog):
    secret = "not-the-key-0123456789"
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="httpx")  # the CLI quiets httpx; other tests may have run it
    with make(sim, secret) as client, pytest.raises(PipelineError) as raised:
        client.events()
    error = raised.value
    assert error.category is ErrorCategory.AUTH and error.status_code == 401
    assert error.details["error_code"] == "INVALID_KEY"
    assert secret not in str(error) and secret not in repr(error.as_dict())
    assert "GET" in caplog.text and secret not in caplog.text  # httpx logged the call, key masked
    assert "apiKey=***" in caplog.text


def test_player_markets_on_the_featured_endpoint_are_a_422_validation_error(odds):
    with pytest.raises(PipelineError) as raised:
        odds.odds(["player_points"])
    assert raised.value.category is ErrorCategory.VALIDATION and raised.value.status_code == 422
    assert raised.value.details["error_code"] == "INVALID_MARKET"


def test_too_frequent_calls_are_retried_and_persistent_429_is_rate_limit(sim, odds):
    body = {"message": "Requests are being sent too frequently.", "error_code": "EXCEEDED_FREQ_LIMIT"}
    sim.control.add_fault("status", route="odds_api.events", times=2, params={"code": 429, "body": body})
    assert odds.events(*TONIGHT).response.status == 200  # two 429s, then an answer
    sim.control.add_fault("status", route="odds_api.events", params={"code": 429, "body": body})
    with pytest.raises(PipelineError) as raised:
        odds.events(*TONIGHT)
    assert (
        raised.value.category is ErrorCategory.RATE_LIMIT
        and raised.value.details["error_code"] == "EXCEEDED_FREQ_LIMIT"
    )


def test_spent_credits_are_a_quota_error_not_a_bad_key(sim, odds):
    event = parse.odds_api_events(odds.events(*TONIGHT).payload)[0]
    state = sim_state(sim)
    sim_state(sim, used=state["quota_total"])
    with pytest.raises(PipelineError) as raised:
        odds.event_odds(event.event_id)
    error = raised.value
    assert error.status_code == 401 and error.details["error_code"] == "OUT_OF_USAGE_CREDITS"
    assert error.category is ErrorCategory.RATE_LIMIT and error.details["reason"] == "out_of_usage_credits"
    assert "monthly reset" in error.recovery
