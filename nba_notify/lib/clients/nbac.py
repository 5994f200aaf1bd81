"""NBA.com client: the league schedule and per-game live box scores.

Real endpoints:
* current season: ``GET https://cdn.nba.com/static/json/staticData/scheduleLeagueV2.json``
  — a static file holding only the season currently published (several MB, ETag'd);
* any season: ``GET https://stats.nba.com/stats/scheduleleaguev2?LeagueID=00&Season=2025-26``
  — same ``leagueSchedule`` shape; stats.nba.com rejects or stalls requests without
  browser-like ``User-Agent``/``Referer``/``Origin`` headers;
* box score: ``GET https://cdn.nba.com/static/json/liveData/boxscore/boxscore_{gameId}.json``
  — before the game has data the CDN answers 403 (S3 ``AccessDenied`` XML) or 404.

Two hosts, two settings: ``base_url`` is the CDN (``NBAC_BASE_URL``), ``stats_base_url`` the
stats host (``NBAC_STATS_BASE_URL``) — the CDN does not serve the stats path. The simulator
serves them under ``/nbac`` and ``/nbac-stats``.

The schedule file is shared by every date of a season, so it is fetched through a
:class:`~nba_notify.lib.clients.http.ResponseCache` (ETag revalidation, optionally a
``max_age``): a 180-date backfill downloads it once and gets 304s afterwards, and the
recorder's cache-hit ratio shows it. Its decoded JSON is memoised per cached body as well, so
it is not re-parsed per date.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from nba_notify.lib.clients.http import (
    ApiClient,
    ApiResponse,
    CallRecorder,
    ResponseCache,
    RetryPolicy,
    Sleep,
    Timeouts,
)
from nba_notify.lib.clients.pages import Page
from nba_notify.lib.clock import Clock, SystemClock
from nba_notify.lib.errors import ErrorCategory, PipelineError
from nba_notify.lib.ingest.parse import EASTERN, season_for_date
from nba_notify.lib.ingest.payloads import NbacScheduleSeasonOnly, nba_game_id, validate

NBAC_STATS_BASE_URL = "https://stats.nba.com"
CDN_SCHEDULE_PATH = "/static/json/staticData/scheduleLeagueV2.json"
STATS_SCHEDULE_PATH = "/stats/scheduleleaguev2"
BOX_SCORE_PATH = "/static/json/liveData/boxscore/boxscore_{game_id}.json"
# Seconds a cached schedule is served without asking. 0 = always revalidate by ETag: a 304
# costs one small round trip, and a postponement or moved tip-off is seen at once — also when
# "now" is the simulator's clock, which can jump hours ahead within one real second (a
# time-based max_age would then serve yesterday's statuses). Raise it only for a real CDN and
# a long backfill.
DEFAULT_SCHEDULE_MAX_AGE = 0.0

DEFAULT_TIMEOUTS = Timeouts()
DEFAULT_RETRY = RetryPolicy()

# What a browser on www.nba.com sends; the CDN accepts it, stats.nba.com requires it.
BROWSER_HEADERS = {
    "User-Agent": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/124.0 Safari/537.36"
    ),
    "Referer": "https://www.nba.com/",
    "Origin": "https://www.nba.com",
    "Accept": "application/json, text/plain, */*",
    "Accept-Language": "en-US,en;q=0.9",
}
# stats.nba.com also looks for the headers its own web app sends (as swar/nba_api does).
STATS_HEADERS = {**BROWSER_HEADERS, "x-nba-stats-origin": "stats", "x-nba-stats-token": "true"}

__all__ = ["BROWSER_HEADERS", "STATS_HEADERS", "NbacClient", "season_for_date", "season_param"]


def season_param(season_start_year: int) -> str:
    """2025 -> "2025-26" (stats.nba.com's ``Season``)."""
    return f"{season_start_year}-{(season_start_year + 1) % 100:02d}"


class NbacClient:
    def __init__(
        self,
        base_url: str,
        *,
        stats_base_url: str,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        retry: RetryPolicy = DEFAULT_RETRY,
        recorder: CallRecorder | None = None,
        cache: ResponseCache | None = None,
        sleep: Sleep = time.sleep,
        clock: Clock | None = None,
        seed: int | None = None,
    ):
        recorder = recorder or CallRecorder()
        self.cache = cache if cache is not None else ResponseCache(max_age=DEFAULT_SCHEDULE_MAX_AGE)
        self._clock = clock or SystemClock()
        common: dict[str, Any] = dict(
            timeouts=timeouts, retry=retry, recorder=recorder, cache=self.cache, sleep=sleep, seed=seed
        )
        self._cdn = ApiClient("nbac", base_url, headers=BROWSER_HEADERS, **common)
        self._stats = ApiClient("nbac", stats_base_url, headers=STATS_HEADERS, **common)
        self._decoded_lock = threading.Lock()
        self._decoded: dict[str, tuple[bytes, Any]] = {}

    @property
    def recorder(self) -> CallRecorder:
        return self._cdn.recorder

    def close(self) -> None:
        self._cdn.close()
        self._stats.close()

    def __enter__(self) -> NbacClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # The NBA calendar rule, also reachable from a client instance (callers that hold only
    # the client pick the season of a game day with it).
    season_for_date = staticmethod(season_for_date)

    def current_season(self) -> int:
        """The season the clock is in (the simulator's clock in tests and the demo)."""
        return season_for_date(self._clock.now().astimezone(EASTERN).date())

    def schedule(self, season_start_year: int, *, current_season_start_year: int | None = None) -> Page:
        """The whole season's ``leagueSchedule``. The current season comes from the CDN file
        (static, cacheable, no quota); other seasons — or the current one while the CDN file
        still/already holds a different season around the August switch-over — from the
        stats route."""
        current = (
            current_season_start_year if current_season_start_year is not None else self.current_season()
        )
        if season_start_year == current:
            page = self._cdn_schedule(season_start_year)
            held = validate(NbacScheduleSeasonOnly, page.payload, source="nbac schedule")
            if held.leagueSchedule.seasonYear == season_start_year:
                return page
        return self._stats_schedule(season_start_year)

    def box_score(self, game_id: str) -> Page | None:
        """A game's live box score, or ``None`` while NBA.com has none for it yet."""
        try:
            game_id = nba_game_id(game_id)
        except ValueError as exc:
            raise PipelineError(
                ErrorCategory.VALIDATION, f"nbac box score: {exc}", details={"game_id": game_id}
            ) from None
        try:
            response = self._cdn.get(BOX_SCORE_PATH.format(game_id=game_id), endpoint="box_score")
        except PipelineError as error:
            if _not_published_yet(error):
                return None
            raise
        return Page("nbac", "box_score", {"game_id": game_id}, 1, response, response.json())

    # -- internals -------------------------------------------------------------------------

    def _cdn_schedule(self, season_start_year: int) -> Page:
        response = self._cdn.get(CDN_SCHEDULE_PATH, endpoint="schedule", use_cache=True)
        payload = self._decode(f"cdn:{CDN_SCHEDULE_PATH}", response)
        return Page("nbac", "schedule", {"season": season_start_year, "route": "cdn"}, 1, response, payload)

    def _stats_schedule(self, season_start_year: int) -> Page:
        params = {"LeagueID": "00", "Season": season_param(season_start_year)}
        response = self._stats.get(STATS_SCHEDULE_PATH, endpoint="schedule", params=params, use_cache=True)
        payload = self._decode(f"stats:{params['Season']}", response)
        page_params = {"season": season_start_year, "route": "stats", **params}
        return Page("nbac", "schedule", page_params, 1, response, payload)

    def _decode(self, key: str, response: ApiResponse) -> Any:
        """Decode once per body: a cache hit hands back the very same ``bytes`` object, so
        identity tells us the memoised payload is still the one for this body. Callers must
        treat the payload as read-only."""
        with self._decoded_lock:
            memo = self._decoded.get(key)
            if memo is not None and memo[0] is response.content:
                return memo[1]
        payload = response.json()
        with self._decoded_lock:
            self._decoded[key] = (response.content, payload)
        return payload


def _not_published_yet(error: PipelineError) -> bool:
    """404, or the S3-style 403 ``AccessDenied`` the CDN serves for a key that does not exist
    yet. Any other 403 (e.g. an HTML "Access Denied" bot block) stays an AUTH error."""
    if error.status_code == 404:
        return True
    body = str(error.details.get("body", ""))
    return error.status_code == 403 and "<Code>AccessDenied</Code>" in body
