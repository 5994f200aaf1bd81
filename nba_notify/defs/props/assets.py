"""Player props and game lines, one partition per US-Eastern game day like the ingest group.
Phase 1 assets keep every answer in the raw store (replayable, every credit on record);
phase 2 assets rebuild the day from all stored scrapes, so line movement is history."""

from datetime import date

import dagster as dg
import sqlalchemy as sa

from nba_notify.defs.ingest.assets import DayEvents, materialize_days
from nba_notify.defs.ingest.partitions import game_day_partitions
from nba_notify.defs.props.resources import BettingProsResource, OddsApiResource
from nba_notify.defs.resources import ClockResource, PostgresResource
from nba_notify.lib.clients.http import CallRecorder
from nba_notify.lib.db.tables.ingest import scrape_events
from nba_notify.lib.props import pipeline

_PARTITIONED = dict(
    partitions_def=game_day_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="props",
)


def _credits(result: pipeline.DayResult) -> dict[str, object]:
    """Per game day: credits spent, and why nothing was fetched when nothing was."""
    meta: dict[str, object] = {"credits_spent": int(result.details.get("credits_spent") or 0)}
    if result.details.get("zero_reason"):
        meta["zero_reason"] = result.details["zero_reason"]
    return meta


@dg.asset(
    **_PARTITIONED,
    kinds={"python", "postgres"},
    description="The Odds API player props of the game day (points, rebounds, assists): the events list, then "
    "one event-odds call per game inside the props window (historical closing snapshots for past days). Every "
    "answer is kept raw and every credit recorded (odds_api_usage). A run whose planned credits would exceed the "
    "daily budget (ODDS_API_DAILY_CREDIT_BUDGET) stops before calling and fails as RATE_LIMIT; games too far "
    "ahead or already started are skipped and said so (zero_reason), not alarmed on.",
)
def odds_api_props_raw(
    context: dg.AssetExecutionContext,
    database: PostgresResource,
    odds_api: OddsApiResource,
    clock: ClockResource,
) -> DayEvents:
    recorder = CallRecorder()
    client, engine, run_id, plan = (
        odds_api.client(recorder),
        database.engine(),
        context.run.run_id,
        odds_api.plan(),
    )
    now = clock.now()
    yield from materialize_days(
        context,
        lambda day: pipeline.scrape_odds_api_props(
            engine, client, day, now=now, plan=plan, run_id=run_id, recorder=recorder
        ),
        describe=lambda r: {
            **_credits(r),
            **({"credits_remaining": client.last_remaining} if client.last_remaining is not None else {}),
        },
        recorder=recorder,
    )


@dg.asset(
    **_PARTITIONED,
    kinds={"python", "postgres"},
    description="The Odds API game lines (h2h, spreads, totals) of the game day in one featured-odds call "
    "(markets x regions credits for the whole slate), kept raw.",
)
def odds_api_lines_raw(
    context: dg.AssetExecutionContext,
    database: PostgresResource,
    odds_api: OddsApiResource,
    clock: ClockResource,
) -> DayEvents:
    recorder = CallRecorder()
    client, engine, run_id, plan = (
        odds_api.client(recorder),
        database.engine(),
        context.run.run_id,
        odds_api.plan(),
    )
    now = clock.now()
    yield from materialize_days(
        context,
        lambda day: pipeline.scrape_odds_api_lines(
            engine, client, day, now=now, plan=plan, run_id=run_id, recorder=recorder
        ),
        describe=_credits,
        recorder=recorder,
    )


@dg.asset(
    **_PARTITIONED,
    kinds={"python", "postgres"},
    description="BettingPros player props of the game day (events by date, then offers per market, paged), kept "
    "raw. Its client waits up to 90 s per answer and decodes Brotli: the platform this replaces lost 21 % of BettingPros dates "
    "to a 30 s timeout and undecoded Brotli bodies.",
)
def bettingpros_props_raw(
    context: dg.AssetExecutionContext, database: PostgresResource, bettingpros: BettingProsResource
) -> DayEvents:
    recorder = CallRecorder()
    client, engine, run_id = bettingpros.client(recorder), database.engine(), context.run.run_id
    yield from materialize_days(
        context,
        lambda day: pipeline.scrape_bettingpros_props(engine, client, day, run_id=run_id, recorder=recorder),
        describe=lambda r: {"pages": r.details.get("pages", 0), **_credits(r)},
        recorder=recorder,
    )


def _scraped(engine: sa.Engine, scraper: str, day: date) -> bool:
    with engine.connect() as conn:
        return bool(
            conn.execute(
                sa.select(sa.func.count())
                .select_from(scrape_events)
                .where(scrape_events.c.scraper_name == scraper, scrape_events.c.target_date == day)
            ).scalar_one()
        )


@dg.asset(
    **_PARTITIONED,
    deps=[odds_api_props_raw, bettingpros_props_raw, dg.AssetKey("games"), dg.AssetKey("player_box_scores")],
    kinds={"python", "postgres"},
    description="Player props per game (the league's game id), player (the league's player id, proven by name "
    "within the game's two teams), market, book, line, prices and when the book showed them — every distinct "
    "quote kept, so line movement is history. Rebuilt from all stored scrapes of the day; unmapped events and "
    "players keep NULL ids and fail the identity checks instead of being guessed.",
)
def player_props(context: dg.AssetExecutionContext, database: PostgresResource) -> DayEvents:
    engine, run_id = database.engine(), context.run.run_id

    def work(day: date) -> pipeline.DayResult:
        scraped = [
            source
            for source, scraper in (
                ("odds_api", pipeline.ODDS_API_PROPS),
                ("bettingpros", pipeline.BETTINGPROS_PROPS),
            )
            if _scraped(engine, scraper, day)
        ]
        # nothing attempted at all: processing The Odds API's (absent) scrape records the day's
        # props as a failed zero-record run — a loss the zero-record audit lists, not a silence
        results = [
            pipeline.process_player_props(engine, day, run_id=run_id, source=s)
            for s in scraped or ["odds_api"]
        ]
        return pipeline.DayResult(
            day,
            sum(r.records for r in results),
            {
                key: [v for r in results for v in r.details.get(key, [])]
                for key in ("events_unmapped", "events_ambiguous", "players_unproven")
            }
            | {f"{s}_rows": r.records for s, r in zip(scraped or ["odds_api"], results, strict=True)},
        )

    yield from materialize_days(
        context,
        work,
        describe=lambda r: {
            key: len(r.details.get(key, []))
            for key in ("events_unmapped", "events_ambiguous", "players_unproven")
        },
    )


@dg.asset(
    **_PARTITIONED,
    deps=[odds_api_lines_raw, dg.AssetKey("games")],
    kinds={"python", "postgres"},
    description="Game lines per game and book (moneyline prices, the home spread, the total), every distinct "
    "quote kept with the book's update time.",
)
def game_lines(context: dg.AssetExecutionContext, database: PostgresResource) -> DayEvents:
    engine, run_id = database.engine(), context.run.run_id
    yield from materialize_days(context, lambda day: pipeline.process_game_lines(engine, day, run_id=run_id))
