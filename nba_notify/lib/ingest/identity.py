"""Which league game is this source's game? Identity by proof, never by guess.

A game is the league's game: its NBA.com ``gameId``. BDL has ids of its own, so each BDL id is
mapped to a league game once, by proof, and the mapping is stored (``game_crosswalk``):

* **proof** — the only NBA.com game with the same home and away teams on the same US-Eastern
  day, or, failing that, the only one within :data:`PROOF_WINDOW_DAYS` of it (a late game near
  midnight, a source a day behind). Teams meet several times a season (and every other day in
  a playoff series), so teams alone never prove anything;
* **stored links are checked, never re-pointed** — a BDL id whose link names other teams than
  the listing now does is a data error, as is one listing carrying one id for two games, two ids
  proving to one game, or two equally good candidates. Each is a :class:`Conflict`: the rows are
  kept, the conflict is flagged and alerted, and nothing is merged or deleted because of it.

Dates are attributes: once linked, a BDL id stays the same league game wherever either source
moves it. Pure functions; :mod:`nba_notify.lib.ingest.pipeline` does the I/O.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from nba_notify.lib.ingest.parse import SourceGame

PROOF_WINDOW_DAYS = 1

DUPLICATE_SOURCE_ID = "duplicate_source_id"
SOURCE_ID_CHANGED_TEAMS = "source_id_changed_teams"
LEAGUE_ID_CHANGED_TEAMS = "league_id_changed_teams"
IDS_CLAIM_ONE_GAME = "ids_claim_one_game"
AMBIGUOUS_MATCH = "ambiguous_match"


@dataclass(frozen=True)
class Link:
    """A proven identity: ``source_game_id`` of ``source`` is the league game ``game_id``."""

    source: str
    source_game_id: str
    game_id: str
    home_team: str
    away_team: str
    source_game_date: date
    league_game_date: date
    method: str  # same_day | within_window


@dataclass(frozen=True)
class Conflict:
    source: str
    source_game_id: str
    kind: str
    game_date: date
    game_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        return f"{self.source} game {self.source_game_id} on {self.game_date}: {self.kind} {self.details}"


@dataclass
class Identities:
    """The outcome for one listing: every source id either mapped or not, with reasons."""

    mapped: dict[str, str] = field(default_factory=dict)  # source_game_id -> game_id
    new_links: list[Link] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    # One game per source id (a listing repeating an id for the *same* game keeps one).
    games: dict[str, SourceGame] = field(default_factory=dict)

    @property
    def unmapped(self) -> list[str]:
        return sorted(set(self.games) - set(self.mapped))


def _teams(game: SourceGame | Link) -> tuple[str, str]:
    return (game.home_team, game.away_team)


def dedupe_listing(games: Sequence[SourceGame]) -> tuple[dict[str, SourceGame], list[Conflict]]:
    """One game per source id. An id repeated for the same teams is one game listed twice (a
    shifting cursor, one row per broadcaster); an id repeated for other teams is a data error
    and none of its games is trusted."""
    by_id: dict[str, list[SourceGame]] = defaultdict(list)
    for game in games:
        by_id[game.source_game_id].append(game)
    kept: dict[str, SourceGame] = {}
    conflicts: list[Conflict] = []
    for source_id, group in by_id.items():
        variants = sorted({(g.away_team, g.home_team, g.game_date.isoformat()) for g in group})
        if len({_teams(g) for g in group}) > 1:
            conflicts.append(
                Conflict(
                    group[0].source,
                    source_id,
                    DUPLICATE_SOURCE_ID,
                    group[0].game_date,
                    details={"games": [f"{a}@{h} on {d}" for a, h, d in variants]},
                )
            )
            continue
        kept[source_id] = group[0]
    return kept, conflicts


def prove_identities(
    listing: Sequence[SourceGame],
    league_games: Sequence[SourceGame],
    links: Mapping[str, Link],
    linked_game_ids: Mapping[str, str],
    *,
    window_days: int = PROOF_WINDOW_DAYS,
) -> Identities:
    """Map every game of one source's listing to a league game.

    ``league_games`` are NBA.com's games around the listing's days (the candidates);
    ``links`` the stored crosswalk of this source by source id, ``linked_game_ids`` the same
    crosswalk by league game id (``game_id -> source_game_id``)."""
    result = Identities()
    result.games, result.conflicts = dedupe_listing(listing)
    candidates_by_teams: dict[tuple[str, str], list[SourceGame]] = defaultdict(list)
    for game in league_games:
        candidates_by_teams[_teams(game)].append(game)
    claimed: dict[str, str] = dict(linked_game_ids)  # game_id -> source id, grows as we prove

    for source_id in sorted(result.games):
        game = result.games[source_id]
        link = links.get(source_id)
        if link is not None:
            if _teams(link) == _teams(game):
                result.mapped[source_id] = link.game_id
            else:
                result.conflicts.append(
                    Conflict(
                        game.source,
                        source_id,
                        SOURCE_ID_CHANGED_TEAMS,
                        game.game_date,
                        link.game_id,
                        {
                            "linked_as": f"{link.away_team}@{link.home_team}",
                            "now_listed_as": f"{game.away_team}@{game.home_team}",
                        },
                    )
                )
            continue
        match = _best_candidate(game, candidates_by_teams[_teams(game)], window_days)
        if match is None:
            continue  # no league game to prove against: a discrepancy, not a conflict
        if isinstance(match, list):
            result.conflicts.append(
                Conflict(
                    game.source,
                    source_id,
                    AMBIGUOUS_MATCH,
                    game.game_date,
                    details={"candidates": sorted(c.source_game_id for c in match)},
                )
            )
            continue
        holder = claimed.get(match.source_game_id)
        if holder is not None and holder != source_id:
            result.conflicts.append(
                Conflict(
                    game.source,
                    source_id,
                    IDS_CLAIM_ONE_GAME,
                    game.game_date,
                    match.source_game_id,
                    {"already_linked_source_id": holder},
                )
            )
            continue
        claimed[match.source_game_id] = source_id
        result.mapped[source_id] = match.source_game_id
        result.new_links.append(
            Link(
                game.source,
                source_id,
                match.source_game_id,
                game.home_team,
                game.away_team,
                game.game_date,
                match.game_date,
                "same_day" if match.game_date == game.game_date else "within_window",
            )
        )
    return result


def _best_candidate(
    game: SourceGame, candidates: Sequence[SourceGame], window_days: int
) -> SourceGame | list[SourceGame] | None:
    """The unique closest league game by day within the window; a list when the closest are
    tied (ambiguous); None when there is none."""
    near = [c for c in candidates if abs((c.game_date - game.game_date).days) <= window_days]
    if not near:
        return None
    best = min(abs((c.game_date - game.game_date).days) for c in near)
    closest = {c.source_game_id: c for c in near if abs((c.game_date - game.game_date).days) == best}
    if len(closest) > 1:
        return sorted(closest.values(), key=lambda c: c.source_game_id)
    return next(iter(closest.values()))


def league_id_conflicts(
    stored: Mapping[str, tuple[str, str]], listing: Sequence[SourceGame]
) -> list[Conflict]:
    """NBA.com game ids whose teams differ from what we stored for them (``stored``:
    ``game_id -> (home, away)``): the league's id for a game must not change teams."""
    conflicts = []
    for game in listing:
        before = stored.get(game.source_game_id)
        if before is not None and before != _teams(game):
            conflicts.append(
                Conflict(
                    game.source,
                    game.source_game_id,
                    LEAGUE_ID_CHANGED_TEAMS,
                    game.game_date,
                    game.source_game_id,
                    {
                        "stored_as": f"{before[1]}@{before[0]}",
                        "now_listed_as": f"{game.away_team}@{game.home_team}",
                    },
                )
            )
    return conflicts
