"""Issue 9 (part A): the comparison's signals agree with what happened — against the simulator
over HTTP, a real PostgreSQL and Dagster's own run results.

* box scores not (yet) published are lag with a deadline, never a missing game;
* a source that drops games reports exactly those games;
* a field disagreement is ERROR on a final game, WARN before;
* a failing box-score feed fails only its own asset: the listing comparison still runs."""

from __future__ import annotations

from datetime import date

import dagster as dg
import httpx
import sqlalchemy as sa

from nba_notify.definitions import load
from nba_notify.lib.db.tables.ingest import games
from nba_notify.lib.db.tables.quality import source_discrepancies
from nba_notify_tests.quality.conftest import PIPELINE, with_updates

DAY = "2026-11-22"  # the simulator's clock is 2026-11-24 15:00 UTC: every game of the day is final
HOURS = 3600


def truth(sim, day: str = DAY) -> list[dict]:
    return httpx.get(f"{sim.url}/_sim/truth/games", params={"date": day}).json()["games"]


def hidden_from(sim, route: str, day: str = DAY) -> set[str]:
    return {g["nba_game_id"] for g in truth(sim, day) if route in (g.get("hidden_from") or {})}


def check(result: dg.ExecuteInProcessResult, name: str) -> dg.AssetCheckEvaluation:
    [evaluation] = [e for e in result.get_asset_check_evaluations() if e.check_name == name]
    return evaluation


def stored_kinds(db) -> set[tuple[str, str]]:
    with db.connect() as conn:
        return {(r.game_id, r.kind) for r in conn.execute(sa.select(source_discrepancies))}


def test_box_scores_not_yet_published_are_lag_before_their_deadline_and_an_error_after(
    db, sim, quality_resources, instance
):
    # two final games without a BDL box score, one without NBA.com's: the listings agree
    sim.control.add_fault("drop_games", "bdl.box_scores", params={"date": DAY, "count": 2})
    sim.control.add_fault("drop_games", "nbac.boxscore", params={"date": DAY, "count": 1})
    lagging = hidden_from(sim, "bdl.box_scores") | hidden_from(sim, "nbac.boxscore")
    assert len(hidden_from(sim, "bdl.box_scores")) == 2 and hidden_from(sim, "nbac.boxscore")
    # the games went final about 34 h ago: a 48 h deadline has not passed yet
    resources = {**quality_resources}
    resources["box_score_deadline"] = with_updates(resources["box_score_deadline"], hours_after_final=48)

    def run() -> dg.ExecuteInProcessResult:
        return dg.materialize(
            PIPELINE, partition_key=DAY, resources=resources, instance=instance, raise_on_error=False
        )

    before = run()
    missing = check(before, "no_games_missing_between_sources")
    assert missing.passed and missing.metadata["games_missing"].value == 0
    assert check(before, "sources_agree_on_games").passed
    lag = check(before, "box_scores_published_within_deadline")
    assert lag.passed, lag.description
    assert lag.metadata["box_scores_lagging"].value == 3 and lag.metadata["box_scores_overdue"].value == 0
    assert all(game_id in lag.metadata["lagging_rows"].value for game_id in lagging)
    assert "within their deadline" in lag.description
    assert {kind for _, kind in stored_kinds(db)} <= {"box_score_missing_in_bdl", "box_score_missing_in_nbac"}

    sim.control.advance(24 * HOURS)  # past the deadline, the feeds still have not published
    after = run()
    assert check(after, "no_games_missing_between_sources").passed
    overdue = check(after, "box_scores_published_within_deadline")
    assert not overdue.passed and overdue.severity == dg.AssetCheckSeverity.ERROR
    assert overdue.metadata["box_scores_overdue"].value == 3
    assert all(game_id in overdue.description for game_id in lagging)
    assert "past their deadline" in overdue.description


def test_a_source_dropping_two_games_reports_exactly_those_two_missing(db, sim, run_pipeline):
    sim.control.add_fault("drop_games", "bdl.games", params={"date": DAY, "count": 2})
    dropped = hidden_from(sim, "bdl.games")
    assert len(dropped) == 2 and len(truth(sim)) > 2

    result = run_pipeline(DAY)

    missing = check(result, "no_games_missing_between_sources")
    assert not missing.passed and missing.severity == dg.AssetCheckSeverity.ERROR
    assert missing.metadata["games_missing"].value == 2
    assert missing.description.startswith("2 game(s) missing from a source: BDL does not list ")
    assert all(game_id in missing.description for game_id in dropped)
    # the rest of the day's finals have their box scores: nothing else is reported
    assert stored_kinds(db) == {(game_id, "missing_in_bdl") for game_id in dropped}
    assert check(result, "box_scores_published_within_deadline").passed
    table = missing.metadata["offending_rows"].value.splitlines()
    assert [c.strip() for c in table[2].strip("|").split("|")] == [
        "game_date",
        "game_id",
        "matchup",
        "missing_from",
        "listed_by",
        "status",
    ]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in table[4:]]
    assert {(r[1], r[3], r[4], r[5]) for r in rows} == {(g, "BDL", "NBA.com", "final") for g in dropped}


def set_disagreement(db, game_id: str, status: str) -> None:
    with db.begin() as conn:
        conn.execute(
            games.update()
            .where(games.c.game_id == game_id)
            .values(status=status, source_disagreements={"home_score": {"bdl": 101, "nbac": 103}})
        )


