"""Parsing the sources' payloads in the shapes their documentation shows (The Odds API v4:
featured odds with team names as outcomes, event odds with the player in ``description``;
BettingPros offers with selections, books and lines) — and refusing malformed ones."""

from __future__ import annotations

import pytest

from nba_notify.lib.errors import ErrorCategory, PipelineError
from nba_notify.lib.props import parse

FEATURED = [
    {
        "id": "bda33adca828c09dc3cac3a856aef176",
        "sport_key": "basketball_nba",
        "commence_time": "2026-11-25T00:10:00Z",
        "home_team": "Los Angeles Clippers",
        "away_team": "Golden State Warriors",
        "bookmakers": [
            {
                "key": "fanduel",
                "title": "FanDuel",
                "last_update": "2026-11-24T10:46:09Z",
                "markets": [
                    {
                        "key": "h2h",
                        "outcomes": [
                            {"name": "Golden State Warriors", "price": 240},
                            {"name": "Los Angeles Clippers", "price": -303},
                        ],
                    },
                    {
                        "key": "spreads",
                        "outcomes": [
                            {"name": "Golden State Warriors", "price": -110, "point": 7.5},
                            {"name": "Los Angeles Clippers", "price": -110, "point": -7.5},
                        ],
                    },
                    {
                        "key": "totals",
                        "outcomes": [
                            {"name": "Over", "price": -105, "point": 221.5},
                            {"name": "Under", "price": -115, "point": 221.5},
                        ],
                    },
                ],
            }
        ],
    }
]


def test_featured_odds_become_game_lines_keyed_by_home_and_away():
    [event], quotes = parse.odds_api_lines(FEATURED)
    assert (event.home_team, event.away_team) == ("LAC", "GSW")
    by_market = {q.market: q for q in quotes}
    assert (by_market["h2h"].home_price, by_market["h2h"].away_price, by_market["h2h"].point) == (
        -303,
        240,
        None,
    )
    assert by_market["spreads"].point == -7.5  # the home team's handicap
    assert (by_market["totals"].point, by_market["totals"].over_price, by_market["totals"].under_price) == (
        221.5,
        -105,
        -115,
    )
    # the historical endpoint wraps the same list
    assert parse.odds_api_lines({"timestamp": "x", "data": FEATURED})[1] == quotes


def test_event_odds_props_name_the_player_and_decimal_prices_become_american():
    payload = {
        "id": "e1",
        "home_team": "Boston Celtics",
        "away_team": "New York Knicks",
        "commence_time": "2026-11-25T00:30:00Z",
        "bookmakers": [
            {
                "key": "pinnacle",
                "last_update": "2026-11-24T12:00:00Z",
                "markets": [
                    {
                        "key": "player_points",
                        "last_update": "2026-11-24T11:58:00Z",
                        "outcomes": [
                            {"name": "Over", "description": "Jalen Brunson", "price": 1.91, "point": 26.5},
                            {"name": "Under", "description": "Jalen Brunson", "price": 2.5, "point": 26.5},
                        ],
                    }
                ],
            }
        ],
    }
    [quote] = parse.odds_api_props({"timestamp": "2026-11-24T12:00:00Z", "data": payload})
    assert (quote.player_name, quote.market, quote.book, quote.line) == (
        "Jalen Brunson",
        "player_points",
        "pinnacle",
        26.5,
    )
    assert (quote.over_price, quote.under_price) == (-110, 150)
    assert quote.observed_at.isoformat() == "2026-11-24T11:58:00+00:00"  # the market's own update time


def test_a_prop_outcome_without_its_player_is_a_validation_error():
    payload = {
        "id": "e1",
        "bookmakers": [
            {
                "key": "fanduel",
                "last_update": "2026-11-24T12:00:00Z",
                "markets": [
                    {"key": "player_points", "outcomes": [{"name": "Over", "price": -110, "point": 20.5}]}
                ],
            }
        ],
    }
    with pytest.raises(PipelineError) as raised:
        parse.odds_api_props(payload)
    assert raised.value.category is ErrorCategory.VALIDATION


def test_bettingpros_offers_give_one_quote_per_book_with_both_sides():
    offer = {
        "event_id": 27207,
        "market_id": 156,
        "participants": [{"name": "Jayson Tatum", "player": {"team": "BOS", "position": "F"}}],
        "selections": [
            {
                "selection": "over",
                "label": "Over",
                "books": [
                    {"id": 12, "lines": [{"line": 27.5, "cost": -115, "updated": "2026-11-24 13:00:00"}]}
                ],
            },
            {
                "selection": "under",
                "label": "Under",
                "books": [
                    {"id": 12, "lines": [{"line": 27.5, "cost": -105, "updated": "2026-11-24 13:00:00"}]}
                ],
            },
        ],
    }
    [quote] = parse.bettingpros_props([{"offers": [offer]}])
    assert (quote.event_id, quote.book, quote.market, quote.player_name) == (
        "27207",
        "draftkings",
        "player_points",
        "Jayson Tatum",
    )
    assert (quote.line, quote.over_price, quote.under_price) == (27.5, -115, -105)
    [event] = parse.bettingpros_events(
        {"events": [{"id": 27207, "home": "GS", "visitor": "NY", "scheduled": "2026-11-24 19:30:00"}]}
    )
    assert (event.home_team, event.away_team, event.commence_time.isoformat()) == (
        "GSW",
        "NYK",
        "2026-11-25T00:30:00+00:00",
    )
