"""The Braze Currents receiver: ``POST /currents`` with ``{"events": [...]}`` batches.

* ``Authorization: Bearer <CURRENTS_TOKEN>``, compared in constant time on bytes
  (:func:`hmac.compare_digest`); missing or wrong -> 401, nothing read further.
* The body is size-limited and validated whole before any write: malformed JSON or schema ->
  400 with the offending field, nothing written (Currents keeps the batch and retries).
* One transaction per batch, ``ON CONFLICT (event_id) DO NOTHING``: each event stored once
  however often Currents redelivers it; the first send event moves the ledger row to ``sent``.
* Fast: no Braze calls, one SQL statement; database trouble answers 503 so Currents retries.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from nba_notify.lib.errors import ErrorCategory, PipelineError, classify_exception

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 5 * 1024 * 1024


def bearer_token_matches(header: str | None, token: str) -> bool:
    """Constant-time check of ``Authorization: Bearer <token>``; an empty configured token
    matches nothing."""
    if not token or not header:
        return False
    scheme, _, presented = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(presented.strip().encode(), token.encode())


def routes(database_url: str | None = None, token: str = "", **_: Any) -> list[Route]:
    from nba_notify.lib.db.engine import get_engine
    from nba_notify.lib.ledger.webhook_store import parse_batch, store_batch

    async def currents(request: Request) -> JSONResponse:
        if not bearer_token_matches(request.headers.get("authorization"), token):
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            return JSONResponse({"error": "payload too large", "limit_bytes": MAX_BODY_BYTES}, status_code=413)
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return JSONResponse({"error": "payload too large", "limit_bytes": MAX_BODY_BYTES}, status_code=413)
        try:
            rows = parse_batch(body)
        except PipelineError as error:
            return JSONResponse({"error": error.message, "category": str(error.category), "details": error.details},
                                status_code=400)
        try:
            result = await run_in_threadpool(store_batch, get_engine(database_url), rows)
        except Exception as exc:  # noqa: BLE001 - classified and answered 503 so Currents retries
            error = classify_exception(exc)
            log.error("currents batch not stored: %s", error)
            status = 503 if error.category in (ErrorCategory.DATABASE, ErrorCategory.NETWORK, ErrorCategory.TIMEOUT) else 500
            return JSONResponse({"error": error.message, "category": str(error.category)}, status_code=status)
        return JSONResponse(result.as_dict())

    return [Route("/currents", currents, methods=["POST"])]
