"""BallDontLie (BDL) NBA API client.

Real API (https://api.balldontlie.io):
* ``GET /v1/games?dates[]=YYYY-MM-DD&per_page=100&cursor=N`` — cursor paging: follow
  ``meta.next_cursor`` until it is absent; ``per_page`` is at most 100.
* ``GET /v1/box_scores?date=YYYY-MM-DD`` — every game's player lines for a date, one page.
* Auth: the key itself in ``Authorization`` — no "Bearer" prefix.
* Over the per-minute quota it answers 429 with ``{"error": ...}`` and *no* rate-limit
  headers, so retries rely on exponential backoff with jitter rather than server hints.

Timeouts, retries, Brotli, error classification and call metrics come from
:class:`~nba_notify.lib.clients.http.ApiClient`; this module adds the paths, auth and the
cursor loop with its guard.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from typing import Any

from nba_notify.lib.clients.http import ApiClient, CallRecorder, RetryPolicy, Sleep, Timeouts
from nba_notify.lib.clients.pages import Page
from nba_notify.lib.errors import ErrorCategory, PipelineError
from nba_notify.lib.ingest.payloads import BdlGamesEnvelope, validate

BDL_BASE_URL = "https://api.balldontlie.io"
MAX_PER_PAGE = 100
# A game day has at most 15 games: even at per_page=1 that is 15 pages. Anything far beyond
# means the cursor is not advancing the way we think.
DEFAULT_MAX_PAGES = 50
# BDL's quota is per minute (5/min on the free tier, 60 or 600 on paid ones) and its 429
# carries no reset hint: back off in seconds, not milliseconds.
DEFAULT_BDL_RETRY = RetryPolicy(max_attempts=4, base_delay=2.0, max_delay=30.0)
DEFAULT_BDL_TIMEOUTS = Timeouts()


class BdlClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeouts: Timeouts = DEFAULT_BDL_TIMEOUTS,
        retry: RetryPolicy = DEFAULT_BDL_RETRY,
        recorder: CallRecorder | None = None,
        sleep: Sleep = time.sleep,
        per_page: int = MAX_PER_PAGE,
        max_pages: int = DEFAULT_MAX_PAGES,
        seed: int | None = None,
    ):
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise ValueError(f"per_page must be within 1..{MAX_PER_PAGE}, got {per_page}")
        self.per_page = per_page
        self.max_pages = max_pages
        self._api = ApiClient(
            "bdl",
            base_url,
            headers={"Authorization": api_key},
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

    def __enter__(self) -> BdlClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def games_pages(self, game_date: date, *, per_page: int | None = None) -> Iterator[Page]:
        """Every page of one date's games, following ``meta.next_cursor``. Raises
        ``PipelineError(API)`` if a cursor repeats or the pages exceed ``max_pages``, rather
        than looping (and spending quota) forever."""
        size = per_page or self.per_page
        seen: set[str] = set()
        cursor: int | str | None = None
        page_number = 0
        while True:
            page_number += 1
            if page_number > self.max_pages:
                raise _paging_error(
                    f"BDL games for {game_date} did not finish within {self.max_pages} pages",
                    game_date,
                    cursor,
                    page_number - 1,
                    reason="too_many_pages",
                )
            params: dict[str, Any] = {"dates[]": [game_date.isoformat()], "per_page": size}
            if cursor is not None:
                params["cursor"] = cursor
            response = self._api.get("/v1/games", endpoint="games", params=params)
            payload = response.json()
            envelope = validate(BdlGamesEnvelope, payload, source=f"bdl games page {page_number}")
            yield Page("bdl", "games", params, page_number, response, payload)
            next_cursor = envelope.meta.next_cursor
            if next_cursor is None or next_cursor == "":
                return
            if cursor is not None:
                seen.add(str(cursor))
            if str(next_cursor) in seen:
                raise _paging_error(
                    f"BDL games for {game_date}: cursor {next_cursor!r} repeated on page {page_number}",
                    game_date,
                    next_cursor,
                    page_number,
                    reason="repeated_cursor",
                )
            cursor = next_cursor

    def games(self, game_date: date, *, per_page: int | None = None) -> list[Page]:
        return list(self.games_pages(game_date, per_page=per_page))

    def box_scores(self, game_date: date) -> Page:
        params = {"date": game_date.isoformat()}
        response = self._api.get("/v1/box_scores", endpoint="box_scores", params=params)
        return Page("bdl", "box_scores", params, 1, response, response.json())


def _paging_error(message: str, game_date: date, cursor: object, pages: int, *, reason: str) -> PipelineError:
    return PipelineError(
        ErrorCategory.API,
        message,
        details={
            "endpoint": "games",
            "game_date": game_date.isoformat(),
            "cursor": cursor,
            "pages_fetched": pages,
            "reason": reason,
        },
    )
