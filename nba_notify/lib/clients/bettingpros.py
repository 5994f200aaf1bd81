"""BettingPros client, in the shape the seed system scraped (events by date, then offers per
market for those events, paged; the key in the ``x-api-key`` header).

Why its settings differ from the other clients (seed 004, issue 3: 3 of 14 BettingPros dates
— 21 % — really lost, against 4 % for other sources):

* **Slow answers.** The offers endpoint has answered after more than 30 s; the seed's 30 s
  read timeout turned those answers into failed scrapes. The read timeout here defaults to
  :data:`DEFAULT_READ_TIMEOUT` (90 s) and is configurable (``BettingProsResource.read_timeout``).
* **Brotli.** The API answers ``Content-Encoding: br`` to a client that advertises it; the
  seed advertised ``br`` without being able to decode it and stored garbage. httpx decodes
  Brotli when the ``brotli`` package is installed (a dependency of this project), and an
  undecodable body is a classified VALIDATION error, never a stored payload.
* **Intermittent 5xx.** Retried with exponential backoff and jitter (idempotent GETs), every
  attempt counted in the scrape log.

Paging: ``limit`` is capped at 10 by the API; follow ``_pagination.total_pages``, guarded
against a page count that never ends.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from nba_notify.lib.clients.http import ApiClient, ApiResponse, CallRecorder, RetryPolicy, Sleep, Timeouts
from nba_notify.lib.errors import ErrorCategory, PipelineError

BETTINGPROS_BASE_URL = "https://api.bettingpros.com"
DEFAULT_READ_TIMEOUT = 90.0
MAX_LIMIT = 10
DEFAULT_MAX_PAGES = 200
# BettingPros NBA prop markets (market_id) and the Odds API key they correspond to.
MARKET_IDS = {"player_points": 156, "player_rebounds": 157, "player_assists": 151}
DEFAULT_BETTINGPROS_TIMEOUTS = Timeouts(connect=5.0, read=DEFAULT_READ_TIMEOUT)
DEFAULT_BETTINGPROS_RETRY = RetryPolicy(max_attempts=4, base_delay=1.0, max_delay=20.0)


@dataclass(frozen=True)
class BpPage:
    source: str
    endpoint: str
    params: dict[str, Any]
    page_number: int
    response: ApiResponse
    payload: Any

    @property
    def content(self) -> bytes:
        return self.response.content


class BettingProsClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeouts: Timeouts = DEFAULT_BETTINGPROS_TIMEOUTS,
        retry: RetryPolicy = DEFAULT_BETTINGPROS_RETRY,
        recorder: CallRecorder | None = None,
        sleep: Sleep = time.sleep,
        location: str = "ALL",
        max_pages: int = DEFAULT_MAX_PAGES,
        seed: int | None = None,
    ):
        self.location = location
        self.max_pages = max_pages
        self._api = ApiClient(
            "bettingpros",
            base_url,
            headers={"x-api-key": api_key},
            timeouts=timeouts,
            retry=retry,
            recorder=recorder,
            sleep=sleep,
            seed=seed,
        )

    @property
    def recorder(self) -> CallRecorder:
        return self._api.recorder

    def close(self) -> None:
        self._api.close()

    def __enter__(self) -> BettingProsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def events(self, day: date) -> BpPage:
        params = {"sport": "NBA", "date": day.isoformat()}
        response = self._api.get("/v3/events", endpoint="events", params=params)
        payload = response.json()
        if not isinstance(payload, dict) or not isinstance(payload.get("events"), list):
            raise _shape_error("events", params, "no 'events' list")
        return BpPage("bettingpros", "events", params, 1, response, payload)

    def offers_pages(
        self, event_ids: Sequence[int], market: str, *, limit: int = MAX_LIMIT
    ) -> Iterator[BpPage]:
        if market not in MARKET_IDS:
            raise ValueError(f"unknown market {market!r}; expected one of {sorted(MARKET_IDS)}")
        if not event_ids:
            return
        page = 1
        while True:
            if page > self.max_pages:
                raise PipelineError(
                    ErrorCategory.API,
                    f"BettingPros offers ({market}) did not finish within {self.max_pages} pages",
                    details={"endpoint": "offers", "market": market, "reason": "too_many_pages"},
                )
            params = {
                "sport": "NBA",
                "market_id": MARKET_IDS[market],
                "event_id": ":".join(str(e) for e in event_ids),
                "location": self.location,
                "limit": min(limit, MAX_LIMIT),
                "page": page,
            }
            response = self._api.get("/v3/offers", endpoint="offers", params=params)
            payload = response.json()
            if not isinstance(payload, dict) or not isinstance(payload.get("offers"), list):
                raise _shape_error("offers", params, "no 'offers' list")
            yield BpPage("bettingpros", "offers", {**params, "market": market}, page, response, payload)
            total = int((payload.get("_pagination") or {}).get("total_pages") or 1)
            if page >= total or not payload["offers"]:
                return
            page += 1


def _shape_error(endpoint: str, params: dict[str, Any], problem: str) -> PipelineError:
    return PipelineError(
        ErrorCategory.VALIDATION,
        f"BettingPros {endpoint}: unexpected payload ({problem})",
        details={"endpoint": endpoint, "params": params},
    )
