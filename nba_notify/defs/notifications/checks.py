"""Seed 000's gaps as asset checks: each is named after the gap, and a failure carries the
offending rows as a markdown table. The queries live in :mod:`nba_notify.lib.ledger.verification`."""

from collections.abc import Sequence
from typing import Any

import dagster as dg

from nba_notify.defs.notifications.assets import braze_schedules, notification_sends
from nba_notify.defs.notifications.policy import NotificationPolicyResource
from nba_notify.defs.resources import BrazeResource, ClockResource, PostgresResource
from nba_notify.lib.ledger import verification
from nba_notify.lib.ledger.verification import markdown_table

Rows = list[dict[str, Any]]


def _result(
    offending: Rows,
    *,
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
    columns: Sequence[str] | None = None,
    extra: dict[str, Any] | None = None,
) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=not offending,
        severity=severity,
        metadata={
            "offending_rows": len(offending),
            "rows": dg.MetadataValue.md(markdown_table(offending, columns)),
            **(extra or {}),
        },
    )


@dg.asset_check(
    asset=braze_schedules,
    name="missing_schedules",
    description="Gap 1: an active future notification without a live Braze schedule.",
)
def missing_schedules(
    database: PostgresResource,
    clock: ClockResource,
    braze: BrazeResource,
    notification_policy: NotificationPolicyResource,
) -> dg.AssetCheckResult:
    policy = notification_policy.policy(braze.campaign_id)
    with database.engine().connect() as conn:
        rows = verification.missing_schedules(conn, clock.now(), policy)
    return _result(rows, columns=["game_id", "send_at_utc", "ledger_state", "last_error"])


@dg.asset_check(
    asset=braze_schedules,
    name="orphaned_schedules",
    description="Gap 2: schedules that exist (or may exist) at Braze but are not the ledger's live one: "
    "recorded orphans not yet cancelled, and intents whose last call has no known outcome.",
)
def orphaned_schedules(database: PostgresResource) -> dg.AssetCheckResult:
    with database.engine().connect() as conn:
        orphans = verification.open_orphans(conn)
        unresolved = verification.unresolved_schedules(conn)
    rows = [
        {
            "kind": "orphan",
            "game_id": o["game_id"],
            "schedule_id": o["braze_schedule_id"],
            "detail": f"{o['reason']} / {o['status']}",
        }
        for o in orphans
    ]
    rows += [
        {
            "kind": "unresolved",
            "game_id": u["game_id"],
            "schedule_id": u["braze_schedule_id"],
            "detail": f"{u['state']} / {u['operation']} {u['attempt_status']}",
        }
        for u in unresolved
    ]
    return _result(rows, extra={"orphans": len(orphans), "unresolved": len(unresolved)})


@dg.asset_check(
    asset=braze_schedules,
    name="count_mismatch",
    description="Gap 3: desired vs ledger vs Braze's scheduled-broadcasts list (which only ever proves "
    "presence: more listed than the ledger knows is a mismatch, fewer is not).",
)
def count_mismatch(
    database: PostgresResource,
    clock: ClockResource,
    braze: BrazeResource,
    notification_policy: NotificationPolicyResource,
) -> dg.AssetCheckResult:
    from nba_notify.lib.ledger.reconcile import count_reconcile

    policy = notification_policy.policy(braze.campaign_id)
    with braze.client() as client:
        result = count_reconcile(database.engine(), client, policy, now=clock.now(), raise_alert=False)
    rows: Rows = []
    if result.counts.mismatch:
        rows.append({"what": "counts", **result.counts.as_dict()})
    rows += [{"what": "listed_beyond_ledger", **r} for r in result.listed_beyond_ledger]
    return _result(
        rows,
        severity=dg.AssetCheckSeverity.WARN,
        extra={k: v for k, v in result.counts.as_dict().items() if isinstance(v, int)},
    )


@dg.asset_check(
    asset=braze_schedules,
    name="stale_pending",
    description="Gap 4: send time + grace passed, no Currents send event: the push may not have gone out.",
)
def stale_pending(
    database: PostgresResource,
    clock: ClockResource,
    braze: BrazeResource,
    notification_policy: NotificationPolicyResource,
) -> dg.AssetCheckResult:
    policy = notification_policy.policy(braze.campaign_id)
    with database.engine().connect() as conn:
        rows = verification.stale_pending(conn, clock.now(), policy)
    return _result(rows, columns=["game_id", "state", "send_at_utc", "braze_schedule_id"])


@dg.asset_check(
    asset=braze_schedules,
    name="duplicate_schedules",
    description="Gap 5: two live ledger rows for a game, or (from Currents) two dispatches for one game or a "
    "fan messaged twice.",
)
def duplicate_schedules(database: PostgresResource) -> dg.AssetCheckResult:
    with database.engine().connect() as conn:
        rows = [{"source": "ledger", **r} for r in verification.duplicate_ledger_rows(conn)]
        rows += [{"source": "currents", **r} for r in verification.duplicate_sends(conn)]
    return _result(rows)


@dg.asset_check(
    asset=braze_schedules,
    name="timing",
    description="A live schedule (outside the update buffer) or a send that is not `lead` minutes before tip-off.",
)
def timing(
    database: PostgresResource,
    clock: ClockResource,
    braze: BrazeResource,
    notification_policy: NotificationPolicyResource,
) -> dg.AssetCheckResult:
    policy = notification_policy.policy(braze.campaign_id)
    with database.engine().connect() as conn:
        rows = verification.timing_problems(conn, clock.now(), policy)
    return _result(rows, severity=dg.AssetCheckSeverity.WARN, extra={"lead_minutes": policy.lead_minutes})


@dg.asset_check(
    asset=braze_schedules,
    name="unresolved_intents",
    description="Intents whose Braze schedule we cannot see or change: a call with no knowable outcome "
    "(verified against the scheduled-broadcasts list until the decision deadline, then held), or a schedule "
    "proven live whose id we never learned. Each row names the earliest push at risk and the deadline. What to "
    "do: look at the campaign's scheduled sends in the Braze dashboard, then `nba-notify unknown resolve`.",
)
def unresolved_intents(
    database: PostgresResource,
    clock: ClockResource,
    braze: BrazeResource,
    notification_policy: NotificationPolicyResource,
) -> dg.AssetCheckResult:
    from nba_notify.lib.ledger.service import unknown_intents

    policy = notification_policy.policy(braze.campaign_id)
    rows = unknown_intents(database.engine(), clock.now(), policy)
    # Unidentified schedules that still match their game are not a problem: they will send right.
    waiting = [r for r in rows if r["state"] != "unidentified"]
    return _result(
        waiting,
        columns=["game_id", "intent_key", "state", "operation", "earliest_send_at_risk", "decision_deadline",
                 "minutes_to_risk"],
        extra={"unresolved": len(waiting), "unidentified": len(rows) - len(waiting)},
    )


@dg.asset_check(
    asset=notification_sends,
    name="unmatched_sends",
    description="Currents events we could not correlate to any intent (kept, never dropped).",
)
def unmatched_sends(database: PostgresResource) -> dg.AssetCheckResult:
    with database.engine().connect() as conn:
        rows = verification.unmatched_sends(conn)
    return _result(rows, severity=dg.AssetCheckSeverity.WARN)


BRAZE_SCHEDULE_CHECKS = (
    missing_schedules,
    orphaned_schedules,
    count_mismatch,
    stale_pending,
    duplicate_schedules,
    timing,
    unresolved_intents,
)
ALL_CHECKS = (*BRAZE_SCHEDULE_CHECKS, unmatched_sends)
