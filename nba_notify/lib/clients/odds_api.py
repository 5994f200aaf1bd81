"""The Odds API (v4) client: events, per-event odds (player props), featured game lines and
the historical snapshots of both, with the quota discipline the API's pricing demands.

Real API (https://api.the-odds-api.com, docs: the-odds-api.com/liveapi/guides/v4):
* ``GET /v4/sports/{sport}/events`` — upcoming and live events (``id``, ``commence_time``,
  ``home_team``, ``away_team`` as full names); ``commenceTimeFrom``/``commenceTimeTo`` filter
  (ISO 8601, ``YYYY-MM-DDTHH:MM:SSZ``). Costs nothing.
* ``GET /v4/sports/{sport}/events/{eventId}/odds?regions=&markets=&oddsFormat=`` — one event,
  any market, player props included (``player_points`` ...: outcomes ``Over``/``Under`` with the
  player's name in ``description`` and the line in ``point``). Costs
  ``unique markets returned x regions``; nothing if nothing is returned.
* ``GET /v4/sports/{sport}/odds?regions=&markets=h2h,spreads,totals`` — every event's featured
  markets in one call (player markets are refused here with 422). Costs ``markets x regions``.
* ``GET /v4/historical/sports/{sport}/events?date=`` (cost 1, 0 when empty),
  ``.../historical/sports/{sport}/events/{eventId}/odds?date=`` and
  ``.../historical/sports/{sport}/odds?date=`` (10 x markets x regions): the snapshot at or
  before ``date``, wrapped as ``{timestamp, previous_timestamp, next_timestamp, data}``.
* The key is the ``apiKey`` **query parameter**. Every answer carries ``x-requests-remaining``,
  ``x-requests-used`` (credits since the period started) and ``x-requests-last`` (this call).
* Errors are ``{"message", "error_code", "details_url"}``: 401 ``MISSING_KEY`` /
  ``INVALID_KEY`` / ``DEACTIVATED_KEY`` and — also 401 — ``OUT_OF_USAGE_CREDITS`` once the
  period's credits are spent; 422 for invalid parameters (``INVALID_MARKET``, ...); 429
  ``EXCEEDED_FREQ_LIMIT`` (about 30 calls/s; retried with backoff).

Because the key travels in the URL it must never reach a log line, an error message, a stored
request or run metadata: stored params never include it, errors are scrubbed, and httpx's own
request log line is redacted (:class:`RedactApiKeyFilter`).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from nba_notify.lib.clients.http import ApiClient, ApiResponse, CallRecorder, RetryPolicy, Sleep, Timeouts
from nba_notify.lib.errors import ErrorCategory, PipelineError

ODDS_API_BASE_URL = "https://api.the-odds-api.com"
SPORT = "basketball_nba"
PLAYER_MARKETS = ("player_points", "player_rebounds", "player_assists")
GAME_LINE_MARKETS = ("h2h", "spreads", "totals")
DEFAULT_REGIONS = ("us",)
HISTORICAL_MULTIPLIER = 10
# Frequency limit (429) is about 30 calls a second: back off briefly, not for minutes.
DEFAULT_ODDS_API_TIMEOUTS = Timeouts(connect=5.0, read=30.0)
DEFAULT_ODDS_API_RETRY = RetryPolicy(max_attempts=4, base_delay=0.5, max_delay=8.0)

_KEY_IN_URL = re.compile(r"(apiKey=)[^&\s\"']+", re.IGNORECASE)


def redact(text: str, key: str | None = None) -> str:
    """``text`` with every ``apiKey=...`` value (and the key itself, anywhere) masked."""
    text = _KEY_IN_URL.sub(r"\1***", text)
    if key:
        text = text.replace(key, "***")
    return text


class RedactApiKeyFilter(logging.Filter):
    """httpx logs ``HTTP Request: GET <full url>`` at INFO: mask the key in that line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(redact(str(a)) if "apiKey" in str(a) else a for a in record.args)
        if isinstance(record.msg, str) and "apiKey" in record.msg:
            record.msg = redact(record.msg)
        return True


_FILTER = RedactApiKeyFilter()
for _name in ("httpx", "httpcore"):
    if _FILTER not in logging.getLogger(_name).filters:
        logging.getLogger(_name).addFilter(_FILTER)


# -- cost model (what the planner knows before calling) ---------------------------------------


