"""Stored props and lines payloads -> plain observations (pure functions, no I/O).

The Odds API names teams in full ("Los Angeles Clippers") and players in ``description``;
BettingPros uses abbreviations (sometimes short ones: "GS", "NY") and a participant name.
Nothing here decides identity: it only reads what the source said."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from nba_notify.lib.errors import ErrorCategory, PipelineError
from nba_notify.lib.teams import TEAMS

EASTERN = ZoneInfo("America/New_York")
_FULL_NAMES = {t.full_name.lower(): t.tricode for t in TEAMS}
_FULL_NAMES |= {"los angeles clippers": "LAC", "la lakers": "LAL"}
_ABBREVIATIONS = {t.tricode: t.tricode for t in TEAMS} | {
    "GS": "GSW", "NY": "NYK", "SA": "SAS", "NO": "NOP", "PHO": "PHX", "UTAH": "UTA", "WSH": "WAS", "BK": "BKN",
}  # fmt: skip
_SUFFIXES = {"jr", "sr", "ii", "iii", "iv", "v"}


def team_from_name(name: str) -> str | None:
    return _FULL_NAMES.get(" ".join(name.lower().split()))


def team_from_abbreviation(value: str) -> str | None:
    return _ABBREVIATIONS.get(value.strip().upper())


def normalize_player_name(name: str) -> str:
    """Accents, punctuation, case and generational suffixes do not distinguish players
    ("Nikola Jokić" = "Nikola Jokic", "Jaren Jackson Jr." = "Jaren Jackson")."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"[^a-z0-9 ]+", "", text.replace("-", " "))
    tokens = [t for t in text.split() if t not in _SUFFIXES]
    return " ".join(tokens)


def parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


@dataclass(frozen=True)
class SourceEvent:
    source: str
    event_id: str
    commence_time: datetime | None
    home_name: str
    away_name: str
    home_team: str | None
    away_team: str | None


@dataclass(frozen=True)
class PropQuote:
    source: str
    event_id: str
    market: str
    book: str
    player_name: str
    line: float
    over_price: int | None
    under_price: int | None
    observed_at: datetime


@dataclass(frozen=True)
class LineQuote:
    source: str
    event_id: str
    market: str
    book: str
    point: float | None
    home_price: int | None
    away_price: int | None
    over_price: int | None
    under_price: int | None
    observed_at: datetime


def _bad(source: str, problem: str, **details: Any) -> PipelineError:
    return PipelineError(
        ErrorCategory.VALIDATION, f"{source}: {problem}", details={"source": source, **details}
    )


