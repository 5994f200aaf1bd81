"""``GET /braze/send-guard``: the endpoint Braze's Connected Content calls at send time (see
:mod:`nba_notify.lib.ledger.guard` for the template and the rules).

Answers 200 ``{"send": bool, "reason": str}``; 401 without the bearer token; 400 for a request
without a send id; 503 when the database cannot answer — the template sends on anything but a
200 refusal, so an outage here never silences a push."""

from __future__ import annotations

import logging
from datetime import datetime

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from nba_notify.lib.errors import classify_exception
from nba_notify.webhook.currents import bearer_token_matches

log = logging.getLogger(__name__)


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def routes(database_url: str | None, token: str, campaign_id: str) -> list[Route]:
    from nba_notify.defs.notifications.policy import NotificationPolicyResource
    from nba_notify.lib.db.engine import get_engine
    from nba_notify.lib.ledger.guard import decide

    policy = NotificationPolicyResource().policy(campaign_id)

    async def send_guard(request: Request) -> JSONResponse:
        if not bearer_token_matches(request.headers.get("authorization"), token):
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        params = request.query_params
        send_id = (params.get("send_id") or "").strip()
        if not send_id or len(send_id) > 64:
            return JSONResponse({"error": "send_id (1-64 characters) is required"}, status_code=400)
        dispatch_id = (params.get("dispatch_id") or "").strip()[:64] or None
        try:
            decision = await run_in_threadpool(
                decide,
                get_engine(database_url),
                policy,
                send_id=send_id,
                dispatch_id=dispatch_id,
                send_at=_time(params.get("send_at")),
            )
        except Exception as exc:
            log.error("send guard could not decide for %s: %s", send_id, classify_exception(exc))
            return JSONResponse({"error": "guard unavailable"}, status_code=503)
        return JSONResponse(decision.as_dict())

    return [Route("/braze/send-guard", send_guard, methods=["GET"])]
