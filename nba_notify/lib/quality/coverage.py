"""Phase-2 coverage (seed 004, C2 "P0-1: coverage validation"): did phase 2 process at least
90% of the games and players it should have, per source, for a game day?

Expected games: the day's final games in ``games`` (NBA.com's status wins there). Expected
players of a game: the larger of the two sources' counts — each source is measured against
the other's box score, as the seed's "players expected" were measured against the schedule.
Processed: what ``player_box_scores`` holds per source.

A final game whose box score a source has not published yet is lag, not a shortfall, until its
box-score deadline (:class:`~nba_notify.lib.quality.discrepancies.BoxScoreDeadline`): the gate
expects a game once every source has published it or its deadline has passed. Otherwise the gate
would fail (an ERROR alarm) after every evening's last games, for box scores that real feeds
publish minutes to hours after the buzzer; ``box_scores_published_within_deadline`` reports the
lag itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from nba_notify.lib.db.tables.ingest import games, player_box_scores
from nba_notify.lib.quality.discrepancies import SOURCE_LABEL, SOURCES, BoxScoreDeadline

COVERAGE_THRESHOLD = 0.9


@dataclass(frozen=True)
class SourceCoverage:
    source: str
    expected_games: int
    processed_games: int
    expected_players: int
    processed_players: int

    @property
    def game_ratio(self) -> float:
        return self.processed_games / self.expected_games if self.expected_games else 1.0

    @property
    def player_ratio(self) -> float:
        return self.processed_players / self.expected_players if self.expected_players else 1.0


@dataclass(frozen=True)
class ShortfallRow:
    game_id: str
    source: str
    expected_players: int
    processed_players: int


@dataclass(frozen=True)
class DayCoverage:
    day: date
    final_games: tuple[str, ...]
    sources: tuple[SourceCoverage, ...]
    shortfall: tuple[ShortfallRow, ...]

    def passed(self, threshold: float = COVERAGE_THRESHOLD) -> bool:
        return all(s.game_ratio >= threshold and s.player_ratio >= threshold for s in self.sources)

    @property
    def lowest_ratio(self) -> float:
        return min([1.0, *(min(s.game_ratio, s.player_ratio) for s in self.sources)])

    def summary(self) -> str:
        parts = [
            f"{SOURCE_LABEL[s.source]} {s.processed_games}/{s.expected_games} games, "
            f"{s.processed_players}/{s.expected_players} players"
            for s in self.sources
        ]
        return f"{self.day}: " + "; ".join(parts)


def day_coverage(
    day: date, final_games: Sequence[str], players: Mapping[str, Mapping[str, int]]
) -> DayCoverage:
    """Pure: ``players`` is ``{source: {game_id: player rows}}`` from phase 2."""
    expected_by_game = {
        key: max(players.get(source, {}).get(key, 0) for source in SOURCES) for key in final_games
    }
    sources, shortfall = [], []
    for source in SOURCES:
        mine = players.get(source, {})
        sources.append(
            SourceCoverage(
                source=source,
                expected_games=len(final_games),
                processed_games=sum(1 for key in final_games if mine.get(key, 0) > 0),
                expected_players=sum(expected_by_game.values()),
                processed_players=sum(mine.get(key, 0) for key in final_games),
            )
        )
        for key in final_games:
            got = mine.get(key, 0)
            if got < expected_by_game[key] or got == 0:
                shortfall.append(ShortfallRow(key, source, expected_by_game[key], got))
    return DayCoverage(day, tuple(sorted(final_games)), tuple(sources), tuple(shortfall))


def games_due(
    day: date,
    finals: Mapping[str, datetime | None],
    players: Mapping[str, Mapping[str, int]],
    now: datetime,
    deadline: BoxScoreDeadline,
) -> list[str]:
    """Pure: the final games (``{game_id: tipoff_utc}``) whose box scores are due from every
    source — published by all of them, or past the deadline."""
    return [
        game_id
        for game_id, tipoff in finals.items()
        if all(players.get(source, {}).get(game_id, 0) > 0 for source in SOURCES)
        or now >= deadline.deadline(day, tipoff)
    ]


def load_day_coverage(
    conn: sa.Connection, day: date, *, now: datetime | None = None, deadline: BoxScoreDeadline | None = None
) -> DayCoverage:
    """Coverage of ``day``; with ``now`` and ``deadline``, only over the games that are due."""
    finals = dict(
        conn.execute(
            sa.select(games.c.game_id, games.c.tipoff_utc).where(
                games.c.game_date == day, games.c.status == "final"
            )
        ).all()
    )
    rows = conn.execute(
        sa.select(player_box_scores.c.source, player_box_scores.c.game_id, sa.func.count())
        .where(player_box_scores.c.game_date == day)
        .group_by(player_box_scores.c.source, player_box_scores.c.game_id)
    ).all()
    players: dict[str, dict[str, int]] = {}
    for source, key, n in rows:
        players.setdefault(source, {})[key] = int(n)
    if now is not None and deadline is not None:
        return day_coverage(day, games_due(day, finals, players, now, deadline), players)
    return day_coverage(day, list(finals), players)
