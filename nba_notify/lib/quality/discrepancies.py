"""Compare BDL and NBA.com for one game day, game by game (seed 003, component 2).

Identity is the league's game id (NBA.com ``gameId``) the ``games`` asset already proved, with
its ``in_bdl`` / ``in_nbac`` flags and ``source_disagreements`` — this module never re-derives
them; a BDL game no league game could be proven to be is named ``bdl:<id>``.

Three families of discrepancy, each with its own meaning and severity:

* **listing** — a game one source lists and the other does not (``missing_in_<source>``): a real
  gap in a feed, ERROR;
* **field** — both list the game but disagree on status, score or tip-off (``*_mismatch``):
  ERROR once the game is final (a final result must agree), WARN before (a schedule change one
  source has not picked up yet);
* **box score** — a final game that a source lists has no box score there, or one with fewer
  players than the other source (``box_score_missing_in_<source>``, ``players_missing_in_<source>``).
  Sources publish box scores some time after the final buzzer, so this is *lag*: not an error
  until a deadline after the game went final, then ERROR. It is never a missing game.

Every discrepancy names the scraper whose data is missing or presumed wrong. NBA.com is the
league's own record, so a disagreement on status, score or tip-off is put on BDL; a game
missing from one source is put on that source.

Pure functions over plain data; :mod:`nba_notify.lib.quality.evaluate` does the I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from nba_notify.lib.game_days import GAME_DAY_TIMEZONE

# Scraper names as recorded in scrape_events (nba_notify.lib.ingest.pipeline).
BDL_GAMES = "bdl_games"
BDL_BOX_SCORES = "bdl_box_scores"
NBAC_SCHEDULE = "nbac_schedule"
NBAC_BOX_SCORES = "nbac_box_scores"
SCRAPERS = (BDL_GAMES, BDL_BOX_SCORES, NBAC_SCHEDULE, NBAC_BOX_SCORES)
LISTING_SCRAPERS = (BDL_GAMES, NBAC_SCHEDULE)
BOX_SCORE_SCRAPERS = (BDL_BOX_SCORES, NBAC_BOX_SCORES)

SOURCES = ("bdl", "nbac")
SOURCE_LABEL = {"bdl": "BDL", "nbac": "NBA.com"}
BOX_SCRAPER = {"bdl": BDL_BOX_SCORES, "nbac": NBAC_BOX_SCORES}

# The kinds of each family (source_discrepancies.kind).
MISSING_KINDS = ("missing_in_bdl", "missing_in_nbac")
FIELD_KINDS = ("status_mismatch", "score_mismatch", "tipoff_mismatch")
BOX_SCORE_KINDS = (
    "box_score_missing_in_bdl",
    "box_score_missing_in_nbac",
    "players_missing_in_bdl",
    "players_missing_in_nbac",
)
LISTING_KINDS = MISSING_KINDS + FIELD_KINDS

# games.source_disagreements field -> discrepancy kind
DISAGREEMENT_KINDS = {
    "game_date": "tipoff_mismatch",
    "status": "status_mismatch",
    "home_score": "score_mismatch",
    "away_score": "score_mismatch",
    "tipoff_utc": "tipoff_mismatch",
}

# A box score listing fewer than this share of the players the other source lists for the
# same game is a discrepancy. The same 90% as the coverage gate: two sources can legitimately
# differ by a player whose few seconds one of them rounds to "did not play".
PLAYER_MATCH_RATIO = 0.9

ERROR, WARN = "ERROR", "WARN"


@dataclass(frozen=True)
class BoxScoreDeadline:
    """When a missing box score stops being lag and becomes an error.

    Our feeds do not say when a game went final, so it is taken as tip-off plus
    ``game_length`` — longer than a regulation game with a couple of overtimes (about 2 h 15 m
    plus 15 m per overtime), so the estimate errs late, never early. A game without a known
    tip-off went final at the latest at the end of its US-Eastern day. ``hours_after_final``:
    how long a source may take to publish the box score after that."""

    hours_after_final: float = 4.0
    game_length: timedelta = timedelta(hours=3)

    def final_at(self, day: date, tipoff_utc: datetime | None) -> datetime:
        if tipoff_utc is not None:
            return tipoff_utc + self.game_length
        end_of_day = datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZoneInfo(GAME_DAY_TIMEZONE))
        return end_of_day.astimezone(UTC)

    def deadline(self, day: date, tipoff_utc: datetime | None) -> datetime:
        return self.final_at(day, tipoff_utc) + timedelta(hours=self.hours_after_final)


@dataclass(frozen=True)
class GameRow:
    """What the ``games`` table says about one game of the day."""

    game_id: str
    status: str
    in_bdl: bool
    in_nbac: bool
    source_disagreements: Mapping[str, Any] | None = None
    tipoff_utc: datetime | None = None
    matchup: str | None = None


@dataclass(frozen=True)
class Discrepancy:
    game_id: str
    kind: str
    scraper_name: str
    details: dict[str, Any] = field(default_factory=dict)


def field_severity(game_status: str) -> str:
    """A final result must agree (ERROR); before that, a source may not have caught up (WARN)."""
    return ERROR if game_status == "final" else WARN


def box_score_overdue(details: Mapping[str, Any], now: datetime) -> bool:
    """Whether a box-score discrepancy is past its deadline (``details["deadline_at"]``)."""
    return now >= datetime.fromisoformat(details["deadline_at"])


@dataclass(frozen=True)
class Shortfall:
    """One scraper's share of a day's discrepancies, in seed 003's scrape-event terms."""

    scraper_name: str
    records_expected: int
    records_received: int
    game_ids: tuple[str, ...]
    kinds: tuple[str, ...]
    message: str

    @property
    def records_missing(self) -> int:
        return max(0, self.records_expected - self.records_received)


