"""Phase 1-2 assets against the simulator over HTTP and a real PostgreSQL: the data matches
the simulator's ground truth, counts are what was written, re-runs are idempotent, and every
upstream fault ends classified in ``scrape_events`` — retried, or failed loudly."""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg
import httpx
import pytest
import sqlalchemy as sa

from nba_notify.lib.db.tables.ingest import (
    games,
    player_box_scores,
    processor_run_history,
    raw_payloads,
    scrape_events,
)
from nba_notify_tests.ingest.conftest import INGEST_ASSETS

DAY = "2026-11-22"  # two days before the simulator's default clock: every game final


def truth_games(sim, day: str = DAY) -> list[dict]:
    return httpx.get(f"{sim.url}/_sim/truth/games", params={"date": day}).json()["games"]


def count(db, table, *where) -> int:
    with db.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()


def events(db, scraper: str, day: str = DAY) -> list:
    with db.connect() as conn:
        return conn.execute(
            sa.select(scrape_events)
            .where(
                scrape_events.c.scraper_name == scraper,
                scrape_events.c.target_date == date.fromisoformat(day),
            )
            .order_by(scrape_events.c.started_at)
        ).all()


def row_count_metadata(result, asset_key: str) -> int:
    [materialization] = [m for m in result.asset_materializations_for_node(asset_key)]
    return materialization.metadata["dagster/row_count"].value


def test_a_game_day_matches_the_simulators_ground_truth(db, sim, materialize_day):
    result = materialize_day(DAY)
    assert result.success
    truth = {(g["away"], g["home"]): g for g in truth_games(sim)}
    with db.connect() as conn:
        rows = conn.execute(sa.select(games).where(games.c.game_date == date.fromisoformat(DAY))).all()
    assert len(rows) == len(truth) > 0
    for row in rows:
        expected = truth[(row.away_team, row.home_team)]
        assert row.in_bdl and row.in_nbac
        assert row.game_id == expected["nba_game_id"]  # the league's id is the game's identity
        assert row.bdl_game_id == expected["bdl_game_id"]
        assert (row.status, row.home_score, row.away_score) == (
            "final",
            expected["home_score"],
            expected["away_score"],
        )
        assert row.tipoff_utc.isoformat().replace("+00:00", "Z") == expected["tipoff_utc"].replace(
            "+00:00", "Z"
        )
    expected_players = sum(g["home_players"] + g["away_players"] for g in truth.values())
    for source in ("bdl", "nbac"):
        assert count(db, player_box_scores, player_box_scores.c.source == source) == expected_players


def test_row_count_metadata_and_run_history_equal_table_counts(db, materialize_day):
    result = materialize_day(DAY)
    day = date.fromisoformat(DAY)
    assert row_count_metadata(result, "games") == count(db, games, games.c.game_date == day)
    assert row_count_metadata(result, "player_box_scores") == count(
        db, player_box_scores, player_box_scores.c.game_date == day
    )
    with db.connect() as conn:
        history = dict(
            conn.execute(
                sa.select(processor_run_history.c.processor_name, processor_run_history.c.records_processed)
            ).all()
        )
    assert history["games"] == count(db, games)
    assert history["player_box_scores"] == count(db, player_box_scores)


def test_rematerializing_a_day_replaces_it_without_duplicates(db, materialize_day):
    assert materialize_day(DAY).success
    before = (count(db, games), count(db, player_box_scores))
    assert materialize_day(DAY).success
    assert (count(db, games), count(db, player_box_scores)) == before
    assert len(events(db, "bdl_games")) == 2  # both attempts are on record


def test_phase_two_reprocesses_from_stored_raw_without_calling_upstream(db, sim, materialize_day):
    assert materialize_day(DAY).success
    calls_before = sim.control.state()["request_counts"]
    phase_two = [a for a in INGEST_ASSETS if a.key.to_user_string() in ("games", "player_box_scores")]
    assert materialize_day(DAY, phase_two).success
    assert sim.control.state()["request_counts"] == calls_before
    assert count(db, games) > 0


