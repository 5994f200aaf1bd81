"""The shared HTTP discipline, against a real server on loopback with the simulator's own
fault machinery (no mocked transports)."""

from __future__ import annotations

import hashlib
import json
import time

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from nba_notify.lib.clients.http import (
    ApiClient,
    CallRecorder,
    ResponseCache,
    RetryPolicy,
    Timeouts,
    retry_after_seconds,
)
from nba_notify.lib.errors import ErrorCategory, PipelineError
from nba_notify.lib.web.serve import BackgroundServer
from nba_notify.sim.faults import Fault, FaultInjector, faulted

PAYLOAD = {"data": [{"id": i} for i in range(50)], "meta": {"per_page": 50}}


def _rate_limited(retry_after: float, limit: int) -> Response:
    return JSONResponse({"error": "Too many requests"}, status_code=429, headers={"Retry-After": "1"})


@pytest.fixture(scope="module")
def upstream():
    faults = FaultInjector(seed=1)
    posts: list[dict] = []

    async def items(request: Request) -> Response:
        return JSONResponse(PAYLOAD)

    async def etagged(request: Request) -> Response:
        body = json.dumps(PAYLOAD).encode()
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers={"ETag": etag})
        return Response(body, media_type="application/json", headers={"ETag": etag})

    async def create(request: Request) -> Response:
        posts.append(await request.json())
        return JSONResponse({"message": "success"}, status_code=201)

    app = Starlette(
        routes=[
            Route("/items", faulted(faults, "up.items", items, on_rate_limit=_rate_limited)),
            Route("/etag", faulted(faults, "up.etag", etagged, on_rate_limit=_rate_limited)),
            Route(
                "/create",
                faulted(faults, "up.create", create, on_rate_limit=_rate_limited),
                methods=["POST"],
            ),
        ]
    )

    async def with_hourly_reset(scope, receive, send):
        """Like Braze: every answer says when the hourly rate-limit window resets (429s are left
        to the tests that set their own hints)."""

        async def send_with_header(message):
            if message["type"] == "http.response.start" and message["status"] != 429:
                reset = str(int(time.time()) + 3000).encode()
                message = {**message, "headers": [*message.get("headers", []), (b"x-ratelimit-reset", reset)]}
            await send(message)

        await app(scope, receive, send_with_header)

    with BackgroundServer(with_hourly_reset) as server:
        server.faults = faults  # type: ignore[attr-defined]
        server.posts = posts  # type: ignore[attr-defined]
        yield server


@pytest.fixture
def faults(upstream):
    upstream.faults.reset()
    upstream.posts.clear()
    return upstream.faults


def make_client(upstream, sleeps: list[float], **kwargs) -> ApiClient:
    return ApiClient(
        "up",
        upstream.url,
        timeouts=kwargs.pop("timeouts", Timeouts(connect=1, read=1)),
        retry=kwargs.pop("retry", RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05)),
        sleep=sleeps.append,
        seed=7,
        **kwargs,
    )


def test_transient_5xx_is_retried_then_succeeds(upstream, faults):
    faults.add(Fault("status", route="up.items", times=2, params={"code": 503}))
    sleeps: list[float] = []
    client = make_client(upstream, sleeps)
    response = client.get("/items", endpoint="items")
    assert response.json() == PAYLOAD
    assert response.attempts == 3
    assert len(sleeps) == 2
    summary = client.recorder.summary()
    assert summary["api_calls"] == 3 and summary["api_retries"] == 2 and summary["api_errors"] == 2


def test_5xx_is_retried_even_when_every_answer_advertises_an_hourly_rate_limit_reset(upstream, faults):
    # Braze puts X-RateLimit-Reset (the top of the hour) on every answer; only a 429 means wait.
    faults.add(Fault("status", route="up.items", times=1, params={"code": 503}))
    sleeps: list[float] = []
    client = make_client(upstream, sleeps)
    response = client.get("/items", endpoint="items")
    assert response.attempts == 2 and max(sleeps) < 1


def test_persistent_5xx_fails_loudly_as_api_error_with_attempt_count(upstream, faults):
    faults.add(Fault("status", route="up.items", params={"code": 502}))
    client = make_client(upstream, [])
    with pytest.raises(PipelineError) as info:
        client.get("/items", endpoint="items")
    assert info.value.category is ErrorCategory.API
    assert info.value.status_code == 502
    assert info.value.details["attempts"] == 3


def test_rate_limit_honours_retry_after_hint(upstream, faults):
    faults.add(Fault("rate_limit", route="up.items", params={"per_minute": 1}))
    sleeps: list[float] = []
    client = make_client(upstream, sleeps)
    client.get("/items", endpoint="items")
    with pytest.raises(PipelineError) as info:
        client.get("/items", endpoint="items")
    assert info.value.category is ErrorCategory.RATE_LIMIT
    # every retry waited at least the advertised second, not just the tiny backoff
    assert sleeps and all(s >= 1.0 for s in sleeps)