def compare_listings(games: Sequence[GameRow]) -> list[Discrepancy]:
    """The listing and field discrepancies of one game day: games one source lacks, and the
    status/score/tip-off disagreements on games both list. Needs nothing but ``games``."""
    found: list[Discrepancy] = []
    for game in sorted(games, key=lambda g: g.game_id):
        found.extend(_listing_discrepancies(game))
    return found


def compare_box_scores(
    day: date,
    games: Sequence[GameRow],
    box_players: Mapping[str, Mapping[str, int]],
    deadline: BoxScoreDeadline,
) -> list[Discrepancy]:
    """The box-score coverage of one game day: for every final game, each source that lists it
    should publish its box score (a source that does not list the game at all is a listing gap,
    reported once, there). ``box_players`` is ``{source: {game_id: players who played}}`` (a game
    absent from a source's mapping has no box score there). Each discrepancy carries when the
    game went final and its deadline, so whoever reads it can tell lag from an error."""
    found: list[Discrepancy] = []
    for game in sorted(games, key=lambda g: g.game_id):
        if game.status == "final":
            found.extend(_box_discrepancies(day, game, box_players, deadline))
    return found


def _listing_discrepancies(game: GameRow) -> Iterable[Discrepancy]:
    base = {"status": game.status, "matchup": game.matchup}
    if game.in_nbac and not game.in_bdl:
        yield Discrepancy(game.game_id, "missing_in_bdl", BDL_GAMES, {**base, "listed_by": "nbac"})
    if game.in_bdl and not game.in_nbac:
        yield Discrepancy(game.game_id, "missing_in_nbac", NBAC_SCHEDULE, {**base, "listed_by": "bdl"})
    by_kind: dict[str, dict[str, Any]] = {}
    for name, values in sorted((game.source_disagreements or {}).items()):
        kind = DISAGREEMENT_KINDS.get(name)
        if kind is not None:
            by_kind.setdefault(kind, {})[name] = values
    for kind, fields in by_kind.items():
        yield Discrepancy(
            game.game_id, kind, BDL_GAMES, {**base, "fields": fields, "severity": field_severity(game.status)}
        )


def _box_discrepancies(
    day: date, game: GameRow, box_players: Mapping[str, Mapping[str, int]], deadline: BoxScoreDeadline
) -> Iterable[Discrepancy]:
    counts = {source: box_players.get(source, {}).get(game.game_id) for source in SOURCES}
    timing = {
        "matchup": game.matchup,
        "tipoff_utc": game.tipoff_utc.isoformat() if game.tipoff_utc else None,
        "final_at": deadline.final_at(day, game.tipoff_utc).isoformat(),
        "deadline_at": deadline.deadline(day, game.tipoff_utc).isoformat(),
    }
    for source, other in (("bdl", "nbac"), ("nbac", "bdl")):
        if not getattr(game, f"in_{source}"):
            continue
        mine, theirs = counts[source], counts[other]
        if mine is None:
            yield Discrepancy(
                game.game_id,
                f"box_score_missing_in_{source}",
                BOX_SCRAPER[source],
                {**timing, "players_in_other_source": theirs},
            )
        elif theirs and mine < theirs * PLAYER_MATCH_RATIO:
            yield Discrepancy(
                game.game_id,
                f"players_missing_in_{source}",
                BOX_SCRAPER[source],
                {**timing, "players": mine, "players_in_other_source": theirs, "missing": theirs - mine},
            )