def test_bdl_cursor_paging_stores_every_page(db, sim, materialize_day):
    n = len(truth_games(sim))
    result = materialize_day(DAY, [INGEST_ASSETS[0]], bdl={"per_page": 2})
    assert result.success
    [event] = events(db, "bdl_games")
    assert event.pages_fetched == -(-n // 2)
    assert event.records_received == n
    assert count(db, raw_payloads, raw_payloads.c.scrape_event_id == event.event_id) == event.pages_fetched


def test_a_season_file_shared_by_many_days_is_stored_once(db, materialize_day):
    schedule = [INGEST_ASSETS[2]]
    for offset in range(3):
        assert materialize_day(
            (date.fromisoformat(DAY) - timedelta(days=offset)).isoformat(), schedule
        ).success
    with db.connect() as conn:
        blobs = conn.execute(sa.select(sa.func.count(sa.distinct(raw_payloads.c.sha256)))).scalar_one()
    assert count(db, raw_payloads) == 3 and blobs == 1


def test_backfill_of_several_days_runs_as_one_run(db, materialize_day):
    days = ["2026-11-20", "2026-11-21", "2026-11-22"]
    result = materialize_day(
        "",
        tags={"dagster/asset_partition_range_start": days[0], "dagster/asset_partition_range_end": days[-1]},
    )
    assert result.success
    with db.connect() as conn:
        stored = conn.execute(sa.select(games.c.game_date).distinct()).scalars().all()
        runs = conn.execute(sa.select(processor_run_history.c.run_id).distinct()).scalars().all()
    assert sorted(d.isoformat() for d in stored) == days
    assert runs == [result.run_id]


def test_a_single_run_backfill_gives_every_partition_its_own_row_count(db, sim, ingest_resources):
    # 2026-11-26 is Thanksgiving in the simulated season: no games that day
    days = ["2026-11-25", "2026-11-26", "2026-11-27"]
    expected = {day: len(truth_games(sim, day)) for day in days}
    assert expected["2026-11-26"] == 0 and expected["2026-11-25"] > 0 and expected["2026-11-27"] > 0
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            INGEST_ASSETS,
            resources=ingest_resources,
            instance=instance,
            tags={
                "dagster/asset_partition_range_start": days[0],
                "dagster/asset_partition_range_end": days[-1],
            },
        )
        assert result.success

        def latest(asset: str, day: str) -> dict:
            [record] = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[day]), limit=1
            ).records
            assert record.run_id == result.run_id  # one run wrote every partition
            return {k: v.value for k, v in record.asset_materialization.metadata.items()}

        for day in days:
            with db.connect() as conn:
                on_day = conn.execute(
                    sa.select(sa.func.count())
                    .select_from(games)
                    .where(games.c.game_date == date.fromisoformat(day))
                ).scalar_one()
            assert on_day == expected[day]
            for asset in ("bdl_games_raw", "nbac_schedule_raw", "games"):
                meta = latest(asset, day)
                assert meta["dagster/row_count"] == expected[day], (asset, day)
                assert meta.get("game_date") == day
            # API calls are the day's own: each day asked BDL once (one page)
            assert latest("bdl_games_raw", day)["api_calls"] == 1
            # nothing has tipped off on these days yet (the simulator's clock is 2026-11-24)
            assert latest("player_box_scores", day)["dagster/row_count"] == 0


# -- faults: each ends classified and recorded ---------------------------------------------


def test_rate_limited_source_is_retried_and_the_retries_recorded(db, sim, materialize_day):
    sim.control.add_fault(
        "status", "bdl.games", times=1, params={"code": 429, "body": {"error": "Too many requests"}}
    )
    assert materialize_day(DAY, [INGEST_ASSETS[0]]).success
    [event] = events(db, "bdl_games")
    assert event.status == "success" and event.retries == 1


def test_persistent_5xx_fails_loudly_and_is_recorded_as_api_error(db, sim, materialize_day):
    sim.control.add_fault("status", "bdl.games", params={"code": 503})
    result = materialize_day(DAY, [INGEST_ASSETS[0]])
    assert not result.success
    [event] = events(db, "bdl_games")
    assert (event.status, event.error_type, event.error_category, event.api_response_code) == (
        "failed",
        "api_error",
        "API",
        503,
    )
    assert event.error_details["error"]["recovery"]
    assert count(db, raw_payloads) == 0  # nothing half-written


def test_read_timeouts_fail_as_timeout(db, sim, materialize_day):
    sim.control.add_fault("timeout", "bdl.box_scores", params={"seconds": 2})
    result = materialize_day(DAY, [INGEST_ASSETS[1]])
    assert not result.success
    [event] = events(db, "bdl_box_scores")
    assert (event.status, event.error_type, event.error_category) == ("failed", "timeout", "TIMEOUT")


def test_truncated_json_fails_as_validation_naming_the_problem(db, sim, materialize_day):
    sim.control.add_fault("truncate", "bdl.box_scores")
    result = materialize_day(DAY, [INGEST_ASSETS[1]])
    assert not result.success
    [event] = events(db, "bdl_box_scores")
    assert (event.status, event.error_type) == ("failed", "validation_error")
    assert "not valid JSON" in event.error_message


