"""The alerting core: dedupe, acknowledgement, resolution, escalation, delivery per channel
with retries, and channel failure isolation — on real PostgreSQL, a real webhook receiver and
a real SMTP server over loopback."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from nba_notify.lib.alerts import (
    DEFAULT_RULES,
    ChannelSettings,
    RuleEdit,
    acknowledge,
    build_channels,
    deliver_pending,
    escalate_due,
    raise_alert,
    resolve,
    resolve_matching,
    update_rule,
)
from nba_notify.lib.db.migrate import MIGRATIONS_DIR
from nba_notify.lib.db.tables.monitoring import alert_deliveries, alerts
from nba_notify.lib.errors import PipelineError, Severity

T0 = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)


def _deliveries(engine: sa.Engine, alert_id: int) -> dict[tuple[str, str], dict]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(alert_deliveries).where(alert_deliveries.c.alert_id == alert_id)
        ).mappings()
        return {(r["event"], r["channel"]): dict(r) for r in rows}


def _alert(engine: sa.Engine, alert_id: int) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(alerts).where(alerts.c.id == alert_id)).mappings().one())


def test_default_rules_match_migration_seed():
    seeded = {}
    for path in sorted(MIGRATIONS_DIR.joinpath("versions").glob("0*.py")):
        spec = importlib.util.spec_from_file_location(f"m{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        seeded.update({row["rule_key"]: row for row in getattr(module, "SEED_RULES", [])})
    assert seeded == {key: rule.as_row() for key, rule in DEFAULT_RULES.items()}


def test_reraising_an_open_alert_bumps_it_instead_of_opening_another(mdb):
    first = raise_alert(
        mdb,
        rule_key="stale_pending",
        entity="notifications_sync",
        title="pending",
        details={"game": "A"},
        dedupe_key="0022600301",
        now=T0,
    )
    second = raise_alert(
        mdb,
        rule_key="stale_pending",
        entity="notifications_sync",
        title="still pending",
        details={"game": "A", "n": 2},
        dedupe_key="0022600301",
        now=T0 + timedelta(minutes=5),
    )
    other_game = raise_alert(
        mdb,
        rule_key="stale_pending",
        entity="notifications_sync",
        title="pending",
        details={},
        dedupe_key="0022600302",
        now=T0,
    )
    assert first.is_new and not second.is_new and other_game.is_new
    assert second.alert_id == first.alert_id != other_game.alert_id
    row = _alert(mdb, first.alert_id)
    assert row["occurrences"] == 2
    assert row["last_seen_at"] == T0 + timedelta(minutes=5)
    assert row["details"] == {"game": "A", "n": 2}
    # notified once (RAISED), not once per occurrence
    assert set(_deliveries(mdb, first.alert_id)) == {
        ("RAISED", "webhook"),
        ("RAISED", "email"),
        ("RAISED", "dashboard"),
    }


def test_dedupe_holds_after_many_raises_on_one_connection(mdb):
    """PostgreSQL switches a prepared statement to a generic plan after a few executions; the
    upsert's partial-index predicate must still match then (it once failed on the 11th)."""
    with mdb.connect() as conn:
        refs = [
            raise_alert(
                conn,
                rule_key="stale_pending",
                entity="notifications_sync",
                title="pending",
                dedupe_key=f"game-{i % 3}",
                now=T0 + timedelta(seconds=i),
            )
            for i in range(30)
        ]
        conn.commit()
    assert sum(ref.is_new for ref in refs) == 3
    with mdb.connect() as conn:
        counts = conn.execute(sa.select(alerts.c.occurrences).order_by(alerts.c.dedupe_key)).scalars().all()
    assert counts == [10, 10, 10]


def test_reraise_with_higher_severity_raises_the_open_alerts_severity(mdb):
    ref = raise_alert(mdb, rule_key="count_mismatch", entity="notifications_sync", title="x", now=T0)
    assert ref.severity == Severity.HIGH
    bumped = raise_alert(
        mdb,
        rule_key="count_mismatch",
        entity="notifications_sync",
        severity=Severity.CRITICAL,
        title="x",
        now=T0,
    )
    lowered = raise_alert(
        mdb, rule_key="count_mismatch", entity="notifications_sync", severity=Severity.LOW, title="x", now=T0
    )
    assert bumped.severity == Severity.CRITICAL and lowered.severity == Severity.CRITICAL


def test_resolved_alert_is_not_reused_a_new_occurrence_opens_a_new_alert(mdb):
    ref = raise_alert(mdb, rule_key="retry_exhausted", entity="box_scores", title="x", now=T0)
    assert resolve(mdb, ref.alert_id, by="ops", note="re-scraped by hand", now=T0 + timedelta(minutes=1))
    again = raise_alert(
        mdb, rule_key="retry_exhausted", entity="box_scores", title="x", now=T0 + timedelta(minutes=2)
    )
    assert again.is_new and again.alert_id != ref.alert_id
    assert _alert(mdb, ref.alert_id)["status"] == "RESOLVED"
    assert ("RESOLVED", "webhook") in _deliveries(mdb, ref.alert_id)


