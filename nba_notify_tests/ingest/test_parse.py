"""Parsers from upstream payloads to canonical rows: real NBA.com payloads
(``realdata/``), and BDL / scheduleLeagueV2 payloads built in the documented real shapes."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from nba_notify.lib.errors import ErrorCategory, PipelineError
from nba_notify.lib.ingest.parse import (
    parse_bdl_box_scores,
    parse_bdl_games,
    parse_nbac_box_score,
    parse_nbac_schedule,
    parse_nbac_scoreboard,
    season_for_date,
)
from nba_notify.lib.ingest.payloads import bdl_minutes, iso_minutes

REALDATA = Path(__file__).parent / "realdata"


def realdata(name: str) -> dict[str, Any]:
    return json.loads((REALDATA / name).read_text())


def field_paths(error: PipelineError) -> list[str]:
    return [f["field"] for f in error.details["fields"]]


# -- builders in the real shapes ----------------------------------------------------------


def bdl_team(tricode: str) -> dict[str, Any]:
    return {"id": 1, "conference": "East", "division": "Atlantic", "city": "X", "name": "Y",
            "full_name": "X Y", "abbreviation": tricode}  # fmt: skip


def bdl_game(
    game_id: int = 1001,
    *,
    date_: str = "2024-04-04",
    status: str = "2024-04-04T23:30:00Z",
    home: str = "MIA",
    away: str = "PHI",
    home_score: int = 0,
    away_score: int = 0,
    period: int = 0,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": game_id,
        "date": date_,
        "season": 2023,
        "status": status,
        "period": period,
        "time": None,
        "postseason": False,
        "home_team_score": home_score,
        "visitor_team_score": away_score,
        "home_team": bdl_team(home),
        "visitor_team": bdl_team(away),
        **extra,
    }


def bdl_page(*games: dict[str, Any], next_cursor: int | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"per_page": 25}
    if next_cursor is not None:
        meta["next_cursor"] = next_cursor
    return {"data": list(games), "meta": meta}


def bdl_line(player_id: int, minutes: str, pts: int = 10, reb: int = 5, ast: int = 3) -> dict[str, Any]:
    return {
        "min": minutes, "fgm": 4, "fga": 9, "fg_pct": 0.444, "fg3m": 1, "fg3a": 3, "fg3_pct": 0.333,
        "ftm": 1, "fta": 2, "ft_pct": 0.5, "oreb": 1, "dreb": 4, "reb": reb, "ast": ast, "stl": 1,
        "blk": 0, "turnover": 2, "pf": 3, "pts": pts,
        "player": {"id": player_id, "first_name": "First", "last_name": f"Last{player_id}",
                   "position": "G", "height": "6-4", "weight": "200", "jersey_number": "1"},
    }  # fmt: skip


def nbac_game(
    game_id: str = "0022500171",
    *,
    utc: str = "2025-11-06T00:00:00Z",
    est: str = "2025-11-05T19:00:00Z",
    home: str | None = "CLE",
    away: str | None = "PHI",
    status: int = 1,
    text: str = "7:00 pm ET",
    home_score: int = 0,
    away_score: int = 0,
    postponed_status: str = "N",
) -> dict[str, Any]:
    """One ``leagueSchedule.gameDates[].games[]`` entry as scheduleLeagueV2 spells it."""
    return {
        "gameId": game_id,
        "gameCode": f"20251105/{away}{home}",
        "gameStatus": status,
        "gameStatusText": text,
        "gameSequence": 1,
        "gameDateEst": est[:10] + "T00:00:00Z",
        "gameTimeEst": "1900-01-01" + est[10:],
        "gameDateTimeEst": est,  # Eastern wall clock with a misleading Z
        "gameDateUTC": est[:10] + "T04:00:00Z",
        "gameTimeUTC": "1900-01-01" + utc[10:],  # a time only: the date part is 1900
        "gameDateTimeUTC": utc,
        "postponedStatus": postponed_status,
        "homeTeam": {"teamId": 1610612739, "teamName": "Cavaliers", "teamCity": "Cleveland",
                     "teamTricode": home, "teamSlug": "cavaliers", "wins": 5, "losses": 3,
                     "score": home_score, "seed": 0},
        "awayTeam": {"teamId": 1610612755, "teamName": "76ers", "teamCity": "Philadelphia",
                     "teamTricode": away, "teamSlug": "sixers", "wins": 5, "losses": 3,
                     "score": away_score, "seed": 0},
        "pointsLeaders": [],
    }  # fmt: skip


def nbac_schedule(*buckets: tuple[str, list[dict[str, Any]]], season: str = "2025-26") -> dict[str, Any]:
    return {
        "meta": {"version": 1, "request": "http://nba.cloud/league/00/2025-26/scheduleleaguev2?Format=json",
                 "time": "2025-11-05T10:36:14.3614Z"},
        "leagueSchedule": {
            "seasonYear": season,
            "leagueId": "00",
            "gameDates": [{"gameDate": day, "games": games} for day, games in buckets],
            "weeks": [],
        },
    }  # fmt: skip


# -- NBA.com, real payloads ---------------------------------------------------------------


def test_live_box_score_has_one_line_per_player_who_played():
    lines = parse_nbac_box_score(realdata("nbacom_live_boxscore_0042200123.json"), date(2023, 4, 20))
    # NBA.com lines carry the league's gameId: the game's identity
    assert {line.source_game_id for line in lines} == {"0042200123"}
    assert {(line.game_date, line.away_team, line.home_team) for line in lines} == {
        (date(2023, 4, 20), "PHI", "BKN")
    }
    assert {line.team for line in lines} == {"BKN", "PHI"}
    # 15 listed per team; the DNPs (played "0", e.g. Seth Curry) and the inactive Ben Simmons
    # are not player lines
    assert sum(1 for line in lines if line.team == "BKN") == 9
    assert sum(1 for line in lines if line.team == "PHI") == 9
    names = {line.player_name for line in lines}
    assert "Ben Simmons" not in names and "Seth Curry" not in names
    # the lines add up to the final score, BKN 97-102 PHI
    assert sum(line.points for line in lines if line.team == "BKN") == 97
    assert sum(line.points for line in lines if line.team == "PHI") == 102
    johnson = next(line for line in lines if line.player_name == "Cameron Johnson")
    assert johnson.player_id == "1629661" and johnson.source == "nbac"
    assert johnson.minutes == 43.73  # "PT43M44.00S"
    assert (johnson.points, johnson.rebounds, johnson.assists) == (17, 5, 4)


def test_box_score_for_another_game_day_is_rejected_naming_the_field():
    with pytest.raises(PipelineError) as info:
        parse_nbac_box_score(realdata("nbacom_live_boxscore_0042200123.json"), date(2023, 4, 21))
    assert info.value.category is ErrorCategory.VALIDATION
    assert field_paths(info.value) == ["game.gameTimeUTC"]


def test_box_score_missing_a_statistic_fails_as_validation_naming_the_path():
    payload = realdata("nbacom_live_boxscore_0042200123.json")
    del payload["game"]["awayTeam"]["players"][2]["statistics"]["points"]
    with pytest.raises(PipelineError) as info:
        parse_nbac_box_score(payload, date(2023, 4, 20))
    assert info.value.category is ErrorCategory.VALIDATION
    assert field_paths(info.value) == ["game.awayTeam.players.2.statistics.points"]
    assert "game.awayTeam.players.2.statistics.points" in info.value.message


def test_scoreboard_game_day_is_the_eastern_date_of_tipoff_not_the_utc_date():
    games = parse_nbac_scoreboard(realdata("statsnba_scoreboardv3_2025-11-05.json"))
    assert len(games) == 11
    # ten of the eleven tip off on 2025-11-06 in UTC; all belong to the 2025-11-05 game day
    assert {g.tipoff_utc.date() for g in games} == {date(2025, 11, 6)}
    assert {g.game_date for g in games} == {date(2025, 11, 5)}
    cle = next(g for g in games if g.home_team == "CLE")
    # gameEt says "2025-11-05T19:00:00Z" — Eastern wall clock with a misleading Z; read as
    # UTC it would put tip-off five hours early. gameTimeUTC is the truth.
    assert cle.tipoff_utc == datetime(2025, 11, 6, 0, 0, tzinfo=UTC)
    assert cle.matchup == "PHI@CLE"
    assert (cle.status, cle.home_score, cle.away_score, cle.season) == ("final", 132, 121, 2025)
    assert cle.source == "nbac" and cle.source_game_id == "0022500171"


def test_live_scoreboard_maps_game_status_2_to_live_with_running_scores():
    games = {
        g.matchup: g
        for g in parse_nbac_scoreboard(realdata("nbacom_live_todaysScoreboard_00_2023-04-20.json"))
    }
    assert set(games) == {"SAC@GSW", "PHX@LAC", "PHI@BKN"}
    assert {g.game_date for g in games.values()} == {date(2023, 4, 20)}
    gsw = games["SAC@GSW"]
    assert (gsw.status, gsw.home_score, gsw.away_score) == ("live", 39, 30)
    assert gsw.tipoff_utc == datetime(2023, 4, 21, 2, 0, tzinfo=UTC)  # 10pm ET on the 20th
    assert games["PHI@BKN"].status == "final"
    assert {g.season for g in games.values()} == {2022}


# -- NBA.com schedule (scheduleLeagueV2 shape) --------------------------------------------


def test_schedule_tipoff_comes_from_gameDateTimeUTC_never_the_est_fields():
    late = nbac_game(
        "0022500181", utc="2025-11-06T03:00:00Z", est="2025-11-05T22:00:00Z", home="SAC", away="GSW"
    )
    games = parse_nbac_schedule(nbac_schedule(("11/05/2025 00:00:00", [late])), date(2025, 11, 5))
    assert len(games) == 1
    game = games[0]
    assert game.tipoff_utc == datetime(2025, 11, 6, 3, 0, tzinfo=UTC)
    assert game.tipoff_utc.tzinfo is not None
    assert game.game_date == date(2025, 11, 5)
    assert game.matchup == "GSW@SAC"
    assert (game.status, game.home_score, game.away_score) == ("scheduled", None, None)
    assert game.season == 2025 and game.source_game_id == "0022500181"


def test_schedule_returns_only_the_requested_eastern_game_day():
    payload = nbac_schedule(
        ("11/04/2025 00:00:00", [nbac_game("0022500160", utc="2025-11-05T00:00:00Z", est="2025-11-04T19:00:00Z")]),
        ("11/05/2025 00:00:00", [
            nbac_game("0022500171", utc="2025-11-06T00:00:00Z", est="2025-11-05T19:00:00Z"),
            nbac_game("0022500179", utc="2025-11-06T03:00:00Z", est="2025-11-05T22:00:00Z", home="LAL", away="SAS"),
        ]),
        ("11/06/2025 00:00:00", [nbac_game("0022500185", utc="2025-11-07T00:30:00Z", est="2025-11-06T19:30:00Z", home="BOS", away="WAS")]),
    )  # fmt: skip
    assert {g.source_game_id for g in parse_nbac_schedule(payload, date(2025, 11, 5))} == {
        "0022500171",
        "0022500179",
    }
    assert {g.source_game_id for g in parse_nbac_schedule(payload, date(2025, 11, 6))} == {"0022500185"}
    assert parse_nbac_schedule(payload, date(2025, 12, 25)) == []


def test_schedule_finds_a_moved_game_still_filed_under_its_old_date():
    moved = nbac_game(
        "0022500100", utc="2025-11-06T00:30:00Z", est="2025-11-05T19:30:00Z", home="BOS", away="WAS"
    )
    payload = nbac_schedule(
        ("10/29/2025 00:00:00", [moved]),
        ("11/05/2025 00:00:00", [nbac_game("0022500171")]),
    )
    assert {g.source_game_id for g in parse_nbac_schedule(payload, date(2025, 11, 5))} == {
        "0022500100",
        "0022500171",
    }
    assert parse_nbac_schedule(payload, date(2025, 10, 29)) == []


@pytest.mark.parametrize(
    ("status", "text", "postponed_status", "expected"),
    [
        (1, "7:00 pm ET", "N", "scheduled"),
        (2, "Q3 05:12", "N", "live"),
        (2, "Half", "N", "live"),
        (3, "Final", "N", "final"),
        (3, "Final/OT", "N", "final"),
        (1, "PPD", "Y", "postponed"),
        (1, "Postponed", "N", "postponed"),
        (1, "Cancelled", "C", "cancelled"),
        # postponedStatus alone is not trusted: a season feed was seen marking every game "Y"
        (1, "7:00 pm ET", "Y", "scheduled"),
    ],
)
def test_schedule_status_vocabulary(status, text, postponed_status, expected):
    game = nbac_game(
        status=status, text=text, postponed_status=postponed_status, home_score=60, away_score=58
    )
    [parsed] = parse_nbac_schedule(nbac_schedule(("11/05/2025 00:00:00", [game])), date(2025, 11, 5))
    assert parsed.status == expected
    scored = expected in ("live", "final")
    assert (parsed.home_score, parsed.away_score) == ((60, 58) if scored else (None, None))


def test_schedule_skips_preseason_all_star_and_undetermined_playoff_slots():
    payload = nbac_schedule(
        ("11/05/2025 00:00:00", [
            nbac_game("0012500001"),  # preseason
            nbac_game("0032500001", home="CLE", away="PHI"),  # all-star
            nbac_game("0042500201", home=None, away="PHI"),  # opponent not known yet
            nbac_game("0042500202", home="CLE", away=""),
            nbac_game("0022500171"),
        ]),
    )  # fmt: skip
    assert [g.source_game_id for g in parse_nbac_schedule(payload, date(2025, 11, 5))] == ["0022500171"]


def test_schedule_unknown_tricode_fails_as_validation_naming_the_full_path():
    payload = nbac_schedule(
        ("11/04/2025 00:00:00", [nbac_game("0022500160", utc="2025-11-05T00:00:00Z", est="2025-11-04T19:00:00Z")]),
        ("11/05/2025 00:00:00", [nbac_game("0022500171", home="XYZ")]),
    )  # fmt: skip
    with pytest.raises(PipelineError) as info:
        parse_nbac_schedule(payload, date(2025, 11, 5))
    assert info.value.category is ErrorCategory.VALIDATION
    assert field_paths(info.value) == ["leagueSchedule.gameDates.1.games.0.homeTeam.teamTricode"]
    assert "XYZ" in info.value.details["fields"][0]["problem"]


def test_schedule_missing_utc_tipoff_fails_as_validation_naming_the_field():
    game = nbac_game()
    del game["gameDateTimeUTC"]
    with pytest.raises(PipelineError) as info:
        parse_nbac_schedule(nbac_schedule(("11/05/2025 00:00:00", [game])), date(2025, 11, 5))
    assert info.value.category is ErrorCategory.VALIDATION
    assert field_paths(info.value) == ["leagueSchedule.gameDates.0.games.0.gameDateTimeUTC"]


def test_schedule_numeric_game_id_is_rejected_not_silently_stripped_of_zeros():
    game = nbac_game()
    game["gameId"] = 22500171
    with pytest.raises(PipelineError) as info:
        parse_nbac_schedule(nbac_schedule(("11/05/2025 00:00:00", [game])), date(2025, 11, 5))
    assert field_paths(info.value) == ["leagueSchedule.gameDates.0.games.0.gameId"]


def test_schedule_without_league_schedule_fails_as_validation():
    with pytest.raises(PipelineError) as info:
        parse_nbac_schedule({"meta": {}}, date(2025, 11, 5))
    assert info.value.category is ErrorCategory.VALIDATION
    assert field_paths(info.value) == ["leagueSchedule"]


# -- BDL ----------------------------------------------------------------------------------


def test_bdl_scheduled_status_holds_the_utc_tipoff_and_midnight_z_date_is_the_game_day():
    page = bdl_page(bdl_game(1038703, date_="2024-04-04T00:00:00.000Z", status="2024-04-04T23:30:00Z"))
    [game] = parse_bdl_games([page])
    # "2024-04-04T00:00:00.000Z" is a date, not an instant: as an instant it is the 3rd in ET
    assert game.game_date == date(2024, 4, 4)
    assert game.tipoff_utc == datetime(2024, 4, 4, 23, 30, tzinfo=UTC)
    assert (game.status, game.home_score, game.away_score) == ("scheduled", None, None)
    assert game.matchup == "PHI@MIA"
    assert (game.source, game.source_game_id, game.season) == ("bdl", "1038703", 2023)


def test_bdl_plain_date_and_datetime_field_give_the_tipoff_of_a_final_game():
    page = bdl_page(bdl_game(7, status="Final", period=4, home_score=109, away_score=105,
                             datetime="2024-04-04T23:30:00.000Z"))  # fmt: skip
    [game] = parse_bdl_games([page])
    assert game.game_date == date(2024, 4, 4)
    assert game.tipoff_utc == datetime(2024, 4, 4, 23, 30, tzinfo=UTC)
    assert (game.status, game.home_score, game.away_score) == ("final", 109, 105)


@pytest.mark.parametrize(
    ("status", "period", "expected"),
    [
        ("1st Qtr", 1, "live"),
        ("2nd Qtr", 2, "live"),
        ("Halftime", 2, "live"),
        ("4th Qtr", 4, "live"),
        ("OT", 5, "live"),
        ("2OT", 6, "live"),
        ("Final", 4, "final"),
        ("Final/OT", 5, "final"),
        ("Postponed", 0, "postponed"),
        ("Cancelled", 0, "cancelled"),
        ("2024-04-04T23:30:00Z", 0, "scheduled"),
        ("2024-04-04T23:30:00.000Z", 0, "scheduled"),
    ],
)
def test_bdl_status_vocabulary(status, period, expected):
    [game] = parse_bdl_games([bdl_page(bdl_game(status=status, period=period, home_score=50, away_score=48))])
    assert game.status == expected


def test_bdl_eastern_clock_time_status_of_older_responses_is_a_scheduled_tipoff():
    [nov, apr] = parse_bdl_games([
        bdl_page(bdl_game(1, date_="2023-11-05", status="7:30 pm ET"), bdl_game(2, date_="2024-04-04", status="7:30 PM ET"))
    ])  # fmt: skip
    assert nov.status == "scheduled" and nov.tipoff_utc == datetime(2023, 11, 6, 0, 30, tzinfo=UTC)  # EST
    assert apr.tipoff_utc == datetime(2024, 4, 4, 23, 30, tzinfo=UTC)  # EDT


def test_bdl_unrecognised_status_fails_as_validation_naming_the_field():
    with pytest.raises(PipelineError) as info:
        parse_bdl_games([bdl_page(bdl_game(1), bdl_game(2, status="Suspended?"))])
    assert info.value.category is ErrorCategory.VALIDATION
    assert field_paths(info.value) == ["data.1.status"]


def test_bdl_unknown_team_abbreviation_fails_naming_the_field_and_page():
    second = bdl_page(*[bdl_game(10 + i) for i in range(3)], bdl_game(99, home="SEA"))
    with pytest.raises(PipelineError) as info:
        parse_bdl_games([bdl_page(bdl_game(1), next_cursor=1), second])
    assert info.value.category is ErrorCategory.VALIDATION
    assert field_paths(info.value) == ["data.3.home_team.abbreviation"]
    assert "page 2" in info.value.message and "data.3.home_team.abbreviation" in info.value.message


def test_bdl_game_missing_a_team_fails_as_validation_not_keyerror():
    game = bdl_game(1)
    del game["visitor_team"]
    with pytest.raises(PipelineError) as info:
        parse_bdl_games([bdl_page(game)])
    assert field_paths(info.value) == ["data.0.visitor_team"]


def test_bdl_game_repeated_across_pages_is_one_game():
    games = parse_bdl_games(
        [bdl_page(bdl_game(1), bdl_game(2), next_cursor=2), bdl_page(bdl_game(2), bdl_game(3, home="BOS"))]
    )
    assert [g.source_game_id for g in games] == ["1", "2", "3"]


def box_score_row(date_: str = "2024-01-04T00:00:00.000Z") -> dict[str, Any]:
    home = {
        **bdl_team("BOS"),
        "players": [bdl_line(1, "34", pts=20), bdl_line(2, "34:12", pts=8), bdl_line(3, "00")],
    }
    away = {**bdl_team("CHI"), "players": [bdl_line(4, "41:30", pts=31), bdl_line(5, ""), bdl_line(6, "0")]}
    return {"date": date_, "season": 2023, "status": "Final", "period": 4, "time": "Final", "postseason": False,
            "home_team_score": 118, "visitor_team_score": 123, "home_team": home, "visitor_team": away}  # fmt: skip


def test_bdl_box_scores_carry_no_game_id_so_lines_name_day_and_teams_and_skip_players_who_did_not_play():
    lines = parse_bdl_box_scores({"data": [box_score_row()]})
    assert {line.source_game_id for line in lines} == {None}
    assert {(line.game_date, line.away_team, line.home_team) for line in lines} == {
        (date(2024, 1, 4), "CHI", "BOS")
    }
    assert sorted((line.player_id, line.team, line.minutes) for line in lines) == [
        ("1", "BOS", 34.0),
        ("2", "BOS", 34.2),  # "34:12"
        ("4", "CHI", 41.5),
    ]
    line = next(line for line in lines if line.player_id == "4")
    assert (line.points, line.rebounds, line.assists, line.player_name) == (31, 5, 3, "First Last4")
    assert line.source == "bdl" and line.game_date == date(2024, 1, 4)


def test_bdl_box_score_and_game_of_the_same_matchup_name_the_same_day_and_teams():
    [game] = parse_bdl_games(
        [bdl_page(bdl_game(5, date_="2024-01-04", status="Final", home="BOS", away="CHI"))]
    )
    lines = parse_bdl_box_scores({"data": [box_score_row(date_="2024-01-04")]})
    assert {(line.game_date, line.home_team, line.away_team) for line in lines} == {
        (game.game_date, game.home_team, game.away_team)
    }


def test_bdl_box_score_bad_minutes_fail_naming_the_field():
    row = box_score_row()
    row["visitor_team"]["players"][0]["min"] = "34:75"
    with pytest.raises(PipelineError) as info:
        parse_bdl_box_scores({"data": [copy.deepcopy(row)]})
    assert info.value.category is ErrorCategory.VALIDATION
    assert field_paths(info.value) == ["data.0.visitor_team.players.0.min"]


# -- small pure helpers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("PT34M12.00S", 34.2),
        ("PT00M00.00S", 0.0),
        ("PT43M09.08S", 43.15),
        ("PT44M", 44.0),
        ("PT1H02M30S", 62.5),
        ("", None),
    ],
)
def test_iso_duration_minutes(text, minutes):
    assert iso_minutes(text) == minutes


@pytest.mark.parametrize("text", ["34:12", "PT", "PTxxM", "34"])
def test_iso_duration_minutes_rejects_other_forms(text):
    with pytest.raises(ValueError):
        iso_minutes(text)


@pytest.mark.parametrize(
    ("text", "minutes"), [("34", 34.0), ("34:12", 34.2), ("0:30", 0.5), ("00", 0.0), ("", None), (None, None)]
)
def test_bdl_minutes(text, minutes):
    assert bdl_minutes(text) == minutes


@pytest.mark.parametrize(
    ("day", "season"),
    [
        (date(2025, 10, 21), 2025),
        (date(2025, 12, 31), 2025),
        (date(2026, 1, 1), 2025),
        (date(2026, 6, 20), 2025),  # Finals
        (date(2026, 8, 15), 2025),  # off-season belongs to the season that just ended
        (date(2026, 9, 30), 2025),
    ],
)
def test_season_for_date(day, season):
    assert season_for_date(day) == season
