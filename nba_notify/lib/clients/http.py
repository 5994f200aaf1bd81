"""The HTTP discipline every upstream client shares.

* separate connect / read / write / pool timeouts;
* retries with exponential backoff and full jitter, honouring ``Retry-After`` and
  ``X-RateLimit-Reset`` hints on 429/503;
* non-idempotent calls are never retried once the request may have reached the server
  (a timed-out Braze *create* may have succeeded: retrying could schedule a second push);
* Brotli/gzip bodies decoded by httpx (``brotli`` installed, ``Accept-Encoding`` advertised);
* conditional GETs with ETags (``ResponseCache``) so unchanged files cost a 304;
* every failure classified into :class:`~nba_notify.lib.errors.PipelineError`;
* every attempt recorded in a :class:`CallRecorder` (API calls, retries, latency percentiles,
  cache hit ratio) that assets report as metadata.
"""

from __future__ import annotations

import email.utils
import functools
import json
import random
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from nba_notify.lib.errors import ErrorCategory, PipelineError

ACCEPT_ENCODING = "br, gzip, deflate"


@dataclass(frozen=True)
class Timeouts:
    connect: float = 5.0
    read: float = 30.0
    write: float = 10.0
    pool: float = 5.0

    def to_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    # A server asking us to wait longer than this is treated as a failure to report, not a
    # pause to sit through (the retry queue will come back later).
    max_retry_after: float = 120.0
    retry_statuses: frozenset[int] = frozenset({429, 500, 502, 503, 504})

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full jitter: uniform in [0, min(max_delay, base * 2**(attempt-1))]."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return rng.uniform(0, ceiling)


@dataclass
class CallStat:
    api: str
    endpoint: str
    method: str
    status: int | None
    elapsed_ms: float
    attempt: int
    cache_hit: bool = False
    error_category: str | None = None


