"""The BettingPros client against the simulator over real HTTP, built on seed 004's issue 3
(3 of 14 dates lost): answers slower than 30 s, Brotli bodies, intermittent 5xx — and the
offers endpoint's paging (at most 10 per page)."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from nba_notify.defs.props.resources import BettingProsResource
from nba_notify.lib.clients.bettingpros import DEFAULT_READ_TIMEOUT, BettingProsClient
from nba_notify.lib.clients.http import RetryPolicy, Timeouts
from nba_notify.lib.errors import ErrorCategory, PipelineError
from nba_notify.lib.props import parse

KEY = "sim-bettingpros-key"
TODAY = date(2026, 11, 24)  # props are up for tonight's games at the simulator's clock
FAST = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05)


def make(sim, *, read: float = 3.0, key: str = KEY, retry: RetryPolicy = FAST) -> BettingProsClient:
    return BettingProsClient(
        sim.url + "/bettingpros",
        key,
        timeouts=Timeouts(connect=1, read=read),
        retry=retry,
        sleep=lambda s: None,
    )


def behave(sim, **settings) -> None:
    httpx.post(sim.url + "/_sim/bettingpros/state", json=settings).raise_for_status()


def test_offers_are_paged_ten_at_a_time_and_every_player_is_collected_once(sim):
    with make(sim) as client:
        events = parse.bettingpros_events(client.events(TODAY).payload)
        assert {(e.home_team, e.away_team) for e in events} == {
            (g["home"], g["away"]) for g in sim.control.truth_games(TODAY)
        }
        pages = list(client.offers_pages([int(e.event_id) for e in events], "player_points"))
    total = pages[0].payload["_pagination"]["total_items"]
    assert len(pages) == pages[0].payload["_pagination"]["total_pages"] == -(-total // 10) > 1
    assert [p.params["page"] for p in pages] == list(range(1, len(pages) + 1))
    players = [o["participants"][0]["name"] for p in pages for o in p.payload["offers"]]
    assert (
        len(players) == total
        and len(set(zip(players, [o["event_id"] for p in pages for o in p.payload["offers"]], strict=True)))
        == total
    )
    quotes = parse.bettingpros_props(p.payload for p in pages)
    assert {q.book for q in quotes} == {"draftkings", "fanduel", "betmgm"}


def test_brotli_bodies_are_decoded_not_stored_as_garbage(sim):
    with make(sim) as client:
        page = client.events(TODAY)
    assert page.response.headers.get("content-encoding") == "br"  # the simulator sent Brotli
    assert page.content.startswith(b"{") and page.payload["events"]


def test_an_answer_slower_than_the_read_timeout_is_a_classified_timeout(sim):
    behave(sim, delay_seconds=0.6)
    with (
        make(sim, read=0.2, retry=RetryPolicy(max_attempts=1)) as client,
        pytest.raises(PipelineError) as raised,
    ):
        client.events(TODAY)
    assert raised.value.category is ErrorCategory.TIMEOUT


def test_a_slow_answer_within_the_timeout_arrives(sim):
    behave(sim, delay_seconds=0.6)
    with make(sim, read=2.0, retry=RetryPolicy(max_attempts=1)) as client:
        assert client.events(TODAY).payload["events"]


def test_the_default_timeout_waits_longer_than_the_answers_that_cost_the_seed_its_dates():
    # seed 004: a 30 s timeout lost 3 of 14 dates to answers slower than that
    assert DEFAULT_READ_TIMEOUT > 30
    resource = BettingProsResource(base_url="http://127.0.0.1:1", api_key="k")
    assert resource.read_timeout == DEFAULT_READ_TIMEOUT


def test_intermittent_5xx_are_retried_and_every_attempt_counted(sim):
    behave(sim, error_every=2)
    with make(sim) as client:
        events = parse.bettingpros_events(client.events(TODAY).payload)
        pages = list(client.offers_pages([int(e.event_id) for e in events], "player_rebounds"))
        summary = client.recorder.summary()
    assert pages and summary["api_retries"] >= len(pages) // 2
    assert summary["api_errors"] == summary["api_retries"]


def test_a_wrong_key_is_auth(sim):
    with make(sim, key="nope") as client, pytest.raises(PipelineError) as raised:
        client.events(TODAY)
    assert raised.value.category is ErrorCategory.AUTH and raised.value.status_code == 403