def call_cost(markets: Sequence[str], regions: Sequence[str], *, historical: bool = False) -> int:
    """Credits an odds call costs at most: markets x regions (x10 for a historical snapshot).
    The API bills only markets actually returned, so this is an upper bound."""
    return len(set(markets)) * len(set(regions)) * (HISTORICAL_MULTIPLIER if historical else 1)


def events_cost(*, historical: bool) -> int:
    """The live events list is free; a historical events snapshot costs 1 (0 when empty)."""
    return 1 if historical else 0


# -- quota headers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class QuotaReading:
    """The quota headers of one answer."""

    endpoint: str
    params: Mapping[str, Any]
    status: int
    remaining: int | None
    used: int | None
    last: int | None
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    try:
        return int(float(value)) if value not in (None, "") else None
    except ValueError:
        return None


def quota_reading(response: ApiResponse, endpoint: str, params: Mapping[str, Any]) -> QuotaReading:
    headers = {k.lower(): v for k, v in response.headers.items()}
    return QuotaReading(
        endpoint=endpoint,
        params=dict(params),
        status=response.status,
        remaining=_int_header(headers, "x-requests-remaining"),
        used=_int_header(headers, "x-requests-used"),
        last=_int_header(headers, "x-requests-last"),
    )


@dataclass(frozen=True)
class OddsPage:
    """One answer, in the shape the raw store keeps (``params`` never hold the key)."""

    source: str
    endpoint: str
    params: Mapping[str, Any]
    page_number: int
    response: ApiResponse
    payload: Any
    quota: QuotaReading

    @property
    def content(self) -> bytes:
        return self.response.content


