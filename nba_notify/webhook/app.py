"""The project's web app: the Braze Currents receiver (``/currents``) and the health
dashboard (``/health``), one Starlette application served by ``nba-notify webhook``."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Mount

from nba_notify.lib.config import Settings


def create_app(database_url: str | None = None, settings: Settings | None = None) -> Starlette:
    from nba_notify.webhook import currents, guard, health

    settings = settings or Settings.from_env()
    routes = [
        *currents.routes(database_url=database_url, token=settings.currents_token),
        *guard.routes(database_url, settings.currents_token, settings.braze_campaign_id),
        Mount("/health", routes=health.routes(database_url=database_url)),
    ]
    return Starlette(routes=routes)
