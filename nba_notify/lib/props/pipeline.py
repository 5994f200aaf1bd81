"""Props and lines for one game day: phase 1 (``scrape_*``: call the source, keep every answer
in the raw store, record every credit) and phase 2 (``process_*``: read *all* stored scrapes
of the day — each one an observation time — never the upstream).

Zero-record semantics (seed 004's 445 ``OddsApiPropsProcessor`` zero-record runs were mostly
not losses): a scrape that had nothing to fetch says why in its details (``zero_reason``):
``no_games``; ``not_offered_yet`` (every game further ahead than books post props);
``games_started`` (props are pulled at tip-off); ``markets_not_posted`` (asked, books listed
none); ``historical_disabled`` (a past day and no historical access). The zero-record audit
classes those runs ``legitimate_zero``; a failed scrape, or raw props the processor could not
turn into rows, is ``real_loss``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from nba_notify.lib.clients.http import CallRecorder
from nba_notify.lib.clients.odds_api import (
    GAME_LINE_MARKETS,
    PLAYER_MARKETS,
    OddsApiClient,
    call_cost,
    events_cost,
)
from nba_notify.lib.db.tables.ingest import raw_blobs, raw_payloads, scrape_events
from nba_notify.lib.db.tables.props import game_lines, player_props, prop_events
from nba_notify.lib.db.writes import processor_run, replace_partition, upsert_rows
from nba_notify.lib.errors import ErrorCategory, PipelineError
from nba_notify.lib.props import budget, identity, parse
from nba_notify.lib.scrapes import StoredPayload, scrape_attempt

ODDS_API_PROPS = "odds_api_props"
ODDS_API_LINES = "odds_api_lines"
BETTINGPROS_PROPS = "bettingpros_props"
EASTERN = parse.EASTERN
# Closing line: the snapshot a quarter of an hour before tip-off.
CLOSING_OFFSET = timedelta(minutes=15)


@dataclass(frozen=True)
class OddsPlan:
    """What a props/lines run asks for, and what it may spend."""

    prop_markets: tuple[str, ...] = PLAYER_MARKETS
    line_markets: tuple[str, ...] = GAME_LINE_MARKETS
    regions: tuple[str, ...] = ("us",)
    # Books post player props about a day ahead; asking earlier costs credits for nothing.
    props_lead: timedelta = timedelta(hours=36)
    daily_credit_budget: int = budget.DEFAULT_DAILY_CREDIT_BUDGET
    use_historical: bool = True  # past days from the historical snapshots (paid plans only)


@dataclass
class DayResult:
    day: date
    records: int
    details: dict[str, Any] = field(default_factory=dict)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """A US-Eastern game day as UTC instants [start, end)."""
    start = datetime.combine(day, time(0), EASTERN)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def _numbered(page: Any, number: int) -> Any:
    return dataclasses.replace(page, page_number=number)


def scrape_odds_api_props(
    engine: sa.Engine,
    client: OddsApiClient,
    day: date,
    *,
    now: datetime,
    plan: OddsPlan,
    run_id: str | None,
    recorder: CallRecorder,
) -> DayResult:
    first, last = day_bounds(day)
    historical = last <= now
    usage_day = budget.usage_day_of(now)
    pages: list[Any] = []

    def call(fetch: Callable[[], Any]) -> Any:
        before = len(client.readings)
        try:
            page = fetch()
        finally:
            budget.record_usage(
                engine, client.readings[before:], scraper_name=ODDS_API_PROPS, target_date=day,
                usage_day=usage_day, run_id=run_id,
            )  # fmt: skip
        page = _numbered(page, len(pages) + 1)
        pages.append(page)
        return page

    with scrape_attempt(engine, ODDS_API_PROPS, "odds_api", day, run_id=run_id, recorder=recorder) as attempt:
        attempt.details.update(
            {"mode": "historical" if historical else "live", "markets": list(plan.prop_markets)}
        )
        if historical and not plan.use_historical:
            attempt.records_expected = 0
            attempt.details["zero_reason"] = "historical_disabled"
            return DayResult(day, 0, dict(attempt.details))
        with engine.connect() as conn:
            spent = budget.spent_on(conn, usage_day)
        events_price = events_cost(historical=historical)
        budget.check_budget(
            planned=events_price, spent_today=spent, daily_budget=plan.daily_credit_budget,
            remaining=client.last_remaining, usage_day=usage_day, what=f"the {day} events snapshot",
        )  # fmt: skip
        if historical:
            at = min(now, first + timedelta(hours=10))
            listing = call(lambda: client.historical_events(at, first, last - timedelta(seconds=1)))
        else:
            listing = call(lambda: client.events(first, last - timedelta(seconds=1)))
        attempt.add_page(listing)
        events = parse.odds_api_events(listing.payload)
        todo, skipped = _plan_props(events, now=now, historical=historical, lead=plan.props_lead)
        per_call = call_cost(plan.prop_markets, plan.regions, historical=historical)
        planned = per_call * len(todo)
        budget.check_budget(
            planned=planned, spent_today=spent + (listing.quota.last or 0), daily_budget=plan.daily_credit_budget,
            remaining=client.last_remaining, usage_day=usage_day, what=f"{len(todo)} event odds calls for {day}",
        )  # fmt: skip
        quotes = 0
        for event in todo:
            if historical:
                at = min(now, event.commence_time - CLOSING_OFFSET)
                page = call(
                    lambda e=event, at=at: client.historical_event_odds(
                        e.event_id, at, plan.prop_markets, plan.regions
                    )
                )
            else:
                page = call(lambda e=event: client.event_odds(e.event_id, plan.prop_markets, plan.regions))
            attempt.add_page(page)
            quotes += len(parse.odds_api_props(page.payload))
        attempt.records_expected = len(todo)
        attempt.records_received = len(todo)
        credits = sum(p.quota.last or 0 for p in pages)
        attempt.details.update(
            {
                "events_listed": len(events),
                "events_fetched": len(todo),
                "skipped": {reason: ids for reason, ids in skipped.items() if ids},
                "credits_planned": planned + events_price,
                "credits_spent": credits,
                "prop_quotes": quotes,
            }
        )
        if quotes == 0:
            attempt.details["zero_reason"] = _zero_reason(events, todo, skipped)
    return DayResult(day, quotes, dict(attempt.details))


def _plan_props(
    events: Sequence[parse.SourceEvent], *, now: datetime, historical: bool, lead: timedelta
) -> tuple[list[parse.SourceEvent], dict[str, list[str]]]:
    todo: list[parse.SourceEvent] = []
    skipped: dict[str, list[str]] = {"not_offered_yet": [], "games_started": []}
    for event in events:
        if event.commence_time is None:
            continue
        if historical:
            todo.append(event)
        elif event.commence_time <= now:
            skipped["games_started"].append(event.event_id)
        elif event.commence_time - now > lead:
            skipped["not_offered_yet"].append(event.event_id)
        else:
            todo.append(event)
    return todo, skipped


def _zero_reason(events: Sequence[Any], todo: Sequence[Any], skipped: dict[str, list[str]]) -> str:
    if not events:
        return "no_games"
    if todo:
        return "markets_not_posted"
    if skipped["games_started"] and not skipped["not_offered_yet"]:
        return "games_started"
    return "not_offered_yet"


def scrape_odds_api_lines(
    engine: sa.Engine,
    client: OddsApiClient,
    day: date,
    *,
    now: datetime,
    plan: OddsPlan,
    run_id: str | None,
    recorder: CallRecorder,
) -> DayResult:
    """Game lines (h2h, spreads, totals) of every game of the day in one featured-odds call —
    ``markets x regions`` credits for the whole slate, not per game."""
    first, last = day_bounds(day)
    historical = last <= now
    usage_day = budget.usage_day_of(now)
    with scrape_attempt(engine, ODDS_API_LINES, "odds_api", day, run_id=run_id, recorder=recorder) as attempt:
        attempt.details.update(
            {"mode": "historical" if historical else "live", "markets": list(plan.line_markets)}
        )
        if historical and not plan.use_historical:
            attempt.records_expected = 0
            attempt.details["zero_reason"] = "historical_disabled"
            return DayResult(day, 0, dict(attempt.details))
        with engine.connect() as conn:
            spent = budget.spent_on(conn, usage_day)
        planned = call_cost(plan.line_markets, plan.regions, historical=historical)
        budget.check_budget(
            planned=planned, spent_today=spent, daily_budget=plan.daily_credit_budget,
            remaining=client.last_remaining, usage_day=usage_day, what=f"the {day} game lines",
        )  # fmt: skip
        before = len(client.readings)
        try:
            if historical:
                page = client.historical_odds(
                    min(now, first + timedelta(hours=12)), plan.line_markets, plan.regions,
                    commence_from=first, commence_to=last - timedelta(seconds=1),
                )  # fmt: skip
            else:
                page = client.odds(
                    plan.line_markets,
                    plan.regions,
                    commence_from=first,
                    commence_to=last - timedelta(seconds=1),
                )
        finally:
            budget.record_usage(
                engine, client.readings[before:], scraper_name=ODDS_API_LINES, target_date=day,
                usage_day=usage_day, run_id=run_id,
            )  # fmt: skip
        attempt.add_page(page)
        events, quotes = parse.odds_api_lines(page.payload)
        attempt.records_expected = 1
        attempt.records_received = 1
        attempt.details.update(
            {"events_listed": len(events), "line_quotes": len(quotes), "credits_spent": page.quota.last}
        )
        if not quotes:
            attempt.details["zero_reason"] = "no_games" if not events else "markets_not_posted"
    return DayResult(day, len(quotes), dict(attempt.details))


def scrape_bettingpros_props(
    engine: sa.Engine,
    client: Any,
    day: date,
    *,
    markets: Sequence[str] = PLAYER_MARKETS,
    run_id: str | None,
    recorder: CallRecorder,
) -> DayResult:
    with scrape_attempt(
        engine, BETTINGPROS_PROPS, "bettingpros", day, run_id=run_id, recorder=recorder
    ) as attempt:
        listing = client.events(day)
        attempt.add_page(listing)
        events = parse.bettingpros_events(listing.payload)
        ids = [int(e.event_id) for e in events]
        number, payloads = 1, []
        for market in markets:
            for page in client.offers_pages(ids, market):
                number += 1
                attempt.add_page(_numbered(page, number))
                payloads.append(page.payload)
        quotes = parse.bettingpros_props(payloads)
        attempt.records_expected = len(markets) if ids else 0
        attempt.records_received = attempt.records_expected
        attempt.details.update({"events_listed": len(events), "prop_quotes": len(quotes), "pages": number})
        if not quotes:
            attempt.details["zero_reason"] = "no_games" if not events else "markets_not_posted"
    return DayResult(day, len(quotes), dict(attempt.details))


# -- phase 2 ---------------------------------------------------------------------------------


def _nothing_stored(scraper: str, day: date, asset: str) -> PipelineError:
    """Raised inside the processor run, so the run is on record as a failed zero-record run:
    the zero-record audit then classes the day a real loss (scraper failed, rescrape)."""
    return PipelineError(
        ErrorCategory.VALIDATION,
        f"no stored {scraper} scrape for {day}: nothing to process (the scrape failed or never ran)",
        details={"target_date": day.isoformat(), "missing": scraper},
        recovery=f"Run the raw scrape first: materialize {asset} for this day; its failure, if any, says why.",
    )


@dataclass(frozen=True)
class StoredScrape:
    event_id: Any
    started_at: datetime
    pages: list[StoredPayload]


def stored_scrapes(conn: sa.Connection, scraper_name: str, day: date) -> list[StoredScrape]:
    """Every successful scrape of the day with its pages, oldest first: each one is an
    observation time, so line movement is replayed from the raw store."""
    events = conn.execute(
        sa.select(scrape_events.c.event_id, scrape_events.c.started_at)
        .where(
            scrape_events.c.scraper_name == scraper_name,
            scrape_events.c.target_date == day,
            scrape_events.c.status.in_(("success", "partial")),
        )
        .order_by(scrape_events.c.started_at)
    ).all()
    if not events:
        return []
    rows = conn.execute(
        sa.select(
            raw_payloads.c.scrape_event_id,
            raw_payloads.c.endpoint,
            raw_payloads.c.params,
            raw_payloads.c.page,
            raw_blobs.c.body,
        )
        .join(raw_blobs, raw_blobs.c.sha256 == raw_payloads.c.sha256)
        .where(raw_payloads.c.scrape_event_id.in_([e.event_id for e in events]))
        .order_by(raw_payloads.c.scrape_event_id, raw_payloads.c.page)
    ).all()
    by_event: dict[Any, list[StoredPayload]] = {}
    for r in rows:
        by_event.setdefault(r.scrape_event_id, []).append(
            StoredPayload(r.scrape_event_id, r.endpoint, r.params, r.page, r.body)
        )
    return [StoredScrape(e.event_id, e.started_at, by_event.get(e.event_id, [])) for e in events]


def _prove_events(
    conn: sa.Connection, events: Iterable[parse.SourceEvent], day: date, run_id: str | None, window: timedelta
) -> dict[str, identity.EventIdentity]:
    unique = list({e.event_id: e for e in events}.values())
    nearby = identity.games_near(conn, unique, window)
    proofs = {e.event_id: identity.prove_event(e, nearby, window) for e in unique}
    upsert_rows(
        conn, prop_events, identity.identity_rows(unique, proofs, day, run_id),
        key=("source", "source_event_id"), compare=("game_id", "identity", "commence_time", "candidates"),
    )  # fmt: skip
    return proofs


def process_player_props(
    engine: sa.Engine,
    day: date,
    *,
    run_id: str | None,
    source: str = "odds_api",
    window: timedelta = identity.DEFAULT_EVENT_WINDOW,
) -> DayResult:
    """``player_props`` of the day rebuilt from every stored scrape: each distinct quote once
    (book, market, player, book's update time), the earliest time we saw it, the event proven
    to a league game and the name to a league player — or flagged."""
    scraper = ODDS_API_PROPS if source == "odds_api" else BETTINGPROS_PROPS
    with engine.connect() as conn:
        scrapes = stored_scrapes(conn, scraper, day)
    events: list[parse.SourceEvent] = []
    seen: dict[tuple[str, str, str, str, datetime], tuple[parse.PropQuote, datetime]] = {}
    for scrape in scrapes:
        if source == "odds_api":
            quotes: list[parse.PropQuote] = []
            for page in scrape.pages:
                if page.endpoint in ("events", "historical_events"):
                    events += parse.odds_api_events(page.json())
                else:
                    quotes += parse.odds_api_props(page.json())
        else:
            events += parse.bettingpros_events(scrape.pages[0].json()) if scrape.pages else []
            quotes = parse.bettingpros_props(p.json() for p in scrape.pages[1:])
        for q in quotes:
            seen.setdefault(
                (q.event_id, q.market, q.book, q.player_name, q.observed_at), (q, scrape.started_at)
            )
    with processor_run(
        engine, f"player_props_{source}" if source != "odds_api" else "player_props", day, run_id
    ) as (conn, run):
        if not scrapes:
            raise _nothing_stored(
                scraper, day, "odds_api_props_raw" if source == "odds_api" else "bettingpros_props_raw"
            )
        proofs = _prove_events(conn, events, day, run_id, window)
        by_event = {e.event_id: e for e in events}
        mapped = {eid: p.game_id for eid, p in proofs.items() if p.game_id}
        teams = {t for e in events for t in (e.home_team, e.away_team) if t}
        directory = identity.load_directory(conn, mapped.values(), teams, before=day)
        rows = []
        for q, seen_at in seen.values():
            event = by_event.get(q.event_id)
            game_id = mapped.get(q.event_id)
            who = directory.match(
                q.player_name, game_id, event.home_team if event else None, event.away_team if event else None
            )
            rows.append(
                {
                    "source": q.source,
                    "source_event_id": q.event_id,
                    "game_id": game_id,
                    "game_date": day,
                    "market": q.market,
                    "book": q.book,
                    "player_name": q.player_name,
                    "player_id": who.player_id,
                    "team": who.team,
                    "player_match": who.match,
                    "line": q.line,
                    "over_price": q.over_price,
                    "under_price": q.under_price,
                    "observed_at": q.observed_at,
                    "seen_at": seen_at,
                    "run_id": run_id,
                }  # fmt: skip
            )
        where = sa.and_(player_props.c.game_date == day, player_props.c.source == source)
        run.add(replace_partition(conn, player_props, where=where, rows=rows))
        unmapped = sorted({r["player_name"] for r in rows if r["player_match"] in ("unmapped", "ambiguous")})
        run.details.update(
            {
                "scrapes_replayed": len(scrapes),
                "events": len(proofs),
                "events_unmapped": sorted(e for e, p in proofs.items() if p.identity == "unmapped"),
                "events_ambiguous": sorted(e for e, p in proofs.items() if p.identity == "ambiguous"),
                "players_unproven": unmapped,
            }
        )
    return DayResult(day, run.records_processed, dict(run.details))


def process_game_lines(
    engine: sa.Engine, day: date, *, run_id: str | None, window: timedelta = identity.DEFAULT_EVENT_WINDOW
) -> DayResult:
    with engine.connect() as conn:
        scrapes = stored_scrapes(conn, ODDS_API_LINES, day)
    events: list[parse.SourceEvent] = []
    seen: dict[tuple[str, str, str, datetime], tuple[parse.LineQuote, datetime]] = {}
    for scrape in scrapes:
        for page in scrape.pages:
            found, quotes = parse.odds_api_lines(page.json())
            events += found
            for q in quotes:
                seen.setdefault((q.event_id, q.market, q.book, q.observed_at), (q, scrape.started_at))
    with processor_run(engine, "game_lines", day, run_id) as (conn, run):
        if not scrapes:
            raise _nothing_stored(ODDS_API_LINES, day, "odds_api_lines_raw")
        proofs = _prove_events(conn, events, day, run_id, window)
        rows = [
            {
                "source": q.source,
                "source_event_id": q.event_id,
                "game_id": proofs[q.event_id].game_id,
                "game_date": day,
                "market": q.market,
                "book": q.book,
                "point": q.point,
                "home_price": q.home_price,
                "away_price": q.away_price,
                "over_price": q.over_price,
                "under_price": q.under_price,
                "observed_at": q.observed_at,
                "seen_at": seen_at,
                "run_id": run_id,
            }  # fmt: skip
            for q, seen_at in seen.values()
        ]
        run.add(replace_partition(conn, game_lines, where=game_lines.c.game_date == day, rows=rows))
        run.details.update({"scrapes_replayed": len(scrapes), "events": len(proofs)})
    return DayResult(day, run.records_processed, dict(run.details))
