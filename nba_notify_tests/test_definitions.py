"""The code location loads, and every job, schedule and sensor in it resolves."""

from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from nba_notify.definitions import load


@pytest.fixture(scope="module")
def definitions() -> dg.Definitions:
    return load()


def test_every_job_resolves(definitions):
    repo = definitions.get_repository_def()
    names = {job.name for job in repo.get_all_jobs()}
    assert {"ingest_job", "schedule_refresh_job", "live_scoreboard_job"} <= names
    for name in names:
        assert repo.get_job(name) is not None


def test_ingest_assets_are_daily_partitioned_by_eastern_game_day(definitions):
    for key in (
        "bdl_games_raw",
        "bdl_box_scores_raw",
        "nbac_schedule_raw",
        "nbac_box_scores_raw",
        "games",
        "player_box_scores",
    ):
        spec = definitions.resolve_assets_def(key)
        partitions = spec.partitions_def
        assert isinstance(partitions, dg.DailyPartitionsDefinition)
        assert partitions.timezone == "America/New_York"
        assert spec.backfill_policy == dg.BackfillPolicy.single_run()


def test_phase_two_depends_on_both_sources(definitions):
    games = definitions.resolve_assets_def("games")
    upstream = {key.to_user_string() for key in games.asset_deps[dg.AssetKey("games")]}
    assert upstream == {"bdl_games_raw", "nbac_schedule_raw"}


def test_daily_schedule_requests_yesterday_and_today_with_idempotent_run_keys(definitions):
    schedule = definitions.resolve_schedule_def("daily_ingest_schedule")
    tick = datetime(2026, 1, 15, 6, 0, tzinfo=ZoneInfo("America/New_York"))
    requests = list(
        schedule.evaluate_tick(
            dg.build_schedule_context(
                scheduled_execution_time=tick, repository_def=definitions.get_repository_def()
            )
        ).run_requests
    )
    assert [(r.partition_key, r.run_key) for r in requests] == [
        ("2026-01-14", "daily-ingest-2026-01-14"),
        ("2026-01-15", "daily-ingest-2026-01-15"),
    ]


def test_todays_schedule_refreshes_every_fifteen_minutes(definitions):
    schedule = definitions.resolve_schedule_def("todays_schedule_refresh")
    assert schedule.cron_schedule == "*/15 * * * *"
    tick = datetime(2026, 1, 15, 23, 45, tzinfo=ZoneInfo("America/New_York"))
    [request] = schedule.evaluate_tick(
        dg.build_schedule_context(
            scheduled_execution_time=tick, repository_def=definitions.get_repository_def()
        )
    ).run_requests
    assert request.partition_key == "2026-01-15"


def test_jobs_that_write_to_braze_carry_the_campaign_for_the_run_queue_limit(definitions):
    for name in ("braze_sync_job", "reconcile_job", "pre_send_check_job", "resolve_unknown_schedule_job"):
        tags = definitions.resolve_job_def(name).tags
        assert tags["nba_notify/braze_campaign"] == "sim-campaign-tipoff", name


def test_the_policy_resource_is_the_products_policy_with_every_knob(monkeypatch):
    from dataclasses import fields

    from nba_notify.defs.notifications.policy import NotificationPolicyResource
    from nba_notify.lib.ledger.planning import NotificationPolicy

    monkeypatch.delenv("NBA_NOTIFY_SEND_GUARD", raising=False)
    assert NotificationPolicyResource().policy("c") == NotificationPolicy(campaign_id="c")
    configured = NotificationPolicyResource(lead_minutes=45, ambiguous_create_fallback="recreate").policy("c")
    assert (configured.lead_minutes, configured.ambiguous_create_fallback) == (45, "recreate")
    knobs = {f.name for f in fields(NotificationPolicy)} - {"campaign_id"}
    assert knobs <= set(NotificationPolicyResource.model_fields)
