"""Game identity by proof: BDL ids are mapped to league games (NBA.com gameIds) only on proof,
moves keep the identity, and every identity data error is kept, flagged and counted — never a
silent delete or merge. Pure rules first, then the refresh of a game day on a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from nba_notify.lib.db.tables.ingest import game_crosswalk, game_identity_conflicts, games, source_games
from nba_notify.lib.ingest import claims, identity
from nba_notify.lib.ingest.identity import Link, prove_identities
from nba_notify.lib.ingest.parse import SourceGame
from nba_notify_tests.ingest.test_parse import nbac_game, nbac_schedule

D = date(2025, 11, 5)


def source_game(source: str, sid: str, day: date, home: str, away: str, hour: int = 0) -> SourceGame:
    tipoff = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1, hours=hour)
    return SourceGame(source, sid, day, 2025, home, away, tipoff, "scheduled", None, None)


def league(gid: str, day: date, home: str, away: str) -> SourceGame:
    return source_game("nbac", gid, day, home, away)


def bdl(sid: str, day: date, home: str, away: str) -> SourceGame:
    return source_game("bdl", sid, day, home, away)


# -- pure rules ---------------------------------------------------------------------------------


def test_a_bdl_game_is_the_league_game_with_the_same_teams_on_the_same_day():
    proof = prove_identities([bdl("900", D, "CLE", "PHI")], [league("0022500171", D, "CLE", "PHI")], {}, {})
    assert proof.mapped == {"900": "0022500171"}
    assert [link.method for link in proof.new_links] == ["same_day"]


def test_teams_alone_prove_nothing_in_a_playoff_series_the_same_day_wins():
    # Games 1 and 2 of a series: same home team, two days apart.
    g1, g2 = league("0042400101", D, "BOS", "MIA"), league("0042400102", D + timedelta(days=2), "BOS", "MIA")
    proof = prove_identities([bdl("901", D + timedelta(days=2), "BOS", "MIA")], [g1, g2], {}, {})
    assert proof.mapped == {"901": "0042400102"}


def test_a_day_late_listing_is_proven_within_the_window_but_a_tie_is_a_conflict():
    one = prove_identities(
        [bdl("902", D + timedelta(days=1), "CLE", "PHI")], [league("0022500171", D, "CLE", "PHI")], {}, {}
    )
    assert one.mapped == {"902": "0022500171"} and one.new_links[0].method == "within_window"
    tie = prove_identities(
        [bdl("903", D, "CLE", "PHI")],
        [
            league("0022500171", D - timedelta(days=1), "CLE", "PHI"),
            league("0022500172", D + timedelta(days=1), "CLE", "PHI"),
        ],
        {},
        {},
    )
    assert tie.mapped == {} and [c.kind for c in tie.conflicts] == [identity.AMBIGUOUS_MATCH]


def test_one_listing_carrying_one_id_for_two_games_trusts_neither():
    proof = prove_identities(
        [bdl("904", D, "CLE", "PHI"), bdl("904", D, "GSW", "SAC")],
        [league("0022500171", D, "CLE", "PHI"), league("0022500181", D, "GSW", "SAC")],
        {},
        {},
    )
    assert proof.mapped == {} and [c.kind for c in proof.conflicts] == [identity.DUPLICATE_SOURCE_ID]


def test_a_linked_id_now_naming_other_teams_is_a_conflict_not_a_remapping():
    link = Link("bdl", "905", "0022500171", "CLE", "PHI", D, D, "same_day")
    proof = prove_identities(
        [bdl("905", D, "GSW", "SAC")],
        [league("0022500181", D, "GSW", "SAC")],
        {"905": link},
        {"0022500171": "905"},
    )
    assert proof.mapped == {}
    [conflict] = proof.conflicts
    assert (conflict.kind, conflict.game_id) == (identity.SOURCE_ID_CHANGED_TEAMS, "0022500171")


def test_two_ids_proving_to_one_league_game_keep_the_first_link():
    proof = prove_identities(
        [bdl("907", D, "CLE", "PHI")], [league("0022500171", D, "CLE", "PHI")], {}, {"0022500171": "906"}
    )
    assert proof.mapped == {} and [c.kind for c in proof.conflicts] == [identity.IDS_CLAIM_ONE_GAME]


def test_a_linked_id_keeps_its_league_game_wherever_it_moves():
    link = Link("bdl", "908", "0022500171", "CLE", "PHI", D, D, "same_day")
    proof = prove_identities([bdl("908", D + timedelta(days=20), "CLE", "PHI")], [], {"908": link}, {})
    assert proof.mapped == {"908": "0022500171"}


# -- refresh of a game day, on PostgreSQL --------------------------------------------------------


def season(*games_on_days: tuple[date, list[dict]]) -> dict:
    return nbac_schedule(*[(f"{d:%m/%d/%Y} 00:00:00", g) for d, g in games_on_days])


def at(day: date, hour_utc: int = 0) -> str:
    return f"{day + timedelta(days=1):%Y-%m-%d}T{hour_utc:02d}:00:00Z"  # 7pm ET on ``day``


def refresh(
    db, day: date, season_file: dict | None, bdl_listing: list[SourceGame] | None
) -> claims.DayRefresh:
    with db.begin() as conn:
        return claims.refresh_day(conn, day, season_file, bdl_listing, run_id="t")


def rows(db, table) -> list:
    with db.connect() as conn:
        return conn.execute(sa.select(table)).all()


def test_a_game_moved_to_another_day_keeps_its_row_and_identity_and_nothing_is_deleted(db):
    cle = nbac_game("0022500171", utc=at(D), home="CLE", away="PHI")
    sac = nbac_game("0022500181", utc=at(D), home="SAC", away="GSW")
    refresh(db, D, season((D, [cle, sac])), [bdl("700", D, "CLE", "PHI"), bdl("701", D, "SAC", "GSW")])
    assert {r.game_id for r in rows(db, games)} == {"0022500171", "0022500181"}

    later = D + timedelta(days=3)
    moved = nbac_game("0022500171", utc=at(later), est=f"{later}T19:00:00Z", home="CLE", away="PHI")
    result = refresh(db, D, season((D, [sac]), (later, [moved])), [bdl("701", D, "SAC", "GSW")])
    assert result.moved == {"0022500171": {"from": D.isoformat(), "to": later.isoformat()}}
    by_id = {r.game_id: r for r in rows(db, games)}
    assert set(by_id) == {"0022500171", "0022500181"}
    assert by_id["0022500171"].game_date == later and by_id["0022500171"].listed
    assert (
        by_id["0022500171"].bdl_game_id == 700
    )  # BDL's listing of the old day no longer has it: the link stays


def test_a_play_in_game_given_a_colliding_bdl_id_never_deletes_the_regular_season_game(db):
    regular = nbac_game("0022501200", utc=at(D), home="CLE", away="PHI")
    refresh(db, D, season((D, [regular])), [bdl("800", D, "CLE", "PHI")])
    play_in_day = D + timedelta(days=10)
    play_in = nbac_game(
        "0052500001", utc=at(play_in_day), est=f"{play_in_day}T19:00:00Z", home="MIA", away="ATL"
    )
    result = refresh(
        db,
        play_in_day,
        season((D, [regular]), (play_in_day, [play_in])),
        [bdl("800", play_in_day, "MIA", "ATL")],
    )

    assert [c.kind for c in result.conflicts] == [identity.SOURCE_ID_CHANGED_TEAMS]
    by_id = {r.game_id: r for r in rows(db, games)}
    assert set(by_id) == {"0022501200", "0052500001"}  # both games kept
    assert by_id["0022501200"].bdl_game_id == 800 and by_id["0022501200"].in_bdl
    assert by_id["0052500001"].bdl_game_id is None  # not merged into the regular-season game
    [open_conflict] = rows(db, game_identity_conflicts)
    assert (open_conflict.source_game_id, open_conflict.game_id) == ("800", "0022501200")
    assert [r.game_id for r in rows(db, game_crosswalk)] == ["0022501200"]


def test_two_bdl_games_carrying_one_id_are_flagged_and_never_merged(db):
    cle = nbac_game("0022500171", utc=at(D), home="CLE", away="PHI")
    sac = nbac_game("0022500181", utc=at(D), home="SAC", away="GSW")
    result = refresh(
        db, D, season((D, [cle, sac])), [bdl("750", D, "CLE", "PHI"), bdl("750", D, "SAC", "GSW")]
    )
    assert [c.kind for c in result.conflicts] == [identity.DUPLICATE_SOURCE_ID]
    by_id = {r.game_id: r for r in rows(db, games)}
    assert set(by_id) == {"0022500171", "0022500181"}
    assert not by_id["0022500171"].in_bdl and not by_id["0022500181"].in_bdl
    assert rows(db, game_crosswalk) == []
    # the source corrects itself: the conflict is resolved, the games are linked
    refresh(db, D, season((D, [cle, sac])), [bdl("750", D, "CLE", "PHI"), bdl("751", D, "SAC", "GSW")])
    [conflict] = rows(db, game_identity_conflicts)
    assert conflict.resolved_at is not None
    assert {r.game_id: r.bdl_game_id for r in rows(db, games)} == {"0022500171": 750, "0022500181": 751}


def test_a_game_gone_from_every_feed_is_kept_and_marked_unlisted(db):
    cle = nbac_game("0022500171", utc=at(D), home="CLE", away="PHI")
    refresh(db, D, season((D, [cle])), [bdl("760", D, "CLE", "PHI")])
    result = refresh(db, D, season((D, [])), [])
    assert result.gone == ["0022500171"]
    [row] = rows(db, games)
    assert (row.game_id, row.listed, row.in_bdl, row.in_nbac) == ("0022500171", False, False, False)


def test_a_bdl_game_no_league_game_proves_is_kept_as_an_unproven_claim(db):
    result = refresh(db, D, season((D, [])), [bdl("770", D, "CLE", "PHI")])
    assert result.unproven_bdl == ["bdl:770"]
    assert rows(db, games) == []
    [claim] = rows(db, source_games)
    assert (claim.source, claim.source_game_id, claim.game_id, claim.listed) == ("bdl", "770", None, True)


def test_a_missing_source_scrape_leaves_that_sources_claims_untouched(db):
    cle = nbac_game("0022500171", utc=at(D), home="CLE", away="PHI")
    refresh(db, D, season((D, [cle])), [bdl("780", D, "CLE", "PHI")])
    refresh(db, D, season((D, [cle])), None)  # no stored BDL scrape: nothing known, nothing changed
    [row] = rows(db, games)
    assert row.in_bdl and row.bdl_game_id == 780
