"""The zero-record audit (seed 004 B2-B4) on constructed histories in PostgreSQL: every
category gets its class, root cause and recovery action, and the reprocess plan is exactly
the real-loss game days."""

from __future__ import annotations

import pytest

from nba_notify.lib.quality.audit import load_audit, load_audit_summary
from nba_notify.lib.quality.reprocess import build_plan
from nba_notify_tests.quality.conftest import INGEST_ASSETS
from nba_notify_tests.quality.histories import (
    D_ALL_STAR,
    D_FALSE_POSITIVE,
    D_FUTURE,
    D_OFF_DAY,
    D_OFF_SEASON,
    D_OTHER_RUN,
    D_PROCESSOR_FAILED,
    D_SCRAPED_SINCE,
    D_SCRAPER_FAILED,
    write_history,
)


@pytest.fixture
def history(db):
    return write_history(db)


def by_date(rows):
    return {(r.data_date, r.processor_name): r for r in rows}


def test_every_zero_record_run_gets_its_class_root_cause_and_recovery_action(history):
    audit = by_date(load_audit(history))
    expected = {
        (D_FALSE_POSITIVE, "player_box_scores"): ("false_positive", "tracking_error", "none"),
        (D_OTHER_RUN, "player_box_scores"): ("data_from_other_run", "superseded", "none"),
        (D_FUTURE, "player_box_scores"): ("future_date", "not_yet_played", "none"),
        (D_OFF_DAY, "games"): ("legitimate_zero", "legitimate_zero", "none"),
        (D_ALL_STAR, "games"): ("legitimate_zero", "legitimate_zero", "none"),
        (D_OFF_SEASON, "player_box_scores"): ("legitimate_zero", "off_day", "none"),
        (D_PROCESSOR_FAILED, "games"): ("real_loss", "processor_failed", "reprocess_from_raw"),
        (D_SCRAPER_FAILED, "player_box_scores"): ("real_loss", "scraper_failed", "rescrape"),
        (D_SCRAPED_SINCE, "player_box_scores"): ("real_loss", "scraper_failed", "reprocess_from_raw"),
    }
    assert {k: (r.audit_class, r.root_cause, r.recovery_action) for k, r in audit.items()} == expected
    assert audit[(D_ALL_STAR, "games")].zero_context == "all_star_break"
    assert audit[(D_OFF_SEASON, "player_box_scores")].zero_context == "off_season"
    assert audit[(D_OFF_DAY, "games")].zero_context == "no_games"
    assert audit[(D_SCRAPER_FAILED, "player_box_scores")].scrapers_without_raw == (
        "bdl_box_scores",
        "nbac_box_scores",
    )
    assert audit[(D_PROCESSOR_FAILED, "games")].games_expected == 5


def test_the_false_positive_rate_is_a_visible_figure(history):
    summary = load_audit_summary(history)
    overall = summary["all"]
    assert (overall["zero_record_runs"], overall["false_positive"], overall["real_loss"]) == (9, 1, 3)
    assert overall["false_positive_pct"] == pytest.approx(11.11)
    assert summary["player_box_scores"]["false_positive"] == 1 and summary["games"]["false_positive"] == 0


def test_the_reprocess_plan_covers_exactly_the_real_loss_game_days(history):
    plan = build_plan(load_audit(history))
    assert {p.partition_key: (p.action, p.asset_keys) for p in plan.partitions} == {
        D_PROCESSOR_FAILED.isoformat(): ("reprocess_from_raw", ("games", "player_box_scores")),
        D_SCRAPER_FAILED.isoformat(): (
            "rescrape",
            (
                "bdl_box_scores_raw",
                "nbac_schedule_raw",
                "nbac_box_scores_raw",
                "player_box_scores",
                "box_score_coverage",
            ),
        ),
        D_SCRAPED_SINCE.isoformat(): ("reprocess_from_raw", ("player_box_scores",)),
    }
    assert [(g.action, g.partition_keys) for g in plan.groups] == [
        ("reprocess_from_raw", (D_PROCESSOR_FAILED.isoformat(),)),
        ("reprocess_from_raw", (D_SCRAPED_SINCE.isoformat(),)),
        ("rescrape", (D_SCRAPER_FAILED.isoformat(),)),
    ]
    with pytest.raises(Exception, match="not in the reprocess plan"):
        plan.only([D_OTHER_RUN.isoformat()])  # a day with data is never re-run


def test_runs_through_the_shared_write_path_leave_no_false_positives(db, run_pipeline):
    # yesterday's finals and today's slate (the 10:00 ET box score run finds no final game)
    for day in ("2026-11-23", "2026-11-24"):
        run_pipeline(day, assets=INGEST_ASSETS)
    audit = load_audit(db)
    assert audit, "today's box score run wrote nothing and is audited"
    assert {(r.processor_name, r.audit_class, r.root_cause) for r in audit} == {
        ("player_box_scores", "legitimate_zero", "legitimate_zero")
    }
    assert load_audit_summary(db)["all"]["false_positive_pct"] == 0
    assert build_plan(audit).partitions == ()
