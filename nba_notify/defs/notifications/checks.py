"""Seed 000's gaps as asset checks: each is named after the gap, and a failure carries the
offending rows as a markdown table. The queries live in :mod:`nba_notify.lib.ledger.verification`."""

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import dagster as dg

from nba_notify.defs.notifications.assets import braze_schedules, notification_sends
from nba_notify.defs.notifications.policy import NotificationPolicyResource
from nba_notify.defs.resources import BrazeResource, ClockResource, PostgresResource
from nba_notify.lib.errors import PipelineError
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
    description="Missing schedule: an active future notification without a live Braze schedule.",
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
    description="Orphaned schedules: schedules that exist (or may exist) at Braze but are not the ledger's live one: "
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


COUNT_MISMATCH_COLUMNS = ["kind", "game_id", "send_at_utc", "schedule_id", "listed", "ledger", "detail"]


@dg.asset_check(
    asset=braze_schedules,
    name="count_mismatch",
    description="Braze's own scheduled-broadcasts list against the ledger, per send minute. ERROR: a schedule "
    "Braze holds that the ledger does not own (a possible double push: `nba-notify foreign list`), or one the "
    "ledger holds that the list no longer shows while it shows later ones. WARN: desired and ledger counts "
    "disagree (a sync in progress, or one that failed). The list's lag after a create raises nothing.",
)
def count_mismatch(
    database: PostgresResource,
    clock: ClockResource,
    braze: BrazeResource,
    notification_policy: NotificationPolicyResource,
) -> dg.AssetCheckResult:
    from nba_notify.lib.ledger import foreign

    policy = notification_policy.policy(braze.campaign_id)
    now = clock.now()
    start, end = foreign.list_window(now, policy)
    engine = database.engine()
    list_error = None
    assessment = None
    try:
        with braze.client() as client:
            listed = foreign.read_listing(client, policy, start, end)
    except PipelineError as error:
        list_error = str(error)
    with engine.connect() as conn:
        if list_error is None:
            assessment = foreign.assess(
                conn,
                listed,
                policy,
                start=start,
                end=end,
                lag_allowance=timedelta(seconds=notification_policy.list_lag_allowance_seconds),
            )
        recorded = foreign.open_foreign(conn, policy.campaign_id)
        counts = verification.counts(conn, now, policy)
    serious = offending_foreign_rows(assessment, recorded)
    rows: Rows = list(serious)
    if counts.mismatch:
        rows.append(
            {
                "kind": "counts",
                "listed": assessment.listed_total if assessment else None,
                "ledger": counts.ledger_live,
                "detail": f"desired {counts.desired}, ledger {counts.ledger_live} "
                f"({counts.ledger_unresolved} unresolved) past the update buffer",
            }
        )
    return _result(
        rows,
        severity=dg.AssetCheckSeverity.ERROR if serious else dg.AssetCheckSeverity.WARN,
        columns=COUNT_MISMATCH_COLUMNS,
        extra={
            "desired": counts.desired,
            "ledger_live": counts.ledger_live,
            "ledger_unresolved": counts.ledger_unresolved,
            "braze_listed": assessment.listed_total if assessment else None,
            "foreign": sum(1 for r in serious if r["kind"] == "foreign"),
            "unlisted": len(assessment.unlisted) if assessment else 0,
            "unverifiable_by_list": assessment.unverifiable if assessment else 0,
            "list_error": list_error or "",
        },
    )


def offending_foreign_rows(assessment: Any, recorded: Rows) -> Rows:
    """Foreign schedules (seen now, or recorded open by the sensor) and unlisted ones, one table."""
    from nba_notify.lib.ledger.foreign import describe

    rows: Rows = []
    seen = set()
    for u in assessment.unowned if assessment else []:
        seen.add(u["send_at_utc"])
        rows.append(_foreign_row(u, describe({**u, "braze_schedule_id": None})))
    for r in recorded:
        if r["send_at_utc"] not in seen:
            rows.append(_foreign_row(r, describe(r)))
    for m in assessment.unlisted if assessment else []:
        rows.append(
            {
                "kind": "unlisted",
                "game_id": m["game_id"],
                "send_at_utc": m["send_at_utc"],
                "schedule_id": m["schedule_id"],
                "listed": 0,
                "ledger": 1,
                "detail": f"not listed, while schedules confirmed later are (list current through "
                f"{m['list_current_through']:%H:%M:%SZ}): gone at Braze?",
            }
        )
    return rows


def _foreign_row(r: dict[str, Any], title: str) -> dict[str, Any]:
    games = r["games"]
    return {
        "kind": "foreign",
        "game_id": ", ".join(f"{g['game_id']} ({g['matchup']})" for g in games) or "none of ours",
        "send_at_utc": r["send_at_utc"],
        "schedule_id": r.get("braze_schedule_id") or "unknown",
        "listed": r["listed"],
        "ledger": r["accounted"],
        "detail": title,
    }


@dg.asset_check(
    asset=braze_schedules,
    name="stale_pending",
    description="Stale pending: send time + grace passed, no Currents send event: the push may not have gone out.",
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
    description="Duplicates: two live ledger rows for a game, or (from Currents) two dispatches for one game or a "
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
        columns=[
            "game_id",
            "intent_key",
            "state",
            "operation",
            "earliest_send_at_risk",
            "decision_deadline",
            "minutes_to_risk",
        ],
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
