"""The Braze Currents receiver: ``POST /currents`` with ``{"events": [...]}`` batches.

Braze retries a batch on a 5xx or a network error and disables the connector after days of
failures, after which new events are lost for good. So the receiver answers 5xx only when it
could not keep a batch (the database is down) and never because of what a batch holds:

* ``Authorization: Bearer <CURRENTS_TOKEN>``, compared in constant time on bytes
  (:func:`hmac.compare_digest`); missing or wrong -> 401, the body is not read.
* ``Content-Type: application/json`` (UTF-8) or 415; the body is read in chunks and reading
  stops past :data:`MAX_BODY_BYTES` whatever the transfer encoding (chunked included) -> 413.
* Every event is validated on its own (:func:`~nba_notify.lib.ledger.webhook_store.parse_batch`):
  good events are stored exactly once, bad ones quarantined in ``currents_dead_letters`` with
  their bytes and reason, in one transaction; then 200 with the counts. A body without a
  readable ``events`` list is quarantined whole and answered 400 with the reason.
* A database outage -> 503 with ``Retry-After``. No error body carries driver or SQL text.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 5 * 1024 * 1024
RETRY_AFTER_SECONDS = 30


def bearer_token_matches(header: str | None, token: str) -> bool:
    """Constant-time check of ``Authorization: Bearer <token>``; an empty configured token
    matches nothing."""
    if not token or not header:
        return False
    scheme, _, presented = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(presented.strip().encode(), token.encode())


def content_type_problem(header: str | None) -> str | None:
    """Why a Content-Type is not JSON we read (None when it is)."""
    media_type, _, parameters = (header or "").partition(";")
    if media_type.strip().lower() != "application/json":
        return "Content-Type must be application/json"
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            return "charset must be utf-8"
    return None


async def read_limited_body(request: Request, limit: int) -> bytes | None:
    """The request body, or None as soon as it is known to exceed ``limit`` bytes: from
    ``Content-Length`` before reading, or while reading chunks (the rest is never read)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        if len(body) + len(chunk) > limit:
            return None
        body += chunk
    return bytes(body)


def routes(
    database_url: str | None = None, token: str = "", max_body_bytes: int = MAX_BODY_BYTES, **_: Any
) -> list[Route]:
    from nba_notify.lib.db.engine import get_engine
    from nba_notify.lib.ledger.webhook_store import parse_batch, store_batch

    async def currents(request: Request) -> JSONResponse:
        if not bearer_token_matches(request.headers.get("authorization"), token):
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        if (problem := content_type_problem(request.headers.get("content-type"))) is not None:
            return JSONResponse({"error": problem}, status_code=415)
        body = await read_limited_body(request, max_body_bytes)
        if body is None:
            return JSONResponse(
                {"error": "payload too large", "limit_bytes": max_body_bytes}, status_code=413
            )
        batch = await run_in_threadpool(parse_batch, body)
        try:
            result = await run_in_threadpool(store_batch, get_engine(database_url), batch)
        except Exception:
            log.exception("currents batch of %d bytes not stored; answering 503", len(body))
            return JSONResponse(
                {"error": "storage unavailable, retry later"},
                status_code=503,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        if batch.refused is not None:
            return JSONResponse(
                {"error": batch.refused.detail, "reason": batch.refused.reason, "quarantined": 1},
                status_code=400,
            )
        return JSONResponse(result.as_dict())

    return [Route("/currents", currents, methods=["POST"])]