def test_unknown_rule_is_a_validation_error_and_writes_nothing(mdb):
    with pytest.raises(PipelineError) as info:
        raise_alert(mdb, rule_key="no_such_rule", entity="x", title="x", now=T0)
    assert info.value.category == "VALIDATION"
    with mdb.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(alerts)).scalar() == 0


def test_switched_off_rule_suppresses_alerts(mdb):
    with mdb.begin() as conn:
        update_rule(conn, "count_mismatch", RuleEdit(is_active=False))
    ref = raise_alert(mdb, rule_key="count_mismatch", entity="notifications_sync", title="x", now=T0)
    assert ref.suppressed and ref.alert_id is None


def test_default_rule_missing_from_a_truncated_table_is_recreated_on_raise(db):
    ref = raise_alert(db, rule_key="ambiguous_schedule", entity="notifications_sync", title="x", now=T0)
    assert ref.is_new and ref.severity == Severity.CRITICAL


def test_raise_inside_callers_transaction_rolls_back_with_it(mdb):
    with pytest.raises(RuntimeError):
        with mdb.begin() as conn:
            raise_alert(conn, rule_key="count_mismatch", entity="notifications_sync", title="x", now=T0)
            raise RuntimeError("caller failed after raising")
    with mdb.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(alerts)).scalar() == 0


def test_escalation_after_rule_delay_bumps_severity_and_notifies_again(mdb):
    ref = raise_alert(
        mdb, rule_key="stale_pending", entity="notifications_sync", title="x", severity=Severity.HIGH, now=T0
    )  # rule delay: 300 s
    assert escalate_due(mdb, T0 + timedelta(seconds=299)) == []
    escalated = escalate_due(mdb, T0 + timedelta(seconds=300))
    assert [e.alert_id for e in escalated] == [ref.alert_id]
    assert escalated[0].severity == Severity.CRITICAL
    assert ("ESCALATED", "webhook") in _deliveries(mdb, ref.alert_id)
    # the next escalation waits another delay from the last one
    assert escalate_due(mdb, T0 + timedelta(seconds=599)) == []
    assert len(escalate_due(mdb, T0 + timedelta(seconds=600))) == 1
    # and stops at MAX_ESCALATIONS
    assert escalate_due(mdb, T0 + timedelta(hours=5)) == []
    assert _alert(mdb, ref.alert_id)["escalation_level"] == 2


def test_acknowledged_alerts_and_rules_without_delay_do_not_escalate(mdb):
    acked = raise_alert(mdb, rule_key="stale_pending", entity="notifications_sync", title="x", now=T0)
    raise_alert(mdb, rule_key="sync_success_rate", entity="box_scores", title="x", now=T0)  # no delay
    assert acknowledge(mdb, acked.alert_id, by="oncall", now=T0 + timedelta(seconds=10))
    assert not acknowledge(mdb, acked.alert_id, by="oncall")  # already acknowledged
    assert escalate_due(mdb, T0 + timedelta(days=1)) == []
    row = _alert(mdb, acked.alert_id)
    assert row["status"] == "ACKNOWLEDGED" and row["acknowledged_by"] == "oncall"


def test_acknowledged_alert_still_dedupes_until_resolved(mdb):
    ref = raise_alert(mdb, rule_key="count_mismatch", entity="notifications_sync", title="x", now=T0)
    acknowledge(mdb, ref.alert_id, by="oncall", now=T0)
    again = raise_alert(mdb, rule_key="count_mismatch", entity="notifications_sync", title="x", now=T0)
    assert again.alert_id == ref.alert_id and again.status == "ACKNOWLEDGED"
    assert resolve_matching(
        mdb, rule_key="count_mismatch", entity="notifications_sync", by="sensor", now=T0
    ) == [ref.alert_id]


def test_webhook_and_email_channels_deliver_readable_messages(mdb, webhook_receiver, smtp_server):
    channels = build_channels(
        ChannelSettings(
            webhook_url=webhook_receiver.url,
            smtp_host=smtp_server.host,
            smtp_port=smtp_server.port,
            smtp_from="alerts@nba-notify.test",
            smtp_to=("oncall@nba-notify.test",),
            timeout_seconds=2.0,
        )
    )
    ref = raise_alert(
        mdb,
        rule_key="ambiguous_schedule",
        entity="notifications_sync",
        title="Braze create timed out",
        details={"game_id": "0022600301"},
        dedupe_key="0022600301",
        now=T0,
    )
    outcomes = deliver_pending(mdb, channels, now=T0)
    assert {(o.channel, o.status) for o in outcomes} == {("webhook", "DELIVERED"), ("email", "DELIVERED")}
    [payload] = webhook_receiver.received
    assert payload["text"] == "[CRITICAL] RAISED: Braze create timed out (notifications_sync/0022600301)"
    assert payload["attachments"][0]["color"] == "#E01E5A"
    assert payload["alert"]["alert_id"] == ref.alert_id
    assert payload["alert"]["details"] == {"game_id": "0022600301"}
    [mail] = smtp_server.messages
    assert mail.rcpt_tos == ["oncall@nba-notify.test"]
    assert b"Braze create timed out" in mail.content and b"0022600301" in mail.content
    assert deliver_pending(mdb, channels, now=T0 + timedelta(hours=1)) == []  # nothing re-sent


