"""Phase 2: one canonical row per league game from what each source currently claims.

A *claim* is one source's latest word on one game (``source_games``). The game's identity is
its NBA.com ``gameId``; a BDL claim counts for it only once its BDL id is proven to be that
game (:mod:`nba_notify.lib.ingest.identity`). NBA.com is the league's own record, so while it
lists the game it wins for day, tip-off and status; every disagreement is kept on the row
instead of being silently resolved. A game no source lists any more is kept, marked
``listed = false`` (it withdraws its notification), never deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class Claim:
    """One source's current claim about one game (a ``source_games`` row)."""

    source: str
    source_game_id: str
    game_id: str | None
    game_date: date
    season: int | None
    home_team: str
    away_team: str
    tipoff_utc: datetime | None
    status: str
    home_score: int | None
    away_score: int | None
    listed: bool

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Claim:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


COMPARED_FIELDS = ("game_date", "tipoff_utc", "status", "home_score", "away_score")
PROGRESS_STATUSES = {"scheduled", "live", "final"}


def merge_claims(
    game_id: str, nbac: Claim | None, bdl: Claim | None, run_id: str | None = None
) -> dict[str, Any]:
    """The ``games`` row of one league game from its two claims (either may be missing)."""
    if nbac is None and bdl is None:
        raise ValueError(f"game {game_id}: no claim to merge")
    listed = [c for c in (nbac, bdl) if c is not None and c.listed]
    primary = listed[0] if listed else (nbac or bdl)
    assert primary is not None
    both = nbac is not None and bdl is not None and nbac.listed and bdl.listed
    diff = disagreements(bdl, nbac) if both else {}  # type: ignore[arg-type]
    return {
        "game_id": game_id,
        "game_date": primary.game_date,
        "season": primary.season,
        "home_team": primary.home_team,
        "away_team": primary.away_team,
        "bdl_game_id": int(bdl.source_game_id) if bdl is not None else None,
        "tipoff_utc": primary.tipoff_utc if primary.tipoff_utc else _tipoff(nbac, bdl),
        "status": primary.status,
        "home_score": _score(primary, nbac, bdl, "home_score"),
        "away_score": _score(primary, nbac, bdl, "away_score"),
        "in_bdl": bdl is not None and bdl.listed,
        "in_nbac": nbac is not None and nbac.listed,
        "listed": bool(listed),
        "source_disagreements": diff or None,
        "run_id": run_id,
    }


def _tipoff(nbac: Claim | None, bdl: Claim | None) -> datetime | None:
    for claim in (nbac, bdl):
        if claim is not None and claim.listed and claim.tipoff_utc is not None:
            return claim.tipoff_utc
    return None


def _score(primary: Claim, nbac: Claim | None, bdl: Claim | None, name: str) -> int | None:
    value = getattr(primary, name)
    if value is not None:
        return value
    for claim in (nbac, bdl):
        if claim is not None and claim.listed and getattr(claim, name) is not None:
            return getattr(claim, name)
    return None


def disagreements(b: Claim, n: Claim) -> dict[str, Any]:
    """What BDL (``b``) and NBA.com (``n``) say differently about one game."""
    diff = {}
    for name in COMPARED_FIELDS:
        bv, nv = getattr(b, name), getattr(n, name)
        if name == "tipoff_utc" and bv is not None and nv is not None:
            # minute precision: a one-second jitter is not a disagreement (seed 002 scenario 4)
            if bv.replace(second=0, microsecond=0) == nv.replace(second=0, microsecond=0):
                continue
        if name in ("home_score", "away_score") and (b.status != "final" or n.status != "final"):
            continue  # live scores drift between two polls; only finals must agree
        if name == "status" and {bv, nv} <= PROGRESS_STATUSES:
            continue  # scheduled/live/final differ by when each source was polled
        if bv is not None and nv is not None and bv != nv:
            diff[name] = {"bdl": _plain(bv), "nbac": _plain(nv)}
    return diff


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value