# -- the client -------------------------------------------------------------------------------


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class OddsApiClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        sport: str = SPORT,
        timeouts: Timeouts = DEFAULT_ODDS_API_TIMEOUTS,
        retry: RetryPolicy = DEFAULT_ODDS_API_RETRY,
        recorder: CallRecorder | None = None,
        sleep: Sleep = time.sleep,
        seed: int | None = None,
    ):
        self.sport = sport
        self._key = api_key
        self._api = ApiClient(
            "odds_api", base_url, timeouts=timeouts, retry=retry, recorder=recorder, sleep=sleep, seed=seed
        )
        self.readings: list[QuotaReading] = []

    @property
    def recorder(self) -> CallRecorder:
        return self._api.recorder

    def close(self) -> None:
        self._api.close()

    def __enter__(self) -> OddsApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def last_remaining(self) -> int | None:
        """Credits left as of the latest answer that said so."""
        return next((r.remaining for r in reversed(self.readings) if r.remaining is not None), None)

    # endpoints ---------------------------------------------------------------------------

    def events(self, commence_from: datetime | None = None, commence_to: datetime | None = None) -> OddsPage:
        params: dict[str, Any] = {"dateFormat": "iso"}
        if commence_from is not None:
            params["commenceTimeFrom"] = _iso(commence_from)
        if commence_to is not None:
            params["commenceTimeTo"] = _iso(commence_to)
        return self._get(f"/v4/sports/{self.sport}/events", "events", params)

    def event_odds(
        self,
        event_id: str,
        markets: Sequence[str] = PLAYER_MARKETS,
        regions: Sequence[str] = DEFAULT_REGIONS,
        odds_format: str = "american",
    ) -> OddsPage:
        params = {
            "regions": ",".join(regions),
            "markets": ",".join(markets),
            "oddsFormat": odds_format,
            "dateFormat": "iso",
        }
        return self._get(
            f"/v4/sports/{self.sport}/events/{event_id}/odds",
            "event_odds",
            params,
            extra={"event_id": event_id},
        )

    def odds(
        self,
        markets: Sequence[str] = GAME_LINE_MARKETS,
        regions: Sequence[str] = DEFAULT_REGIONS,
        odds_format: str = "american",
        commence_from: datetime | None = None,
        commence_to: datetime | None = None,
    ) -> OddsPage:
        params: dict[str, Any] = {
            "regions": ",".join(regions),
            "markets": ",".join(markets),
            "oddsFormat": odds_format,
            "dateFormat": "iso",
        }
        if commence_from is not None:
            params["commenceTimeFrom"] = _iso(commence_from)
        if commence_to is not None:
            params["commenceTimeTo"] = _iso(commence_to)
        return self._get(f"/v4/sports/{self.sport}/odds", "odds", params)

    def historical_events(
        self, at: datetime, commence_from: datetime | None = None, commence_to: datetime | None = None
    ) -> OddsPage:
        params: dict[str, Any] = {"date": _iso(at), "dateFormat": "iso"}
        if commence_from is not None:
            params["commenceTimeFrom"] = _iso(commence_from)
        if commence_to is not None:
            params["commenceTimeTo"] = _iso(commence_to)
        return self._get(f"/v4/historical/sports/{self.sport}/events", "historical_events", params)

    def historical_event_odds(
        self,
        event_id: str,
        at: datetime,
        markets: Sequence[str] = PLAYER_MARKETS,
        regions: Sequence[str] = DEFAULT_REGIONS,
        odds_format: str = "american",
    ) -> OddsPage:
        params = {
            "date": _iso(at),
            "regions": ",".join(regions),
            "markets": ",".join(markets),
            "oddsFormat": odds_format,
            "dateFormat": "iso",
        }
        return self._get(
            f"/v4/historical/sports/{self.sport}/events/{event_id}/odds",
            "historical_event_odds",
            params,
            extra={"event_id": event_id},
        )

    def historical_odds(
        self,
        at: datetime,
        markets: Sequence[str] = GAME_LINE_MARKETS,
        regions: Sequence[str] = DEFAULT_REGIONS,
        odds_format: str = "american",
        commence_from: datetime | None = None,
        commence_to: datetime | None = None,
    ) -> OddsPage:
        params: dict[str, Any] = {
            "date": _iso(at),
            "regions": ",".join(regions),
            "markets": ",".join(markets),
            "oddsFormat": odds_format,
            "dateFormat": "iso",
        }
        if commence_from is not None:
            params["commenceTimeFrom"] = _iso(commence_from)
        if commence_to is not None:
            params["commenceTimeTo"] = _iso(commence_to)
        return self._get(f"/v4/historical/sports/{self.sport}/odds", "historical_odds", params)

    # internals ---------------------------------------------------------------------------

    def _get(
        self, path: str, endpoint: str, params: dict[str, Any], extra: Mapping[str, Any] | None = None
    ) -> OddsPage:
        stored = {**(extra or {}), **params}
        try:
            response = self._api.get(path, endpoint=endpoint, params={**params, "apiKey": self._key})
        except PipelineError as error:
            raise self._classified(error, endpoint) from None
        reading = quota_reading(response, endpoint, stored)
        self.readings.append(reading)
        return OddsPage("odds_api", endpoint, stored, 1, response, response.json(), reading)

    def _classified(self, error: PipelineError, endpoint: str) -> PipelineError:
        """The API's own error code decides the class: a spent quota is not a bad key."""
        body = str(error.details.get("body") or "")
        code = _error_code(body)
        details = {**_scrub(error.details, self._key), "endpoint": endpoint, "error_code": code}
        message = redact(error.message, self._key)
        if code == "OUT_OF_USAGE_CREDITS":
            return PipelineError(
                ErrorCategory.RATE_LIMIT,
                f"The Odds API usage credits are spent (401 OUT_OF_USAGE_CREDITS) on {endpoint}",
                details={**details, "reason": "out_of_usage_credits"},
                status_code=error.status_code,
                recovery="The plan's credits for this period are used up: wait for the monthly reset or "
                "upgrade the plan; retrying before then cannot succeed.",
            )
        if error.status_code == 422:
            return PipelineError(
                ErrorCategory.VALIDATION,
                f"The Odds API refused the parameters of {endpoint} (422 {code or 'unprocessable'})",
                details=details,
                status_code=422,
                recovery="A market, region or date the endpoint does not accept: fix the request "
                "(e.g. player markets only on the per-event odds endpoint).",
            )
        error = PipelineError(
            error.category, message, details, error.status_code, error.severity, error.recovery
        )
        if error.category is ErrorCategory.AUTH:
            error.recovery = (
                f"The Odds API rejected the key ({code or error.status_code}): set ODDS_API_KEY to an active "
                "key; retrying cannot fix this."
            )
        return error


def _error_code(body: str) -> str | None:
    match = re.search(r'"error_code"\s*:\s*"([A-Z_]+)"', body)
    return match.group(1) if match else None


def _scrub(value: Any, key: str) -> Any:
    if isinstance(value, str):
        return redact(value, key)
    if isinstance(value, Mapping):
        return {k: _scrub(v, key) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(v, key) for v in value]
    return value
