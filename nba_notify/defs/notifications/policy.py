"""The notification policy as a resource: one place for the lead, the update buffer and the
grace periods, shared by the assets, checks, sensors and repair jobs (so the timing check
and the sync can never disagree about what "60 minutes before tip-off" means)."""

import os

import dagster as dg

from nba_notify.lib.ledger.planning import DEFAULT_KIND, DEFAULT_TEMPLATE_VERSION, NotificationPolicy


class NotificationPolicyResource(dg.ConfigurableResource):
    """Defaults are the product's promise; override per deployment in the launchpad/run config."""

    kind: str = DEFAULT_KIND
    template_version: str = DEFAULT_TEMPLATE_VERSION
    lead_minutes: int = 60
    update_buffer_minutes: int = 20
    # Short on purpose: each new intent costs one of Braze's 100 send ids a day (see
    # NotificationPolicy.horizon_days); the 15-minute sync creates games as they enter it.
    horizon_days: int = 3
    min_lead_seconds: int = 120
    missed_lookback_minutes: int = 180
    send_grace_minutes: int = 15
    ambiguous_decision_minutes: int = 45
    ambiguous_create_fallback: str = "hold"
    # "on" | "off" | "auto"; NBA_NOTIFY_SEND_GUARD overrides (the stack that configures the
    # simulated campaign's guard sets it).
    send_guard: str = "auto"
    in_flight_grace_seconds: float = 300.0
    expire_after_hours: int = 24
    # How long Braze's scheduled-broadcasts list may still show a schedule we moved or cancelled.
    list_lag_allowance_seconds: float = 300.0
    lease_ttl_seconds: float = 120.0
    lease_wait_seconds: float = 60.0

    def policy(self, campaign_id: str) -> NotificationPolicy:
        return NotificationPolicy(
            campaign_id=campaign_id,
            kind=self.kind,
            template_version=self.template_version,
            lead_minutes=self.lead_minutes,
            update_buffer_minutes=self.update_buffer_minutes,
            horizon_days=self.horizon_days,
            min_lead_seconds=self.min_lead_seconds,
            missed_lookback_minutes=self.missed_lookback_minutes,
            send_grace_minutes=self.send_grace_minutes,
            ambiguous_decision_minutes=self.ambiguous_decision_minutes,
            ambiguous_create_fallback=self.ambiguous_create_fallback,
            send_guard=os.environ.get("NBA_NOTIFY_SEND_GUARD") or self.send_guard,
            in_flight_grace_seconds=self.in_flight_grace_seconds,
            expire_after_hours=self.expire_after_hours,
        )