def test_read_timeout_is_classified_timeout_and_retried(upstream, faults):
    faults.add(Fault("timeout", route="up.items", times=1, params={"seconds": 1.5}))
    client = make_client(upstream, [], timeouts=Timeouts(connect=1, read=0.3))
    response = client.get("/items", endpoint="items")
    assert response.attempts == 2
    assert client.recorder.calls[0].error_category == "TIMEOUT"


def test_timeout_on_non_idempotent_post_is_not_retried(upstream, faults):
    faults.add(Fault("timeout", route="up.create", times=1, params={"seconds": 1.0}))
    client = make_client(upstream, [], timeouts=Timeouts(connect=1, read=0.3))
    with pytest.raises(PipelineError) as info:
        client.post("/create", endpoint="create", json_body={"n": 1})
    assert info.value.category is ErrorCategory.TIMEOUT
    assert info.value.details["possibly_applied"] is True
    assert info.value.details["attempts"] == 1


def test_5xx_on_non_idempotent_post_is_not_retried_but_429_is(upstream, faults):
    faults.add(Fault("status", route="up.create", times=1, params={"code": 500}))
    client = make_client(upstream, [])
    with pytest.raises(PipelineError):
        client.post("/create", endpoint="create", json_body={"n": 1})
    assert upstream.posts == []
    faults.reset()
    faults.add(Fault("status", route="up.create", times=1, params={"code": 429}))
    response = client.post("/create", endpoint="create", json_body={"n": 2})
    assert response.status == 201 and upstream.posts == [{"n": 2}]


def test_brotli_body_is_decoded(upstream, faults):
    faults.add(Fault("brotli", route="up.items", times=1))
    client = make_client(upstream, [])
    response = client.get("/items", endpoint="items")
    assert response.json() == PAYLOAD


def test_truncated_json_is_retried_then_fails_as_validation(upstream, faults):
    faults.add(Fault("truncate", route="up.items"))
    client = make_client(upstream, [])
    with pytest.raises(PipelineError) as info:
        client.get("/items", endpoint="items")
    assert info.value.category is ErrorCategory.VALIDATION
    assert info.value.details["reason"] == "invalid_json"
    assert info.value.details["attempts"] == 3


def test_malformed_json_once_recovers_on_retry(upstream, faults):
    faults.add(Fault("malformed", route="up.items", times=1))
    client = make_client(upstream, [])
    assert client.get("/items", endpoint="items").json() == PAYLOAD


def test_auth_failure_is_not_retried(upstream, faults):
    faults.add(Fault("status", route="up.items", params={"code": 401}))
    client = make_client(upstream, [])
    with pytest.raises(PipelineError) as info:
        client.get("/items", endpoint="items")
    assert info.value.category is ErrorCategory.AUTH
    assert info.value.details["attempts"] == 1


def test_connection_refused_is_network_error():
    from nba_notify.lib.web.serve import free_port

    client = ApiClient(
        "dead",
        f"http://127.0.0.1:{free_port()}",
        retry=RetryPolicy(max_attempts=2, base_delay=0),
        sleep=lambda s: None,
    )
    with pytest.raises(PipelineError) as info:
        client.get("/x", endpoint="x")
    assert info.value.category is ErrorCategory.NETWORK
    assert info.value.details["possibly_applied"] is False


def test_etag_revalidation_counts_as_cache_hit(upstream, faults):
    client = make_client(upstream, [], cache=ResponseCache())
    first = client.get("/etag", endpoint="etag", use_cache=True)
    second = client.get("/etag", endpoint="etag", use_cache=True)
    assert first.json() == second.json() == PAYLOAD
    assert second.from_cache
    summary = client.recorder.summary()
    assert summary["cache_hits"] == 1 and summary["cache_hit_ratio"] == 0.5


def test_fresh_cache_entry_is_served_without_a_request(upstream, faults):
    client = make_client(upstream, [], cache=ResponseCache(max_age=60))
    client.get("/etag", endpoint="etag", use_cache=True)
    client.get("/etag", endpoint="etag", use_cache=True)
    summary = client.recorder.summary()
    assert summary["api_calls"] == 1 and summary["cache_hits"] == 1


def test_retry_after_parses_delta_http_date_and_ratelimit_reset():
    assert retry_after_seconds({"retry-after": "7"}) == 7
    assert retry_after_seconds({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, now=1445412470) == 10
    assert retry_after_seconds({"X-RateLimit-Reset": "1000"}, now=990) == 10
    assert retry_after_seconds({}) is None


def test_recorder_percentiles():
    from nba_notify.lib.clients.http import CallStat

    recorder = CallRecorder()
    for ms in range(1, 101):
        recorder.record(CallStat("a", "e", "GET", 200, float(ms), 1))
    summary = recorder.summary()
    assert summary["api_p50_ms"] in (50.0, 51.0) and summary["api_p95_ms"] in (95.0, 96.0)
