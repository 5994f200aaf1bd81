"""The props code location: assets, checks, jobs and the schedule load; the schedule's ticks are
idempotent and it ships stopped (every tick spends credits); production keys reach the
resources as environment variables, never as values."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg

from nba_notify.definitions import load
from nba_notify.defs.props.jobs import props_schedule
from nba_notify.defs.props.resources import build_props_resources


def test_props_assets_checks_and_jobs_are_in_the_code_location():
    defs = load()
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {
        "odds_api_props_raw",
        "odds_api_lines_raw",
        "bettingpros_props_raw",
        "player_props",
        "game_lines",
    } <= keys
    assert {"player_prop_results", "player_prop_hit_rates", "stg_player_prop_closing_lines"} <= keys
    assert defs.resolve_job_def("props_job") and defs.resolve_job_def("bettingpros_job")
    checks = {c.name for c in defs.resolve_asset_graph().asset_check_keys}
    assert {
        "prop_events_unambiguous",
        "props_for_games_not_on_schedule",
        "prop_players_proven",
        "books_agree_on_props",
        "no_lines_for_postponed_games",
        "lines_for_games_not_on_schedule",
    } <= checks


def test_the_schedule_asks_for_today_and_tomorrow_once_per_tick_and_ships_stopped():
    assert props_schedule.default_status is dg.DefaultScheduleStatus.STOPPED
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 11, 24, 16, 0, tzinfo=UTC),
        repository_def=load().get_repository_def(),
    )
    requests = list(props_schedule.evaluate_tick(context).run_requests or [])
    assert [r.partition_key for r in requests] == ["2026-11-24", "2026-11-25"]
    assert len({r.run_key for r in requests}) == 2


def test_production_keys_are_environment_variables_not_values():
    resources = build_props_resources({"NBA_NOTIFY_MODE": "production", "ODDS_API_KEY": "real-secret"})
    assert "real-secret" not in repr(resources["odds_api"])
    assert resources["odds_api"].base_url == "https://api.the-odds-api.com"
    assert resources["bettingpros"].base_url == "https://api.bettingpros.com"
