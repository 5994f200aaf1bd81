"""Migration 0006 carries a database written by the date-keyed schema over to stable game ids:
games keyed by their league id, claims and links seeded, every game_key and intent key
rewritten, the old scheme's moved-game duplicate turned into an orphan for reconcile to cancel,
and nothing that identifies a game dropped."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from alembic import command

from nba_notify.lib.db import engine as db_engine
from nba_notify.lib.db.migrate import alembic_config, upgrade

OLD_HEADS = ["0003", "0004", "0005"]
SEND = datetime(2026, 11, 25, 23, 0, tzinfo=UTC)


@pytest.fixture
def old_database(database_server_url):
    name = f"nba_notify_mig_{uuid.uuid4().hex[:8]}"
    db_engine.ensure_database(database_server_url, name)
    url = db_engine.with_database(database_server_url, name)
    engine = db_engine.get_engine(url)
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, OLD_HEADS)
    yield url, engine
    engine.dispose()
    db_engine.drop_database(database_server_url, name)


def populate_with_the_date_keyed_schema(conn: sa.Connection) -> None:
    def run(sql: str, **params) -> None:
        conn.execute(sa.text(sql), params)

    games = """INSERT INTO games (game_key, game_date, home_team, away_team, nbac_game_id, bdl_game_id, tipoff_utc,
                                  status, in_bdl, in_nbac)
               VALUES (:k, :d, :h, :a, :n, :b, :t, 'scheduled', :ib, :in_)"""
    # a league game both sources list; it moved from the 24th to the 26th under the old scheme
    run(
        games,
        k="2026-11-26_BOS@NYK",
        d=date(2026, 11, 26),
        h="NYK",
        a="BOS",
        n="0022600301",
        b=18001,
        t=SEND,
        ib=True,
        in_=True,
    )
    # a game only BDL lists (no league id)
    run(
        games,
        k="2026-11-26_LAL@GSW",
        d=date(2026, 11, 26),
        h="GSW",
        a="LAL",
        n=None,
        b=18002,
        t=SEND,
        ib=True,
        in_=False,
    )
    run("""INSERT INTO player_box_scores (game_key, source, player_id, game_date, team, player_name)
           VALUES ('2026-11-26_BOS@NYK', 'nbac', '1', '2026-11-26', 'NYK', 'A B'),
                  ('2026-11-20_OLD@ROW', 'nbac', '1', '2026-11-20', 'OLD', 'C D')""")
    run("""INSERT INTO source_discrepancies (game_date, game_key, kind, scraper_name, details, detected_at)
           VALUES ('2026-11-26', '2026-11-26_LAL@GSW', 'missing_in_nbac', 'nbac_schedule', '{}', now())""")
    ledger = """INSERT INTO schedule_ledger (intent_key, game_key, kind, campaign_id, template_version, send_id, state,
                                             braze_schedule_id, send_at_utc)
                VALUES (:i, :k, 'tipoff_reminder', 'c', 'v1', :s, :st, :b, :t)"""
    # the old bug: the moved game left its old-date intent live next to the new one
    run(
        ledger,
        i="2026-11-24_BOS@NYK|tipoff_reminder|c|v1",
        k="2026-11-24_BOS@NYK",
        s="send-old",
        st="scheduled",
        b="sched-old",
        t=SEND,
    )
    run(
        ledger,
        i="2026-11-26_BOS@NYK|tipoff_reminder|c|v1",
        k="2026-11-26_BOS@NYK",
        s="send-new",
        st="scheduled",
        b="sched-new",
        t=SEND,
    )
    run(
        ledger,
        i="2026-11-26_LAL@GSW|tipoff_reminder|c|v1",
        k="2026-11-26_LAL@GSW",
        s="send-bdl",
        st="scheduled",
        b="sched-bdl",
        t=SEND,
    )
    desired = """INSERT INTO desired_notifications (intent_key, game_key, kind, campaign_id, template_version,
                                                   home_team, away_team, active, reason, game_status, computed_at)
                 VALUES (:i, :k, 'tipoff_reminder', 'c', 'v1', 'NYK', 'BOS', true, 'scheduled', 'scheduled', now())"""
    run(desired, i="2026-11-24_BOS@NYK|tipoff_reminder|c|v1", k="2026-11-24_BOS@NYK")
    run(desired, i="2026-11-26_BOS@NYK|tipoff_reminder|c|v1", k="2026-11-26_BOS@NYK")
    run("""INSERT INTO notification_sends (event_id, event_type, event_time, game_key, intent_key, matched, raw)
           VALUES ('e1', 'users.messages.pushnotification.Send', now(), '2026-11-26_BOS@NYK',
                   '2026-11-26_BOS@NYK|tipoff_reminder|c|v1', true, '{}')""")


def test_a_database_written_by_the_date_keyed_schema_is_carried_over_to_league_game_ids(old_database):
    url, engine = old_database
    with engine.begin() as conn:
        populate_with_the_date_keyed_schema(conn)
    upgrade(url)

    with engine.connect() as conn:
        q = lambda sql: conn.execute(sa.text(sql)).mappings().all()  # noqa: E731
        assert [dict(r) for r in q("SELECT game_id, bdl_game_id, listed FROM games")] == [
            {"game_id": "0022600301", "bdl_game_id": 18001, "listed": True}
        ]
        claims = {(r["source"], r["source_game_id"]): r["game_id"] for r in q("SELECT * FROM source_games")}
        assert claims == {
            ("nbac", "0022600301"): "0022600301",
            ("bdl", "18001"): "0022600301",
            ("bdl", "18002"): None,
        }  # the BDL-only game stays, unproven
        assert [r["game_id"] for r in q("SELECT * FROM game_crosswalk")] == ["0022600301"]
        assert [r["game_id"] for r in q("SELECT * FROM player_box_scores")] == [
            "0022600301"
        ]  # stale row gone
        assert [r["game_id"] for r in q("SELECT * FROM source_discrepancies")] == ["bdl:18002"]

        ledger = {r["send_id"]: r for r in q("SELECT * FROM schedule_ledger")}
        assert ledger["send-new"]["intent_key"] == "0022600301|tipoff_reminder|c|v1"
        assert ledger["send-new"]["state"] == "scheduled"
        # the old-date duplicate is no longer live; its Braze schedule is an orphan to cancel
        assert ledger["send-old"]["game_id"] == "0022600301" and ledger["send-old"]["state"] == "cancelled"
        assert ledger["send-old"]["intent_key"].startswith("0022600301|tipoff_reminder|c|v1|superseded:")
        assert ledger["send-bdl"]["game_id"] == "bdl:18002" and ledger["send-bdl"]["state"] == "scheduled"
        orphans = q("SELECT braze_schedule_id, status, game_id FROM schedule_orphans")
        assert [dict(r) for r in orphans] == [
            {"braze_schedule_id": "sched-old", "status": "pending", "game_id": "0022600301"}
        ]
        assert [r["intent_key"] for r in q("SELECT intent_key FROM desired_notifications")] == [
            "0022600301|tipoff_reminder|c|v1"
        ]
        [send] = q("SELECT game_id, intent_key FROM notification_sends")
        assert (send["game_id"], send["intent_key"]) == ("0022600301", "0022600301|tipoff_reminder|c|v1")


def test_the_identity_migration_can_be_rolled_back_and_applied_again(old_database):
    url, engine = old_database
    with engine.begin() as conn:
        populate_with_the_date_keyed_schema(conn)
    upgrade(url)
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0005")  # unmerges 0006: back to the three domain heads
    with engine.connect() as conn:
        keys = set(conn.execute(sa.text("SELECT game_key FROM games")).scalars())
        intents = set(
            conn.execute(
                sa.text("SELECT intent_key FROM schedule_ledger WHERE state = 'scheduled'")
            ).scalars()
        )
    assert keys == {"2026-11-26_BOS@NYK"}
    assert "2026-11-26_BOS@NYK|tipoff_reminder|c|v1" in intents
    upgrade(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT game_id FROM games")).scalars().all() == ["0022600301"]
