"""Zero-record semantics of props (seed 004: 445 OddsApiPropsProcessor zero-record runs, mostly
not losses). A props run with nothing to fetch — games too far ahead, games already started,
no historical access — is a legitimate zero with its reason, not an alarm; a props run whose
scrape failed is a real loss the reprocess plan turns into a rescrape."""

from __future__ import annotations

from datetime import date, datetime

from nba_notify.lib.quality.audit import load_audit
from nba_notify.lib.quality.reprocess import build_plan
from nba_notify_tests.props.conftest import PROPS_ASSETS

RAW_AND_PROPS = [PROPS_ASSETS[0], PROPS_ASSETS[2]]


def audit_row(db, day: str, processor: str = "player_props"):
    found = [
        r for r in load_audit(db) if r.data_date == date.fromisoformat(day) and r.processor_name == processor
    ]
    assert len(found) == 1, found
    return found[0]


def test_games_further_ahead_than_books_post_props_are_a_legitimate_zero(db, sim, materialize):
    assert materialize("2026-11-27", RAW_AND_PROPS).success
    row = audit_row(db, "2026-11-27")
    assert (row.audit_class, row.zero_context, row.recovery_action) == (
        "legitimate_zero",
        "not_offered_yet",
        "none",
    )
    assert "odds_api.event_odds" not in sim.control.state()["request_counts"]  # no credits asked for nothing


def test_a_slate_already_under_way_is_a_legitimate_zero(db, sim, materialize):
    sim.control.set_clock(
        datetime.fromisoformat("2026-11-25T04:55:00+00:00")
    )  # every game of the 24th started
    assert materialize("2026-11-24", RAW_AND_PROPS).success
    row = audit_row(db, "2026-11-24")
    assert (row.audit_class, row.zero_context) == ("legitimate_zero", "games_started")


def test_a_past_day_without_historical_access_is_a_legitimate_zero(db, materialize):
    assert materialize("2026-11-22", RAW_AND_PROPS, odds_api={"use_historical": False}).success
    row = audit_row(db, "2026-11-22")
    assert (row.audit_class, row.zero_context) == ("legitimate_zero", "historical_disabled")


def test_a_props_run_that_lost_its_scrape_is_a_real_loss_with_a_rescrape_plan(db, materialize):
    assert not materialize("2026-11-24", [PROPS_ASSETS[0]], odds_api={"api_key": "revoked-key"}).success
    # phase 2 on its own (the next run): nothing stored, so it fails on record with zero rows
    assert not materialize("2026-11-24", [PROPS_ASSETS[2]]).success
    row = audit_row(db, "2026-11-24")
    assert (row.audit_class, row.root_cause, row.recovery_action) == (
        "real_loss",
        "scraper_failed",
        "rescrape",
    )
    assert row.scrapers_without_raw == ("odds_api_props",)
    [plan] = build_plan(load_audit(db)).partitions
    assert plan.partition_key == "2026-11-24" and plan.action == "rescrape"
    assert {"odds_api_props_raw", "player_props"} <= set(plan.asset_keys)


def test_props_that_were_fetched_are_never_a_zero_record_run(db, materialize):
    assert materialize("2026-11-24", RAW_AND_PROPS).success
    assert materialize("2026-11-24", [PROPS_ASSETS[2]]).success  # re-processed, nothing new: same rows
    assert not [r for r in load_audit(db) if r.processor_name == "player_props"]
