"""Phase 2: one canonical row per game from the two sources.

Identity is business identity — US-Eastern game day plus the two tricodes — because the
sources share no id (BDL box scores carry none at all). NBA.com is the league's own record,
so it wins for tip-off and status; every disagreement is kept on the row instead of being
silently resolved."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol


class SourceGameLike(Protocol):
    source: str
    source_game_id: str
    game_date: date
    season: int
    home_team: str
    away_team: str
    tipoff_utc: datetime | None
    status: str
    home_score: int | None
    away_score: int | None

    @property
    def game_key(self) -> str: ...


@dataclass(frozen=True)
class MergeReport:
    rows: list[dict[str, Any]]
    only_in_bdl: list[str]
    only_in_nbac: list[str]
    disagreements: dict[str, dict[str, Any]]


COMPARED_FIELDS = ("tipoff_utc", "status", "home_score", "away_score")
PROGRESS_STATUSES = {"scheduled", "live", "final"}


def merge_games(
    bdl_games: Sequence[SourceGameLike], nbac_games: Sequence[SourceGameLike], run_id: str | None = None
) -> MergeReport:
    bdl = _by_key(bdl_games, "bdl")
    nbac = _by_key(nbac_games, "nbac")
    rows: list[dict[str, Any]] = []
    disagreements: dict[str, dict[str, Any]] = {}
    for key in sorted(set(bdl) | set(nbac)):
        b, n = bdl.get(key), nbac.get(key)
        primary = n or b
        assert primary is not None
        diff = _disagreements(b, n) if b and n else {}
        if diff:
            disagreements[key] = diff
        rows.append(
            {
                "game_key": key,
                "game_date": primary.game_date,
                "season": primary.season,
                "home_team": primary.home_team,
                "away_team": primary.away_team,
                "nbac_game_id": n.source_game_id if n else None,
                "bdl_game_id": int(b.source_game_id) if b else None,
                "tipoff_utc": (n.tipoff_utc if n and n.tipoff_utc else b.tipoff_utc if b else None),
                "status": primary.status,
                "home_score": _score(n.home_score if n else None, b.home_score if b else None),
                "away_score": _score(n.away_score if n else None, b.away_score if b else None),
                "in_bdl": b is not None,
                "in_nbac": n is not None,
                "source_disagreements": diff or None,
                "run_id": run_id,
            }
        )
    return MergeReport(
        rows=rows,
        only_in_bdl=sorted(set(bdl) - set(nbac)),
        only_in_nbac=sorted(set(nbac) - set(bdl)),
        disagreements=disagreements,
    )


def _by_key(games: Iterable[SourceGameLike], source: str) -> dict[str, SourceGameLike]:
    out: dict[str, SourceGameLike] = {}
    for game in games:
        # A source listing the same game twice (ScoreboardV2 lists one row per broadcaster)
        # is one game, not two.
        out.setdefault(game.game_key, game)
    return out


def _score(preferred: int | None, fallback: int | None) -> int | None:
    return preferred if preferred is not None else fallback


def _disagreements(b: SourceGameLike, n: SourceGameLike) -> dict[str, Any]:
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
    return value.isoformat() if isinstance(value, datetime) else value