def shortfalls(
    games: Sequence[GameRow],
    box_players: Mapping[str, Mapping[str, int]],
    discrepancies: Sequence[Discrepancy],
) -> dict[str, Shortfall]:
    """Per blamed scraper: expected vs received records, for the ``partial`` scrape event.

    Listings count games (BDL returned 6 of NBA.com's 9); box scores count final games
    covered, or players when every game is covered but some lines are missing."""
    by_scraper: dict[str, list[Discrepancy]] = {}
    for d in discrepancies:
        by_scraper.setdefault(d.scraper_name, []).append(d)
    result: dict[str, Shortfall] = {}
    for scraper, items in sorted(by_scraper.items()):
        keys = tuple(sorted({d.game_id for d in items}))
        kinds = tuple(sorted({d.kind for d in items}))
        if scraper in (BDL_GAMES, NBAC_SCHEDULE):
            expected, received, message = _listing_counts(scraper, games, keys, kinds)
        else:
            expected, received, message = _box_counts(scraper, games, box_players, items)
        result[scraper] = Shortfall(scraper, expected, received, keys, kinds, message)
    return result


def _listing_counts(
    scraper: str, games: Sequence[GameRow], keys: tuple[str, ...], kinds: tuple[str, ...]
) -> tuple[int, int, str]:
    source, other = ("bdl", "nbac") if scraper == BDL_GAMES else ("nbac", "bdl")
    listed_by_other = [g for g in games if getattr(g, f"in_{other}")]
    expected = len(listed_by_other)
    received = sum(1 for g in listed_by_other if getattr(g, f"in_{source}"))
    parts = []
    missing = [g.game_id for g in listed_by_other if not getattr(g, f"in_{source}")]
    if missing:
        parts.append(
            f"{SOURCE_LABEL[source]} returned {received} games but {SOURCE_LABEL[other]} has "
            f"{expected}; missing: {', '.join(missing)}"
        )
    disagreeing = sorted({k for k in keys if k not in missing})
    if disagreeing:
        mismatch = ", ".join(k.replace("_mismatch", "") for k in kinds if k.endswith("_mismatch"))
        parts.append(
            f"{SOURCE_LABEL[source]} disagrees with NBA.com ({mismatch}) on: {', '.join(disagreeing)}"
        )
    return expected, received, "; ".join(parts)


def _box_counts(
    scraper: str,
    games: Sequence[GameRow],
    box_players: Mapping[str, Mapping[str, int]],
    items: Sequence[Discrepancy],
) -> tuple[int, int, str]:
    source = "bdl" if scraper == BDL_BOX_SCORES else "nbac"
    finals = [g.game_id for g in games if g.status == "final" and getattr(g, f"in_{source}")]
    covered = [k for k in finals if k in box_players.get(source, {})]
    missing_games = sorted(d.game_id for d in items if d.kind.startswith("box_score_missing"))
    short_players = [d for d in items if d.kind.startswith("players_missing")]
    parts = []
    if missing_games:
        parts.append(
            f"{SOURCE_LABEL[source]} box scores cover {len(covered)} of the {len(finals)} final games it "
            f"lists; not published: {', '.join(missing_games)}"
        )
    if short_players:
        listed = ", ".join(
            f"{d.game_id} ({d.details['players']} of {d.details['players_in_other_source']})"
            for d in sorted(short_players, key=lambda d: d.game_id)
        )
        parts.append(f"{SOURCE_LABEL[source]} box scores list fewer players than the other source: {listed}")
    if missing_games or not short_players:
        return len(finals), len(covered), "; ".join(parts)
    expected = sum(d.details["players_in_other_source"] for d in short_players)
    received = sum(d.details["players"] for d in short_players)
    return expected, received, "; ".join(parts)
