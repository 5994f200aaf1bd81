"""Identity by proof for props sources.

* **Events -> league games.** An event is the league game (``games.game_id``) with the same
  home and away teams whose tip-off is within ``window`` of the event's commence time. Exactly
  one such game: *mapped*. None: *unmapped* (not on the schedule, or a team we cannot read).
  More than one: *ambiguous*. Teams alone prove nothing (they meet again within days in a
  playoff series); a home/away swap is not the same game. Unmapped and ambiguous events are
  kept with their candidates and flagged by a check — never guessed.
* **Names -> league players.** A prop names a player, not a team. The proof is the game: the
  NBA.com box score of *this* game lists exactly one player of either team with that (normalised)
  name -> ``box_score``. Before tip-off there is no box score yet: exactly one player of the two
  teams with that name in their NBA.com box scores of the previous ``recent_days`` ->
  ``team_recent`` (re-proven from the game's own box score once it is played). Otherwise
  ``unmapped`` (no such player) or ``ambiguous`` (two ids): the row keeps its name and a NULL id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from nba_notify.lib.db.tables.ingest import games, player_box_scores
from nba_notify.lib.props.parse import SourceEvent, normalize_player_name

DEFAULT_EVENT_WINDOW = timedelta(hours=12)
DEFAULT_RECENT_DAYS = 45


@dataclass(frozen=True)
class GameCandidate:
    game_id: str
    home_team: str
    away_team: str
    tipoff_utc: datetime | None
    status: str


@dataclass(frozen=True)
class EventIdentity:
    identity: str  # mapped | unmapped | ambiguous
    game_id: str | None
    candidates: tuple[dict[str, Any], ...]


def prove_event(
    event: SourceEvent, games_nearby: Iterable[GameCandidate], window: timedelta = DEFAULT_EVENT_WINDOW
) -> EventIdentity:
    if event.home_team is None or event.away_team is None or event.commence_time is None:
        return EventIdentity("unmapped", None, ())
    matches = [
        g
        for g in games_nearby
        if g.home_team == event.home_team
        and g.away_team == event.away_team
        and g.tipoff_utc is not None
        and abs(g.tipoff_utc - event.commence_time) <= window
    ]
    described = tuple(
        {
            "game_id": g.game_id,
            "tipoff_utc": g.tipoff_utc.isoformat() if g.tipoff_utc else None,
            "status": g.status,
        }
        for g in matches
    )
    if len(matches) == 1:
        return EventIdentity("mapped", matches[0].game_id, described)
    return EventIdentity("ambiguous" if matches else "unmapped", None, described)


def games_near(
    conn: sa.Connection, events: Sequence[SourceEvent], window: timedelta = DEFAULT_EVENT_WINDOW
) -> list[GameCandidate]:
    times = [e.commence_time for e in events if e.commence_time is not None]
    if not times:
        return []
    rows = conn.execute(
        sa.select(
            games.c.game_id, games.c.home_team, games.c.away_team, games.c.tipoff_utc, games.c.status
        ).where(games.c.tipoff_utc.between(min(times) - window, max(times) + window))
    ).all()
    return [GameCandidate(r.game_id, r.home_team, r.away_team, r.tipoff_utc, r.status) for r in rows]


@dataclass(frozen=True)
class PlayerMatch:
    player_id: str | None
    team: str | None
    match: str  # box_score | team_recent | unmapped | ambiguous | no_game


@dataclass
class PlayerDirectory:
    """Who played for whom, from NBA.com box scores: per game, and per team recently."""

    by_game: dict[str, dict[str, set[tuple[str, str]]]]
    recent_by_team: dict[str, dict[str, set[str]]]

    def match(self, name: str, game_id: str | None, home: str | None, away: str | None) -> PlayerMatch:
        if game_id is None:
            return PlayerMatch(None, None, "no_game")
        key = normalize_player_name(name)
        if game_id in self.by_game:
            found = self.by_game[game_id].get(key, set())
            return _decide(found, "box_score")
        found = {
            (pid, team)
            for team in (home, away)
            if team is not None
            for pid in self.recent_by_team.get(team, {}).get(key, set())
        }
        return _decide(found, "team_recent")


def _decide(found: set[tuple[str, str]], method: str) -> PlayerMatch:
    if len(found) == 1:
        pid, team = next(iter(found))
        return PlayerMatch(pid, team, method)
    return PlayerMatch(None, None, "ambiguous" if found else "unmapped")


def load_directory(
    conn: sa.Connection,
    game_ids: Iterable[str],
    teams: Iterable[str],
    before: date,
    recent_days: int = DEFAULT_RECENT_DAYS,
) -> PlayerDirectory:
    wanted = sorted(set(game_ids))
    by_game: dict[str, dict[str, set[tuple[str, str]]]] = {}
    if wanted:
        rows = conn.execute(
            sa.select(
                player_box_scores.c.game_id,
                player_box_scores.c.player_id,
                player_box_scores.c.team,
                player_box_scores.c.player_name,
            ).where(player_box_scores.c.source == "nbac", player_box_scores.c.game_id.in_(wanted))
        ).all()
        for r in rows:
            by_game.setdefault(r.game_id, {}).setdefault(normalize_player_name(r.player_name), set()).add(
                (r.player_id, r.team)
            )
    recent: dict[str, dict[str, set[str]]] = {}
    team_list = sorted({t for t in teams if t})
    if team_list:
        rows = conn.execute(
            sa.select(
                player_box_scores.c.player_id, player_box_scores.c.team, player_box_scores.c.player_name
            )
            .where(
                player_box_scores.c.source == "nbac",
                player_box_scores.c.team.in_(team_list),
                player_box_scores.c.game_date.between(before - timedelta(days=recent_days), before),
            )
            .distinct()
        ).all()
        for r in rows:
            recent.setdefault(r.team, {}).setdefault(normalize_player_name(r.player_name), set()).add(
                r.player_id
            )
    return PlayerDirectory(by_game, recent)


def identity_rows(
    events: Sequence[SourceEvent], proofs: Mapping[str, EventIdentity], day: date, run_id: str | None
) -> list[dict[str, Any]]:
    return [
        {
            "source": e.source,
            "source_event_id": e.event_id,
            "game_date": day,
            "commence_time": e.commence_time,
            "home_name": e.home_name,
            "away_name": e.away_name,
            "home_team": e.home_team,
            "away_team": e.away_team,
            "game_id": proofs[e.event_id].game_id,
            "identity": proofs[e.event_id].identity,
            "candidates": list(proofs[e.event_id].candidates),
            "run_id": run_id,
        }
        for e in events
    ]
