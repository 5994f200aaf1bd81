"""The database side of game identity: source claims, the crosswalk, identity conflicts and
the ``games`` rows rebuilt from them (the pure rules live in :mod:`.identity` and :mod:`.merge`).

One game day's refresh (:func:`refresh_day`), inside the caller's transaction:

1. **NBA.com** — every game the season file puts on the day becomes (or updates) its claim;
   every game we had on the day that the file no longer puts there is looked up by id in the
   same file: found elsewhere = *moved* (the claim follows it), not found = *gone from the feed*
   (the claim is kept, ``listed = false``). A gameId now naming other teams is a conflict and
   is not applied.
2. **BDL** — each game of the day's listing is mapped to a league game by proof (stored link
   first, else teams and day); new links are stored; every mapped or unmapped game becomes its
   claim; a game we had on the day that BDL no longer lists there is ``listed = false``.
3. **games** — the row of every league game whose claims changed is rebuilt from its claims.

Every write goes through :func:`nba_notify.lib.db.writes.upsert_rows` (counts what PostgreSQL
wrote); nothing here deletes a row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from nba_notify.lib.db.tables.ingest import game_crosswalk, game_identity_conflicts, games, source_games
from nba_notify.lib.db.writes import WriteResult, jsonable, upsert_rows
from nba_notify.lib.ingest import identity, parse
from nba_notify.lib.ingest.identity import Conflict, Link
from nba_notify.lib.ingest.merge import Claim, merge_claims
from nba_notify.lib.ingest.parse import PlayerLine, SourceGame

S = source_games.c
X = game_crosswalk.c
C = game_identity_conflicts.c

CLAIM_COLUMNS = (
    "source", "source_game_id", "game_id", "game_date", "season", "home_team", "away_team",
    "tipoff_utc", "status", "home_score", "away_score", "listed",
)  # fmt: skip

BDL_SUBJECT_PREFIX = "bdl:"
# A source id in one of these conflicts names no game we can trust: its claim is not touched.
UNTRUSTED_ID_KINDS = frozenset({identity.DUPLICATE_SOURCE_ID, identity.SOURCE_ID_CHANGED_TEAMS})


def unproven_subject(source_game_id: str) -> str:
    """How a BDL game that no league game could be proven to be is named in discrepancies."""
    return f"{BDL_SUBJECT_PREFIX}{source_game_id}"


@dataclass
class DayRefresh:
    day: date
    claims_written: WriteResult = field(default_factory=lambda: WriteResult("source_games", 0, 0))
    games_written: WriteResult = field(default_factory=lambda: WriteResult("games", 0, 0))
    moved: dict[str, dict[str, str]] = field(default_factory=dict)
    gone: list[str] = field(default_factory=list)
    unproven_bdl: list[str] = field(default_factory=list)
    new_links: int = 0
    conflicts: list[Conflict] = field(default_factory=list)
    # source -> the ids this refresh checked (their open conflicts that did not recur are cleared)
    checked: dict[str, set[str]] = field(default_factory=dict)

    def details(self) -> dict[str, Any]:
        return {
            "moved": self.moved,
            "gone_from_feeds": self.gone,
            "unproven_bdl_games": self.unproven_bdl,
            "new_links": self.new_links,
            "identity_conflicts": [
                {"source": c.source, "source_game_id": c.source_game_id, "kind": c.kind, "game_id": c.game_id}
                for c in self.conflicts
            ],
        }


def _claim_row(game: SourceGame, game_id: str | None, listed: bool, run_id: str | None) -> dict[str, Any]:
    return {
        "source": game.source,
        "source_game_id": game.source_game_id,
        "game_id": game_id,
        "game_date": game.game_date,
        "season": game.season,
        "home_team": game.home_team,
        "away_team": game.away_team,
        "tipoff_utc": game.tipoff_utc,
        "status": game.status,
        "home_score": game.home_score,
        "away_score": game.away_score,
        "listed": listed,
        "run_id": run_id,
        "updated_at": datetime.now(UTC),
    }


def _unlisted(stored: dict[str, Any], run_id: str | None) -> dict[str, Any]:
    return {
        **{c: stored[c] for c in CLAIM_COLUMNS},
        "listed": False,
        "run_id": run_id,
        "updated_at": datetime.now(UTC),
    }


def _as_source_game(row: dict[str, Any]) -> SourceGame:
    return SourceGame(
        source=row["source"],
        source_game_id=row["source_game_id"],
        game_date=row["game_date"],
        season=row["season"],
        home_team=row["home_team"],
        away_team=row["away_team"],
        tipoff_utc=row["tipoff_utc"],
        status=row["status"],
        home_score=row["home_score"],
        away_score=row["away_score"],
    )


def stored_claims(
    conn: sa.Connection, source: str, condition: sa.ColumnElement[bool]
) -> dict[str, dict[str, Any]]:
    rows = conn.execute(sa.select(source_games).where(S.source == source, condition)).mappings()
    return {r["source_game_id"]: dict(r) for r in rows}


def refresh_day(
    conn: sa.Connection,
    day: date,
    season_file: dict[str, Any] | None,
    bdl_listing: Sequence[SourceGame] | None,
    *,
    run_id: str | None,
) -> DayRefresh:
    """Refresh one game day's claims and the games they touch (see the module docstring).
    ``None`` for a source means "no stored scrape": its claims are left exactly as they were."""
    result = DayRefresh(day)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    touched: set[str] = set()

    if season_file is not None:
        touched |= _nbac_claims(conn, day, season_file, rows, result, run_id)
    if bdl_listing is not None:
        touched |= _bdl_claims(conn, day, season_file, bdl_listing, rows, result, run_id)

    result.claims_written = upsert_rows(
        conn, source_games, list(rows.values()), key=("source", "source_game_id")
    )
    _record_conflicts(conn, result.conflicts, run_id)
    _clear_conflicts(conn, result.checked, result.conflicts)
    result.games_written = rebuild_games(conn, touched, run_id)
    return result


def _nbac_claims(
    conn: sa.Connection,
    day: date,
    season_file: dict[str, Any],
    rows: dict[tuple[str, str], dict[str, Any]],
    result: DayRefresh,
    run_id: str | None,
) -> set[str]:
    listing = parse.parse_nbac_schedule(season_file, day)
    listed_ids = {g.source_game_id for g in listing}
    result.checked["nbac"] = set(listed_ids)
    stored = stored_claims(conn, "nbac", sa.or_(S.game_date == day, S.source_game_id.in_(listed_ids)))
    conflicts = identity.league_id_conflicts(
        {gid: (r["home_team"], r["away_team"]) for gid, r in stored.items()}, listing
    )
    result.conflicts.extend(conflicts)
    bad = {c.source_game_id for c in conflicts}
    for game in listing:
        if game.source_game_id in bad:
            continue
        rows[("nbac", game.source_game_id)] = _claim_row(game, game.source_game_id, True, run_id)
        before = stored.get(game.source_game_id)
        if before is not None and before["game_date"] != day:
            result.moved[game.source_game_id] = {
                "from": before["game_date"].isoformat(),
                "to": day.isoformat(),
            }
    left = sorted(gid for gid, r in stored.items() if r["game_date"] == day and gid not in listed_ids)
    found = parse.parse_nbac_schedule_ids(season_file, left)
    for gid in left:
        now_at = found.get(gid)
        before = stored[gid]
        if now_at is not None and (now_at.home_team, now_at.away_team) == (
            before["home_team"],
            before["away_team"],
        ):
            rows[("nbac", gid)] = _claim_row(now_at, gid, True, run_id)
            result.moved[gid] = {"from": day.isoformat(), "to": now_at.game_date.isoformat()}
        elif now_at is not None:
            result.conflicts.extend(
                identity.league_id_conflicts({gid: (before["home_team"], before["away_team"])}, [now_at])
            )
        elif before["listed"]:
            rows[("nbac", gid)] = _unlisted(before, run_id)
            result.gone.append(gid)
    return (listed_ids - bad) | set(left)


def _bdl_claims(
    conn: sa.Connection,
    day: date,
    season_file: dict[str, Any] | None,
    listing: Sequence[SourceGame],
    rows: dict[tuple[str, str], dict[str, Any]],
    result: DayRefresh,
    run_id: str | None,
) -> set[str]:
    window = [
        day + timedelta(days=d) for d in range(-identity.PROOF_WINDOW_DAYS, identity.PROOF_WINDOW_DAYS + 1)
    ]
    candidates: dict[str, SourceGame] = {}
    for row in stored_claims(conn, "nbac", S.game_date.in_(window) & S.listed).values():
        candidates[row["source_game_id"]] = _as_source_game(row)
    if season_file is not None:  # the file's word wins over what we stored from it before
        candidates.update({g.source_game_id: g for g in parse.parse_nbac_schedule_days(season_file, window)})
    listing_ids = sorted({g.source_game_id for g in listing})
    links = {
        r["source_game_id"]: Link(
            "bdl", r["source_game_id"], r["game_id"], r["home_team"], r["away_team"],
            r["source_game_date"], r["league_game_date"], r["method"],
        )
        for r in conn.execute(
            sa.select(game_crosswalk).where(X.source == "bdl", X.source_game_id.in_(listing_ids))
        ).mappings()
    }  # fmt: skip
    linked = dict(
        conn.execute(
            sa.select(X.game_id, X.source_game_id).where(X.source == "bdl", X.game_id.in_(list(candidates)))
        ).all()
    )
    proof = identity.prove_identities(listing, list(candidates.values()), links, linked)
    result.conflicts.extend(proof.conflicts)
    result.checked["bdl"] = set(listing_ids)
    if proof.new_links:
        conn.execute(
            pg_insert(game_crosswalk)
            .values([{**link.__dict__, "run_id": run_id} for link in proof.new_links])
            .on_conflict_do_nothing()
        )
        result.new_links = len(proof.new_links)
    stored = stored_claims(conn, "bdl", sa.or_(S.game_date == day, S.source_game_id.in_(listing_ids)))
    touched = {r["game_id"] for r in stored.values() if r["game_id"]}
    for sid, game in proof.games.items():
        if any(c.source_game_id == sid and c.kind in UNTRUSTED_ID_KINDS for c in proof.conflicts):
            continue
        game_id = proof.mapped.get(sid)
        rows[("bdl", sid)] = _claim_row(game, game_id, True, run_id)
        if game_id is None:
            result.unproven_bdl.append(unproven_subject(sid))
            continue
        touched.add(game_id)
        league = candidates.get(game_id)
        if league is not None and ("nbac", game_id) not in rows:
            # The proving NBA.com game may sit on a neighbouring day not processed yet: its
            # claim is the league's current word, so record it with the link.
            rows[("nbac", game_id)] = _claim_row(league, game_id, True, run_id)
    untrusted = {c.source_game_id for c in proof.conflicts if c.kind in UNTRUSTED_ID_KINDS}
    for sid in untrusted:
        rows.pop(("bdl", sid), None)  # what we knew of that id stays as it was; the conflict says why
    for sid, before in stored.items():
        if (
            before["game_date"] == day
            and sid not in proof.games
            and sid not in untrusted
            and before["listed"]
        ):
            rows[("bdl", sid)] = _unlisted(before, run_id)
    result.unproven_bdl.sort()
    return touched


def _record_conflicts(conn: sa.Connection, conflicts: Iterable[Conflict], run_id: str | None) -> None:
    """One open row per (source, id, kind): a repeat bumps ``occurrences`` and ``last_seen_at``."""
    values = [
        {
            "source": c.source,
            "source_game_id": c.source_game_id,
            "kind": c.kind,
            "game_id": c.game_id,
            "game_date": c.game_date,
            "details": jsonable(c.details),
            "run_id": run_id,
        }
        for c in conflicts
    ]
    if not values:
        return
    stmt = pg_insert(game_identity_conflicts).values(values)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[C.source, C.source_game_id, C.kind],
            index_where=sa.text("resolved_at IS NULL"),
            set_={
                "occurrences": C.occurrences + 1,
                "last_seen_at": sa.func.now(),
                "details": stmt.excluded.details,
                "game_id": stmt.excluded.game_id,
                "run_id": stmt.excluded.run_id,
            },
        )
    )


def _clear_conflicts(conn: sa.Connection, checked: dict[str, set[str]], current: Sequence[Conflict]) -> None:
    """An open conflict of an id this refresh checked, which did not recur, is resolved (the
    source corrected itself); its row stays as the record of what happened."""
    still = {(c.source, c.source_game_id, c.kind) for c in current}
    for source, ids in checked.items():
        if not ids:
            continue
        open_rows = conn.execute(
            sa.select(C.id, C.source_game_id, C.kind).where(
                C.source == source, C.source_game_id.in_(sorted(ids)), C.resolved_at.is_(None)
            )
        ).all()
        cleared = [r.id for r in open_rows if (source, r.source_game_id, r.kind) not in still]
        if cleared:
            conn.execute(
                sa.update(game_identity_conflicts).where(C.id.in_(cleared)).values(resolved_at=sa.func.now())
            )


def rebuild_games(conn: sa.Connection, game_ids: Iterable[str], run_id: str | None) -> WriteResult:
    """Rebuild the ``games`` rows of these league games from their current claims."""
    ids = sorted({g for g in game_ids if g})
    if not ids:
        return WriteResult("games", 0, 0)
    nbac = {
        r["source_game_id"]: Claim.from_row(r)
        for r in conn.execute(
            sa.select(source_games).where(S.source == "nbac", S.source_game_id.in_(ids))
        ).mappings()
    }
    bdl = {
        r["game_id"]: Claim.from_row(r)
        for r in conn.execute(sa.select(source_games).where(S.source == "bdl", S.game_id.in_(ids))).mappings()
    }
    now = datetime.now(UTC)
    rows = [
        {**merge_claims(gid, nbac.get(gid), bdl.get(gid), run_id), "updated_at": now}
        for gid in ids
        if gid in nbac or gid in bdl
    ]
    # Every touched game is written (not only changed ones): records_processed is the number of
    # games this run processed, as seed 004's audit reads it.
    return upsert_rows(conn, games, rows, key=("game_id",), compare=())


# -- box scores ------------------------------------------------------------------------------


def resolve_box_score_games(
    conn: sa.Connection, lines: Sequence[PlayerLine]
) -> list[tuple[PlayerLine, str | None, str]]:
    """``(line, game_id or None, label)`` for every box-score line. NBA.com lines carry the
    league's gameId; BDL lines carry none, so they are matched by day and teams to the BDL
    claim of that day (a team plays at most once a day), else to the league game that day."""
    days = sorted({line.game_date for line in lines})
    known = set(
        conn.execute(sa.select(games.c.game_id).where(games.c.game_id.in_(
            sorted({line.source_game_id for line in lines if line.source_game_id})
        ))).scalars()
    ) if lines else set()  # fmt: skip
    by_teams: dict[tuple[date, str, str], str | None] = {}
    if days:
        for r in conn.execute(
            sa.select(S.game_date, S.home_team, S.away_team, S.game_id).where(
                S.source == "bdl", S.game_date.in_(days), S.listed
            )
        ):
            by_teams[(r.game_date, r.home_team, r.away_team)] = r.game_id
        for r in conn.execute(
            sa.select(games.c.game_date, games.c.home_team, games.c.away_team, games.c.game_id).where(
                games.c.game_date.in_(days)
            )
        ):
            by_teams.setdefault((r.game_date, r.home_team, r.away_team), r.game_id)
            if by_teams[(r.game_date, r.home_team, r.away_team)] is None:
                by_teams[(r.game_date, r.home_team, r.away_team)] = r.game_id
    out = []
    for line in lines:
        label = f"{line.game_date} {parse.matchup(line.away_team, line.home_team)}"
        if line.source_game_id is not None:
            game_id = line.source_game_id if line.source_game_id in known else None
            out.append((line, game_id, f"{line.source_game_id} ({label})"))
        else:
            out.append((line, by_teams.get((line.game_date, line.home_team, line.away_team)), label))
    return out
