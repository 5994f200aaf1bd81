"""Seed 000's gaps as queries returning the offending rows (0 rows = pass). Checks, sensors
and the demo all read these, so "missing", "stale pending" or "duplicate" mean one thing.

All queries are written for the partial indexes of ``schedule_ledger`` so they stay fast on a
large ledger (the sensors run them every minute)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from nba_notify.lib.clients.braze import parse_braze_time
from nba_notify.lib.ledger.planning import NotificationPolicy

Rows = list[dict[str, Any]]


def _rows(conn: sa.Connection, sql: str, params: dict[str, Any]) -> Rows:
    return [dict(r) for r in conn.execute(sa.text(sql), params).mappings()]


def missing_schedules(
    conn: sa.Connection, now: datetime, policy: NotificationPolicy, limit: int = 200
) -> Rows:
    """Gap 1: an active desired notification, still schedulable, with no live schedule."""
    return _rows(
        conn,
        """
        SELECT d.game_id, d.intent_key, d.send_at_utc, d.signature, l.state AS ledger_state,
               l.last_error
          FROM desired_notifications d
          LEFT JOIN schedule_ledger l ON l.intent_key = d.intent_key
         WHERE d.active AND d.campaign_id = :campaign
           AND d.send_at_utc > :earliest AND d.send_at_utc <= :latest
           AND (l.id IS NULL OR l.state IN ('planned', 'cancelled', 'expired', 'cancel_requested'))
           AND NOT EXISTS (SELECT 1 FROM schedule_ledger s
                            WHERE s.game_id = d.game_id AND s.kind = d.kind AND s.state = 'sent')
         ORDER BY d.send_at_utc, d.game_id
         LIMIT :limit
        """,
        {
            "campaign": policy.campaign_id,
            "earliest": now + timedelta(seconds=policy.min_lead_seconds),
            "latest": now + policy.horizon,
            "limit": limit,
        },
    )


def unresolved_schedules(
    conn: sa.Connection, limit: int = 200, *, include_unidentified: bool = False
) -> Rows:
    """Intents whose last Braze call has no known outcome (may or may not exist at Braze) —
    and, with ``include_unidentified``, those proven live whose id we never learned."""
    states = ("creating", "updating", "unknown", "unidentified") if include_unidentified else UNRESOLVED
    return _rows(
        conn,
        """
        SELECT l.game_id, l.intent_key, l.state, l.send_at_utc, l.braze_schedule_id, l.updated_at,
               a.operation, a.status AS attempt_status, a.target_send_at, a.prior_send_at, a.started_at
          FROM schedule_ledger l LEFT JOIN schedule_attempts a ON a.id = l.current_attempt_id
         WHERE l.state IN :states
         ORDER BY l.id
         LIMIT :limit
        """.replace(":states", "(" + ", ".join(f"'{s}'" for s in states) + ")"),
        {"limit": limit},
    )


UNRESOLVED = ("creating", "updating", "unknown")


def open_orphans(conn: sa.Connection, limit: int = 200) -> Rows:
    """Gap 2: schedule ids proven not live but not cancelled yet."""
    return _rows(
        conn,
        """
        SELECT braze_schedule_id, game_id, reason, status, recorded_at, note
          FROM schedule_orphans WHERE status IN ('pending', 'cancel_claimed')
         ORDER BY id LIMIT :limit
        """,
        {"limit": limit},
    )


def stale_pending(
    conn: sa.Connection,
    now: datetime,
    policy: NotificationPolicy,
    *,
    after: tuple[datetime, int] | None = None,
    limit: int = 500,
) -> Rows:
    """Gap 4: send time + grace passed, no send event. Keyset-paged on (send_at, id) so a
    sensor tick reads only rows it has not seen (index ``ix_schedule_ledger_scheduled_send_at``)."""
    cutoff = now - timedelta(minutes=policy.send_grace_minutes)
    after_at, after_id = after if after else (datetime(1970, 1, 1, tzinfo=now.tzinfo), 0)
    return _rows(
        conn,
        """
        (SELECT id, game_id, intent_key, state, send_at_utc, braze_schedule_id, dispatch_id
           FROM schedule_ledger
          WHERE state IN ('scheduled', 'unidentified') AND send_at_utc < :cutoff
            AND (send_at_utc, id) > (:after_at, :after_id)
          ORDER BY send_at_utc, id
          LIMIT :limit)
        UNION ALL
        (SELECT id, game_id, intent_key, state, send_at_utc, braze_schedule_id, dispatch_id
           FROM schedule_ledger
          WHERE state IN ('creating', 'updating', 'unknown') AND send_at_utc < :cutoff
            AND (send_at_utc, id) > (:after_at, :after_id)
          ORDER BY send_at_utc, id
          LIMIT :limit)
        ORDER BY send_at_utc, id
        LIMIT :limit
        """,
        {"cutoff": cutoff, "after_at": after_at, "after_id": after_id, "limit": limit},
    )


@dataclass(frozen=True)
class Counts:
    desired: int  # active desired notifications still ahead (schedulable window)
    ledger_live: int  # ledger rows that hold (or may hold) a live schedule, same window
    ledger_unresolved: int
    braze_listed: int | None = None  # listed by Braze in the window (positive evidence only)

    @property
    def mismatch(self) -> bool:
        """Desired against ledger. What Braze lists is judged per send minute, against every
        schedule the ledger accounts for (orphans too), by :mod:`nba_notify.lib.ledger.foreign`:
        a total compared with live rows alone would call a guarded orphan a double push."""
        return self.desired != self.ledger_live

    def key(self) -> str:
        return f"desired={self.desired}|ledger={self.ledger_live}|listed={self.braze_listed}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "desired": self.desired,
            "ledger_live": self.ledger_live,
            "ledger_unresolved": self.ledger_unresolved,
            "braze_listed": self.braze_listed,
            "mismatch": self.mismatch,
        }


def count_window(now: datetime, policy: NotificationPolicy) -> tuple[datetime, datetime]:
    """Counts compare sends between the update buffer and the horizon: closer sends may be
    legitimately mid-flight, farther ones are not scheduled yet."""
    return now + policy.update_buffer, now + policy.horizon


def counts(
    conn: sa.Connection, now: datetime, policy: NotificationPolicy, braze_listed: int | None = None
) -> Counts:
    start, end = count_window(now, policy)
    row = (
        conn.execute(
            sa.text(
                """
            SELECT
              (SELECT count(*) FROM desired_notifications
                WHERE active AND campaign_id = :campaign AND send_at_utc > :start AND send_at_utc <= :end) AS desired,
              (SELECT count(*) FROM schedule_ledger
                WHERE state IN ('creating', 'updating', 'scheduled', 'unknown', 'unidentified', 'cancel_requested')
                  AND campaign_id = :campaign AND send_at_utc > :start AND send_at_utc <= :end) AS ledger_live,
              (SELECT count(*) FROM schedule_ledger
                WHERE state IN ('creating', 'updating', 'unknown') AND campaign_id = :campaign) AS unresolved
            """
            ),
            {"campaign": policy.campaign_id, "start": start, "end": end},
        )
        .mappings()
        .one()
    )
    return Counts(int(row["desired"]), int(row["ledger_live"]), int(row["unresolved"]), braze_listed)


def listed_per_time(
    entries: Sequence[dict[str, Any]], campaign_id: str, start: datetime, end: datetime
) -> Counter:
    """Listed next-send times of our campaign in ``(start, end]``, counted per send time."""
    per_time: Counter = Counter()
    for entry in entries:
        if entry.get("id") != campaign_id:
            continue
        when = parse_braze_time(entry.get("next_send_time"))
        if when is not None and start < when <= end:
            per_time[when] += 1
    return per_time


def duplicate_sends(conn: sa.Connection, limit: int = 200) -> Rows:
    """Gap 5 from Currents: two dispatches for one game, or a user messaged twice."""
    return _rows(
        conn,
        """
        SELECT game_id, count(DISTINCT dispatch_id) AS dispatches,
               count(*) AS send_events,
               count(DISTINCT external_user_id) AS users,
               array_agg(DISTINCT dispatch_id) AS dispatch_ids
          FROM notification_sends
         WHERE event_type = 'users.messages.pushnotification.Send' AND game_id IS NOT NULL
         GROUP BY game_id
        HAVING count(DISTINCT dispatch_id) > 1 OR count(*) > count(DISTINCT external_user_id)
         ORDER BY game_id
         LIMIT :limit
        """,
        {"limit": limit},
    )


def duplicate_ledger_rows(conn: sa.Connection, limit: int = 200) -> Rows:
    """More than one live ledger row per game and kind (the unique index forbids it; the check
    proves the index is there and holding)."""
    return _rows(
        conn,
        """
        SELECT game_id, kind, count(*) AS live_rows, array_agg(braze_schedule_id) AS schedule_ids
          FROM schedule_ledger
         WHERE state IN ('creating', 'updating', 'scheduled', 'unknown', 'unidentified', 'cancel_requested')
         GROUP BY game_id, kind HAVING count(*) > 1
         LIMIT :limit
        """,
        {"limit": limit},
    )


def timing_problems(conn: sa.Connection, now: datetime, policy: NotificationPolicy, limit: int = 200) -> Rows:
    """Gap "timing": a live schedule not at tip-off minus lead (outside the update buffer,
    where it should already have been moved), or a send that went out off time."""
    return _rows(
        conn,
        """
        SELECT l.game_id, 'schedule' AS what, l.send_at_utc AS actual, d.send_at_utc AS expected,
               d.tipoff_utc
          FROM schedule_ledger l JOIN desired_notifications d ON d.intent_key = l.intent_key
         WHERE l.state IN ('scheduled', 'unidentified') AND d.active
           AND l.send_at_utc IS DISTINCT FROM d.send_at_utc
           AND LEAST(l.send_at_utc, d.send_at_utc) > :buffer_edge
        UNION ALL
        SELECT s.game_id, 'send' AS what, min(s.event_time) AS actual, d.send_at_utc AS expected, d.tipoff_utc
          FROM notification_sends s JOIN desired_notifications d ON d.intent_key = s.intent_key
         WHERE s.event_type = 'users.messages.pushnotification.Send'
         GROUP BY s.game_id, d.send_at_utc, d.tipoff_utc
        HAVING abs(extract(epoch FROM min(s.event_time) - d.send_at_utc)) > 90
        ORDER BY 1
        LIMIT :limit
        """,
        {"buffer_edge": now + policy.update_buffer, "limit": limit},
    )


def unmatched_sends(conn: sa.Connection, limit: int = 200) -> Rows:
    return _rows(
        conn,
        """
        SELECT event_id, event_type, dispatch_id, send_id, campaign_id, external_user_id, event_time, received_at
          FROM notification_sends WHERE NOT matched ORDER BY received_at LIMIT :limit
        """,
        {"limit": limit},
    )


def markdown_table(rows: Rows, columns: Sequence[str] | None = None, limit: int = 50) -> str:
    """Offending rows as a markdown table for Dagster metadata."""
    if not rows:
        return "_none_"
    columns = list(columns or rows[0].keys())
    out = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows[:limit]:
        out.append("| " + " | ".join(_cell(row.get(c)) for c in columns) + " |")
    if len(rows) > limit:
        out.append(f"\n… and {len(rows) - limit} more")
    return "\n".join(out)


def _cell(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%SZ")
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")[:120]
