"""The notification policy as a resource: one place for the lead, the update buffer and the
grace periods, shared by the assets, checks, sensors and repair jobs (so the timing check
and the sync can never disagree about what "60 minutes before tip-off" means).

The knobs and their defaults are :class:`NotificationPolicy`'s: the resource repeats only their
names (Dagster's config schema needs fields), takes every default from it, and builds the policy
from its own fields by name, so a knob added there cannot be forgotten here."""

import dataclasses
import os

import dagster as dg

from nba_notify.lib.ledger.lease import LEASE_TTL_SECONDS, LEASE_WAIT_SECONDS
from nba_notify.lib.ledger.planning import NotificationPolicy

_PROMISE = NotificationPolicy(campaign_id="")
SEND_GUARD_VARIABLE = "NBA_NOTIFY_SEND_GUARD"


class NotificationPolicyResource(dg.ConfigurableResource):
    """Defaults are the product's promise (``NotificationPolicy``); override per deployment in
    the launchpad/run config."""

    kind: str = _PROMISE.kind
    template_version: str = _PROMISE.template_version
    lead_minutes: int = _PROMISE.lead_minutes
    update_buffer_minutes: int = _PROMISE.update_buffer_minutes
    horizon_days: int = _PROMISE.horizon_days
    min_lead_seconds: int = _PROMISE.min_lead_seconds
    missed_lookback_minutes: int = _PROMISE.missed_lookback_minutes
    send_grace_minutes: int = _PROMISE.send_grace_minutes
    ambiguous_decision_minutes: int = _PROMISE.ambiguous_decision_minutes
    ambiguous_create_fallback: str = _PROMISE.ambiguous_create_fallback
    # "on" | "off" | "auto"; NBA_NOTIFY_SEND_GUARD overrides (the stack that configures the
    # simulated campaign's guard sets it).
    send_guard: str = _PROMISE.send_guard
    in_flight_grace_seconds: float = _PROMISE.in_flight_grace_seconds
    expire_after_hours: int = _PROMISE.expire_after_hours
    # Not part of the plan: how long Braze's scheduled-broadcasts list may still show a schedule
    # we moved or cancelled, and the scheduler lease's timing.
    list_lag_allowance_seconds: float = 300.0
    lease_ttl_seconds: float = LEASE_TTL_SECONDS
    lease_wait_seconds: float = LEASE_WAIT_SECONDS

    def policy(self, campaign_id: str) -> NotificationPolicy:
        knobs = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(NotificationPolicy)
            if f.name != "campaign_id"
        }
        knobs["send_guard"] = os.environ.get(SEND_GUARD_VARIABLE) or self.send_guard
        return NotificationPolicy(campaign_id=campaign_id, **knobs)
