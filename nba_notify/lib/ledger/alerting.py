"""The notification domain's alerts, raised through the project's alerting
(:func:`nba_notify.lib.alerts.raise_alert`, or an injected ``AlertsResource``).

Raising an alert must never break the sync that detected the problem: a failure to raise is
returned (and logged by the caller in ``scheduler_logs``), not thrown."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa

from nba_notify.lib.errors import PipelineError, Severity, classify_exception
from nba_notify.lib.ledger.planning import AttemptView, Desired, LedgerRow

log = logging.getLogger(__name__)

ENTITY = "notifications_sync"
RULE_AMBIGUOUS = "ambiguous_schedule"
RULE_STALE_PENDING = "stale_pending"
RULE_COUNT_MISMATCH = "count_mismatch"


class AlertSink(Protocol):
    def raise_alert(self, bind: sa.Engine | sa.Connection, **kwargs: Any) -> Any: ...


def raise_domain_alert(
    engine: sa.Engine,
    sink: AlertSink | None,
    *,
    rule_key: str,
    title: str,
    details: dict[str, Any],
    dedupe_key: str,
    now: datetime,
    severity: Severity | None = None,
) -> str | None:
    """Raise (or bump) one alert; returns an error message instead of raising."""
    kwargs: dict[str, Any] = {
        "rule_key": rule_key,
        "entity": ENTITY,
        "title": title,
        "details": details,
        "dedupe_key": dedupe_key,
        "now": now,
    }
    if severity is not None:
        kwargs["severity"] = severity
    try:
        if sink is not None:
            sink.raise_alert(engine, **kwargs)
        else:
            from nba_notify.lib.alerts import raise_alert

            raise_alert(engine, **kwargs)
    except Exception as exc:
        error: PipelineError = classify_exception(exc)
        log.error("could not raise alert %s for %s: %s", rule_key, dedupe_key, error)
        return str(error)
    return None


def raise_unresolved_alert(
    engine: sa.Engine,
    sink: AlertSink | None,
    *,
    row: LedgerRow,
    desired: Desired | None,
    attempt: AttemptView | None,
    reason: str,
    now: datetime,
    earliest_send_at: datetime | None,
    deadline: datetime | None,
    fallback: str,
    escalated: bool = False,
) -> str | None:
    """CRITICAL, at once: Braze may hold a schedule for this game that we cannot see or change.
    Names the earliest push at risk (an ambiguous update may have left the old time live) and
    what happens if nobody acts by the decision deadline."""
    teams = f"{desired.away_team}@{desired.home_team}" if desired else row.game_id
    when = earliest_send_at.isoformat() if earliest_send_at else "unknown time"
    withdrawn = desired is not None and not desired.active
    changed = (
        desired is not None
        and desired.active
        and attempt is not None
        and desired.signature != attempt.target_signature
    )
    if withdrawn and desired:
        outlook = f"game is {desired.reason}: a push may still go out"
    elif changed and desired is not None:
        outlook = (
            f"the game changed since (push wanted at {desired.send_at.isoformat() if desired.send_at else '?'}): "
            "if the lost call landed, its push goes out at the old time"
        )
    elif escalated:
        outlook = "decision deadline passed without evidence: " + (
            "held — the push will be missed unless an operator decides"
            if fallback == "hold"
            else "re-created — a second push is possible if the lost call did land"
        )
    else:
        outlook = f"verifying against Braze's scheduled-broadcasts list until {deadline.isoformat() if deadline else '?'}"
    title = (
        f"Ambiguous Braze schedule for game {row.game_id} ({teams}), earliest push at risk {when}: {outlook}"
    )
    details = {
        "game_id": row.game_id,
        "intent_key": row.intent_key,
        "state": row.state,
        "send_id": row.send_id,
        "braze_schedule_id": row.braze_schedule_id,
        "earliest_send_at_risk": earliest_send_at.isoformat() if earliest_send_at else None,
        "old_send_at": attempt.prior_send_at.isoformat() if attempt and attempt.prior_send_at else None,
        "new_send_at": attempt.target_send_at.isoformat() if attempt and attempt.target_send_at else None,
        "decision_deadline": deadline.isoformat() if deadline else None,
        "fallback": fallback,
        "reason": reason,
        "attempt": {
            "id": attempt.id,
            "operation": attempt.operation,
            "status": attempt.status,
            "age_seconds": round(attempt.age_seconds, 1),
        }
        if attempt
        else None,
        "desired_active": desired.active if desired else None,
        "what_to_do": "Look at the campaign's scheduled sends in the Braze dashboard at the time(s) above. Then "
        "`nba-notify unknown resolve --intent '<intent_key>' --exists [--schedule-id ID]` if a send for this game "
        "is there, or `--absent` if none is (it is then created again). `nba-notify unknown list` shows all.",
    }
    return raise_domain_alert(
        engine,
        sink,
        rule_key=RULE_AMBIGUOUS,
        title=title,
        details=details,
        dedupe_key=row.intent_key,
        now=now,
        severity=Severity.CRITICAL,
    )


def raise_unchangeable_alert(
    engine: sa.Engine, sink: AlertSink | None, *, row: LedgerRow, desired: Desired, reason: str, now: datetime
) -> str | None:
    """CRITICAL: a schedule proven live whose id we never learned must change (the game moved or
    was withdrawn) and cannot be changed through the API."""
    title = (
        f"Braze holds a push for game {row.game_id} ({desired.away_team}@{desired.home_team}) at "
        f"{row.send_at.isoformat() if row.send_at else '?'} that cannot be changed (id unknown): "
        + (
            f"the game is {desired.reason}"
            if not desired.active
            else f"tip-off moved; the push should go at {desired.send_at.isoformat() if desired.send_at else '?'}"
        )
    )
    details = {
        "game_id": row.game_id,
        "intent_key": row.intent_key,
        "held_send_at": row.send_at.isoformat() if row.send_at else None,
        "wanted_send_at": desired.send_at.isoformat() if desired.send_at else None,
        "reason": reason,
        "what_to_do": "Cancel that send in the Braze dashboard, then `nba-notify unknown resolve --intent "
        "'<intent_key>' --absent` so it is created again at the right time.",
    }
    return raise_domain_alert(
        engine,
        sink,
        rule_key=RULE_AMBIGUOUS,
        title=title,
        details=details,
        dedupe_key=row.intent_key,
        now=now,
        severity=Severity.CRITICAL,
    )


def resolve_unresolved_alert(engine: sa.Engine, intent_key: str, *, by: str, note: str) -> str | None:
    """The condition cleared (evidence settled the intent): resolve its alert."""
    try:
        from nba_notify.lib.alerts import resolve_matching

        resolve_matching(
            engine, rule_key=RULE_AMBIGUOUS, entity=ENTITY, dedupe_key=intent_key, by=by, note=note
        )
    except Exception as exc:
        return str(classify_exception(exc))
    return None