def test_malformed_json_once_is_retried_and_succeeds(db, sim, materialize_day):
    sim.control.add_fault("malformed", "bdl.games", times=1)
    assert materialize_day(DAY, [INGEST_ASSETS[0]]).success
    [event] = events(db, "bdl_games")
    assert event.status == "success" and event.retries == 1


def test_brotli_bodies_are_decoded_and_stored_decoded(db, sim, materialize_day):
    sim.control.add_fault("brotli", "bdl.*")
    assert materialize_day(DAY, INGEST_ASSETS[:2]).success
    assert events(db, "bdl_games")[0].records_received == len(truth_games(sim))


def test_rejected_credentials_fail_as_auth_without_retrying(db, materialize_day):
    result = materialize_day(DAY, [INGEST_ASSETS[0]], bdl={"api_key": "wrong"})
    assert not result.success
    [event] = events(db, "bdl_games")
    assert (event.error_category, event.api_calls, event.api_response_code) == ("AUTH", 1, 401)


def test_a_source_silently_dropping_games_is_visible_in_phase_two(db, sim, materialize_day):
    sim.control.add_fault("drop_games", "bdl.games", params={"date": DAY, "count": 2})
    assert materialize_day(DAY).success
    with db.connect() as conn:
        only_nbac = conn.execute(sa.select(games.c.game_id).where(~games.c.in_bdl)).scalars().all()
    assert len(only_nbac) == 2


def test_a_lagging_source_is_complete_once_it_catches_up(db, sim, materialize_day):
    today = sim.control.now().date().isoformat()
    sim.control.add_fault("lag_games", "bdl.games", params={"date": today, "count": 1, "delay_hours": 1})
    assert materialize_day(today, [INGEST_ASSETS[0], INGEST_ASSETS[2], INGEST_ASSETS[4]]).success
    assert count(db, games, ~games.c.in_bdl) == 1
    sim.control.advance(hours_to_seconds(14))
    assert materialize_day(today, [INGEST_ASSETS[0], INGEST_ASSETS[2], INGEST_ASSETS[4]]).success
    assert count(db, games, ~games.c.in_bdl) == 0


def test_a_zero_record_run_never_blocks_a_later_run_with_data(db, sim, materialize_day):
    heal = (sim.control.now() + timedelta(hours=4)).isoformat()
    sim.control.add_fault("drop_games", "bdl.box_scores", params={"date": DAY, "until": heal})
    assert materialize_day(DAY).success
    assert events(db, "bdl_box_scores")[0].records_received == 0
    assert count(db, player_box_scores, player_box_scores.c.source == "bdl") == 0
    sim.control.advance(hours_to_seconds(5))
    assert materialize_day(DAY).success
    assert count(db, player_box_scores, player_box_scores.c.source == "bdl") > 0


def hours_to_seconds(hours: float) -> float:
    return hours * 3600


@pytest.mark.parametrize("status", [500, 502])
def test_failure_on_one_of_several_days_names_the_day_and_keeps_the_others(db, sim, materialize_day, status):
    # Fail only the middle day of a three-day single-run backfill.
    sim.control.add_fault("status", "bdl.box_scores", times=3, params={"code": status})
    result = materialize_day(
        "",
        [INGEST_ASSETS[1]],
        tags={
            "dagster/asset_partition_range_start": "2026-11-20",
            "dagster/asset_partition_range_end": "2026-11-22",
        },
    )
    assert not result.success
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "1 of 3 game days failed (2026-11-20)" in failures[0].event_specific_data.error.message
    with db.connect() as conn:
        statuses = dict(conn.execute(sa.select(scrape_events.c.target_date, scrape_events.c.status)).all())
        received = dict(
            conn.execute(sa.select(scrape_events.c.target_date, scrape_events.c.records_received)).all()
        )
    assert sorted(statuses.values()) == ["failed", "success", "success"]
    # the two days that did their work are materialized, each with its own count; the failed
    # one is not, so the UI shows exactly which partition failed
    materialized = {
        m.partition: m.metadata["dagster/row_count"].value
        for m in result.asset_materializations_for_node("bdl_box_scores_raw")
    }
    assert materialized == {
        day.isoformat(): received[day] for day, status in statuses.items() if status == "success"
    }
    assert "2026-11-20" not in materialized and all(n > 0 for n in materialized.values())
