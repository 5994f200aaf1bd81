"""The simulated BallDontLie API over real HTTP: auth, paging, payload facts and data faults."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from nba_notify.sim.server import SimServer

TODAY = "2026-11-24"  # the default clock is 2026-11-24 15:00 UTC: tonight's games are ahead
YESTERDAY = "2026-11-23"  # all final


@pytest.fixture
def bdl(sim: SimServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": sim.sim.config.bdl_api_key}
    with httpx.Client(base_url=sim.url + "/bdl", headers=headers, timeout=10) as client:
        yield client


def truth(sim: SimServer, day: str) -> list[dict[str, Any]]:
    response = httpx.get(sim.url + "/_sim/truth/games", params={"date": day}, timeout=10)
    response.raise_for_status()
    return response.json()["games"]


def all_pages(bdl: httpx.Client, params: dict[str, Any]) -> list[dict[str, Any]]:
    rows, cursor = [], None
    while True:
        page = bdl.get("/v1/games", params={**params, **({"cursor": cursor} if cursor else {})})
        page.raise_for_status()
        body = page.json()
        rows += body["data"]
        cursor = body["meta"].get("next_cursor")
        if cursor is None:
            return rows


def listed(bdl: httpx.Client, bdl_game_id: int) -> dict[str, Any]:
    games = bdl.get("/v1/games", params={"dates[]": TODAY}).json()["data"]
    return next(g for g in games if g["id"] == bdl_game_id)


def test_key_goes_in_authorization_without_bearer(sim: SimServer) -> None:
    key = sim.sim.config.bdl_api_key
    url = sim.url + "/bdl/v1/games"
    assert httpx.get(url, params={"dates[]": TODAY}).status_code == 401
    assert (
        httpx.get(url, params={"dates[]": TODAY}, headers={"Authorization": f"Bearer {key}"}).status_code
        == 401
    )
    assert httpx.get(url, params={"dates[]": TODAY}, headers={"Authorization": "wrong"}).status_code == 401
    assert httpx.get(url, params={"date": TODAY}, headers={"Authorization": key}).status_code == 200
    assert httpx.get(sim.url + "/bdl/v1/box_scores", params={"date": TODAY}).status_code == 401


def test_cursor_paging_returns_every_game_of_a_date_exactly_once(sim: SimServer, bdl: httpx.Client) -> None:
    expected = {g["bdl_game_id"] for g in truth(sim, TODAY)}
    first = bdl.get("/v1/games", params={"dates[]": TODAY, "per_page": 2}).json()
    assert len(first["data"]) == 2 and first["meta"]["per_page"] == 2 and "next_cursor" in first["meta"]
    ids = [g["id"] for g in all_pages(bdl, {"dates[]": TODAY, "per_page": 2})]
    assert len(ids) == len(set(ids)) == len(expected) >= 3
    assert set(ids) == expected


def test_several_dates_teams_and_ranges_filter_the_listing(sim: SimServer, bdl: httpx.Client) -> None:
    both = all_pages(bdl, {"dates[]": [YESTERDAY, TODAY], "per_page": 100})
    assert {g["id"] for g in both} == {g["bdl_game_id"] for d in (YESTERDAY, TODAY) for g in truth(sim, d)}
    ranged = all_pages(bdl, {"start_date": YESTERDAY, "end_date": TODAY, "per_page": 100})
    assert {g["id"] for g in ranged} == {g["id"] for g in both}
    team = both[0]["home_team"]["id"]
    mine = all_pages(bdl, {"dates[]": [YESTERDAY, TODAY], "team_ids[]": team})
    assert mine and all(team in (g["home_team"]["id"], g["visitor_team"]["id"]) for g in mine)


def test_per_page_defaults_to_25_and_caps_at_100(bdl: httpx.Client) -> None:
    default = bdl.get("/v1/games", params={"seasons[]": 2025}).json()
    assert len(default["data"]) == 25 and default["meta"]["per_page"] == 25
    capped = bdl.get("/v1/games", params={"seasons[]": 2025, "per_page": 500}).json()
    assert len(capped["data"]) == 100
    season = all_pages(bdl, {"seasons[]": 2025, "per_page": 100})
    assert len(season) == len({g["id"] for g in season}) == 1230
    assert {g["season"] for g in season} == {2025} and {g["status"] for g in season} == {"Final"}


def test_game_objects_carry_bdl_fields_and_both_date_spellings(bdl: httpx.Client) -> None:
    games = bdl.get("/v1/games", params={"seasons[]": 2025, "per_page": 100}).json()["data"]
    for game in games:
        assert set(game) >= {"id", "date", "datetime", "season", "status", "period", "time", "postseason",
                             "home_team_score", "visitor_team_score", "home_team", "visitor_team"}  # fmt: skip
        assert set(game["home_team"]) == {
            "id",
            "conference",
            "division",
            "city",
            "name",
            "full_name",
            "abbreviation",
        }
    spellings = {"plain" if re.fullmatch(r"\d{4}-\d{2}-\d{2}", g["date"]) else g["date"][10:] for g in games}
    assert spellings == {"plain", "T00:00:00.000Z"}


def test_scheduled_game_status_holds_iso_tipoff_and_zero_scores(sim: SimServer, bdl: httpx.Client) -> None:
    expected = {g["bdl_game_id"]: g for g in truth(sim, TODAY)}
    for game in bdl.get("/v1/games", params={"dates[]": TODAY}).json()["data"]:
        assert game["status"] == expected[game["id"]]["tipoff_utc"]
        assert datetime.fromisoformat(game["status"]) > sim.control.now()
        assert (game["period"], game["time"], game["home_team_score"], game["visitor_team_score"]) == (
            0,
            None,
            0,
            0,
        )


def test_live_and_final_statuses_follow_the_clock(sim: SimServer, bdl: httpx.Client) -> None:
    first = min(truth(sim, TODAY), key=lambda g: g["tipoff_utc"])
    tip = datetime.fromisoformat(first["tipoff_utc"])
    seen = {}
    for minutes, expected in (
        (10, "1st Qtr"),
        (45, "2nd Qtr"),
        (65, "Halftime"),
        (80, "3rd Qtr"),
        (120, "4th Qtr"),
    ):
        sim.control.set_clock(tip + timedelta(minutes=minutes))
        game = listed(bdl, first["bdl_game_id"])
        assert game["status"] == expected
        seen[minutes] = game["home_team_score"] + game["visitor_team_score"]
    assert seen[10] < seen[45] <= seen[65] < seen[80] < seen[120]
    sim.control.set_clock(tip + timedelta(hours=4))
    final = listed(bdl, first["bdl_game_id"])
    fact = next(g for g in truth(sim, TODAY) if g["bdl_game_id"] == first["bdl_game_id"])
    assert final["status"] == "Final" and final["period"] >= 4
    assert (final["home_team_score"], final["visitor_team_score"]) == (fact["home_score"], fact["away_score"])


def test_box_scores_have_no_game_id_and_only_started_games(sim: SimServer, bdl: httpx.Client) -> None:
    games = sorted(truth(sim, TODAY), key=lambda g: g["tipoff_utc"])
    sim.control.set_clock(datetime.fromisoformat(games[0]["tipoff_utc"]) + timedelta(minutes=20))
    started = {(g["home"], g["away"]) for g in truth(sim, TODAY) if g["status"] in ("live", "final")}
    assert 0 < len(started) < len(games)
    rows = bdl.get("/v1/box_scores", params={"date": TODAY}).json()["data"]
    assert {(r["home_team"]["abbreviation"], r["visitor_team"]["abbreviation"]) for r in rows} == started
    for row in rows:
        assert "id" not in row and "game" not in row and "game_id" not in row
        assert row["status"] == "1st Qtr"
        for side, score in (("home_team", "home_team_score"), ("visitor_team", "visitor_team_score")):
            assert sum(p["pts"] for p in row[side]["players"]) == row[score]


def test_final_box_scores_match_truth_players_and_points(sim: SimServer, bdl: httpx.Client) -> None:
    facts = {(g["home"], g["away"]): g for g in truth(sim, YESTERDAY)}
    rows = bdl.get("/v1/box_scores", params={"date": YESTERDAY}).json()["data"]
    assert len(rows) == len(facts)
    for row in rows:
        fact = facts[(row["home_team"]["abbreviation"], row["visitor_team"]["abbreviation"])]
        home_played = [p for p in row["home_team"]["players"] if p["min"] not in ("0", "00")]
        assert len(home_played) == fact["home_players"]
        assert (
            sum(p["pts"] for p in row["home_team"]["players"]) == fact["home_score"] == row["home_team_score"]
        )
        player = row["home_team"]["players"][0]
        stats = {"min", "fgm", "fga", "fg3m", "ftm", "pts", "reb", "ast", "stl", "blk", "turnover", "pf"}
        assert stats | {"player"} <= set(player)
        assert {"id", "first_name", "last_name", "position", "team_id"} <= set(player["player"])
        assert player["player"]["team_id"] == row["home_team"]["id"]


def test_dropped_games_are_absent_until_the_fault_heals(sim: SimServer, bdl: httpx.Client) -> None:
    heal_at = sim.control.now() + timedelta(hours=2)
    params = {"date": YESTERDAY, "count": 2, "until": heal_at.isoformat()}
    sim.control.add_fault("drop_games", route="bdl.*", params=params)
    facts = truth(sim, YESTERDAY)
    dropped = {g["bdl_game_id"] for g in facts if g["hidden_from"].get("bdl.games") == "dropped"}
    assert len(dropped) == 2
    assert all("nbac.schedule" not in g["hidden_from"] for g in facts), "the other source is untouched"
    listed = {g["id"] for g in all_pages(bdl, {"dates[]": YESTERDAY})}
    assert listed == {g["bdl_game_id"] for g in facts} - dropped
    boxes = bdl.get("/v1/box_scores", params={"date": YESTERDAY}).json()["data"]
    assert len(boxes) == len(facts) - 2
    sim.control.advance(3 * 3600)
    assert {g["id"] for g in all_pages(bdl, {"dates[]": YESTERDAY})} == {g["bdl_game_id"] for g in facts}
    assert len(bdl.get("/v1/box_scores", params={"date": YESTERDAY}).json()["data"]) == len(facts)


def test_dropping_named_games_accepts_either_source_id(sim: SimServer, bdl: httpx.Client) -> None:
    facts = truth(sim, YESTERDAY)
    named = [facts[0]["nba_game_id"], facts[1]["bdl_game_id"]]
    sim.control.add_fault("drop_games", route="bdl.games", params={"game_ids": named})
    listed = {g["id"] for g in all_pages(bdl, {"dates[]": YESTERDAY})}
    assert listed == {g["bdl_game_id"] for g in facts[2:]}


def test_lagged_games_appear_only_after_the_delay(sim: SimServer, bdl: httpx.Client) -> None:
    sim.control.add_fault(
        "lag_games", route="bdl.games", params={"date": TODAY, "count": 3, "delay_hours": 1}
    )
    facts = truth(sim, TODAY)
    lagged = {g["bdl_game_id"] for g in facts if g["hidden_from"].get("bdl.games") == "lagged"}
    assert len(lagged) == 3
    assert {g["id"] for g in all_pages(bdl, {"dates[]": TODAY})} == {g["bdl_game_id"] for g in facts} - lagged
    last_tip = max(datetime.fromisoformat(g["tipoff_utc"]) for g in facts)
    sim.control.set_clock(last_tip + timedelta(minutes=61))
    assert {g["id"] for g in all_pages(bdl, {"dates[]": TODAY})} == {g["bdl_game_id"] for g in facts}


def test_drop_players_leaves_a_fraction_out_of_box_scores(sim: SimServer, bdl: httpx.Client) -> None:
    sim.control.add_fault("drop_players", route="bdl.box_scores", params={"date": YESTERDAY, "fraction": 0.5})
    facts = {(g["home"], g["away"]): g for g in truth(sim, YESTERDAY)}
    for row in bdl.get("/v1/box_scores", params={"date": YESTERDAY}).json()["data"]:
        fact = facts[(row["home_team"]["abbreviation"], row["visitor_team"]["abbreviation"])]
        played = [p for p in row["home_team"]["players"] if p["min"] not in ("0", "00")]
        expected_dropped = fact["home_players"] // 2 + fact["away_players"] // 2
        assert fact["players_dropped"] == {"bdl.box_scores": expected_dropped}
        assert len(played) == fact["home_players"] - fact["home_players"] // 2


def test_rate_limit_answers_429_with_error_body_and_no_rate_limit_headers(
    sim: SimServer, bdl: httpx.Client
) -> None:
    sim.control.add_fault("rate_limit", route="bdl.games", params={"per_minute": 2})
    statuses = [bdl.get("/v1/games", params={"dates[]": TODAY}) for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    limited = statuses[-1]
    assert "error" in limited.json()
    assert not [h for h in limited.headers if h.lower().startswith(("x-ratelimit", "retry-after"))]
    assert bdl.get("/v1/box_scores", params={"date": TODAY}).status_code == 200


def test_requests_are_counted_per_route(sim: SimServer, bdl: httpx.Client) -> None:
    bdl.get("/v1/games", params={"dates[]": TODAY})
    bdl.get("/v1/box_scores", params={"date": TODAY})
    bdl.get("/v1/box_scores", params={"date": YESTERDAY})
    counts = sim.control.state()["request_counts"]
    assert counts["bdl.games"] == 1 and counts["bdl.box_scores"] == 2
