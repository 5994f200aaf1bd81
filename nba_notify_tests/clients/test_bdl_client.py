"""The BDL client against the simulator over real HTTP (and, for upstream misbehaviour the
simulator does not model — a cursor that never advances — a tiny real server on loopback)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from nba_notify.lib.clients.bdl import BdlClient
from nba_notify.lib.clients.http import RetryPolicy, Timeouts
from nba_notify.lib.errors import ErrorCategory, PipelineError
from nba_notify.lib.ingest.parse import parse_bdl_box_scores, parse_bdl_games
from nba_notify.lib.web.serve import BackgroundServer

TODAY = date(2026, 11, 24)  # the simulator's default clock: 2026-11-24 15:00 UTC, games ahead
YESTERDAY = date(2026, 11, 23)  # all final
FAST_RETRY = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05)


def make_client(base_url: str, api_key: str, sleeps: list[float] | None = None, **kwargs: Any) -> BdlClient:
    return BdlClient(
        base_url,
        api_key,
        timeouts=kwargs.pop("timeouts", Timeouts(connect=1, read=2)),
        retry=kwargs.pop("retry", FAST_RETRY),
        sleep=(sleeps if sleeps is not None else []).append,
        seed=7,
        **kwargs,
    )


@pytest.fixture
def bdl(sim) -> Iterator[tuple[BdlClient, list[float]]]:
    sleeps: list[float] = []
    with make_client(sim.url + "/bdl", sim.sim.config.bdl_api_key, sleeps) as client:
        yield client, sleeps


def truth(sim, day: date) -> list[dict[str, Any]]:
    response = httpx.get(sim.url + "/_sim/truth/games", params={"date": day.isoformat()}, timeout=10)
    response.raise_for_status()
    return response.json()["games"]


def test_cursor_paging_collects_every_game_of_a_date_exactly_once(sim, bdl):
    client, _ = bdl
    expected = {str(g["bdl_game_id"]) for g in truth(sim, TODAY)}
    pages = list(client.games_pages(TODAY, per_page=2))
    assert len(pages) == (len(expected) + 1) // 2 >= 2
    assert [p.page_number for p in pages] == list(range(1, len(pages) + 1))
    assert "cursor" not in pages[0].params and all("cursor" in p.params for p in pages[1:])
    assert all(p.params["dates[]"] == [TODAY.isoformat()] and p.params["per_page"] == 2 for p in pages)
    ids = [row["id"] for p in pages for row in p.payload["data"]]
    assert len(ids) == len(set(ids))
    assert {str(i) for i in ids} == expected
    games = parse_bdl_games([p.payload for p in pages])
    assert {g.source_game_id for g in games} == expected
    # each page keeps the raw bytes phase 1 stores
    assert all(p.response.status == 200 and p.content.startswith(b"{") for p in pages)


def test_games_match_simulator_truth_for_a_finished_day(sim, bdl):
    client, _ = bdl
    facts = {str(g["bdl_game_id"]): g for g in truth(sim, YESTERDAY)}
    games = parse_bdl_games([p.payload for p in client.games_pages(YESTERDAY)])
    assert {g.source_game_id for g in games} == set(facts)
    for game in games:
        fact = facts[game.source_game_id]
        assert (game.status, game.home_score, game.away_score) == (
            "final",
            fact["home_score"],
            fact["away_score"],
        )
        assert (
            game.tipoff_utc is not None
            and game.tipoff_utc.isoformat().replace("+00:00", "Z") == fact["tipoff_utc"]
        )


def test_key_is_sent_bare_where_a_bearer_key_is_refused(sim, bdl):
    client, _ = bdl
    key = sim.sim.config.bdl_api_key
    bearer = httpx.get(
        sim.url + "/bdl/v1/games",
        params={"dates[]": TODAY.isoformat()},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert bearer.status_code == 401  # so the client's success below means: no "Bearer"
    assert client.games(TODAY)[0].response.status == 200


def test_wrong_key_fails_as_auth_without_retrying(sim):
    with make_client(sim.url + "/bdl", "not-the-key") as client, pytest.raises(PipelineError) as info:
        client.games(TODAY)
    assert info.value.category is ErrorCategory.AUTH
    assert info.value.details["attempts"] == 1


def test_429_is_retried_with_backoff_then_classified_rate_limit(sim, bdl):
    client, sleeps = bdl
    sim.control.add_fault("rate_limit", route="bdl.games", params={"per_minute": 1})
    client.games(TODAY)  # uses the minute's only slot
    with pytest.raises(PipelineError) as info:
        client.games(TODAY)
    assert info.value.category is ErrorCategory.RATE_LIMIT
    assert info.value.status_code == 429 and info.value.details["attempts"] == 3
    # BDL's 429 carries no hint, so the waits are the client's own jittered backoff
    assert info.value.details["retry_after_seconds"] is None
    assert len(sleeps) == 2 and all(0 <= s <= FAST_RETRY.max_delay for s in sleeps)


def test_transient_429_recovers_on_retry(sim, bdl):
    client, sleeps = bdl
    sim.control.add_fault(
        "status", route="bdl.box_scores", times=1, params={"code": 429, "body": {"error": "slow down"}}
    )
    page = client.box_scores(YESTERDAY)
    assert page.response.attempts == 2 and len(sleeps) == 1
    assert client.recorder.summary()["api_retries"] == 1


def test_brotli_body_is_decoded(sim, bdl):
    client, _ = bdl
    sim.control.add_fault("brotli", route="bdl.games", times=1)
    pages = client.games(YESTERDAY)
    assert parse_bdl_games([p.payload for p in pages])


def test_truncated_json_is_retried_then_fails_as_validation(sim, bdl):
    client, _ = bdl
    sim.control.add_fault("truncate", route="bdl.games")
    with pytest.raises(PipelineError) as info:
        client.games(TODAY)
    assert info.value.category is ErrorCategory.VALIDATION
    assert info.value.details["reason"] == "invalid_json" and info.value.details["attempts"] == 3


def test_malformed_json_once_recovers_on_retry(sim, bdl):
    client, _ = bdl
    sim.control.add_fault("malformed", route="bdl.box_scores", times=1)
    page = client.box_scores(YESTERDAY)
    assert page.response.attempts == 2 and parse_bdl_box_scores(page.payload)


def test_read_timeout_is_classified_timeout(sim):
    sim.control.add_fault("timeout", route="bdl.games", params={"seconds": 0.8})
    client = make_client(
        sim.url + "/bdl", sim.sim.config.bdl_api_key,
        timeouts=Timeouts(connect=1, read=0.2), retry=RetryPolicy(max_attempts=2, base_delay=0.01),
    )  # fmt: skip
    with client, pytest.raises(PipelineError) as info:
        client.games(TODAY)
    assert info.value.category is ErrorCategory.TIMEOUT
    assert info.value.details["phase"] == "read" and info.value.details["attempts"] == 2


def test_box_scores_have_a_line_per_player_who_played_in_every_started_game(sim, bdl):
    client, _ = bdl
    facts = {(g["away"], g["home"]): g for g in truth(sim, YESTERDAY)}
    page = client.box_scores(YESTERDAY)
    assert (page.endpoint, dict(page.params)) == ("box_scores", {"date": YESTERDAY.isoformat()})
    lines = parse_bdl_box_scores(page.payload)
    assert {(line.away_team, line.home_team) for line in lines} == set(facts)
    for key, fact in facts.items():
        mine = [line for line in lines if (line.away_team, line.home_team) == key]
        assert len(mine) == fact["home_players"] + fact["away_players"]
        assert sum(line.points for line in mine if line.team == fact["home"]) == fact["home_score"]
    # tonight's games have not started: no rows yet, and that is not an error
    assert parse_bdl_box_scores(client.box_scores(TODAY).payload) == []


# -- upstream misbehaviour the simulator does not model ----------------------------------


@pytest.fixture(scope="module")
def odd_upstream() -> Iterator[BackgroundServer]:
    """A real server on loopback: ``/stuck`` repeats its cursor, ``/endless`` always has a
    next page, ``/nometa`` omits ``meta``, ``/missing`` sends a game without ``home_team``."""

    def game(game_id: int) -> dict[str, Any]:
        team = {"id": 1, "abbreviation": "BOS"}
        return {"id": game_id, "date": "2026-11-24", "season": 2026, "status": "2026-11-25T00:30:00Z",
                "period": 0, "home_team_score": 0, "visitor_team_score": 0,
                "home_team": team, "visitor_team": {**team, "abbreviation": "NYK"}}  # fmt: skip

    async def games(request: Request) -> JSONResponse:
        mode = request.path_params["mode"]
        cursor = int(request.query_params.get("cursor") or 0)
        if mode == "stuck":
            return JSONResponse({"data": [game(1)], "meta": {"next_cursor": 5, "per_page": 1}})
        if mode == "endless":
            return JSONResponse(
                {"data": [game(cursor + 1)], "meta": {"next_cursor": cursor + 1, "per_page": 1}}
            )
        if mode == "nometa":
            return JSONResponse({"data": [game(1)]})
        broken = game(1)
        del broken["home_team"]
        return JSONResponse({"data": [game(2), broken], "meta": {"per_page": 25}})

    app = Starlette(routes=[Route("/{mode}/v1/games", games)])
    with BackgroundServer(app) as server:
        yield server


def test_repeated_cursor_raises_instead_of_looping(odd_upstream):
    with make_client(odd_upstream.url + "/stuck", "k") as client, pytest.raises(PipelineError) as info:
        client.games(TODAY)
    assert info.value.category is ErrorCategory.API
    assert info.value.details["reason"] == "repeated_cursor" and info.value.details["cursor"] == 5
    assert client.recorder.summary()["api_calls"] == 2


def test_more_pages_than_the_guard_allows_raises(odd_upstream):
    with (
        make_client(odd_upstream.url + "/endless", "k", max_pages=5) as client,
        pytest.raises(PipelineError) as info,
    ):
        client.games(TODAY)
    assert info.value.category is ErrorCategory.API
    assert info.value.details["reason"] == "too_many_pages" and info.value.details["pages_fetched"] == 5
    assert client.recorder.summary()["api_calls"] == 5


def test_page_without_meta_fails_as_validation_naming_the_field(odd_upstream):
    with make_client(odd_upstream.url + "/nometa", "k") as client, pytest.raises(PipelineError) as info:
        client.games(TODAY)
    assert info.value.category is ErrorCategory.VALIDATION
    assert [f["field"] for f in info.value.details["fields"]] == ["meta"]


def test_game_missing_a_field_fails_as_validation_naming_it(odd_upstream):
    with make_client(odd_upstream.url + "/missing", "k") as client:
        pages = client.games(TODAY)  # the envelope is fine: the page is kept for the raw store
    with pytest.raises(PipelineError) as info:
        parse_bdl_games([p.payload for p in pages])
    assert info.value.category is ErrorCategory.VALIDATION
    assert [f["field"] for f in info.value.details["fields"]] == ["data.1.home_team"]


def test_per_page_outside_the_api_limit_is_refused():
    with pytest.raises(ValueError):
        BdlClient("http://127.0.0.1:9", "k", per_page=101)
