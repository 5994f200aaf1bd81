"""Alert rules fire exactly at their thresholds and not below; the evaluator sensor raises,
dedupes, resolves and delivers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
import sqlalchemy as sa

from nba_notify.defs.monitoring.sensors import alert_evaluator
from nba_notify.defs.resources import AlertsResource, PostgresResource
from nba_notify.lib.alerts import DEFAULT_RULES, RuleEdit, update_rule
from nba_notify.lib.db.tables.monitoring import alert_deliveries, alerts, sync_execution_history
from nba_notify.lib.monitoring.evaluate import ExecutionPoint, evaluate_and_apply, evaluate_rule

NOW = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)


def points(
    *specs: tuple[int, bool], duration: float = 10.0, memory: float | None = None
) -> list[ExecutionPoint]:
    """(minutes ago, success) pairs."""
    return [
        ExecutionPoint(f"r{i}", NOW - timedelta(minutes=ago), ok, duration, memory)
        for i, (ago, ok) in enumerate(specs)
    ]


rule = DEFAULT_RULES.__getitem__


def test_three_consecutive_failures_within_the_window_fire_two_do_not():
    r = rule("games_schedule_consecutive_failures")  # 3 in 45 min
    assert not evaluate_rule(r, "games_schedule", points((5, False), (20, False), (35, True)), NOW).firing
    fired = evaluate_rule(r, "games_schedule", points((5, False), (20, False), (35, False)), NOW)
    assert fired.firing and fired.details["consecutive_failures"] == 3
    # the third failure is outside the 45-minute window: not consecutive "within 45 min"
    assert not evaluate_rule(r, "games_schedule", points((5, False), (20, False), (50, False)), NOW).firing
    # a success in between breaks the streak
    assert not evaluate_rule(
        r, "games_schedule", points((5, False), (10, True), (20, False), (30, False)), NOW
    ).firing


def test_success_rate_below_95_percent_in_24h_fires_at_or_above_does_not():
    r = rule("sync_success_rate")
    at_threshold = points(*[(i * 30, True) for i in range(19)], (600, False))  # 19/20 = 95%
    below = points(*[(i * 30, True) for i in range(18)], (600, False), (630, False))  # 90%
    assert not evaluate_rule(r, "box_scores", at_threshold, NOW).firing
    fired = evaluate_rule(r, "box_scores", below, NOW)
    assert fired.firing and fired.details["success_rate"] == 0.9
    old_failures = points((60, True), (25 * 60, False), (26 * 60, False))  # outside 24 h
    assert not evaluate_rule(r, "box_scores", old_failures, NOW).firing
    assert not evaluate_rule(r, "box_scores", [], NOW).firing


def test_duration_over_300s_fires_exactly_300s_does_not():
    r = rule("box_scores_duration_exceeded")
    assert not evaluate_rule(r, "box_scores", points((5, True), duration=300.0), NOW).firing
    fired = evaluate_rule(r, "box_scores", points((5, True), duration=300.5), NOW)
    assert fired.firing and fired.details["duration_seconds"] == 300.5
    assert not evaluate_rule(r, "box_scores", points((20, True), duration=900.0), NOW).firing  # window 15 min


def test_memory_over_512mb_fires_for_any_entity():
    r = rule("memory_usage_exceeded")
    assert r.applies_to("live_scoreboard") and r.applies_to("box_scores")
    assert not evaluate_rule(r, "live_scoreboard", points((1, True), memory=512.0), NOW).firing
    assert evaluate_rule(r, "live_scoreboard", points((1, True), memory=513.0), NOW).firing
    assert not evaluate_rule(r, "live_scoreboard", points((1, True), memory=None), NOW).firing


def insert_history(
    engine, entity: str, specs: list[tuple[int, bool]], now: datetime, duration: float = 5.0
) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.insert(sync_execution_history),
            [
                {
                    "entity_type": entity,
                    "run_id": f"{entity}-{i}-{ago}",
                    "job_name": "test",
                    "trigger": "schedule",
                    "run_status": "SUCCESS" if ok else "FAILURE",
                    "success": ok,
                    "execution_start": now - timedelta(minutes=ago),
                    "execution_end": now - timedelta(minutes=ago) + timedelta(seconds=duration),
                    "duration_seconds": duration,
                    "records_processed": 1,
                }
                for i, (ago, ok) in enumerate(specs)
            ],
        )


def open_alerts(engine) -> dict[tuple[str, str], dict]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(alerts).where(alerts.c.status != "RESOLVED")).mappings()
        return {(r["rule_key"], r["entity"]): dict(r) for r in rows}


def test_evaluation_raises_once_and_resolves_when_the_condition_clears(mdb):
    insert_history(mdb, "games_schedule", [(5, False), (20, False), (35, False)], NOW)
    evaluate_and_apply(mdb, NOW)
    evaluate_and_apply(mdb, NOW + timedelta(minutes=1))  # next tick: same condition, same alert
    opened = open_alerts(mdb)
    assert set(opened) == {
        ("games_schedule_consecutive_failures", "games_schedule"),
        ("sync_success_rate", "games_schedule"),
    }
    assert opened[("games_schedule_consecutive_failures", "games_schedule")]["occurrences"] == 2
    insert_history(mdb, "games_schedule", [(0, True)], NOW + timedelta(minutes=2))
    evaluate_and_apply(mdb, NOW + timedelta(minutes=3))
    assert ("games_schedule_consecutive_failures", "games_schedule") not in open_alerts(mdb)


def test_operator_edits_threshold_without_code(mdb):
    insert_history(mdb, "box_scores", [(5, False), (10, False)], NOW)
    evaluate_and_apply(mdb, NOW)
    assert ("box_scores_consecutive_failures", "box_scores") not in open_alerts(mdb)
    with mdb.begin() as conn:
        update_rule(conn, "box_scores_consecutive_failures", RuleEdit(threshold=2))
    evaluate_and_apply(mdb, NOW)
    assert ("box_scores_consecutive_failures", "box_scores") in open_alerts(mdb)


def test_alert_evaluator_sensor_raises_escalates_and_delivers(
    mdb, database_url, webhook_receiver, dead_smtp_port
):
    now = datetime.now(UTC)
    insert_history(mdb, "notifications_sync", [(1, False), (2, False), (3, False)], now)
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(
            instance=instance,
            resources={
                "database": PostgresResource(url=database_url),
                "alerts": AlertsResource(
                    webhook_url=webhook_receiver.url,
                    smtp_host="127.0.0.1",
                    smtp_port=dead_smtp_port,
                    smtp_from="a@x.test",
                    smtp_to=["b@x.test"],
                    timeout_seconds=1.0,
                ),
            },
        )
        result = alert_evaluator(context)
    assert "not delivered" in result.skip_message
    texts = sorted(p["text"] for p in webhook_receiver.received)
    assert any(
        "notifications_sync: 3 consecutive failed syncs" in t and t.startswith("[CRITICAL] RAISED")
        for t in texts
    )
    with mdb.connect() as conn:
        email = conn.execute(
            sa.select(alert_deliveries.c.status, alert_deliveries.c.last_error_category).where(
                alert_deliveries.c.channel == "email"
            )
        ).all()
    assert email and all(tuple(e) == ("PENDING", "NETWORK") for e in email)


@pytest.mark.parametrize(
    "rule_key", sorted(k for k, r in DEFAULT_RULES.items() if r.metric == "consecutive_failures")
)
def test_every_consecutive_failure_rule_targets_a_known_entity(rule_key):
    from nba_notify.lib.monitoring.entities import ENTITIES

    assert DEFAULT_RULES[rule_key].entity_type in ENTITIES
