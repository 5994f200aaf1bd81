"""The sensors' logic, without Dagster: one tick in, (alerts raised, run wanted, new cursor) out.

* stale pending: keyset cursor on ``(send_at, id)`` - a row is alerted on the tick that first
  sees it stale and never again (the partial index keeps the tick's query a range scan);
* count mismatch: a cursor holding the current mismatch's key - the same mismatch is alerted
  once, after it has persisted ``persist_minutes`` (a sync in progress is not a mismatch) - and
  the budget of Braze list reads; a schedule Braze lists that the ledger does not own is alerted
  at once (CRITICAL, ``foreign``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from nba_notify.lib.ledger import foreign, verification
from nba_notify.lib.ledger.alerting import (
    RULE_COUNT_MISMATCH,
    RULE_STALE_PENDING,
    AlertSink,
    raise_domain_alert,
)
from nba_notify.lib.ledger.planning import NotificationPolicy

MAX_ALERTS_PER_TICK = 50


@dataclass
class Tick:
    cursor: str
    alerts: list[str] = field(default_factory=list)
    run_key: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def stale_pending_tick(
    engine: sa.Engine,
    policy: NotificationPolicy,
    now: datetime,
    cursor: str | None,
    alerts: AlertSink | None = None,
) -> Tick:
    state = json.loads(cursor) if cursor else {}
    after = (datetime.fromisoformat(state["send_at"]), int(state["id"])) if state else None
    with engine.connect() as conn:
        rows = verification.stale_pending(conn, now, policy, after=after, limit=500)
    if not rows:
        return Tick(cursor=cursor or "")
    tick = Tick(cursor="")
    for row in rows[:MAX_ALERTS_PER_TICK]:
        error = raise_domain_alert(
            engine,
            alerts,
            rule_key=RULE_STALE_PENDING,
            title=f"No send confirmed for game {row['game_id']}: scheduled {row['send_at_utc'].isoformat()}, "
            f"{policy.send_grace_minutes} min grace passed (state {row['state']})",
            details={k: str(v) for k, v in row.items()},
            dedupe_key=row["intent_key"],
            now=now,
        )
        tick.alerts.append(row["game_id"] if error is None else f"{row['game_id']} (alert failed: {error})")
    if len(rows) > MAX_ALERTS_PER_TICK:
        raise_domain_alert(
            engine,
            alerts,
            rule_key=RULE_STALE_PENDING,
            title=f"{len(rows) - MAX_ALERTS_PER_TICK} more notifications without a send confirmation",
            details={"games": [r["game_id"] for r in rows[MAX_ALERTS_PER_TICK:]][:500]},
            dedupe_key="bulk",
            now=now,
        )
        tick.alerts.append(f"+{len(rows) - MAX_ALERTS_PER_TICK} more")
    last = rows[-1]
    tick.cursor = json.dumps({"send_at": last["send_at_utc"].isoformat(), "id": last["id"]})
    tick.run_key = f"stale-pending-{last['id']}-{last['send_at_utc'].isoformat()}"
    tick.detail = {"stale_rows": len(rows)}
    return tick


def count_mismatch_tick(
    engine: sa.Engine,
    policy: NotificationPolicy,
    now: datetime,
    cursor: str | None,
    alerts: AlertSink | None = None,
    persist_minutes: float = 2.0,
    braze: Any | None = None,
    lag_allowance: timedelta = foreign.DEFAULT_LIST_LAG_ALLOWANCE,
) -> Tick:
    """Two signals. Braze's own list against the ledger (when ``braze`` is given, one list read
    a minute at most): a schedule the ledger does not own is a CRITICAL alert at once (see
    :mod:`nba_notify.lib.ledger.foreign`). Desired against ledger counts: alerted once after the
    disagreement has persisted ``persist_minutes`` (a sync in progress is not a mismatch)."""
    state = json.loads(cursor) if cursor else {}
    detail: dict[str, Any] = {}
    run_key: str | None = None
    tick_alerts: list[str] = []
    if braze is not None:
        observation, budget = foreign.observe(
            engine,
            braze,
            policy,
            now=now,
            alerts=alerts,
            budget=foreign.ListBudget.from_state(state.get("list")),
            lag_allowance=lag_allowance,
        )
        state["list"] = budget.as_state()
        detail.update(observation.as_metadata())
        tick_alerts += [f"foreign {r['send_at_utc'].isoformat()}" for r in observation.open]
        tick_alerts += [f"adopted {a['game_id']}" for a in observation.adopted]
    with engine.connect() as conn:
        counts = verification.counts(conn, now, policy)
    detail.update(counts.as_dict())
    # Counts' own window starts past the update buffer; the list's count is reported beside it.
    detail["braze_listed"] = observation.braze_listed if braze is not None else None
    mismatch = state.get("mismatch") or {}
    if not counts.mismatch:
        state.pop("mismatch", None)
        return Tick(
            cursor=json.dumps(state) if state else "", alerts=tick_alerts, run_key=run_key, detail=detail
        )
    key = counts.key()
    if mismatch.get("key") != key:
        mismatch = {"key": key, "since": now.isoformat(), "alerted": False}
    state["mismatch"] = mismatch
    persisted = now - datetime.fromisoformat(mismatch["since"]) >= timedelta(minutes=persist_minutes)
    if not mismatch["alerted"] and persisted:
        error = raise_domain_alert(
            engine,
            alerts,
            rule_key=RULE_COUNT_MISMATCH,
            title=f"Schedule counts disagree since {mismatch['since']}: desired {counts.desired}, "
            f"ledger {counts.ledger_live} ({counts.ledger_unresolved} unresolved)",
            details=counts.as_dict(),
            dedupe_key=policy.campaign_id,
            now=now,
        )
        mismatch["alerted"] = True
        tick_alerts.append(key if error is None else f"{key} (alert failed: {error})")
        run_key = f"count-mismatch-{key}-{mismatch['since']}"
    return Tick(cursor=json.dumps(state), alerts=tick_alerts, run_key=run_key, detail=detail)
