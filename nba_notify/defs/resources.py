"""Resources injected into every asset, sensor and check. The environment changes URLs and
credentials, never which class is used: with no configuration they point at the embedded
PostgreSQL and the simulator.

Secrets reach resources as ``dg.EnvVar``: the Dagster UI (Deployment -> Resources) and its
GraphQL API then show the variable's name, never its value, and nothing secret is stored in
run config. Only the simulator's public dummy credentials are plain values."""

from __future__ import annotations

import os
import threading
from datetime import datetime
from typing import Any

import dagster as dg
import sqlalchemy as sa

from nba_notify.defs.notifications.policy import NotificationPolicyResource
from nba_notify.lib.clients.bdl import DEFAULT_BDL_RETRY, BdlClient
from nba_notify.lib.clients.braze import DEFAULT_RETRY as DEFAULT_BRAZE_RETRY
from nba_notify.lib.clients.braze import BrazeClient
from nba_notify.lib.clients.http import CallRecorder, ResponseCache, RetryPolicy, Timeouts
from nba_notify.lib.clients.nbac import DEFAULT_SCHEDULE_MAX_AGE, NbacClient
from nba_notify.lib.clock import make_clock
from nba_notify.lib.config import Settings
from nba_notify.lib.db.engine import get_engine


class PostgresResource(dg.ConfigurableResource):
    """The application database. ``url=None`` means NBA_NOTIFY_DATABASE_URL or, failing
    that, the embedded PostgreSQL."""

    url: str | None = None

    def engine(self) -> sa.Engine:
        return get_engine(self.url)


class ClockResource(dg.ConfigurableResource):
    """``url`` is the simulator's clock endpoint; ``None`` means the system clock."""

    url: str | None = None

    def now(self) -> datetime:
        return make_clock(self.url).now()


class AlertsResource(dg.ConfigurableResource):
    """Alert channels (webhook, SMTP; the dashboard is always on) and the alerting API bound
    to them. Configured from NBA_NOTIFY_ALERT_WEBHOOK_URL and NBA_NOTIFY_SMTP_HOST/PORT/FROM/TO
    (all optional)."""

    webhook_url: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str | None = None
    smtp_to: list[str] = []
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = None
    timeout_seconds: float = 5.0

    @classmethod
    def from_env(cls) -> AlertsResource:
        from nba_notify.lib.alerts import ChannelSettings

        s = ChannelSettings.from_env()
        return cls(
            webhook_url=from_environment("NBA_NOTIFY_ALERT_WEBHOOK_URL", s.webhook_url),
            smtp_host=s.smtp_host,
            smtp_port=s.smtp_port,
            smtp_from=s.smtp_from,
            smtp_to=list(s.smtp_to),
            smtp_starttls=s.smtp_starttls,
            smtp_username=s.smtp_username,
            smtp_password=from_environment("NBA_NOTIFY_SMTP_PASSWORD", s.smtp_password),
        )

    def channels(self) -> dict:
        from nba_notify.lib.alerts import ChannelSettings, build_channels

        return build_channels(
            ChannelSettings(
                webhook_url=self.webhook_url,
                smtp_host=self.smtp_host,
                smtp_port=self.smtp_port,
                smtp_from=self.smtp_from,
                smtp_to=tuple(self.smtp_to),
                smtp_starttls=self.smtp_starttls,
                smtp_username=self.smtp_username,
                smtp_password=self.smtp_password,
                timeout_seconds=self.timeout_seconds,
            )
        )

    def raise_alert(self, bind: sa.Engine | sa.Connection, **kwargs):
        """Same as :func:`nba_notify.lib.alerts.raise_alert` (delivery happens on the
        monitoring sensor's next tick, or now with :meth:`deliver_pending`)."""
        from nba_notify.lib.alerts import raise_alert

        return raise_alert(bind, **kwargs)

    def deliver_pending(self, engine: sa.Engine, now: datetime | None = None) -> list:
        from nba_notify.lib.alerts import deliver_pending

        return deliver_pending(engine, self.channels(), now=now)


class BdlResource(dg.ConfigurableResource):
    """BallDontLie: ``base_url`` https://api.balldontlie.io in production (BDL_BASE_URL),
    the simulator's ``/bdl`` otherwise; ``api_key`` goes in ``Authorization`` as is."""

    base_url: str
    api_key: str
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_attempts: int = DEFAULT_BDL_RETRY.max_attempts
    retry_base_delay: float = DEFAULT_BDL_RETRY.base_delay
    per_page: int = 100

    def client(self, recorder: CallRecorder | None = None) -> BdlClient:
        return BdlClient(
            self.base_url,
            self.api_key,
            per_page=self.per_page,
            timeouts=Timeouts(connect=self.connect_timeout, read=self.read_timeout),
            retry=RetryPolicy(
                max_attempts=self.max_attempts,
                base_delay=self.retry_base_delay,
                max_delay=DEFAULT_BDL_RETRY.max_delay,
            ),
            recorder=recorder,
        )


