"""One explicit mode: simulator (hermetic, the default) or production (the real APIs)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from nba_notify.lib.config import (
    BDL_PRODUCTION_URL,
    NBAC_CDN_PRODUCTION_URL,
    NBAC_STATS_PRODUCTION_URL,
    ConfigurationError,
    Mode,
    Settings,
    first_season,
)
from nba_notify.lib.redact import mask_url

REAL = {
    "BDL_BASE_URL": "https://api.balldontlie.io",
    "BDL_API_KEY": "real-bdl-key",
    "NBAC_BASE_URL": "https://cdn.nba.com",
    "BRAZE_REST_ENDPOINT": "https://rest.iad-01.braze.com",
    "BRAZE_API_KEY": "real-braze-key",
    "BRAZE_CAMPAIGN_ID": "real-campaign",
}


def test_simulator_mode_ignores_every_real_endpoint_and_credential_and_names_them():
    settings = Settings.from_env({**REAL, "NBA_NOTIFY_SIM_URL": "http://127.0.0.1:9999"})
    assert settings.mode is Mode.SIMULATOR
    assert set(settings.ignored) == set(REAL)
    urls = (
        settings.bdl_base_url,
        settings.nbac_base_url,
        settings.nbac_stats_base_url,
        settings.braze_rest_endpoint,
    )
    assert all(url.startswith("http://127.0.0.1:9999/") for url in urls)
    assert "real" not in settings.bdl_api_key + settings.braze_api_key + settings.braze_campaign_id
    assert settings.clock_url == "http://127.0.0.1:9999/_sim/clock"


def test_simulator_mode_refuses_a_simulator_that_is_not_on_this_machine():
    with pytest.raises(ConfigurationError, match="NBA_NOTIFY_SIM_URL.*loopback"):
        Settings.from_env({"NBA_NOTIFY_SIM_URL": "http://10.0.0.5:8765"})


def test_production_mode_uses_the_real_hosts_the_wall_clock_and_no_simulator_endpoint():
    settings = Settings.from_env({"NBA_NOTIFY_MODE": "production", "BRAZE_API_KEY": "k"})
    assert settings.production and settings.clock_url is None
    assert (settings.bdl_base_url, settings.nbac_base_url, settings.nbac_stats_base_url) == (
        BDL_PRODUCTION_URL,
        NBAC_CDN_PRODUCTION_URL,
        NBAC_STATS_PRODUCTION_URL,
    )
    assert settings.ignored == ()
    assert settings.missing_for_production({"NBA_NOTIFY_MODE": "production", "BRAZE_API_KEY": "k"}) == [
        "BDL_API_KEY",
        "BRAZE_REST_ENDPOINT",
        "BRAZE_CAMPAIGN_ID",
        "CURRENTS_TOKEN",
    ]


def test_a_mistyped_mode_is_refused_with_the_choices():
    with pytest.raises(ConfigurationError, match="'simulator'.*'production'"):
        Settings.from_env({"NBA_NOTIFY_MODE": "prod"})


def test_first_season_is_configurable_by_start_year_or_label():
    assert first_season({}) == 2019
    assert first_season({"NBA_NOTIFY_FIRST_SEASON": "2015-16"}) == 2015
    with pytest.raises(ConfigurationError):
        first_season({"NBA_NOTIFY_FIRST_SEASON": "last year"})


def test_game_day_partitions_cover_2019_20_through_tomorrow():
    from nba_notify.defs.ingest.partitions import game_day_partitions
    from nba_notify.lib.ingest.parse import EASTERN

    keys = game_day_partitions.get_partition_keys()
    assert keys[0] == "2019-10-01" and "2024-11-15" in keys and "2020-08-14" in keys
    tomorrow = (datetime.now(EASTERN).date() + timedelta(days=1)).isoformat()
    assert keys[-1] == tomorrow and date.fromisoformat(keys[-1]) > date.fromisoformat(keys[-2])


def test_printed_urls_never_carry_a_password_or_a_token():
    masked = mask_url("postgresql://app:s3cret@db.internal:5432/nba?sslmode=require&password=x")
    assert "s3cret" not in masked and "password=x" not in masked
    assert masked.startswith("postgresql://app:***@db.internal:5432/nba?sslmode=require")


def test_the_test_suite_only_ever_sees_loopback_upstreams():
    """conftest drops every real endpoint, credential, alert channel and the mode."""
    from nba_notify.lib.config import is_loopback_url

    settings = Settings.from_env()
    assert settings.mode is Mode.SIMULATOR and settings.ignored == ()
    for url in (
        settings.bdl_base_url,
        settings.nbac_base_url,
        settings.nbac_stats_base_url,
        settings.braze_rest_endpoint,
    ):
        assert is_loopback_url(url), url
