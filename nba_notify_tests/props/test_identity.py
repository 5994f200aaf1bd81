"""Identity by proof: a props event is a league game only when exactly one game has its teams
and a tip-off within the window; a prop's name is a league player only when exactly one player
of the game's two teams carries it. Anything else is flagged, never guessed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nba_notify.lib.props.identity import GameCandidate, PlayerDirectory, prove_event
from nba_notify.lib.props.parse import (
    SourceEvent,
    normalize_player_name,
    team_from_abbreviation,
    team_from_name,
)

TIP = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)


def event(home: str = "BOS", away: str = "LAL", at: datetime = TIP) -> SourceEvent:
    return SourceEvent("odds_api", "e1", at, "Home", "Away", home, away)


def game(
    game_id: str, home: str = "BOS", away: str = "LAL", at: datetime | None = TIP, status: str = "scheduled"
) -> GameCandidate:
    return GameCandidate(game_id, home, away, at, status)


def test_the_only_game_with_those_teams_near_that_time_is_the_event():
    proof = prove_event(event(), [game("0022600100"), game("0022600101", "NYK", "LAL")])
    assert (proof.identity, proof.game_id) == ("mapped", "0022600100")


def test_a_tipoff_moved_within_the_window_still_proves_the_game():
    assert prove_event(event(at=TIP + timedelta(hours=3)), [game("0022600100")]).game_id == "0022600100"


def test_two_games_with_the_same_teams_in_the_window_are_ambiguous_and_not_guessed():
    proof = prove_event(event(), [game("0022600100"), game("0022600200", at=TIP + timedelta(hours=2))])
    assert proof.identity == "ambiguous" and proof.game_id is None
    assert {c["game_id"] for c in proof.candidates} == {"0022600100", "0022600200"}


def test_swapped_home_and_away_is_not_the_same_game():
    proof = prove_event(event(home="LAL", away="BOS"), [game("0022600100")])
    assert (proof.identity, proof.game_id) == ("unmapped", None)


def test_the_same_teams_days_apart_prove_nothing():
    # a playoff series: they meet again two days later
    assert prove_event(event(at=TIP + timedelta(days=2)), [game("0022600100")]).identity == "unmapped"


def test_an_unreadable_team_name_is_unmapped():
    assert prove_event(event(home=None), [game("0022600100")]).identity == "unmapped"


def test_team_names_and_abbreviations_as_the_sources_spell_them():
    assert team_from_name("Los Angeles Clippers") == "LAC" == team_from_name("LA Clippers")
    assert team_from_name("Boston  Celtics") == "BOS" and team_from_name("Boston Red Sox") is None
    assert team_from_abbreviation("GS") == "GSW" and team_from_abbreviation("nyk") == "NYK"


def test_names_match_across_accents_punctuation_and_suffixes():
    assert normalize_player_name("Nikola Jokić") == normalize_player_name("nikola jokic")
    assert normalize_player_name("Jaren Jackson Jr.") == "jaren jackson"
    assert normalize_player_name("Kel'el Ware") == "kelel ware"


def directory() -> PlayerDirectory:
    return PlayerDirectory(
        by_game={"G1": {"jalen green": {("1630224", "HOU")}, "jalen williams": {("1631114", "OKC")}}},
        recent_by_team={
            "HOU": {"jalen green": {"1630224"}},
            "OKC": {"jalen williams": {"1631114"}, "jaylin williams": {"1631119"}},
            "BOS": {"jalen green": {"9999999"}},
        },
    )


def test_a_played_game_proves_a_name_by_its_own_box_score():
    match = directory().match("Jalen Green", "G1", "HOU", "OKC")
    assert (match.player_id, match.team, match.match) == ("1630224", "HOU", "box_score")


def test_a_name_missing_from_the_games_box_score_is_unmapped_even_if_a_roster_has_it():
    assert directory().match("Jaylin Williams", "G1", "HOU", "OKC").match == "unmapped"


def test_before_tipoff_the_two_teams_recent_box_scores_prove_a_name():
    match = directory().match("Jaylin Williams", "G2", "HOU", "OKC")
    assert (match.player_id, match.team, match.match) == ("1631119", "OKC", "team_recent")


def test_a_name_both_teams_carry_is_ambiguous():
    assert directory().match("Jalen Green", "G3", "HOU", "BOS").match == "ambiguous"


def test_a_prop_for_an_unproven_event_has_no_player():
    assert directory().match("Jalen Green", None, "HOU", "OKC").match == "no_game"