def odds_api_event(row: Mapping[str, Any]) -> SourceEvent:
    try:
        home, away = str(row["home_team"]), str(row["away_team"])
        commence = parse_time(str(row["commence_time"])) if row.get("commence_time") else None
        return SourceEvent(
            "odds_api", str(row["id"]), commence, home, away, team_from_name(home), team_from_name(away)
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise _bad("odds_api event", f"missing or malformed field ({exc})", row=dict(row)) from exc


def odds_api_events(payload: Any) -> list[SourceEvent]:
    """A live events list, or a historical snapshot (``{"data": [...]}``)."""
    rows = payload.get("data") if isinstance(payload, dict) else payload
    if not isinstance(rows, list):
        raise _bad("odds_api events", "expected a list of events")
    return [odds_api_event(row) for row in rows]


def _unwrap(payload: Any) -> Any:
    return (
        payload["data"]
        if isinstance(payload, dict) and "data" in payload and "bookmakers" not in payload
        else payload
    )


def odds_api_props(payload: Any) -> list[PropQuote]:
    """Player-prop quotes of one event-odds answer (live or historical)."""
    event = _unwrap(payload)
    if not isinstance(event, dict) or "id" not in event:
        raise _bad("odds_api event odds", "expected one event object")
    quotes: dict[tuple[str, str, str], dict[str, Any]] = {}
    for book in event.get("bookmakers") or []:
        for market in book.get("markets") or []:
            key = str(market.get("key", ""))
            if not key.startswith("player_"):
                continue
            observed = parse_time(market.get("last_update") or book.get("last_update"))
            for outcome in market.get("outcomes") or []:
                player, point = outcome.get("description"), outcome.get("point")
                if not player or point is None:
                    raise _bad(
                        "odds_api event odds", "a prop outcome without player or point", outcome=outcome
                    )
                slot = quotes.setdefault(
                    (book["key"], key, player), {"observed": observed, "point": float(point)}
                )
                side = str(outcome.get("name", "")).lower()
                if side in ("over", "under"):
                    slot[side] = _price(outcome.get("price"))
    return [
        PropQuote(
            "odds_api",
            str(event["id"]),
            market,
            book,
            player,
            q["point"],
            q.get("over"),
            q.get("under"),
            q["observed"],
        )
        for (book, market, player), q in quotes.items()
    ]


def _price(value: Any) -> int | None:
    if value is None:
        return None
    number = float(value)
    if abs(number) >= 100 or number == 0:
        return int(round(number))
    # decimal odds -> American
    return int(round((number - 1) * 100)) if number >= 2 else int(round(-100 / (number - 1)))


def odds_api_lines(payload: Any) -> tuple[list[SourceEvent], list[LineQuote]]:
    """Featured markets (h2h, spreads, totals) of every event in an ``/odds`` answer."""
    rows = _unwrap(payload)
    if not isinstance(rows, list):
        raise _bad("odds_api odds", "expected a list of events")
    events, quotes = [], []
    for row in rows:
        event = odds_api_event(row)
        events.append(event)
        for book in row.get("bookmakers") or []:
            for market in book.get("markets") or []:
                key = market.get("key")
                observed = parse_time(market.get("last_update") or book.get("last_update"))
                by_name = {str(o.get("name")): o for o in market.get("outcomes") or []}
                home, away = by_name.get(event.home_name, {}), by_name.get(event.away_name, {})
                over, under = by_name.get("Over", {}), by_name.get("Under", {})
                if key == "h2h":
                    point = None
                elif key == "spreads":
                    point = home.get("point")
                elif key == "totals":
                    point = over.get("point")
                else:
                    continue
                quotes.append(
                    LineQuote(
                        "odds_api",
                        event.event_id,
                        key,
                        book["key"],
                        float(point) if point is not None else None,
                        _price(home.get("price")),
                        _price(away.get("price")),
                        _price(over.get("price")),
                        _price(under.get("price")),
                        observed,
                    )  # fmt: skip
                )
    return events, quotes


BP_BOOKS = {
    12: "draftkings",
    10: "fanduel",
    19: "betmgm",
    13: "caesars",
    24: "bet365",
    18: "betrivers",
    0: "consensus",
}
BP_MARKETS = {156: "player_points", 157: "player_rebounds", 151: "player_assists"}


def bettingpros_events(payload: Any) -> list[SourceEvent]:
    rows = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(rows, list):
        raise _bad("bettingpros events", "expected {'events': [...]}")
    events = []
    for row in rows:
        home, visitor = str(row.get("home") or ""), str(row.get("visitor") or "")
        # "YYYY-MM-DD HH:MM:SS" without a zone, read as US-Eastern wall clock (what the site shows);
        # the identity window (12 h) would prove the game even if it were UTC
        scheduled = row.get("scheduled")
        commence = (
            datetime.strptime(scheduled, "%Y-%m-%d %H:%M:%S").replace(tzinfo=EASTERN).astimezone(UTC)
            if scheduled
            else None
        )
        events.append(
            SourceEvent(
                "bettingpros",
                str(row["id"]),
                commence,
                home,
                visitor,
                team_from_abbreviation(home),
                team_from_abbreviation(visitor),
            )
        )
    return events


def bettingpros_props(payloads: Iterable[Any]) -> list[PropQuote]:
    quotes: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for payload in payloads:
        for offer in (payload or {}).get("offers") or []:
            market = BP_MARKETS.get(int(offer.get("market_id", -1)))
            participants = offer.get("participants") or []
            if market is None or not participants:
                continue
            player = str(participants[0].get("name") or "")
            for selection in offer.get("selections") or []:
                side = str(selection.get("selection") or selection.get("label") or "").lower()
                for book in selection.get("books") or []:
                    name = BP_BOOKS.get(int(book.get("id", -1)), f"bp_{book.get('id')}")
                    for line in (book.get("lines") or [])[:1]:
                        if line.get("line") is None:
                            continue
                        observed = datetime.strptime(line["updated"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
                        slot = quotes.setdefault(
                            (str(offer["event_id"]), market, name, player),
                            {"point": float(line["line"]), "observed": observed},
                        )
                        if side in ("over", "under"):
                            slot[side] = _price(line.get("cost"))
    return [
        PropQuote(
            "bettingpros", eid, market, book, player, q["point"], q.get("over"), q.get("under"), q["observed"]
        )
        for (eid, market, book, player), q in quotes.items()
    ]