def test_dead_smtp_server_does_not_stop_the_webhook_and_is_retried_then_given_up(
    mdb, webhook_receiver, dead_smtp_port
):
    channels = build_channels(
        ChannelSettings(
            webhook_url=webhook_receiver.url,
            smtp_host="127.0.0.1",
            smtp_port=dead_smtp_port,
            smtp_from="a@x.test",
            smtp_to=("b@x.test",),
            timeout_seconds=1.0,
        )
    )
    ref = raise_alert(mdb, rule_key="retry_exhausted", entity="box_scores", title="retries exhausted", now=T0)
    first = {
        o.channel: o for o in deliver_pending(mdb, channels, now=T0, max_attempts=3, retry_delays=(30, 60))
    }
    assert first["webhook"].status == "DELIVERED" and len(webhook_receiver.received) == 1
    assert first["email"].status == "PENDING" and "SMTP" in first["email"].error
    assert (
        deliver_pending(mdb, channels, now=T0 + timedelta(seconds=29), max_attempts=3, retry_delays=(30, 60))
        == []
    )
    second = deliver_pending(
        mdb, channels, now=T0 + timedelta(seconds=30), max_attempts=3, retry_delays=(30, 60)
    )
    assert [(o.channel, o.attempt, o.status) for o in second] == [("email", 2, "PENDING")]
    third = deliver_pending(
        mdb, channels, now=T0 + timedelta(seconds=90), max_attempts=3, retry_delays=(30, 60)
    )
    assert [(o.channel, o.attempt, o.status) for o in third] == [("email", 3, "FAILED")]
    email = _deliveries(mdb, ref.alert_id)[("RAISED", "email")]
    assert email["status"] == "FAILED" and email["last_error_category"] == "NETWORK"
    assert [a["attempt"] for a in email["attempts"]] == [1, 2, 3]
    assert all(a["error_category"] == "NETWORK" for a in email["attempts"])


def test_webhook_5xx_is_retried_and_recorded_per_attempt(mdb, webhook_receiver):
    webhook_receiver.fail_next = 1
    channels = build_channels(ChannelSettings(webhook_url=webhook_receiver.url, timeout_seconds=2.0))
    ref = raise_alert(mdb, rule_key="count_mismatch", entity="notifications_sync", title="x", now=T0)
    first = {o.channel: o for o in deliver_pending(mdb, channels, now=T0, retry_delays=(10,))}
    assert first["webhook"].status == "PENDING"
    assert first["email"].status == "SKIPPED"  # no SMTP configured: recorded, not retried
    second = deliver_pending(mdb, channels, now=T0 + timedelta(seconds=10), retry_delays=(10,))
    assert [(o.channel, o.status) for o in second] == [("webhook", "DELIVERED")]
    webhook = _deliveries(mdb, ref.alert_id)[("RAISED", "webhook")]
    assert [(a["outcome"], a["error_category"]) for a in webhook["attempts"]] == [
        ("PENDING", "API"),
        ("DELIVERED", None),
    ]


def test_operator_lists_acknowledges_and_resolves_alerts_from_the_cli(mdb, capsys):
    from nba_notify import cli

    ref = raise_alert(
        mdb, rule_key="count_mismatch", entity="notifications_sync", title="3 schedules, 2 games", now=T0
    )
    assert cli.main(["alerts", "list"]) == 0
    assert f"{ref.alert_id}  HIGH     OPEN" in capsys.readouterr().out
    assert cli.main(["alerts", "ack", str(ref.alert_id), "--by", "oncall"]) == 0
    assert cli.main(["alerts", "ack", str(ref.alert_id), "--by", "oncall"]) == 1  # already acknowledged
    assert (
        cli.main(["alerts", "resolve", str(ref.alert_id), "--by", "oncall", "--note", "duplicate cancelled"])
        == 0
    )
    row = _alert(mdb, ref.alert_id)
    assert (row["status"], row["acknowledged_by"], row["resolved_by"], row["resolution_note"]) == (
        "RESOLVED",
        "oncall",
        "oncall",
        "duplicate cancelled",
    )
    capsys.readouterr()
    assert cli.main(["alerts", "list"]) == 0 and "no open alerts" in capsys.readouterr().out
