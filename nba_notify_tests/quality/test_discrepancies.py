"""The per-day comparison of BDL and NBA.com (pure): by game identity, each gap put on the
scraper that lacks the data, in seed 003's scrape-event terms."""

from __future__ import annotations

from nba_notify.lib.quality.discrepancies import GameRow, compare_day, shortfalls


def game(game_id: str, *, bdl=True, nbac=True, status="final", disagreements=None) -> GameRow:
    """A game of the day; tests name games by matchup (identity is whatever id the games row has)."""
    return GameRow(game_id, status, bdl, nbac, disagreements)


def kinds(found) -> set[tuple[str, str, str]]:
    return {(d.game_id, d.kind, d.scraper_name) for d in found}


def test_games_missing_from_either_listing_are_put_on_that_source():
    games = [game("BOS@NYK"), game("LAL@GSW", bdl=False, status="scheduled"), game("MIA@ORL", nbac=False, status="scheduled")]
    assert kinds(compare_day(games, {})) == {
        ("LAL@GSW", "missing_in_bdl", "bdl_games"),
        ("MIA@ORL", "missing_in_nbac", "nbac_schedule"),
        ("BOS@NYK", "box_score_missing_in_bdl", "bdl_box_scores"),
        ("BOS@NYK", "box_score_missing_in_nbac", "nbac_box_scores"),
    }


def test_counts_alone_would_miss_a_swap_identity_does_not():
    # both sources list two games, but not the same two: a count comparison sees no gap
    games = [game("BOS@NYK", nbac=False, status="scheduled"), game("LAL@GSW", bdl=False, status="scheduled")]
    assert {d.kind for d in compare_day(games, {})} == {"missing_in_bdl", "missing_in_nbac"}


def test_status_score_and_tipoff_disagreements_are_put_on_bdl():
    diff = {
        "status": {"bdl": "final", "nbac": "postponed"},
        "home_score": {"bdl": 101, "nbac": 103},
        "away_score": {"bdl": 99, "nbac": 98},
        "tipoff_utc": {"bdl": "2026-01-20T00:00:00+00:00", "nbac": "2026-01-20T00:30:00+00:00"},
    }
    found = compare_day([game("BOS@NYK", status="scheduled", disagreements=diff)], {})
    assert kinds(found) == {
        ("BOS@NYK", "status_mismatch", "bdl_games"),
        ("BOS@NYK", "score_mismatch", "bdl_games"),
        ("BOS@NYK", "tipoff_mismatch", "bdl_games"),
    }
    score = next(d for d in found if d.kind == "score_mismatch")
    assert set(score.details["fields"]) == {"home_score", "away_score"}


def test_box_scores_are_compared_for_final_games_only_and_players_against_the_other_source():
    games = [game("BOS@NYK"), game("LAL@GSW"), game("MIA@ORL", status="live")]
    box = {"bdl": {"BOS@NYK": 20, "LAL@GSW": 10}, "nbac": {"BOS@NYK": 21, "LAL@GSW": 20}}
    found = compare_day(games, box)
    # 20 of 21 is within the 90% tolerance (a few seconds one source rounds to "did not play")
    assert kinds(found) == {("LAL@GSW", "players_missing_in_bdl", "bdl_box_scores")}
    [short] = found
    assert short.details == {"players": 10, "players_in_other_source": 20, "missing": 10}


def test_shortfall_reads_like_seed_003s_partial_event():
    games = [game(f"T{n}@H{n}", bdl=n >= 5) for n in range(9)]
    box = {"nbac": {g.game_id: 20 for g in games}, "bdl": {g.game_id: 20 for g in games if g.in_bdl}}
    found = compare_day(games, box)
    falls = shortfalls(games, box, found)
    assert set(falls) == {"bdl_games", "bdl_box_scores"}
    listing = falls["bdl_games"]
    assert (listing.records_expected, listing.records_received, listing.records_missing) == (9, 4, 5)
    assert listing.message.startswith("BDL returned 4 games but NBA.com has 9; missing: T0@H0")
    assert falls["bdl_box_scores"].message.startswith("BDL box scores cover 4 of 9 final games")


def test_a_day_where_the_sources_agree_has_no_discrepancy():
    games = [game("BOS@NYK"), game("LAL@GSW", status="scheduled")]
    box = {"bdl": {"BOS@NYK": 22}, "nbac": {"BOS@NYK": 22}}
    assert compare_day(games, box) == [] and shortfalls(games, box, []) == {}
