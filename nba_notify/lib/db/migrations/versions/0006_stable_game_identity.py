"""identity: a game is the league's game (NBA.com gameId), not its date plus teams.

* new tables ``source_games`` (each source's current claim per source id), ``game_crosswalk``
  (proven BDL id -> league game) and ``game_identity_conflicts``;
* ``games`` is keyed by ``game_id`` (the former ``nbac_game_id``) and gains ``listed``;
* every ``game_key`` column becomes ``game_id`` and is carried over through the games table:
  the league id where the game had one, ``bdl:<id>`` for a game only BDL listed; intent keys
  (which start with the game's identity) are rewritten the same way. Send ids are kept as
  stored: Braze knows them, and Currents events carry them.

Existing rows are carried over, nothing is dropped that identifies a game:

* the claims and the crosswalk are seeded from the games rows (a row with both ids is a
  proven link: the old merge matched them by day and teams);
* games only BDL listed leave ``games`` (not league games) and stay as their BDL claim,
  unproven; their box-score lines and discrepancies follow them as ``bdl:<id>``;
* box-score lines and discrepancies of a ``game_key`` no games row knows any more (stale rows
  of a moved game) cannot be carried and are deleted; both are rebuilt from stored raw
  payloads by re-processing the day.

Revision ID: 0006
Revises: 0003, 0004, 0005
"""

import re
from collections import defaultdict
from datetime import date
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = ("0003", "0004", "0005")
branch_labels = None
depends_on = None


def _keyed(table: str) -> sa.TableClause:
    """A table by name with its pre-migration ``game_key`` column, for Core statements."""
    return sa.table(table, sa.column("game_key"))


def _rename_index(bind: sa.Connection, old: str, new: str) -> None:
    # Index names cannot be bound parameters: they are quoted by the dialect instead.
    quote = bind.dialect.identifier_preparer.quote
    bind.execute(sa.text("ALTER INDEX " + quote(old) + " RENAME TO " + quote(new)))


NOTIFICATION_TABLES = (
    # (table, index on game_key or None, has intent_key)
    ("desired_notifications", "ix_desired_notifications_game_key", True),
    ("schedule_ledger", "ix_schedule_ledger_game_key", True),
    ("schedule_attempts", None, True),
    ("schedule_orphans", None, True),
    ("scheduler_logs", "ix_scheduler_logs_game_key", True),
    ("notification_sends", "ix_notification_sends_game_key", True),
)

IDENTITY_CONFLICT_KINDS = (
    "duplicate_source_id", "source_id_changed_teams", "league_id_changed_teams", "ids_claim_one_game",
    "ambiguous_match",
)  # fmt: skip

STATUS_CHECK = "status IN ('scheduled', 'live', 'final', 'postponed', 'cancelled')"


