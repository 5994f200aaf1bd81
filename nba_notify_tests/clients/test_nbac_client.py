"""The NBA.com client against the simulator over real HTTP (and a tiny real server for CDN
answers the simulator does not produce: a 404, an HTML bot block)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from nba_notify.lib.clients.http import ResponseCache, RetryPolicy, Timeouts
from nba_notify.lib.clients.nbac import NbacClient, season_for_date, season_param
from nba_notify.lib.errors import ErrorCategory, PipelineError
from nba_notify.lib.ingest.parse import parse_nbac_box_score, parse_nbac_schedule
from nba_notify.lib.web.serve import BackgroundServer

TODAY = date(2026, 11, 24)  # the simulator's default clock: 2026-11-24 15:00 UTC
YESTERDAY = date(2026, 11, 23)
SEASON = 2026
FAST_RETRY = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05)


class FixedClock:
    def __init__(self, now: datetime):
        self._now = now

    def now(self) -> datetime:
        return self._now


def make_client(base_url: str, **kwargs: Any) -> NbacClient:
    """``base_url`` is the simulated CDN (``<sim>/nbac``); its stats host sits beside it."""
    return NbacClient(
        base_url,
        stats_base_url=kwargs.pop("stats_base_url", base_url.removesuffix("/nbac") + "/nbac-stats"),
        timeouts=kwargs.pop("timeouts", Timeouts(connect=1, read=5)),
        retry=kwargs.pop("retry", FAST_RETRY),
        sleep=lambda seconds: None,
        seed=7,
        **kwargs,
    )


@pytest.fixture
def nbac(sim) -> Iterator[NbacClient]:
    with make_client(sim.url + "/nbac") as client:
        yield client


def truth(sim, day: date) -> list[dict[str, Any]]:
    response = httpx.get(sim.url + "/_sim/truth/games", params={"date": day.isoformat()}, timeout=10)
    response.raise_for_status()
    return response.json()["games"]


def request_counts(sim) -> dict[str, int]:
    return sim.control.state()["request_counts"]


def test_schedule_is_downloaded_once_across_many_dates(sim, nbac):
    days = [date(2026, 10, 27) + timedelta(days=7 * k) for k in range(8)] + [YESTERDAY, TODAY]
    pages = []
    for day in days:
        page = nbac.schedule(season_for_date(day), current_season_start_year=SEASON)
        assert parse_nbac_schedule(page.payload, day), day
        pages.append(page)
    statuses = [call.status for call in nbac.recorder.calls]
    assert statuses == [200] + [304] * (len(days) - 1)  # one body, then ETag revalidations
    summary = nbac.recorder.summary()
    assert summary["cache_hits"] == len(days) - 1 and summary["cache_hit_ratio"] > 0.8
    assert all(p.from_cache for p in pages[1:])
    # the several-MB body is decoded once, not once per date
    assert all(p.payload is pages[0].payload for p in pages)


def test_fresh_cached_schedule_costs_no_request_within_max_age(sim):
    with make_client(sim.url + "/nbac", cache=ResponseCache(max_age=60)) as client:
        for _ in range(5):
            client.schedule(SEASON, current_season_start_year=SEASON)
        assert request_counts(sim).get("nbac.schedule") == 1
        assert client.recorder.summary()["cache_hits"] == 4


def test_republished_schedule_is_seen_on_the_next_call(sim, nbac):
    """ETag revalidation (the default) means a postponement shows up at once, even when the
    cached copy is seconds old."""
    game = truth(sim, TODAY)[0]
    before = parse_nbac_schedule(nbac.schedule(SEASON, current_season_start_year=SEASON).payload, TODAY)
    assert {g.source_game_id: g.status for g in before}[game["nba_game_id"]] == "scheduled"
    httpx.post(f"{sim.url}/_sim/games/{game['nba_game_id']}", json={"status": "postponed"}).raise_for_status()
    after = parse_nbac_schedule(nbac.schedule(SEASON, current_season_start_year=SEASON).payload, TODAY)
    assert {g.source_game_id: g.status for g in after}[game["nba_game_id"]] == "postponed"


def test_schedule_matches_simulator_truth(sim, nbac):
    facts = {g["nba_game_id"]: g for g in truth(sim, YESTERDAY)}
    games = parse_nbac_schedule(nbac.schedule(SEASON, current_season_start_year=SEASON).payload, YESTERDAY)
    assert {g.source_game_id for g in games} == set(facts)
    for g in games:
        fact = facts[g.source_game_id]
        assert g.source_game_id == fact["nba_game_id"]
        assert (g.status, g.home_score, g.away_score) == ("final", fact["home_score"], fact["away_score"])
        assert g.tipoff_utc.isoformat().replace("+00:00", "Z") == fact["tipoff_utc"]


def test_current_season_comes_from_the_cdn_file_and_past_seasons_from_the_stats_route(sim, nbac):
    current = nbac.schedule(SEASON, current_season_start_year=SEASON)
    past = nbac.schedule(2025, current_season_start_year=SEASON)
    assert current.params["route"] == "cdn" and current.payload["leagueSchedule"]["seasonYear"] == "2026-27"
    assert past.params["route"] == "stats" and past.params["Season"] == "2025-26"
    assert past.payload["leagueSchedule"]["seasonYear"] == "2025-26"
    counts = request_counts(sim)
    assert counts.get("nbac.schedule") == 1 and counts.get("nbac.schedule_season") == 1


def test_cdn_file_already_on_the_next_season_falls_back_to_the_stats_route(sim, nbac):
    # In August the CDN file holds the upcoming season (as the real one does once the new
    # schedule is published), while the season we ask for is the one that just ended.
    sim.control.set_clock(datetime(2026, 8, 20, 15, 0, tzinfo=UTC))
    page = nbac.schedule(2025, current_season_start_year=season_for_date(date(2026, 8, 20)))
    assert page.params["route"] == "stats"
    assert page.payload["leagueSchedule"]["seasonYear"] == "2025-26"


def test_current_season_follows_the_clock_when_not_given():
    january = NbacClient(
        "http://127.0.0.1:9",
        stats_base_url="http://127.0.0.1:9",
        clock=FixedClock(datetime(2027, 1, 10, 3, 0, tzinfo=UTC)),
    )
    # 2026-10-01 03:00 UTC is still September 30 in New York
    late_sept = NbacClient(
        "http://127.0.0.1:9",
        stats_base_url="http://127.0.0.1:9",
        clock=FixedClock(datetime(2026, 10, 1, 3, 0, tzinfo=UTC)),
    )
    assert january.current_season() == 2026
    assert late_sept.current_season() == 2025
    assert season_param(2026) == "2026-27" and season_param(1999) == "1999-00"


def test_box_score_of_a_game_not_started_is_none(sim, nbac):
    tonight = truth(sim, TODAY)[0]
    assert tonight["status"] == "scheduled"
    assert nbac.box_score(tonight["nba_game_id"]) is None  # the CDN's 403 AccessDenied XML


def test_box_score_of_a_final_game_parses_into_player_lines(sim, nbac):
    fact = truth(sim, YESTERDAY)[0]
    page = nbac.box_score(fact["nba_game_id"])
    assert page is not None
    assert (page.endpoint, dict(page.params)) == ("box_score", {"game_id": fact["nba_game_id"]})
    lines = parse_nbac_box_score(page.payload, YESTERDAY)
    assert len(lines) == fact["home_players"] + fact["away_players"]
    assert {line.source_game_id for line in lines} == {fact["nba_game_id"]}
    assert sum(line.points for line in lines if line.team == fact["away"]) == fact["away_score"]


def test_box_score_read_timeout_is_classified_timeout(sim):
    fact = truth(sim, YESTERDAY)[0]
    sim.control.add_fault("timeout", route="nbac.boxscore", params={"seconds": 0.8})
    with make_client(sim.url + "/nbac", timeouts=Timeouts(connect=1, read=0.2),
                     retry=RetryPolicy(max_attempts=2, base_delay=0.01)) as client:  # fmt: skip
        with pytest.raises(PipelineError) as info:
            client.box_score(fact["nba_game_id"])
    assert info.value.category is ErrorCategory.TIMEOUT and info.value.details["attempts"] == 2


def test_brotli_box_score_is_decoded(sim, nbac):
    # (the box score, not the 1.6 MB schedule: the simulator compresses at brotli's slowest
    # setting and the test would only measure that)
    fact = truth(sim, YESTERDAY)[0]
    sim.control.add_fault("brotli", route="nbac.boxscore", times=1)
    page = nbac.box_score(fact["nba_game_id"])
    assert page is not None and page.response.headers.get("content-encoding") == "br"
    assert parse_nbac_box_score(page.payload, YESTERDAY)


def test_truncated_schedule_is_retried_then_fails_as_validation(sim, nbac):
    sim.control.add_fault("truncate", route="nbac.schedule")
    with pytest.raises(PipelineError) as info:
        nbac.schedule(SEASON, current_season_start_year=SEASON)
    assert info.value.category is ErrorCategory.VALIDATION and info.value.details["attempts"] == 3


def test_schedule_5xx_then_success_is_retried(sim, nbac):
    sim.control.add_fault("status", route="nbac.schedule_season", times=2, params={"code": 503})
    page = nbac.schedule(2025, current_season_start_year=SEASON)
    assert page.response.attempts == 3


def test_malformed_game_id_is_refused_before_any_request(sim, nbac):
    with pytest.raises(PipelineError) as info:
        nbac.box_score("../../scheduleLeagueV2")
    assert info.value.category is ErrorCategory.VALIDATION
    assert nbac.recorder.calls == []


# -- CDN answers the simulator does not produce ---------------------------------------------


@pytest.fixture(scope="module")
def cdn() -> Iterator[BackgroundServer]:
    """``0022600001``: 404; ``0022600002``: an HTML "Access Denied" bot block (403)."""

    async def box(request: Request) -> Response:
        game_id = request.path_params["game_id"]
        if game_id == "0022600001":
            return Response(b"Not Found", status_code=404)
        return Response(b"<HTML><HEAD><TITLE>Access Denied</TITLE></HEAD><BODY>Reference #18.1</BODY></HTML>",
                        status_code=403, media_type="text/html")  # fmt: skip

    app = Starlette(routes=[Route("/static/json/liveData/boxscore/boxscore_{game_id}.json", box)])
    with BackgroundServer(app) as server:
        yield server


def test_box_score_404_is_none(cdn):
    with make_client(cdn.url) as client:
        assert client.box_score("0022600001") is None


def test_box_score_blocked_by_a_bot_wall_is_an_auth_error_not_none(cdn):
    with make_client(cdn.url) as client, pytest.raises(PipelineError) as info:
        client.box_score("0022600002")
    assert info.value.category is ErrorCategory.AUTH and info.value.status_code == 403