# One schedule cache per NBA.com base URL for the life of the process. Every asset run builds
# a fresh client, but the season schedule (several MB, identical for all ~180 dates of a
# backfill) should be downloaded once per process and afterwards only revalidated by ETag (a
# 304 with no body). Sharing it is safe: entries are whole response bodies keyed by URL and
# confirmed by the server's ETag before use (unless ``schedule_max_age`` > 0), so a request
# never sees anything but the file as currently published; the cache is thread-safe.
_NBAC_CACHES: dict[tuple[str, float], ResponseCache] = {}
_NBAC_CACHES_LOCK = threading.Lock()


def nbac_schedule_cache(base_url: str, max_age: float = DEFAULT_SCHEDULE_MAX_AGE) -> ResponseCache:
    with _NBAC_CACHES_LOCK:
        return _NBAC_CACHES.setdefault((base_url.rstrip("/"), max_age), ResponseCache(max_age=max_age))


class NbacResource(dg.ConfigurableResource):
    """NBA.com: ``base_url`` is the CDN (https://cdn.nba.com in production, NBAC_BASE_URL;
    the simulator's ``/nbac`` otherwise) serving the current season's file and box scores;
    ``stats_base_url`` is the stats host (https://stats.nba.com, NBAC_STATS_BASE_URL; the
    simulator's ``/nbac-stats``) serving any season's schedule."""

    base_url: str
    stats_base_url: str
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_attempts: int = 4
    retry_base_delay: float = RetryPolicy().base_delay
    schedule_max_age: float = DEFAULT_SCHEDULE_MAX_AGE

    def client(self, recorder: CallRecorder | None = None) -> NbacClient:
        return NbacClient(
            self.base_url,
            stats_base_url=self.stats_base_url,
            timeouts=Timeouts(connect=self.connect_timeout, read=self.read_timeout),
            retry=RetryPolicy(max_attempts=self.max_attempts, base_delay=self.retry_base_delay),
            recorder=recorder,
            cache=nbac_schedule_cache(self.base_url, self.schedule_max_age),
        )


class BrazeResource(dg.ConfigurableResource):
    """Braze REST API: ``rest_endpoint`` is the workspace's cluster (e.g.
    https://rest.iad-01.braze.com, BRAZE_REST_ENDPOINT), the simulator's ``/braze`` otherwise.
    ``campaign_id`` is the API-triggered campaign the tip-off pushes are scheduled on.

    The read timeout bounds how long a write may hang before it is reported AMBIGUOUS
    (it may still have been applied), so it is deliberately short."""

    rest_endpoint: str
    api_key: str
    campaign_id: str
    connect_timeout: float = 5.0
    read_timeout: float = 10.0

    def client(self, recorder: CallRecorder | None = None) -> BrazeClient:
        return BrazeClient(
            self.rest_endpoint,
            self.api_key,
            timeouts=Timeouts(connect=self.connect_timeout, read=self.read_timeout),
            retry=DEFAULT_BRAZE_RETRY,
            recorder=recorder,
        )


def from_environment(name: str, value: Any) -> Any:
    """``dg.EnvVar(name)`` when ``value`` is what the environment holds under ``name`` (the UI
    then shows the name, and the value is read in the run's own process), else ``value``
    (the simulator's dummy credentials, or a value a test passed explicitly)."""
    if value is not None and value != "" and os.environ.get(name) == value:
        return dg.EnvVar(name)
    return value


def build_resources(settings: Settings | None = None) -> dict[str, dg.ConfigurableResource]:
    settings = settings or Settings.from_env()
    if settings.production:
        # Production credentials come from the environment only, also when they are missing
        # here: the run then fails naming the variable instead of using a wrong value.
        bdl_key, braze_key = dg.EnvVar("BDL_API_KEY"), dg.EnvVar("BRAZE_API_KEY")
    else:
        bdl_key, braze_key = settings.bdl_api_key, settings.braze_api_key
    return {
        "database": PostgresResource(url=from_environment("NBA_NOTIFY_DATABASE_URL", settings.database_url)),
        "clock": ClockResource(url=settings.clock_url),
        "bdl": BdlResource(base_url=settings.bdl_base_url, api_key=bdl_key),
        "nbac": NbacResource(base_url=settings.nbac_base_url, stats_base_url=settings.nbac_stats_base_url),
        "braze": BrazeResource(
            rest_endpoint=settings.braze_rest_endpoint,
            api_key=braze_key,
            campaign_id=settings.braze_campaign_id,
        ),
        "alerts": AlertsResource.from_env(),
        "notification_policy": NotificationPolicyResource(),
    }


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources=build_resources())
