"""The simulated NBA.com (CDN schedule + box scores, stats.nba.com season schedule) over real
HTTP: the real payloads' shape, the Eastern-time trap, ETags, and data faults."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from nba_notify.lib.clients.nbac import STATS_HEADERS
from nba_notify.sim.server import SimServer

TODAY, YESTERDAY = "2026-11-24", "2026-11-23"
SCHEDULE = "/static/json/staticData/scheduleLeagueV2.json"
REAL_BOXSCORE = Path(__file__).parent / "realdata" / "nbacom_live_boxscore_0042200123.json"
EASTERN = ZoneInfo("America/New_York")

# Keys of a real scheduleLeagueV2 game object and its containers, as public clients of the
# endpoint show them (poteto0/go-nba-sdk types/response_schedule_league_v2.go; a captured
# 2023-24 payload in an nbadb test fixture).
REAL_SCHEDULE_GAME_KEYS = {
    "gameId", "gameCode", "gameStatus", "gameStatusText", "gameSequence", "gameDateEst",
    "gameTimeEst", "gameDateTimeEst", "gameDateUTC", "gameTimeUTC", "gameDateTimeUTC",
    "awayTeamTime", "homeTeamTime", "day", "monthNum", "weekNumber", "weekName", "ifNecessary",
    "seriesGameNumber", "gameLabel", "gameSubLabel", "seriesText", "arenaName", "arenaState",
    "arenaCity", "postponedStatus", "branchLink", "gameSubtype", "isNeutral", "broadcasters",
    "homeTeam", "awayTeam", "pointsLeaders",
}  # fmt: skip
REAL_SCHEDULE_TEAM_KEYS = {
    "teamId", "teamName", "teamCity", "teamTricode", "teamSlug", "wins", "losses", "score", "seed",
}  # fmt: skip
REAL_LEAGUE_SCHEDULE_KEYS = {"seasonYear", "leagueId", "gameDates", "weeks", "broadcasterList"}


def stats_host(sim: SimServer) -> httpx.Client:
    """The simulated stats.nba.com, asked the way a browser on www.nba.com asks."""
    return httpx.Client(base_url=sim.url + "/nbac-stats", headers=STATS_HEADERS, timeout=30)


@pytest.fixture
def nbac(sim: SimServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim.url + "/nbac", timeout=10) as client:
        yield client


def truth(sim: SimServer, day: str) -> list[dict[str, Any]]:
    response = httpx.get(sim.url + "/_sim/truth/games", params={"date": day}, timeout=10)
    response.raise_for_status()
    return response.json()["games"]


def schedule_games(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [g for day in payload["leagueSchedule"]["gameDates"] for g in day["games"]]


def key_paths(node: Any, prefix: str = "") -> set[str]:
    paths: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            paths.add(f"{prefix}.{key}")
            paths |= key_paths(value, f"{prefix}.{key}")
    elif isinstance(node, list):
        for item in node:
            paths |= key_paths(item, prefix + "[]")
    return paths


def minutes(clock: str) -> float:
    match = re.fullmatch(r"PT(\d+)M([\d.]+)S", clock)
    assert match, clock
    return int(match[1]) + float(match[2]) / 60


def test_cdn_schedule_is_the_current_season_with_every_game(sim: SimServer, nbac: httpx.Client) -> None:
    payload = nbac.get(SCHEDULE).json()
    league = payload["leagueSchedule"]
    assert (league["seasonYear"], league["leagueId"]) == ("2026-27", "00")
    games = schedule_games(payload)
    assert len(games) == 1230
    assert all(isinstance(g["gameId"], str) and re.fullmatch(r"00226\d{5}", g["gameId"]) for g in games)
    assert all(re.fullmatch(r"\d{2}/\d{2}/\d{4} 00:00:00", d["gameDate"]) for d in league["gameDates"])
    today = {g["gameId"]: g for g in games if g["gameDateEst"].startswith(TODAY)}
    facts = truth(sim, TODAY)
    assert set(today) == {f["nba_game_id"] for f in facts}
    for fact in facts:
        game = today[fact["nba_game_id"]]
        assert game["gameDateTimeUTC"] == fact["tipoff_utc"]
        assert (game["homeTeam"]["teamTricode"], game["awayTeam"]["teamTricode"]) == (
            fact["home"],
            fact["away"],
        )
        assert (game["gameStatus"], game["homeTeam"]["score"]) == (1, 0)
    earlier = [g for g in games if g["gameDateEst"] < YESTERDAY + "T23"]
    assert {g["gameStatus"] for g in earlier} == {3}
    assert all(g["gameStatusText"].startswith("Final") for g in earlier)


def test_est_fields_end_in_z_but_are_eastern_wall_clock(nbac: httpx.Client) -> None:
    games = schedule_games(nbac.get(SCHEDULE).json())
    late = next(
        g
        for g in games
        if g["gameDateTimeEst"].startswith("2026-12") and g["gameTimeEst"].endswith("22:30:00Z")
    )
    utc = datetime.fromisoformat(late["gameDateTimeUTC"])
    eastern = utc.astimezone(EASTERN)
    assert late["gameDateTimeEst"] == eastern.strftime("%Y-%m-%dT%H:%M:%S") + "Z"
    naive_reading = datetime.fromisoformat(late["gameDateTimeEst"])  # what trusting the Z gives
    assert utc - naive_reading == timedelta(hours=5), "the Z lies: Est is Eastern wall clock"
    assert late["gameDateEst"][:10] == eastern.date().isoformat() != utc.date().isoformat()
    assert late["gameTimeEst"] == "1900-01-01T22:30:00Z" and late["gameTimeUTC"] == "1900-01-01T03:30:00Z"
    assert late["gameDateUTC"] == f"{late['gameDateEst'][:10]}T05:00:00Z"  # Eastern midnight in UTC
    october = next(
        g
        for g in games
        if g["gameDateTimeEst"].startswith("2026-10") and g["gameTimeEst"].endswith("19:00:00Z")
    )
    assert october["gameDateTimeUTC"].endswith("T23:00:00Z")  # daylight time: UTC-4


def test_schedule_game_objects_have_the_real_key_paths(nbac: httpx.Client) -> None:
    payload = nbac.get(SCHEDULE).json()
    assert set(payload) == {"meta", "leagueSchedule"}
    assert set(payload["leagueSchedule"]) >= REAL_LEAGUE_SCHEDULE_KEYS
    game = schedule_games(payload)[0]
    assert set(game) >= REAL_SCHEDULE_GAME_KEYS
    assert (
        set(game["homeTeam"]) >= REAL_SCHEDULE_TEAM_KEYS and set(game["awayTeam"]) >= REAL_SCHEDULE_TEAM_KEYS
    )
    week = payload["leagueSchedule"]["weeks"][0]
    assert set(week) == {"weekNumber", "weekName", "startDate", "endDate"}


def test_schedule_etag_answers_304_until_the_schedule_changes(sim: SimServer, nbac: httpx.Client) -> None:
    first = nbac.get(SCHEDULE)
    etag = first.headers["etag"]
    again = nbac.get(SCHEDULE, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    tip = min(datetime.fromisoformat(f["tipoff_utc"]) for f in truth(sim, TODAY))
    sim.control.set_clock(tip + timedelta(minutes=5))
    changed = nbac.get(SCHEDULE, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert 2 in {g["gameStatus"] for g in schedule_games(changed.json())}


def test_stats_endpoint_serves_any_season_and_cdn_follows_the_clock(
    sim: SimServer, nbac: httpx.Client
) -> None:
    past = stats_host(sim).get("/stats/scheduleleaguev2", params={"LeagueID": "00", "Season": "2025-26"})
    assert past.status_code == 200 and past.headers["etag"]
    games = schedule_games(past.json())
    assert past.json()["leagueSchedule"]["seasonYear"] == "2025-26"
    assert len(games) == 1230 and {g["gameStatus"] for g in games} == {3}
    assert all(g["gameId"].startswith("00225") for g in games)
    assert (
        stats_host(sim)
        .get("/stats/scheduleleaguev2", params={"LeagueID": "00", "Season": "2025"})
        .status_code
        == 400
    )
    sim.control.set_clock(datetime(2026, 3, 1, 12, tzinfo=UTC))
    assert nbac.get(SCHEDULE).json()["leagueSchedule"]["seasonYear"] == "2025-26"
    sim.control.set_clock(datetime(2026, 8, 1, 12, tzinfo=UTC))
    assert nbac.get(SCHEDULE).json()["leagueSchedule"]["seasonYear"] == "2026-27"


def test_boxscore_has_every_key_path_of_the_real_payload(sim: SimServer, nbac: httpx.Client) -> None:
    real = key_paths(json.loads(REAL_BOXSCORE.read_text()))
    simulated: set[str] = set()
    for fact in truth(sim, YESTERDAY):
        response = nbac.get(f"/static/json/liveData/boxscore/boxscore_{fact['nba_game_id']}.json")
        assert response.status_code == 200
        simulated |= key_paths(response.json())
    assert real - simulated == set()


def test_boxscore_is_access_denied_before_tipoff_and_for_unknown_games(
    sim: SimServer, nbac: httpx.Client
) -> None:
    upcoming = truth(sim, TODAY)[0]["nba_game_id"]
    for game_id in (upcoming, "0022609999", truth(sim, YESTERDAY)[0]["bdl_game_id"]):
        response = nbac.get(f"/static/json/liveData/boxscore/boxscore_{game_id}.json")
        assert response.status_code == 403
        assert "AccessDenied" in response.text and response.headers["content-type"].startswith(
            "application/xml"
        )


def test_final_boxscore_matches_truth(sim: SimServer, nbac: httpx.Client) -> None:
    for fact in truth(sim, YESTERDAY)[:3]:
        game = nbac.get(f"/static/json/liveData/boxscore/boxscore_{fact['nba_game_id']}.json").json()["game"]
        assert (game["gameStatus"], game["gameStatusText"][:5]) == (3, "Final")
        home = game["homeTeam"]
        assert (home["teamTricode"], home["score"]) == (fact["home"], fact["home_score"])
        assert game["awayTeam"]["score"] == fact["away_score"]
        assert sum(p["statistics"]["points"] for p in home["players"]) == home["score"]
        assert sum(p["played"] == "1" for p in home["players"]) == fact["home_players"]
        played_minutes = sum(minutes(p["statistics"]["minutes"]) for p in home["players"])
        assert played_minutes == pytest.approx(240 + 25 * (game["period"] - 4), abs=0.1)
        assert sum(period["score"] for period in home["periods"]) == home["score"]
        assert game["gameTimeUTC"] == fact["tipoff_utc"] and game["gameCode"].endswith(
            fact["away"] + fact["home"]
        )


def test_live_boxscore_and_schedule_agree_on_the_partial_score(sim: SimServer, nbac: httpx.Client) -> None:
    fact = min(truth(sim, TODAY), key=lambda f: f["tipoff_utc"])
    sim.control.set_clock(datetime.fromisoformat(fact["tipoff_utc"]) + timedelta(minutes=40))
    game = nbac.get(f"/static/json/liveData/boxscore/boxscore_{fact['nba_game_id']}.json").json()["game"]
    listed = next(g for g in schedule_games(nbac.get(SCHEDULE).json()) if g["gameId"] == fact["nba_game_id"])
    live = next(f for f in truth(sim, TODAY) if f["nba_game_id"] == fact["nba_game_id"])
    assert game["gameStatus"] == listed["gameStatus"] == 2 and game["period"] == 2
    assert re.fullmatch(r"Q2 \d{2}:\d{2}", game["gameStatusText"])
    assert game["homeTeam"]["score"] == listed["homeTeam"]["score"] == live["home_score"] > 0
    assert sum(p["statistics"]["points"] for p in game["awayTeam"]["players"]) == live["away_score"]


def test_dropped_games_vanish_from_schedule_and_boxscores_until_healed(
    sim: SimServer, nbac: httpx.Client
) -> None:
    heal_at = sim.control.now() + timedelta(hours=1)
    params = {"date": YESTERDAY, "count": 1, "until": heal_at.isoformat()}
    sim.control.add_fault("drop_games", route="nbac.*", params=params)
    facts = truth(sim, YESTERDAY)
    dropped = [f for f in facts if f["hidden_from"].get("nbac.schedule") == "dropped"]
    assert len(dropped) == 1 and "bdl.games" not in dropped[0]["hidden_from"]
    listed = {g["gameId"] for g in schedule_games(nbac.get(SCHEDULE).json())}
    assert dropped[0]["nba_game_id"] not in listed
    assert {f["nba_game_id"] for f in facts} - listed == {dropped[0]["nba_game_id"]}
    box_url = f"/static/json/liveData/boxscore/boxscore_{dropped[0]['nba_game_id']}.json"
    assert nbac.get(box_url).status_code == 403
    sim.control.advance(2 * 3600)
    assert dropped[0]["nba_game_id"] in {g["gameId"] for g in schedule_games(nbac.get(SCHEDULE).json())}
    assert nbac.get(box_url).status_code == 200


def test_drop_players_thins_the_nbac_boxscore(sim: SimServer, nbac: httpx.Client) -> None:
    fact = truth(sim, YESTERDAY)[0]
    params = {"game_ids": [fact["nba_game_id"]], "fraction": 0.5}
    sim.control.add_fault("drop_players", route="nbac.boxscore", params=params)
    game = nbac.get(f"/static/json/liveData/boxscore/boxscore_{fact['nba_game_id']}.json").json()["game"]
    played = sum(p["played"] == "1" for p in game["homeTeam"]["players"])
    assert played == fact["home_players"] - fact["home_players"] // 2
    expected = fact["home_players"] // 2 + fact["away_players"] // 2
    assert truth(sim, YESTERDAY)[0]["players_dropped"] == {"nbac.boxscore": expected}


def test_moved_and_postponed_games_through_the_control_route(sim: SimServer, nbac: httpx.Client) -> None:
    fact = truth(sim, TODAY)[0]
    control = httpx.Client(base_url=sim.url + "/_sim", timeout=10)
    new_tip = "2026-11-26T01:00:00Z"  # Nov 25, 8 pm ET
    moved = control.post(f"/games/{fact['nba_game_id']}", json={"tipoff_utc": new_tip}).json()
    assert (moved["tipoff_utc"], moved["date"], moved["moved"]) == (new_tip, "2026-11-25", True)
    assert fact["nba_game_id"] not in {f["nba_game_id"] for f in truth(sim, TODAY)}
    listed = next(g for g in schedule_games(nbac.get(SCHEDULE).json()) if g["gameId"] == fact["nba_game_id"])
    assert (listed["gameDateTimeUTC"], listed["gameDateEst"]) == (new_tip, "2026-11-25T00:00:00Z")
    key = {"Authorization": sim.sim.config.bdl_api_key}
    bdl = httpx.get(sim.url + "/bdl/v1/games", params={"dates[]": "2026-11-25"}, headers=key)
    assert new_tip in {g["status"] for g in bdl.json()["data"] if g["id"] == fact["bdl_game_id"]}

    postponed = control.post(f"/games/{fact['bdl_game_id']}", json={"status": "postponed"}).json()
    assert postponed["status"] == "postponed"
    sim.control.set_clock(datetime(2026, 11, 26, 6, tzinfo=UTC))
    listed = next(g for g in schedule_games(nbac.get(SCHEDULE).json()) if g["gameId"] == fact["nba_game_id"])
    assert (listed["gameStatus"], listed["gameStatusText"], listed["postponedStatus"]) == (1, "PPD", "Y")
    assert nbac.get(f"/static/json/liveData/boxscore/boxscore_{fact['nba_game_id']}.json").status_code == 403
    assert control.post("/games/0022609999", json={"status": "postponed"}).status_code == 404
    assert control.post(f"/games/{fact['nba_game_id']}", json={"status": "final"}).status_code == 400

    sim.control.reset()
    assert fact["nba_game_id"] in {f["nba_game_id"] for f in truth(sim, TODAY)}
    control.close()


def test_request_timings_are_reported(sim: SimServer, nbac: httpx.Client) -> None:
    """A miniature of the season backfill: 20 game days through both sources (figures only)."""
    bdl = httpx.Client(
        base_url=sim.url + "/bdl", headers={"Authorization": sim.sim.config.bdl_api_key}, timeout=10
    )
    started, requests = time.perf_counter(), 0
    built = time.perf_counter()
    stats_host(sim).get("/stats/scheduleleaguev2", params={"LeagueID": "00", "Season": "2025-26"})
    built = time.perf_counter() - built
    day = datetime(2026, 1, 5)
    for offset in range(20):
        date_text = (day + timedelta(days=offset)).date().isoformat()
        games = bdl.get("/v1/games", params={"dates[]": date_text, "per_page": 100}).json()["data"]
        bdl.get("/v1/box_scores", params={"date": date_text})
        requests += 2
        for fact in truth(sim, date_text):
            nbac.get(f"/static/json/liveData/boxscore/boxscore_{fact['nba_game_id']}.json")
            requests += 1
        assert len(games) == len(truth(sim, date_text))
    elapsed = time.perf_counter() - started
    print(f"\nseason schedule build {built * 1000:.0f} ms; {requests} source requests in {elapsed:.2f}s "
          f"({elapsed / requests * 1000:.1f} ms each, truth calls included)")  # fmt: skip
    bdl.close()


def test_stats_schedule_is_served_by_the_stats_host_only_and_only_to_browser_like_requests(
    sim: SimServer, nbac: httpx.Client
) -> None:
    """Like the real hosts: cdn.nba.com does not serve the stats path (S3's 403), and
    stats.nba.com refuses a client that does not look like a browser on www.nba.com."""
    params = {"LeagueID": "00", "Season": "2024-25"}
    on_the_cdn = nbac.get("/stats/scheduleleaguev2", params=params)
    assert on_the_cdn.status_code == 403 and b"AccessDenied" in on_the_cdn.content
    bare = httpx.get(sim.url + "/nbac-stats/stats/scheduleleaguev2", params=params, timeout=10)
    assert bare.status_code == 403
    served = stats_host(sim).get("/stats/scheduleleaguev2", params=params)
    assert served.status_code == 200 and served.json()["leagueSchedule"]["seasonYear"] == "2024-25"
