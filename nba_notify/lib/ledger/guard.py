"""The send guard: the last word on a push, asked by Braze itself at send time.

The campaign's message template calls this endpoint through Braze Connected Content when a
scheduled send goes out, and aborts the message (Liquid ``abort_message``) when the answer is
``{"send": false}``:

    {% connected_content https://<host>/braze/send-guard?send_id={{api_trigger_properties.${send_id}}}&dispatch_id={{campaign.${dispatch_id}}}&send_at={{api_trigger_properties.${send_at}}} :headers {"Authorization": "Bearer <token>"} :save guard %}
    {% if guard.__http_status_code__ == 200 and guard.send == false %}{% abort_message(guard.reason) %}{% endif %}

It refuses a push that would be wrong *whatever the ledger believes*:

* the game is postponed, cancelled or gone from every feed (``withdrawn``);
* the schedule is for a send time the game no longer has (``stale_time``) — a schedule we could
  not move because Braze never told us its id;
* another dispatch of the same intent already claimed the send (``other_dispatch_sending``) —
  the first dispatch to ask wins, atomically, so a lost create that landed next to its
  re-creation still reaches each fan once.

Anything it cannot judge (a send id that is not ours, the database down) is answered so that
Braze *sends* (fail open: 200 ``send: true`` for unknown ids, 503 for errors, which the template
treats as "send"): the guard removes wrong pushes, it never becomes a reason for a missing one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from nba_notify.lib.db.tables.ingest import games
from nba_notify.lib.db.tables.notifications import schedule_ledger, send_guard_claims, send_guard_decisions
from nba_notify.lib.ledger.planning import NotificationPolicy, UpcomingGame, desired_for_game, to_minute

L = schedule_ledger.c
# A send time within this of the game's current one is the same send (Braze sends to the minute).
SEND_TIME_TOLERANCE = timedelta(minutes=1)
# The guard counts as live when Braze consulted it this recently (the template is in place).
LIVE_WITHIN = timedelta(days=7)


@dataclass(frozen=True)
class GuardDecision:
    send: bool
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {"send": self.send, "reason": self.reason}


def decide(
    engine: sa.Engine,
    policy: NotificationPolicy,
    *,
    send_id: str,
    dispatch_id: str | None,
    send_at: datetime | None,
) -> GuardDecision:
    """May the schedule carrying ``send_id`` (dispatch ``dispatch_id``, for ``send_at``) send?"""
    with engine.begin() as conn:
        row = conn.execute(
            sa.select(L.intent_key, L.game_id).where(
                L.send_id == send_id, L.campaign_id == policy.campaign_id
            )
        ).first()
        if row is None:
            decision = GuardDecision(True, "not_ours")
            _log(conn, policy, send_id, dispatch_id, None, None, send_at, decision)
            return decision
        game = conn.execute(
            sa.select(
                games.c.home_team, games.c.away_team, games.c.tipoff_utc, games.c.status, games.c.listed
            ).where(games.c.game_id == row.game_id)
        ).first()
        decision = _judge(conn, policy, row.intent_key, row.game_id, game, dispatch_id, send_at)
        _log(conn, policy, send_id, dispatch_id, row.intent_key, row.game_id, send_at, decision)
    return decision


def _judge(
    conn: sa.Connection,
    policy: NotificationPolicy,
    intent_key: str,
    game_id: str,
    game: sa.Row | None,
    dispatch_id: str | None,
    send_at: datetime | None,
) -> GuardDecision:
    if game is not None:
        wanted = desired_for_game(
            UpcomingGame(game_id, game.home_team, game.away_team, game.tipoff_utc, game.status, game.listed),
            policy,
        )
        if not wanted.active:
            return GuardDecision(False, f"withdrawn_{wanted.reason}")
        if (
            send_at is not None
            and wanted.send_at is not None
            and abs(to_minute(send_at) - wanted.send_at) > (SEND_TIME_TOLERANCE)
        ):
            return GuardDecision(False, "stale_time")
    if not dispatch_id:
        return GuardDecision(True, "no_dispatch_id")
    claimed = conn.execute(
        pg_insert(send_guard_claims)
        .values(intent_key=intent_key, dispatch_id=dispatch_id, send_at_utc=send_at)
        .on_conflict_do_nothing(index_elements=[send_guard_claims.c.intent_key])
        .returning(send_guard_claims.c.dispatch_id)
    ).first()
    if claimed is not None:
        return GuardDecision(True, "first_dispatch")
    holder = conn.execute(
        sa.select(send_guard_claims.c.dispatch_id).where(send_guard_claims.c.intent_key == intent_key)
    ).scalar_one()
    if holder == dispatch_id:
        return GuardDecision(True, "same_dispatch")  # Braze asks once per recipient (cache aside)
    return GuardDecision(False, "other_dispatch_sending")


def _log(
    conn: sa.Connection,
    policy: NotificationPolicy,
    send_id: str,
    dispatch_id: str | None,
    intent_key: str | None,
    game_id: str | None,
    send_at: datetime | None,
    decision: GuardDecision,
) -> None:
    conn.execute(
        sa.insert(send_guard_decisions).values(
            campaign_id=policy.campaign_id,
            send_id=send_id,
            dispatch_id=dispatch_id,
            intent_key=intent_key,
            game_id=game_id,
            send_at_utc=send_at,
            send=decision.send,
            reason=decision.reason,
        )
    )


def guard_is_live(conn: sa.Connection, campaign_id: str, now_wall: datetime | None = None) -> bool:
    """Braze consulted the guard for this campaign recently: the template is in place, so a schedule
    we cannot change is refused at send time instead of pushing wrongly."""
    since = sa.func.now() - LIVE_WITHIN if now_wall is None else now_wall - LIVE_WITHIN
    return bool(
        conn.execute(
            sa.select(sa.literal(True))
            .where(
                send_guard_decisions.c.campaign_id == campaign_id, send_guard_decisions.c.decided_at >= since
            )
            .limit(1)
        ).scalar()
    )
