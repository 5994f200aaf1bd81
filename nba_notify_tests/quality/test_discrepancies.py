"""The per-day comparison of BDL and NBA.com (pure): by game identity, each gap put on the
scraper that lacks the data, in seed 003's scrape-event terms; listings, field disagreements
and box-score lag kept apart, each with its own severity."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import dagster as dg

from nba_notify.defs.quality.checks import (
    DiscrepancyRow,
    box_score_deadline_result,
    field_disagreements_result,
    missing_games_result,
)
from nba_notify.lib.quality.discrepancies import (
    BoxScoreDeadline,
    GameRow,
    compare_box_scores,
    compare_listings,
    shortfalls,
)

DAY = date(2026, 1, 19)
TIPOFF = datetime(2026, 1, 20, 0, 30, tzinfo=UTC)  # 19:30 ET on DAY
DEADLINE = BoxScoreDeadline(hours_after_final=4.0, game_length=timedelta(hours=3))


def game(game_id: str, *, bdl=True, nbac=True, status="final", disagreements=None, tipoff=TIPOFF) -> GameRow:
    """A game of the day; tests name games by matchup (identity is whatever id the games row has)."""
    return GameRow(game_id, status, bdl, nbac, disagreements, tipoff, game_id)


def kinds(found) -> set[tuple[str, str, str]]:
    return {(d.game_id, d.kind, d.scraper_name) for d in found}


def rows(found) -> list[DiscrepancyRow]:
    """What the checks read back from source_discrepancies."""
    return [DiscrepancyRow(DAY, d.game_id, d.kind, d.scraper_name, d.details) for d in found]


def test_games_missing_from_either_listing_are_put_on_that_source():
    games = [
        game("BOS@NYK"),
        game("LAL@GSW", bdl=False, status="scheduled"),
        game("MIA@ORL", nbac=False, status="scheduled"),
    ]
    assert kinds(compare_listings(games)) == {
        ("LAL@GSW", "missing_in_bdl", "bdl_games"),
        ("MIA@ORL", "missing_in_nbac", "nbac_schedule"),
    }


def test_counts_alone_would_miss_a_swap_identity_does_not():
    # both sources list two games, but not the same two: a count comparison sees no gap
    games = [game("BOS@NYK", nbac=False, status="scheduled"), game("LAL@GSW", bdl=False, status="scheduled")]
    assert {d.kind for d in compare_listings(games)} == {"missing_in_bdl", "missing_in_nbac"}


def test_status_score_and_tipoff_disagreements_are_put_on_bdl():
    diff = {
        "status": {"bdl": "final", "nbac": "postponed"},
        "home_score": {"bdl": 101, "nbac": 103},
        "away_score": {"bdl": 99, "nbac": 98},
        "tipoff_utc": {"bdl": "2026-01-20T00:00:00+00:00", "nbac": "2026-01-20T00:30:00+00:00"},
    }
    found = compare_listings([game("BOS@NYK", status="scheduled", disagreements=diff)])
    assert kinds(found) == {
        ("BOS@NYK", "status_mismatch", "bdl_games"),
        ("BOS@NYK", "score_mismatch", "bdl_games"),
        ("BOS@NYK", "tipoff_mismatch", "bdl_games"),
    }
    score = next(d for d in found if d.kind == "score_mismatch")
    assert set(score.details["fields"]) == {"home_score", "away_score"}


def test_box_scores_not_yet_published_are_lag_never_a_missing_game():
    # the 27-of-30-days false alarm: finals whose box scores are not out yet
    games = [game("BOS@NYK"), game("LAL@GSW")]
    assert compare_listings(games) == []
    found = compare_box_scores(DAY, games, {}, DEADLINE)
    assert {d.kind for d in found} == {"box_score_missing_in_bdl", "box_score_missing_in_nbac"}
    missing = missing_games_result(rows(compare_listings(games)))
    assert missing.passed and missing.metadata["games_missing"].value == 0

    final_at = TIPOFF + timedelta(hours=3)
    assert {d.details["deadline_at"] for d in found} == {(final_at + timedelta(hours=4)).isoformat()}
    before = box_score_deadline_result(rows(found), final_at + timedelta(hours=3, minutes=59))
    assert before.passed
    assert (
        before.metadata["box_scores_lagging"].value == 4 and before.metadata["box_scores_overdue"].value == 0
    )
    assert "within their deadline" in before.description and "BOS@NYK" in before.description
    after = box_score_deadline_result(rows(found), final_at + timedelta(hours=4))
    assert not after.passed and after.severity == dg.AssetCheckSeverity.ERROR
    assert after.metadata["box_scores_overdue"].value == 4
    assert "BDL BOS@NYK (BOS@NYK) not published, deadline 2026-01-20T07:30:00+00:00" in after.description
    assert "NBA.com LAL@GSW (LAL@GSW) not published" in after.description


def test_box_scores_are_compared_for_final_games_only_and_players_against_the_other_source():
    games = [game("BOS@NYK"), game("LAL@GSW"), game("MIA@ORL", status="live")]
    box = {"bdl": {"BOS@NYK": 20, "LAL@GSW": 10}, "nbac": {"BOS@NYK": 21, "LAL@GSW": 20}}
    found = compare_box_scores(DAY, games, box, DEADLINE)
    # 20 of 21 is within the 90% tolerance (a few seconds one source rounds to "did not play")
    assert kinds(found) == {("LAL@GSW", "players_missing_in_bdl", "bdl_box_scores")}
    [short] = found
    assert (short.details["players"], short.details["players_in_other_source"], short.details["missing"]) == (
        10,
        20,
        10,
    )


def test_a_game_a_source_does_not_list_is_reported_once_as_missing_not_again_as_a_box_score():
    games = [game("BOS@NYK", bdl=False), game("LAL@GSW")]
    box = {"bdl": {"LAL@GSW": 20}, "nbac": {"BOS@NYK": 20, "LAL@GSW": 20}}
    assert kinds(compare_listings(games)) == {("BOS@NYK", "missing_in_bdl", "bdl_games")}
    assert compare_box_scores(DAY, games, box, DEADLINE) == []


def test_a_score_disagreement_is_an_error_on_a_final_game_and_a_warning_before():
    diff = {"home_score": {"bdl": 101, "nbac": 103}}
    final = field_disagreements_result(rows(compare_listings([game("BOS@NYK", disagreements=diff)])))
    assert not final.passed and final.severity == dg.AssetCheckSeverity.ERROR
    assert "final game" in final.description and "BOS@NYK" in final.description
    for status in ("scheduled", "live"):
        early = field_disagreements_result(
            rows(compare_listings([game("BOS@NYK", status=status, disagreements=diff)]))
        )
        assert not early.passed and early.severity == dg.AssetCheckSeverity.WARN, status
        assert "not yet final" in early.description
    table = final.metadata["offending_rows"].value
    header, _, line = table.splitlines()[2:5]
    assert [c.strip() for c in header.strip("|").split("|")] == [
        "game_date",
        "game_id",
        "matchup",
        "game_status",
        "field",
        "bdl",
        "nbac",
        "severity",
    ]
    assert [c.strip() for c in line.strip("|").split("|")] == [
        DAY.isoformat(),
        "BOS@NYK",
        "BOS@NYK",
        "final",
        "home_score",
        "101",
        "103",
        "ERROR",
    ]


def test_shortfall_reads_like_seed_003s_partial_event():
    games = [game(f"T{n}@H{n}", bdl=n >= 5) for n in range(9)]
    box = {"nbac": {g.game_id: 20 for g in games}, "bdl": {g.game_id: 20 for g in games if g.in_bdl}}
    listing = compare_listings(games)
    falls = shortfalls(games, {}, listing)
    assert set(falls) == {"bdl_games"}
    shortfall = falls["bdl_games"]
    assert (shortfall.records_expected, shortfall.records_received, shortfall.records_missing) == (9, 4, 5)
    assert shortfall.message.startswith("BDL returned 4 games but NBA.com has 9; missing: T0@H0")
    # the games BDL does not list are not counted against its box scores as well
    assert compare_box_scores(DAY, games, box, DEADLINE) == []


def test_a_day_where_the_sources_agree_has_no_discrepancy():
    games = [game("BOS@NYK"), game("LAL@GSW", status="scheduled")]
    box = {"bdl": {"BOS@NYK": 22}, "nbac": {"BOS@NYK": 22}}
    assert compare_listings(games) == [] and compare_box_scores(DAY, games, box, DEADLINE) == []
    assert shortfalls(games, box, []) == {}


def test_a_game_without_a_known_tipoff_goes_final_by_the_end_of_its_day():
    [found] = compare_box_scores(DAY, [game("BOS@NYK", nbac=False, tipoff=None)], {}, DEADLINE)
    # midnight US-Eastern after DAY is 05:00 UTC in January
    assert found.details["final_at"] == datetime(2026, 1, 20, 5, 0, tzinfo=UTC).isoformat()