def _create_identity_tables() -> None:
    op.create_table(
        "source_games",
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_game_id", sa.String(length=32), nullable=False),
        sa.Column("game_id", sa.String(length=16), nullable=True),
        sa.Column("game_date", sa.Date(), nullable=False),
        sa.Column("season", sa.Integer(), nullable=True),
        sa.Column("home_team", sa.String(length=3), nullable=False),
        sa.Column("away_team", sa.String(length=3), nullable=False),
        sa.Column("tipoff_utc", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("home_score", sa.Integer(), nullable=True),
        sa.Column("away_score", sa.Integer(), nullable=True),
        sa.Column("listed", sa.Boolean(), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(STATUS_CHECK, name=op.f("ck_source_games_status")),
        sa.PrimaryKeyConstraint("source", "source_game_id", name=op.f("pk_source_games")),
    )
    op.create_index("ix_source_games_source_date", "source_games", ["source", "game_date"], unique=False)
    op.create_index("ix_source_games_game_id", "source_games", ["game_id"], unique=False)
    op.create_table(
        "game_crosswalk",
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_game_id", sa.String(length=32), nullable=False),
        sa.Column("game_id", sa.String(length=16), nullable=False),
        sa.Column("home_team", sa.String(length=3), nullable=False),
        sa.Column("away_team", sa.String(length=3), nullable=False),
        sa.Column("source_game_date", sa.Date(), nullable=False),
        sa.Column("league_game_date", sa.Date(), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("proven_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("source", "source_game_id", name=op.f("pk_game_crosswalk")),
        sa.UniqueConstraint("source", "game_id", name=op.f("uq_game_crosswalk_source_game_id")),
    )
    op.create_table(
        "game_identity_conflicts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_game_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("game_id", sa.String(length=16), nullable=True),
        sa.Column("game_date", sa.Date(), nullable=False),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("occurrences", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "first_seen_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column(
            "last_seen_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "kind IN (" + ", ".join(f"'{k}'" for k in IDENTITY_CONFLICT_KINDS) + ")",
            name=op.f("ck_game_identity_conflicts_kind"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_game_identity_conflicts")),
    )
    op.create_index(
        "uq_game_identity_conflicts_open",
        "game_identity_conflicts",
        ["source", "source_game_id", "kind"],
        unique=True,
        postgresql_where=sa.text("resolved_at IS NULL"),
    )
    op.create_index(
        "ix_game_identity_conflicts_game_date", "game_identity_conflicts", ["game_date"], unique=False
    )


def _seed_claims_and_links() -> None:
    op.execute(
        """
        INSERT INTO source_games (source, source_game_id, game_id, game_date, season, home_team, away_team,
                                  tipoff_utc, status, home_score, away_score, listed, run_id)
        SELECT 'nbac', nbac_game_id, nbac_game_id, game_date, season, home_team, away_team,
               tipoff_utc, status, home_score, away_score, in_nbac, run_id
          FROM games WHERE nbac_game_id IS NOT NULL
        """
    )
    op.execute(
        """
        INSERT INTO source_games (source, source_game_id, game_id, game_date, season, home_team, away_team,
                                  tipoff_utc, status, home_score, away_score, listed, run_id)
        SELECT 'bdl', bdl_game_id::text, nbac_game_id, game_date, season, home_team, away_team,
               tipoff_utc, status, home_score, away_score, in_bdl, run_id
          FROM games WHERE bdl_game_id IS NOT NULL
        """
    )
    op.execute(
        """
        INSERT INTO game_crosswalk (source, source_game_id, game_id, home_team, away_team, source_game_date,
                                    league_game_date, method, run_id)
        SELECT 'bdl', bdl_game_id::text, nbac_game_id, home_team, away_team, game_date, game_date,
               'migrated_same_day', run_id
          FROM games WHERE bdl_game_id IS NOT NULL AND nbac_game_id IS NOT NULL
        """
    )


KEY_PATTERN = re.compile(r"^(\d{4}-\d{2}-\d{2})_([A-Z]{3})@([A-Z]{3})$")
LIVE_STATES = ("creating", "updating", "scheduled", "unknown", "cancel_requested")
# How far a game's day may have moved for an old date-bearing key to still name it (teams meet
# again within days only in a playoff series, and then the match is ambiguous and not made).
LEGACY_MATCH_DAYS = 7


def _identity_map(bind: sa.Connection) -> tuple[dict[str, str], set[str]]:
    """old game_key -> game_id for every key any table holds, and the keys that are a games
    row's current key. A key no games row has any more (a game that moved under the old scheme
    left its old key behind) is matched by teams within a week when exactly one league game
    fits; otherwise it stays recognisable as ``legacy:<key>``."""
    games_rows = bind.execute(
        sa.text("SELECT game_key, nbac_game_id, bdl_game_id, game_date, home_team, away_team FROM games")
    ).all()
    current = {g.game_key: g.nbac_game_id or f"bdl:{g.bdl_game_id}" for g in games_rows}
    by_teams: dict[tuple[str, str], list[tuple[date, str]]] = defaultdict(list)
    for g in games_rows:
        if g.nbac_game_id:
            by_teams[(g.home_team, g.away_team)].append((g.game_date, g.nbac_game_id))
    keys: set[str] = set()
    for table, _, _ in NOTIFICATION_TABLES:
        keyed = _keyed(table)
        keys |= set(
            bind.execute(
                sa.select(sa.distinct(keyed.c.game_key)).where(keyed.c.game_key.is_not(None))
            ).scalars()
        )
    mapping = dict(current)
    for key in keys - set(current):
        match = KEY_PATTERN.match(key)
        fits = []
        if match:
            day, away, home = date.fromisoformat(match[1]), match[2], match[3]
            fits = [gid for d, gid in by_teams[(home, away)] if abs((d - day).days) <= LEGACY_MATCH_DAYS]
        mapping[key] = fits[0] if len(fits) == 1 else f"legacy:{key}"[:32]
    return mapping, set(current)


def _rekey(old_intent: str, game_id: str) -> str:
    return game_id + old_intent[old_intent.index("|") :] if "|" in old_intent else game_id


def _carry_ledger_over(bind: sa.Connection, mapping: dict[str, str], current: set[str]) -> None:
    """Rewrite ledger identities. Two rows that now name the same intent (or two live rows of one
    game and kind: the old scheme's moved-game duplicate) keep the row of the game's current key
    (else the newest); every other one is superseded: its intent key is suffixed, and a schedule
    it held live is recorded as an orphan for reconcile to cancel — the double push in the
    making that the old keys allowed."""
    rows = (
        bind.execute(
            sa.text(
                "SELECT id, intent_key, game_key, kind, state, braze_schedule_id, campaign_id, send_at_utc, "
                "dispatch_id FROM schedule_ledger ORDER BY id"
            )
        )
        .mappings()
        .all()
    )

    def rank(r: Any) -> tuple[bool, int]:
        return (r["game_key"] in current, r["id"])

    winners: dict[tuple[str, ...], Any] = {}
    for r in rows:
        game_id = mapping[r["game_key"]]
        for group in (
            (("intent", _rekey(r["intent_key"], game_id))),
            (("live", game_id, r["kind"]) if r["state"] in LIVE_STATES else None),
        ):
            if group is not None and (group not in winners or rank(r) > rank(winners[group])):
                winners[group] = r
    for r in rows:
        game_id = mapping[r["game_key"]]
        new_key = _rekey(r["intent_key"], game_id)
        live_group = ("live", game_id, r["kind"])
        superseded = winners[("intent", new_key)]["id"] != r["id"] or (
            r["state"] in LIVE_STATES and winners[live_group]["id"] != r["id"]
        )
        values: dict[str, Any] = {
            "id": r["id"],
            "game_key": game_id,
            "intent_key": new_key,
            "state": r["state"],
            "note": None,
        }
        if superseded:
            values["intent_key"] = f"{new_key}|superseded:{r['id']}"[:200]
            if r["state"] in LIVE_STATES:
                values["state"] = "cancelled"
                values["note"] = f"migration 0006: superseded by another row of game {game_id}"
                if r["braze_schedule_id"]:
                    bind.execute(
                        sa.text(
                            "INSERT INTO schedule_orphans (braze_schedule_id, campaign_id, intent_key, game_key, "
                            "reason, send_at_utc, dispatch_id, status, note) VALUES (:sid, :campaign, :intent, :game, "
                            "'superseded', :send_at, :dispatch, 'pending', :note) "
                            "ON CONFLICT (braze_schedule_id) DO NOTHING"
                        ),
                        {
                            "sid": r["braze_schedule_id"],
                            "campaign": r["campaign_id"],
                            "intent": values["intent_key"],
                            "game": r["game_key"],
                            "send_at": r["send_at_utc"],
                            "dispatch": r["dispatch_id"],
                            "note": values["note"],
                        },
                    )
        bind.execute(
            sa.text(
                "UPDATE schedule_ledger SET game_key = :game_key, intent_key = :intent_key, state = :state, "
                "last_error = COALESCE(:note, last_error), cancelled_at = CASE WHEN :note IS NULL "
                "THEN cancelled_at ELSE now() END WHERE id = :id"
            ),
            values,
        )


def upgrade() -> None:
    bind = op.get_bind()
    _create_identity_tables()
    _seed_claims_and_links()
    mapping, current = _identity_map(bind)

    # Desired notifications are derived (the next refresh recomputes them): of several rows
    # that now name one intent, the current key's row stays.
    desired = bind.execute(sa.text("SELECT intent_key, game_key FROM desired_notifications")).all()
    keep: dict[str, tuple[bool, str]] = {}
    for d in desired:
        new_key = _rekey(d.intent_key, mapping[d.game_key])
        candidate = (d.game_key in current, d.intent_key)
        if new_key not in keep or candidate > keep[new_key]:
            keep[new_key] = candidate
    kept = {old for _, old in keep.values()}
    for d in desired:
        if d.intent_key not in kept:
            bind.execute(
                sa.text("DELETE FROM desired_notifications WHERE intent_key = :k"), {"k": d.intent_key}
            )

    _carry_ledger_over(bind, mapping, current)
    for table, index, has_intent in NOTIFICATION_TABLES:
        if table != "schedule_ledger":
            rows = sa.table(table, sa.column("game_key"), sa.column("intent_key"))
            for old, new in mapping.items():
                update = sa.update(rows).where(rows.c.game_key == old).values(game_key=new)
                if has_intent:
                    # the intent key starts with the game key: "<game>|<kind>|<campaign>|<template>"
                    separator = sa.func.strpos(rows.c.intent_key, "|")
                    update = update.where(sa.or_(rows.c.intent_key.is_(None), separator > 0)).values(
                        intent_key=sa.literal(new, sa.Text) + sa.func.substr(rows.c.intent_key, separator)
                    )
                bind.execute(update)
        op.alter_column(table, "game_key", new_column_name="game_id")
        if index is not None:
            _rename_index(bind, index, index.replace("game_key", "game_id"))

    # Discrepancies and box-score lines follow their game; a key no games row knows is stale.
    for table in ("source_discrepancies", "player_box_scores"):
        rows = _keyed(table)
        bind.execute(sa.delete(rows).where(rows.c.game_key.not_in(sa.select(_keyed("games").c.game_key))))
        for old, new in {k: v for k, v in mapping.items() if k in current}.items():
            bind.execute(sa.update(rows).where(rows.c.game_key == old).values(game_key=new))
        op.alter_column(table, "game_key", new_column_name="game_id")
    op.alter_column("player_box_scores", "game_id", type_=sa.String(length=16), existing_nullable=False)

    # games: league games only, keyed by their league id.
    op.execute("DELETE FROM games WHERE nbac_game_id IS NULL")
    op.drop_constraint("pk_games", "games", type_="primary")
    op.drop_constraint("uq_games_nbac_game_id", "games", type_="unique")
    op.drop_column("games", "game_key")
    op.alter_column(
        "games",
        "nbac_game_id",
        new_column_name="game_id",
        type_=sa.String(length=16),
        existing_nullable=True,
        nullable=False,
    )
    op.create_primary_key("pk_games", "games", ["game_id"])
    op.add_column("games", sa.Column("listed", sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade() -> None:
    # Back to date-plus-teams keys, computed from each game's current day and teams.
    op.execute(
        """
        CREATE TEMPORARY TABLE game_key_map ON COMMIT DROP AS
        SELECT game_id, game_date::text || '_' || away_team || '@' || home_team AS game_key FROM games
        UNION ALL
        SELECT 'bdl:' || source_game_id, game_date::text || '_' || away_team || '@' || home_team
          FROM source_games WHERE source = 'bdl' AND game_id IS NULL
        """
    )
    op.drop_column("games", "listed")
    op.drop_constraint("pk_games", "games", type_="primary")
    op.alter_column(
        "games",
        "game_id",
        new_column_name="nbac_game_id",
        type_=sa.String(length=10),
        existing_nullable=False,
        nullable=True,
    )
    op.add_column("games", sa.Column("game_key", sa.String(length=32), nullable=True))
    op.execute(
        "UPDATE games g SET game_key = m.game_key FROM game_key_map m WHERE m.game_id = g.nbac_game_id"
    )
    op.alter_column("games", "game_key", nullable=False)
    op.create_primary_key("pk_games", "games", ["game_key"])
    op.create_unique_constraint("uq_games_nbac_game_id", "games", ["nbac_game_id"])

    op.alter_column("player_box_scores", "game_id", type_=sa.String(length=32), existing_nullable=False)
    key_map = sa.table("game_key_map", sa.column("game_id"), sa.column("game_key"))
    for table in ("player_box_scores", "source_discrepancies"):
        rows = sa.table(table, sa.column("game_id"))
        op.execute(
            sa.update(rows).where(key_map.c.game_id == rows.c.game_id).values(game_id=key_map.c.game_key)
        )
        op.alter_column(table, "game_id", new_column_name="game_key")
    for table, index, has_intent in NOTIFICATION_TABLES:
        rows = sa.table(table, sa.column("game_id"), sa.column("intent_key"))
        games_here = sa.select(sa.distinct(rows.c.game_id).label("game_id")).subquery("k")
        old_keys = (
            sa.select(
                games_here.c.game_id,
                sa.func.coalesce(
                    key_map.c.game_key, sa.func.regexp_replace(games_here.c.game_id, "^legacy:", "")
                ).label("old_key"),
            )
            .select_from(games_here.outerjoin(key_map, key_map.c.game_id == games_here.c.game_id))
            .subquery("old")
        )
        values = {"game_id": old_keys.c.old_key}
        if has_intent:
            values["intent_key"] = old_keys.c.old_key.concat(
                sa.func.substr(rows.c.intent_key, sa.func.strpos(rows.c.intent_key, "|"))
            )
        op.execute(sa.update(rows).where(rows.c.game_id == old_keys.c.game_id).values(values))
        op.alter_column(table, "game_id", new_column_name="game_key")
        if index is not None:
            _rename_index(op.get_bind(), index.replace("game_key", "game_id"), index)
    op.drop_index("ix_game_identity_conflicts_game_date", table_name="game_identity_conflicts")
    op.drop_index(
        "uq_game_identity_conflicts_open",
        table_name="game_identity_conflicts",
        postgresql_where=sa.text("resolved_at IS NULL"),
    )
    op.drop_table("game_identity_conflicts")
    op.drop_table("game_crosswalk")
    op.drop_index("ix_source_games_game_id", table_name="source_games")
    op.drop_index("ix_source_games_source_date", table_name="source_games")
    op.drop_table("source_games")