def test_a_score_disagreement_is_an_error_on_a_final_game_and_a_warning_before(db, sim, run_pipeline):
    assert run_pipeline(DAY).success
    first, second = sorted(g["nba_game_id"] for g in truth(sim))[:2]
    listing_only = [dg.AssetKey("source_discrepancies")]

    set_disagreement(db, first, "final")
    result = run_pipeline(DAY, selection=listing_only)
    final = check(result, "sources_agree_on_games")
    assert not final.passed and final.severity == dg.AssetCheckSeverity.ERROR
    assert first in final.description and "final game" in final.description

    for status in ("scheduled", "live"):
        set_disagreement(db, first, "final")
        with db.begin() as conn:
            conn.execute(games.update().where(games.c.game_id == first).values(source_disagreements=None))
        set_disagreement(db, second, status)
        early = check(run_pipeline(DAY, selection=listing_only), "sources_agree_on_games")
        assert not early.passed and early.severity == dg.AssetCheckSeverity.WARN, status
        assert second in early.description and "not yet final" in early.description
        assert early.metadata["disagreements_on_final_games"].value == 0


def test_a_404_box_score_feed_fails_only_its_own_asset_and_the_listing_comparison_still_runs(
    db, sim, database_url, monkeypatch
):
    sim.control.add_fault("status", "bdl.box_scores", params={"code": 404, "body": {"error": "Not Found"}})
    sim.control.add_fault("drop_games", "bdl.games", params={"date": DAY, "count": 2})
    dropped = hidden_from(sim, "bdl.games")
    monkeypatch.setenv("NBA_NOTIFY_SIM_URL", sim.url)
    definitions = load()  # the real ingest_job, resources from the environment

    with dg.instance_for_test() as instance:
        result = definitions.resolve_job_def("ingest_job").execute_in_process(
            instance=instance, partition_key=DAY, raise_on_error=False
        )
        failed = {e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"}
        materialized = {
            e.asset_key.to_user_string()
            for e in result.all_events
            if e.event_type_value == "ASSET_MATERIALIZATION"
        }
        assert not result.success
        assert failed == {"bdl_box_scores_raw"}  # the broken feed fails, visibly, alone
        # what needs the feed does not run (and is not marked as done)
        assert not {"bdl_box_scores_raw", "player_box_scores", "box_score_coverage"} & materialized
        assert "box_scores_published_within_deadline" not in {
            e.check_name for e in result.get_asset_check_evaluations()
        }
        assert {
            "bdl_games_raw",
            "nbac_schedule_raw",
            "nbac_box_scores_raw",
            "games",
            "source_discrepancies",
        } <= materialized
        # the listing comparison ran and recorded what it found
        missing = check(result, "no_games_missing_between_sources")
        assert not missing.passed and missing.metadata["games_missing"].value == 2
        assert all(game_id in missing.description for game_id in dropped)
        assert "sources_agree_on_games" in {e.check_name for e in result.get_asset_check_evaluations()}
        latest = instance.get_latest_materialization_event(dg.AssetKey("source_discrepancies"))
        assert latest is not None and latest.run_id == result.run_id
    assert stored_kinds(db) == {(game_id, "missing_in_bdl") for game_id in dropped}


def test_the_deadline_is_counted_from_the_games_tipoff(db, sim, run_pipeline):
    sim.control.add_fault("drop_games", "bdl.box_scores", params={"date": DAY, "count": 1})
    [game_id] = hidden_from(sim, "bdl.box_scores")
    run_pipeline(DAY)
    with db.connect() as conn:
        row = conn.execute(sa.select(source_discrepancies)).one()
        tipoff = conn.execute(sa.select(games.c.tipoff_utc).where(games.c.game_id == game_id)).scalar_one()
    assert (row.game_id, row.kind, row.scraper_name) == (
        game_id,
        "box_score_missing_in_bdl",
        "bdl_box_scores",
    )
    assert row.game_date == date.fromisoformat(DAY)
    final_at = tipoff.timestamp() + 3 * HOURS
    assert row.details["final_at"] == tipoff.fromtimestamp(final_at, tipoff.tzinfo).isoformat()
    assert row.details["deadline_at"] == tipoff.fromtimestamp(final_at + 4 * HOURS, tipoff.tzinfo).isoformat()


def test_a_multi_day_run_reports_each_days_discrepancies_on_its_own_partition(
    db, sim, quality_resources, instance
):
    sim.control.add_fault("drop_games", "bdl.games", params={"date": DAY, "count": 2})
    days = ["2026-11-21", DAY]
    result = dg.materialize(
        PIPELINE,
        resources=quality_resources,
        instance=instance,
        raise_on_error=False,
        tags={"dagster/asset_partition_range_start": days[0], "dagster/asset_partition_range_end": days[-1]},
    )
    assert result.asset_materializations_for_node("source_discrepancies")

    def metadata(asset: str, day: str) -> dict:
        [record] = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[day]), limit=1
        ).records
        return {k: v.value for k, v in record.asset_materialization.metadata.items()}

    assert metadata("source_discrepancies", DAY)["dagster/row_count"] == 2
    assert metadata("source_discrepancies", DAY)["games_missing_from_a_source"] == 2
    assert metadata("source_discrepancies", "2026-11-21")["dagster/row_count"] == 0
    assert metadata("source_discrepancies", "2026-11-21")["games_missing_from_a_source"] == 0
    for day in days:
        assert metadata("box_score_coverage", day)["dagster/row_count"] == 0
        assert metadata("games", day)["dagster/row_count"] == len(truth(sim, day))


def test_a_source_misreporting_a_final_score_fails_the_agreement_check_end_to_end(db, sim, run_pipeline):
    first = sorted(g["nba_game_id"] for g in truth(sim))[0]
    sim.control.add_fault("wrong_score", "bdl.games", params={"game_ids": [first], "points": 3})
    result = run_pipeline(DAY)
    agree = check(result, "sources_agree_on_games")
    assert not agree.passed and agree.severity == dg.AssetCheckSeverity.ERROR
    assert first in agree.description
