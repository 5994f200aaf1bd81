"""The UI path is the job path: what "Materialize" on the asset pages runs uses the jobs'
executor and run tags, the documented backfill route selects what it needs, and the schedules
read in one zone."""

from __future__ import annotations

import dagster as dg
import pytest

from nba_notify.definitions import load
from nba_notify.lib.run_coordinator import BRAZE_CAMPAIGN_TAG, run_tags_from_asset_tags

INGEST_JOB_ASSETS = {
    "bdl_games_raw",
    "bdl_box_scores_raw",
    "nbac_schedule_raw",
    "nbac_box_scores_raw",
    "games",
    "player_box_scores",
}


@pytest.fixture(scope="module")
def definitions() -> dg.Definitions:
    return load()


def test_materialize_from_the_asset_pages_runs_in_one_process_like_the_jobs(definitions):
    # the UI launches an asset selection as the implicit asset job
    assert definitions.resolve_implicit_global_asset_job_def().executor_def.name == "in_process"
    assert definitions.resolve_job_def("braze_sync_job").executor_def.name == "in_process"


def test_every_braze_writing_asset_declares_the_campaign_tag_the_sync_job_carries(definitions):
    job_tag = definitions.resolve_job_def("braze_sync_job").tags[BRAZE_CAMPAIGN_TAG]
    assert definitions.resolve_assets_def("braze_schedules").tags_by_key[dg.AssetKey("braze_schedules")] == {
        BRAZE_CAMPAIGN_TAG: job_tag,
        **_kind_tags(definitions, "braze_schedules"),
    }


def _kind_tags(definitions, key: str) -> dict[str, str]:
    tags = definitions.resolve_assets_def(key).tags_by_key[dg.AssetKey(key)]
    return {k: v for k, v in tags.items() if k.startswith("dagster/kind/")}


def test_run_scoped_asset_tags_are_added_to_a_run_only_when_it_lacks_them():
    braze = {BRAZE_CAMPAIGN_TAG: "c1", "dagster/kind/braze": ""}
    assert run_tags_from_asset_tags([{}, braze], {}) == {BRAZE_CAMPAIGN_TAG: "c1"}
    assert run_tags_from_asset_tags([braze], {BRAZE_CAMPAIGN_TAG: "c1"}) == {}
    assert run_tags_from_asset_tags([{"owner": "x"}], {}) == {}


def test_the_ingest_group_brings_the_raw_assets_along_as_one_single_run_backfill(definitions):
    """README: Assets -> ingest -> Materialize all -> a date range. Every asset the group
    holds is partitioned alike with a single-run policy, and the raw scrapes are among them."""
    group = {
        key.to_user_string()
        for key in dg.AssetSelection.groups("ingest").resolve(definitions.resolve_asset_graph())
    }
    assert INGEST_JOB_ASSETS <= group
    for key in group:
        spec = definitions.resolve_assets_def(key)
        assert spec.backfill_policy == dg.BackfillPolicy.single_run(), key


def test_every_schedule_runs_in_us_eastern_and_analytics_runs_by_default(definitions):
    schedules = list(definitions.get_repository_def().schedule_defs)
    assert schedules and {s.execution_timezone for s in schedules} == {"America/New_York"}
    analytics = definitions.get_repository_def().get_schedule_def("analytics_schedule")
    assert analytics.default_status == dg.DefaultScheduleStatus.RUNNING


def test_a_run_without_stored_scrapes_says_run_the_raw_scrape_first(materialize_day_of_games):
    result = materialize_day_of_games("2026-11-20")
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    metadata = failure.step_failure_data.user_failure_data.metadata
    recovery = metadata["error_recovery"].value
    assert recovery.startswith("Run the raw scrape first") and "upstream" not in recovery


@pytest.fixture
def materialize_day_of_games(db, sim, monkeypatch):
    from nba_notify.defs.ingest import assets as ingest_assets
    from nba_notify.defs.resources import build_resources
    from nba_notify.lib.config import Settings

    monkeypatch.setenv("NBA_NOTIFY_SIM_URL", sim.url)
    resources = build_resources(Settings.from_env())

    def run(day: str) -> dg.ExecuteInProcessResult:
        return dg.materialize(
            [ingest_assets.games], partition_key=day, resources=resources, raise_on_error=False
        )

    return run
