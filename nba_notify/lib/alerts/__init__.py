"""Alerting: rules (editable rows), alerts with dedupe/ack/resolve/escalation, and delivery to
webhook / email / dashboard channels. Any domain raises an alert with::

    from nba_notify.lib.alerts import raise_alert
    raise_alert(engine_or_conn, rule_key="ambiguous_schedule", entity="notifications_sync",
                severity=Severity.CRITICAL, title="...", details={...}, dedupe_key=game_id)

and the monitoring sensor delivers and escalates it.
"""

from nba_notify.lib.alerts.channels import (
    AlertMessage,
    Channel,
    ChannelSettings,
    DashboardChannel,
    SmtpChannel,
    WebhookChannel,
    build_channels,
    slack_payload,
)
from nba_notify.lib.alerts.delivery import DeliveryOutcome, deliver_pending
from nba_notify.lib.alerts.rules import (
    DEFAULT_RULES,
    AlertRule,
    RuleEdit,
    ensure_default_rules,
    get_rule,
    load_rules,
    update_rule,
)
from nba_notify.lib.alerts.store import (
    AlertRef,
    acknowledge,
    escalate_due,
    open_alerts,
    raise_alert,
    resolve,
    resolve_matching,
)

__all__ = [
    "DEFAULT_RULES",
    "AlertMessage",
    "AlertRef",
    "AlertRule",
    "Channel",
    "ChannelSettings",
    "DashboardChannel",
    "DeliveryOutcome",
    "RuleEdit",
    "SmtpChannel",
    "WebhookChannel",
    "acknowledge",
    "build_channels",
    "deliver_pending",
    "ensure_default_rules",
    "escalate_due",
    "get_rule",
    "load_rules",
    "open_alerts",
    "raise_alert",
    "resolve",
    "resolve_matching",
    "slack_payload",
    "update_rule",
]