class CallRecorder:
    """Thread-safe record of every HTTP attempt made through a client."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[CallStat] = []

    def record(self, stat: CallStat) -> None:
        with self._lock:
            self._calls.append(stat)

    @property
    def calls(self) -> list[CallStat]:
        with self._lock:
            return list(self._calls)

    def mark(self) -> int:
        """A position to summarise from (``summary(since=mark)``) for one unit of work."""
        with self._lock:
            return len(self._calls)

    def summary(self, since: int = 0) -> dict[str, float | int]:
        calls = self.calls[since:]
        network = [c for c in calls if not (c.cache_hit and c.status is None)]
        latencies = sorted(c.elapsed_ms for c in network)
        cacheable = [c for c in calls if c.cache_hit or c.status in (200, 304)]
        return {
            "api_calls": len(network),
            "api_retries": sum(1 for c in calls if c.attempt > 1),
            "api_errors": sum(1 for c in calls if c.error_category is not None),
            "api_p50_ms": round(_percentile(latencies, 0.50), 2),
            "api_p95_ms": round(_percentile(latencies, 0.95), 2),
            "cache_hits": sum(1 for c in calls if c.cache_hit),
            "cache_hit_ratio": round(sum(1 for c in cacheable if c.cache_hit) / len(cacheable), 4)
            if cacheable
            else 0.0,
        }


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


@dataclass
class CachedBody:
    etag: str
    content: bytes
    headers: dict[str, str]
    stored_at: float


class ResponseCache:
    """ETag cache for conditional GETs; ``max_age`` additionally serves a fresh entry with no
    request at all (a full-season schedule file read by 180 partitions of one backfill)."""

    def __init__(self, max_age: float = 0.0):
        self.max_age = max_age
        self._lock = threading.Lock()
        self._entries: dict[str, CachedBody] = {}

    def get(self, key: str) -> CachedBody | None:
        with self._lock:
            return self._entries.get(key)

    def put(self, key: str, entry: CachedBody) -> None:
        with self._lock:
            self._entries[key] = entry

    def fresh(self, entry: CachedBody) -> bool:
        return self.max_age > 0 and (time.monotonic() - entry.stored_at) < self.max_age


@dataclass
class ApiResponse:
    url: str
    status: int
    headers: Mapping[str, str]
    content: bytes
    elapsed_ms: float
    attempts: int
    from_cache: bool = False
    _json: Any = field(default=None, repr=False)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        if self._json is None:
            self._json = decode_json(self.content, url=self.url, status=self.status)
        return self._json


def decode_json(content: bytes, *, url: str, status: int) -> Any:
    try:
        return json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        snippet = content[:200].decode("utf-8", errors="replace")
        raise PipelineError(
            ErrorCategory.VALIDATION,
            f"response from {url} is not valid JSON ({exc}); {len(content)} bytes received",
            details={"url": url, "body_start": snippet, "bytes": len(content), "reason": "invalid_json"},
            status_code=status,
        ) from exc


Sleep = Callable[[float], None]


@functools.cache
def shared_tls_context() -> ssl.SSLContext:
    """One verifying TLS context for every client. httpx otherwise builds one per client,
    loading the whole CA bundle each time (~0.2 s): a run creates a client per resource and
    step, so that was seconds per run. An SSLContext is safe to share across clients."""
    return httpx.create_ssl_context()


class ApiClient:
    """One upstream API: base URL, auth headers, timeouts, retry policy, metrics."""

    def __init__(
        self,
        api: str,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeouts: Timeouts = Timeouts(),
        retry: RetryPolicy = RetryPolicy(),
        recorder: CallRecorder | None = None,
        cache: ResponseCache | None = None,
        sleep: Sleep = time.sleep,
        seed: int | None = None,
    ):
        self.api = api
        self.base_url = base_url.rstrip("/")
        self.retry = retry
        self.recorder = recorder or CallRecorder()
        self.cache = cache
        self._sleep = sleep
        self._rng = random.Random(seed)
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Accept-Encoding": ACCEPT_ENCODING, "Accept": "application/json", **(headers or {})},
            timeout=timeouts.to_httpx(),
            verify=shared_tls_context(),
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public ---------------------------------------------------------------------------

    def get(
        self,
        path: str,
        *,
        endpoint: str,
        params: Any = None,
        ok_statuses: Iterable[int] = (200,),
        expect_json: bool = True,
        use_cache: bool = False,
    ) -> ApiResponse:
        """Idempotent GET: retried on network errors, timeouts, 429/5xx and invalid JSON."""
        return self._send(
            "GET",
            path,
            endpoint=endpoint,
            params=params,
            ok_statuses=frozenset(ok_statuses),
            idempotent=True,
            expect_json=expect_json,
            use_cache=use_cache,
        )

    def post(
        self,
        path: str,
        *,
        endpoint: str,
        json_body: Any,
        ok_statuses: Iterable[int] = (200, 201),
        idempotent: bool = False,
    ) -> ApiResponse:
        """POST. Unless ``idempotent``, only retried when the server provably did not apply
        it: the connection was never made, or it answered 429."""
        return self._send(
            "POST",
            path,
            endpoint=endpoint,
            json_body=json_body,
            ok_statuses=frozenset(ok_statuses),
            idempotent=idempotent,
            expect_json=True,
        )

    # -- internals ------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        *,
        endpoint: str,
        ok_statuses: frozenset[int],
        idempotent: bool,
        expect_json: bool,
        params: Any = None,
        json_body: Any = None,
        use_cache: bool = False,
    ) -> ApiResponse:
        url = f"{self.base_url}{path}"
        cache_key = str(httpx.URL(url, params=params)) if use_cache and self.cache else None
        cached = self.cache.get(cache_key) if cache_key and self.cache else None
        if cached is not None and self.cache is not None and self.cache.fresh(cached):
            self.recorder.record(CallStat(self.api, endpoint, method, None, 0.0, 1, cache_hit=True))
            return ApiResponse(url, 200, cached.headers, cached.content, 0.0, 0, from_cache=True)

        attempt = 0
        while True:
            attempt += 1
            headers = {"If-None-Match": cached.etag} if cached is not None else None
            started = time.perf_counter()
            try:
                response = self._http.request(method, path, params=params, json=json_body, headers=headers)
                content = response.content  # decodes br/gzip; may raise on a broken stream
            except httpx.HTTPError as exc:
                elapsed = (time.perf_counter() - started) * 1000
                error = _classify_transport_error(exc, url=url, method=method)
                self.recorder.record(
                    CallStat(
                        self.api, endpoint, method, None, elapsed, attempt, error_category=str(error.category)
                    )
                )
                never_sent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
                if (idempotent or never_sent) and attempt < self.retry.max_attempts:
                    self._sleep(self.retry.backoff(attempt, self._rng))
                    continue
                error.details.update({"attempts": attempt, "possibly_applied": not never_sent})
                raise error from exc

            elapsed = (time.perf_counter() - started) * 1000
            status = response.status_code
            if status == 304 and cached is not None and self.cache is not None:
                self.recorder.record(
                    CallStat(self.api, endpoint, method, status, elapsed, attempt, cache_hit=True)
                )
                cached.stored_at = time.monotonic()
                return ApiResponse(
                    url, 200, cached.headers, cached.content, elapsed, attempt, from_cache=True
                )

            if status in ok_statuses:
                result = ApiResponse(url, status, dict(response.headers), content, elapsed, attempt)
                if expect_json and status != 204:
                    try:
                        result.json()
                    except PipelineError as error:
                        self.recorder.record(
                            CallStat(
                                self.api,
                                endpoint,
                                method,
                                status,
                                elapsed,
                                attempt,
                                error_category=str(error.category),
                            )
                        )
                        if idempotent and attempt < self.retry.max_attempts:
                            self._sleep(self.retry.backoff(attempt, self._rng))
                            continue
                        error.details["attempts"] = attempt
                        raise
                self.recorder.record(CallStat(self.api, endpoint, method, status, elapsed, attempt))
                etag = response.headers.get("etag")
                if cache_key and etag and self.cache is not None:
                    self.cache.put(
                        cache_key, CachedBody(etag, content, dict(response.headers), time.monotonic())
                    )
                return result

            error = classify_status(status, response.headers, content, url=url, method=method)
            self.recorder.record(
                CallStat(
                    self.api, endpoint, method, status, elapsed, attempt, error_category=str(error.category)
                )
            )
            retryable_status = status in self.retry.retry_statuses
            # 429 means "not applied"; a 5xx on a non-idempotent call might have been applied.
            may_retry = retryable_status and (idempotent or status == 429)
            # Retry-After is a hint on 429 and 503; X-RateLimit-Reset (on every Braze answer)
            # only means "wait" when the answer is a 429 — a 5xx must not wait for the hour.
            hint = (
                retry_after_seconds(response.headers, use_ratelimit_reset=status == 429)
                if status in (429, 503)
                else None
            )
            if hint is not None and hint > self.retry.max_retry_after:
                may_retry = False
            if may_retry and attempt < self.retry.max_attempts:
                delay = self.retry.backoff(attempt, self._rng)
                if hint is not None:
                    delay = max(delay, hint)
                self._sleep(min(delay, self.retry.max_retry_after))
                continue
            error.details.update({"attempts": attempt, "retry_after_seconds": hint})
            raise error


def retry_after_seconds(
    headers: Mapping[str, str], now: float | None = None, *, use_ratelimit_reset: bool = True
) -> float | None:
    """Seconds to wait from ``Retry-After`` (delta or HTTP date) or ``X-RateLimit-Reset``
    (epoch seconds, Braze)."""
    now = time.time() if now is None else now
    value = headers.get("retry-after") or headers.get("Retry-After")
    if value:
        value = value.strip()
        if value.replace(".", "", 1).isdigit():
            return max(0.0, float(value))
        try:
            parsed = email.utils.parsedate_to_datetime(value)
            return max(0.0, parsed.timestamp() - now)
        except (TypeError, ValueError):
            pass
    reset = headers.get("x-ratelimit-reset") or headers.get("X-RateLimit-Reset")
    if reset and use_ratelimit_reset:
        try:
            return max(0.0, float(reset) - now)
        except ValueError:
            return None
    return None


def classify_status(
    status: int, headers: Mapping[str, str], content: bytes, *, url: str, method: str
) -> PipelineError:
    body = content[:500].decode("utf-8", errors="replace")
    details = {"url": url, "method": method, "status": status, "body": body}
    if status in (401, 403):
        return PipelineError(
            ErrorCategory.AUTH, f"{method} {url} rejected credentials ({status})", details, status
        )
    if status == 429:
        return PipelineError(ErrorCategory.RATE_LIMIT, f"{method} {url} rate limited (429)", details, status)
    if status in (408, 504):
        return PipelineError(
            ErrorCategory.TIMEOUT, f"{method} {url} upstream timeout ({status})", details, status
        )
    return PipelineError(ErrorCategory.API, f"{method} {url} returned HTTP {status}", details, status)


def _classify_transport_error(exc: httpx.HTTPError, *, url: str, method: str) -> PipelineError:
    details: dict[str, Any] = {"url": url, "method": method, "exception": type(exc).__name__}
    if isinstance(exc, httpx.TimeoutException):
        phase = {
            httpx.ConnectTimeout: "connect",
            httpx.ReadTimeout: "read",
            httpx.WriteTimeout: "write",
            httpx.PoolTimeout: "pool",
        }.get(type(exc), "unknown")
        details["phase"] = phase
        return PipelineError(ErrorCategory.TIMEOUT, f"{method} {url} timed out ({phase})", details)
    if isinstance(exc, httpx.DecodingError):
        return PipelineError(
            ErrorCategory.VALIDATION, f"{method} {url} sent an undecodable body: {exc}", details
        )
    return PipelineError(
        ErrorCategory.NETWORK, f"{method} {url} failed: {type(exc).__name__}: {exc}", details
    )
