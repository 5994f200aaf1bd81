"""The health dashboard, mounted at ``/health`` by :mod:`nba_notify.webhook.app`:

* ``GET /health/overview`` — overall HEALTHY/WARNING/CRITICAL, per-entity status, active alerts
* ``GET /health/history?period=24h&entity=games_schedule`` — bucketed data points + aggregates
  (period: 1h, 6h, 24h, 7d, 30d; entity: one entity or ``all``)
* ``GET /health/`` (also ``/health/dashboard``) — the page people look at: status cards and
  charts of success rate, duration and errors over time, drawn with inline SVG (no CDN).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from nba_notify.lib.db.engine import get_engine
from nba_notify.lib.errors import PipelineError
from nba_notify.lib.monitoring.health import health_history, health_overview

DASHBOARD_HTML = Path(__file__).parent / "static" / "dashboard.html"


def routes(
    database_url: str | None = None,
    *,
    now: Callable[[], datetime] | None = None,
    **_: object,
) -> list[Route]:
    """``now`` is injectable so tests can look at constructed history from a fixed instant."""
    clock = now or (lambda: datetime.now(UTC))
    engine_holder: list[sa.Engine] = []

    def engine() -> sa.Engine:
        if not engine_holder:
            engine_holder.append(get_engine(database_url))
        return engine_holder[0]

    def overview(request: Request) -> Response:
        with engine().connect() as conn:
            return JSONResponse(health_overview(conn, clock()))

    def history(request: Request) -> Response:
        period = request.query_params.get("period", "24h")
        entity = request.query_params.get("entity") or "all"
        try:
            with engine().connect() as conn:
                return JSONResponse(health_history(conn, period=period, entity=entity, now=clock()))
        except PipelineError as err:
            return JSONResponse({"error": err.message, "details": err.details}, status_code=400)

    def dashboard(request: Request) -> Response:
        return HTMLResponse(DASHBOARD_HTML.read_text(encoding="utf-8"))

    return [
        Route("/overview", overview, methods=["GET"]),
        Route("/history", history, methods=["GET"]),
        Route("/", dashboard, methods=["GET"]),
        Route("/dashboard", dashboard, methods=["GET"]),
    ]
