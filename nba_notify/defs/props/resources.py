"""The props sources as resources: The Odds API (key as a query parameter, credit budget) and
BettingPros (key in a header, a long read timeout). Simulator mode points both at the
simulator; production reads ODDS_API_KEY / BETTINGPROS_API_KEY as ``dg.EnvVar`` (the UI shows
the variable's name, never the key)."""

from __future__ import annotations

import os
from collections.abc import Mapping

import dagster as dg

from nba_notify.lib.clients.bettingpros import (
    BETTINGPROS_BASE_URL,
    DEFAULT_BETTINGPROS_RETRY,
    DEFAULT_READ_TIMEOUT,
    BettingProsClient,
)
from nba_notify.lib.clients.http import CallRecorder, RetryPolicy, Timeouts
from nba_notify.lib.clients.odds_api import (
    DEFAULT_ODDS_API_RETRY,
    GAME_LINE_MARKETS,
    ODDS_API_BASE_URL,
    PLAYER_MARKETS,
    OddsApiClient,
)
from nba_notify.lib.config import Mode, current_mode, sim_base_url
from nba_notify.lib.props.budget import DEFAULT_DAILY_CREDIT_BUDGET
from nba_notify.lib.props.pipeline import OddsPlan

SIM_ODDS_API_KEY = "sim-odds-api-key"
SIM_BETTINGPROS_KEY = "sim-bettingpros-key"
BUDGET_VARIABLE = "ODDS_API_DAILY_CREDIT_BUDGET"


class OddsApiResource(dg.ConfigurableResource):
    """The Odds API v4. ``daily_credit_budget``: credits a day's runs may spend
    (ODDS_API_DAILY_CREDIT_BUDGET); a run whose plan would exceed it stops before calling.
    Credits per call = markets x regions (x10 historical), so the markets and regions asked for
    are the cost levers."""

    base_url: str
    api_key: str
    regions: list[str] = ["us"]
    prop_markets: list[str] = list(PLAYER_MARKETS)
    line_markets: list[str] = list(GAME_LINE_MARKETS)
    daily_credit_budget: int = DEFAULT_DAILY_CREDIT_BUDGET
    props_lead_hours: float = 36.0
    use_historical: bool = True
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_attempts: int = DEFAULT_ODDS_API_RETRY.max_attempts
    retry_base_delay: float = DEFAULT_ODDS_API_RETRY.base_delay

    def client(self, recorder: CallRecorder | None = None) -> OddsApiClient:
        return OddsApiClient(
            self.base_url,
            self.api_key,
            timeouts=Timeouts(connect=self.connect_timeout, read=self.read_timeout),
            retry=RetryPolicy(
                max_attempts=self.max_attempts,
                base_delay=self.retry_base_delay,
                max_delay=DEFAULT_ODDS_API_RETRY.max_delay,
            ),
            recorder=recorder,
        )

    def plan(self) -> OddsPlan:
        from datetime import timedelta

        return OddsPlan(
            prop_markets=tuple(self.prop_markets),
            line_markets=tuple(self.line_markets),
            regions=tuple(self.regions),
            props_lead=timedelta(hours=self.props_lead_hours),
            daily_credit_budget=self.daily_credit_budget,
            use_historical=self.use_historical,
        )


class BettingProsResource(dg.ConfigurableResource):
    """BettingPros. ``read_timeout`` defaults to 90 s: the API has answered after more than
    30 s, and the seed's 30 s timeout lost 21 % of its dates (seed 004, issue 3)."""

    base_url: str
    api_key: str
    connect_timeout: float = 5.0
    read_timeout: float = DEFAULT_READ_TIMEOUT
    max_attempts: int = DEFAULT_BETTINGPROS_RETRY.max_attempts
    retry_base_delay: float = DEFAULT_BETTINGPROS_RETRY.base_delay

    def client(self, recorder: CallRecorder | None = None) -> BettingProsClient:
        return BettingProsClient(
            self.base_url,
            self.api_key,
            timeouts=Timeouts(connect=self.connect_timeout, read=self.read_timeout),
            retry=RetryPolicy(
                max_attempts=self.max_attempts,
                base_delay=self.retry_base_delay,
                max_delay=DEFAULT_BETTINGPROS_RETRY.max_delay,
            ),
            recorder=recorder,
        )


def build_props_resources(env: Mapping[str, str] | None = None) -> dict[str, dg.ConfigurableResource]:
    env = os.environ if env is None else env
    budget = int(env.get(BUDGET_VARIABLE) or DEFAULT_DAILY_CREDIT_BUDGET)
    if current_mode(env) is Mode.PRODUCTION:
        return {
            "odds_api": OddsApiResource(
                base_url=env.get("ODDS_API_BASE_URL") or ODDS_API_BASE_URL,
                api_key=dg.EnvVar("ODDS_API_KEY"),
                daily_credit_budget=budget,
            ),
            "bettingpros": BettingProsResource(
                base_url=env.get("BETTINGPROS_BASE_URL") or BETTINGPROS_BASE_URL,
                api_key=dg.EnvVar("BETTINGPROS_API_KEY"),
            ),
        }
    sim = env.get("NBA_NOTIFY_SIM_URL") or sim_base_url()
    return {
        "odds_api": OddsApiResource(
            base_url=f"{sim}/odds-api", api_key=SIM_ODDS_API_KEY, daily_credit_budget=budget
        ),
        "bettingpros": BettingProsResource(base_url=f"{sim}/bettingpros", api_key=SIM_BETTINGPROS_KEY),
    }


@dg.definitions
def props_resources() -> dg.Definitions:
    return dg.Definitions(resources=build_props_resources())
