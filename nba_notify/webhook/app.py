"""The project's two web apps, on two listeners, so exposing one never exposes the other:

* :func:`create_app` — the public one: ``POST /currents`` only, what Braze must reach.
* :func:`create_dashboard_app` — the operators' health dashboard (``/health/*``), on loopback
  by default and behind HTTP Basic auth (or ``Authorization: Bearer <password>``) whenever
  ``NBA_NOTIFY_DASHBOARD_PASSWORD`` is set.

Neither builds a redirect from the request's Host header: trailing-slash redirects are off and
``/health`` answers with a relative ``Location: /health/``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable
from datetime import datetime

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from nba_notify.lib.config import Settings

AUTH_REALM = "nba_notify operators"


def create_app(database_url: str | None = None, settings: Settings | None = None) -> Starlette:
    """The public app Braze calls: the Currents receiver and the send guard (Connected Content
    at send time), both behind the token Braze is configured with."""
    from nba_notify.webhook import currents, guard

    settings = settings or Settings.from_env()
    app = Starlette(
        routes=[
            *currents.routes(database_url=database_url, token=settings.currents_token),
            *guard.routes(database_url, settings.currents_token, settings.braze_campaign_id),
        ]
    )
    app.router.redirect_slashes = False
    return app


def create_dashboard_app(
    database_url: str | None = None,
    settings: Settings | None = None,
    *,
    now: Callable[[], datetime] | None = None,
) -> Starlette:
    """The health dashboard; ``now`` is injectable for tests of constructed history."""
    from nba_notify.webhook import health

    settings = settings or Settings.from_env()

    def to_dashboard(request: Request) -> Response:
        return RedirectResponse("/health/", status_code=308)

    middleware = []
    if settings.dashboard_password:
        middleware.append(
            Middleware(OperatorAuth, user=settings.dashboard_user, password=settings.dashboard_password)
        )
    app = Starlette(
        routes=[
            Route("/health", to_dashboard, methods=["GET"]),
            Mount("/health", routes=health.routes(database_url=database_url, now=now)),
        ],
        middleware=middleware,
    )
    app.router.redirect_slashes = False
    return app


def credentials_match(header: str | None, user: str, password: str) -> bool:
    """``Basic base64(user:password)`` or ``Bearer <password>``, compared in constant time."""
    scheme, _, value = (header or "").partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        return hmac.compare_digest(value.encode(), password.encode())
    if scheme.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    given_user, sep, given_password = decoded.partition(b":")
    user_ok = hmac.compare_digest(given_user, user.encode())
    password_ok = hmac.compare_digest(given_password, password.encode())
    return bool(sep) and user_ok and password_ok


class OperatorAuth:
    """Every request needs the operators' credentials; a browser is asked for them (401 with
    ``WWW-Authenticate: Basic``)."""

    def __init__(self, app: ASGIApp, *, user: str, password: str):
        self.app, self.user, self.password = app, user, password

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or credentials_match(
            Headers(scope=scope).get("authorization"), self.user, self.password
        ):
            await self.app(scope, receive, send)
            return
        response = JSONResponse(
            {"error": "authentication required"},
            status_code=401,
            headers={"WWW-Authenticate": f'Basic realm="{AUTH_REALM}", charset="UTF-8"'},
        )
        await response(scope, receive, send)
