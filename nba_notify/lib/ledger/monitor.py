"""The sensors' logic, without Dagster: one tick in, (alerts raised, run wanted, new cursor) out.

* stale pending: keyset cursor on ``(send_at, id)`` - a row is alerted on the tick that first
  sees it stale and never again (the partial index keeps the tick's query a range scan);
* count mismatch: a cursor holding the current mismatch's key - the same mismatch is alerted
  once, after it has persisted ``persist_minutes`` (a sync in progress is not a mismatch).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from nba_notify.lib.ledger import verification
from nba_notify.lib.ledger.alerting import RULE_COUNT_MISMATCH, RULE_STALE_PENDING, AlertSink, raise_domain_alert
from nba_notify.lib.ledger.planning import NotificationPolicy

MAX_ALERTS_PER_TICK = 50


@dataclass
class Tick:
    cursor: str
    alerts: list[str] = field(default_factory=list)
    run_key: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def stale_pending_tick(
    engine: sa.Engine, policy: NotificationPolicy, now: datetime, cursor: str | None, alerts: AlertSink | None = None
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
            engine, alerts, rule_key=RULE_STALE_PENDING,
            title=f"No send confirmed for game {row['game_id']}: scheduled {row['send_at_utc'].isoformat()}, "
                  f"{policy.send_grace_minutes} min grace passed (state {row['state']})",
            details={k: str(v) for k, v in row.items()}, dedupe_key=row["intent_key"], now=now,
        )
        tick.alerts.append(row["game_id"] if error is None else f"{row['game_id']} (alert failed: {error})")
    if len(rows) > MAX_ALERTS_PER_TICK:
        raise_domain_alert(
            engine, alerts, rule_key=RULE_STALE_PENDING,
            title=f"{len(rows) - MAX_ALERTS_PER_TICK} more notifications without a send confirmation",
            details={"games": [r["game_id"] for r in rows[MAX_ALERTS_PER_TICK:]][:500]},
            dedupe_key="bulk", now=now,
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
) -> Tick:
    state = json.loads(cursor) if cursor else {}
    with engine.connect() as conn:
        counts = verification.counts(conn, now, policy)
    if not counts.mismatch:
        return Tick(cursor="", detail=counts.as_dict())
    key = counts.key()
    if state.get("key") != key:
        state = {"key": key, "since": now.isoformat(), "alerted": False}
    tick = Tick(cursor=json.dumps(state), detail=counts.as_dict())
    persisted = now - datetime.fromisoformat(state["since"]) >= timedelta(minutes=persist_minutes)
    if state["alerted"] or not persisted:
        return tick
    error = raise_domain_alert(
        engine, alerts, rule_key=RULE_COUNT_MISMATCH,
        title=f"Schedule counts disagree since {state['since']}: desired {counts.desired}, "
              f"ledger {counts.ledger_live} ({counts.ledger_unresolved} unresolved)",
        details=counts.as_dict(), dedupe_key=policy.campaign_id, now=now,
    )
    state["alerted"] = True
    tick.cursor = json.dumps(state)
    tick.alerts.append(key if error is None else f"{key} (alert failed: {error})")
    tick.run_key = f"count-mismatch-{key}-{state['since']}"
    return tick
