"""The demo's per-game report: what Braze really did (the simulator's ground truth,
``SimControl.state()``) next to what the ledger and Currents say.

    truth = sim.control.state()
    summary = notification_report(engine, truth, now=sim.control.now())
    summary["totals"]  # games, schedules_live, users_messaged, duplicate_messages, misses, ...
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa


def notification_report(
    engine: sa.Engine, truth: dict[str, Any], *, now: datetime, campaign_id: str | None = None
) -> dict[str, Any]:
    braze = truth.get("braze", truth)
    schedules = [
        s for s in braze.get("schedules", []) if campaign_id is None or s.get("campaign_id") == campaign_id
    ]
    messages: dict[str, dict[str, int]] = braze.get("messages", {})

    per_game: dict[str, dict[str, Any]] = defaultdict(
        lambda: {
            "schedules_created": 0,
            "schedules_live": 0,
            "schedules_sent": 0,
            "schedules_cancelled": 0,
            "users_messaged": 0,
            "messages": 0,
            "duplicate_messages": 0,
        }
    )
    for s in schedules:
        g = per_game[str(s.get("game_id"))]
        g["schedules_created"] += 1
        status = s.get("status")
        if status == "scheduled":
            g["schedules_live"] += 1
        elif status == "sent":
            g["schedules_sent"] += 1
        elif status == "cancelled":
            g["schedules_cancelled"] += 1
    for game, per_user in messages.items():
        g = per_game[game]
        g["users_messaged"] = len(per_user)
        g["messages"] = sum(per_user.values())
        g["duplicate_messages"] = sum(c - 1 for c in per_user.values() if c > 1)

    with engine.connect() as conn:
        desired = {
            r["game_id"]: dict(r)
            for r in conn.execute(
                sa.text("SELECT game_id, active, reason, send_at_utc, tipoff_utc FROM desired_notifications")
            ).mappings()
        }
        ledger = {
            r["game_id"]: dict(r)
            for r in conn.execute(
                sa.text(
                    """
                    SELECT DISTINCT ON (game_id) game_id, state, braze_schedule_id, send_at_utc
                      FROM schedule_ledger ORDER BY game_id, updated_at DESC
                    """
                )
            ).mappings()
        }
        events = {
            r["game_id"]: dict(r)
            for r in conn.execute(
                sa.text(
                    """
                    SELECT game_id, count(*) AS send_events, count(DISTINCT external_user_id) AS users
                      FROM notification_sends
                     WHERE event_type = 'users.messages.pushnotification.Send' AND game_id IS NOT NULL
                     GROUP BY game_id
                    """
                )
            ).mappings()
        }
        unmatched = conn.execute(
            sa.text("SELECT count(*) FROM notification_sends WHERE NOT matched")
        ).scalar_one()

    games = []
    for game_id in sorted(set(per_game) | set(desired)):
        g = dict(per_game[game_id])
        d = desired.get(game_id)
        lrow = ledger.get(game_id)
        due = bool(d and d["active"] and d["send_at_utc"] is not None and d["send_at_utc"] <= now)
        g.update(
            game_id=game_id,
            desired=(d["reason"] if d else None),
            send_at=d["send_at_utc"].isoformat() if d and d["send_at_utc"] else None,
            ledger_state=lrow["state"] if lrow else None,
            currents_send_events=events.get(game_id, {}).get("send_events", 0),
            missed=due and g["messages"] == 0,
            sent_for_withdrawn_game=bool(d and not d["active"] and g["messages"] > 0),
            two_live_schedules=g["schedules_live"] > 1,
        )
        games.append(g)
    totals = {
        "games": len(desired),
        "games_notified": sum(1 for g in games if g["messages"] > 0),
        "schedules_created": sum(g["schedules_created"] for g in games),
        "schedules_live": sum(g["schedules_live"] for g in games),
        "users_messaged": sum(g["users_messaged"] for g in games),
        "messages": sum(g["messages"] for g in games),
        "duplicate_messages": sum(g["duplicate_messages"] for g in games),
        "games_with_two_live_schedules": sum(1 for g in games if g["two_live_schedules"]),
        "misses": sum(1 for g in games if g["missed"]),
        "sent_for_withdrawn_games": sum(1 for g in games if g["sent_for_withdrawn_game"]),
        "currents_send_events": sum(g["currents_send_events"] for g in games),
        "unmatched_events": int(unmatched),
    }
    return {"games": games, "totals": totals}
