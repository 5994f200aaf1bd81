"""Fixtures for the notification domain: the real simulator (Braze over HTTP), the real
Currents receiver (our webhook app over HTTP), a real PostgreSQL, and helpers to put games
in the ``games`` table the way ingest does."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import sqlalchemy as sa

from nba_notify.lib.clients.braze import BrazeClient
from nba_notify.lib.clients.http import RetryPolicy, Timeouts
from nba_notify.lib.clock import RemoteSimClock
from nba_notify.lib.config import Settings
from nba_notify.lib.ledger.planning import NotificationPolicy
from nba_notify.lib.web.serve import BackgroundServer
from nba_notify.sim.server import SimServer
from nba_notify.webhook.app import create_app

CAMPAIGN = "sim-campaign-tipoff"
BRAZE_KEY = "sim-braze-key"
CURRENTS_TOKEN = "notif-test-currents-token"
EASTERN = ZoneInfo("America/New_York")
# The simulator's default clock: 2026-11-24 15:00 UTC, frozen.
T0 = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def webhook_server(database_url: str) -> Iterator[BackgroundServer]:
    """Our Currents receiver (the project's web app) on loopback."""
    settings = Settings.from_env()
    settings = Settings(
        **{**settings.__dict__, "database_url": database_url, "currents_token": CURRENTS_TOKEN}
    )
    with BackgroundServer(create_app(database_url=database_url, settings=settings)) as server:
        yield server


@pytest.fixture
def braze_sim(sim_server: SimServer, webhook_server: BackgroundServer, db: sa.Engine) -> Iterator[SimServer]:
    """The session simulator reset to T0 (frozen), two fans per team, Currents pointed at our
    receiver, API schedules listed immediately. Restored afterwards (shared simulator)."""
    config = sim_server.sim.config
    saved = {
        k: getattr(config, k)
        for k in (
            "audience_per_team",
            "currents_url",
            "currents_token",
            "braze_send_id_daily_limit",
            "braze_send_guard_url",
            "braze_send_guard_token",
        )
    }
    config.audience_per_team = 2
    config.braze_send_id_daily_limit = 100
    config.currents_url = f"{webhook_server.url}/currents"
    config.currents_token = CURRENTS_TOKEN
    # the campaign's template asks our send guard at send time, as in production
    config.braze_send_guard_url = f"{webhook_server.url}/braze/send-guard"
    config.braze_send_guard_token = CURRENTS_TOKEN
    sim_server.sim.reset(T0)
    yield sim_server
    for k, v in saved.items():
        setattr(config, k, v)
    sim_server.sim.reset()


@pytest.fixture
def policy() -> NotificationPolicy:
    # A short in-flight grace: a claim older than this with no recorded outcome is unknown.
    return NotificationPolicy(campaign_id=CAMPAIGN, in_flight_grace_seconds=0.5)


def make_braze_client(sim: SimServer, read_timeout: float = 2.0) -> BrazeClient:
    return BrazeClient(
        f"{sim.url}/braze",
        BRAZE_KEY,
        timeouts=Timeouts(connect=2.0, read=read_timeout, write=2.0, pool=5.0),
        retry=RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.05, max_retry_after=1.0),
    )


@pytest.fixture
def braze(braze_sim: SimServer) -> Iterator[BrazeClient]:
    client = make_braze_client(braze_sim)
    yield client
    client.close()


@pytest.fixture
def clock(braze_sim: SimServer) -> Callable[[], datetime]:
    """ "now" is the simulator's clock, read over HTTP like the ClockResource does."""
    return RemoteSimClock(f"{braze_sim.url}/_sim/clock").now


@dataclass
class Games:
    """Writes ``games`` rows as the ingest asset does (the lead's table)."""

    engine: sa.Engine

    def put(
        self, game_id: str, home: str, away: str, tipoff: datetime | None, status: str = "scheduled"
    ) -> None:
        game_date = (tipoff or T0).astimezone(EASTERN).date()
        with self.engine.begin() as conn:
            conn.execute(
                sa.text(
                    """
                    INSERT INTO games (game_id, game_date, home_team, away_team, tipoff_utc, status, in_bdl, in_nbac)
                    VALUES (:k, :d, :h, :a, :t, :s, true, true)
                    ON CONFLICT (game_id) DO UPDATE
                       SET tipoff_utc = EXCLUDED.tipoff_utc, status = EXCLUDED.status, game_date = EXCLUDED.game_date,
                           updated_at = now()
                    """
                ),
                {"k": game_id, "d": game_date, "h": home, "a": away, "t": tipoff, "s": status},
            )

    def move(self, game_id: str, tipoff: datetime) -> None:
        """The game is rescheduled (same day or another): its day follows its tip-off."""
        with self.engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE games SET tipoff_utc = :t, game_date = :d WHERE game_id = :k"),
                {"t": tipoff, "d": tipoff.astimezone(EASTERN).date(), "k": game_id},
            )

    def unlist(self, game_id: str) -> None:
        """No source lists the game any more."""
        with self.engine.begin() as conn:
            conn.execute(sa.text("UPDATE games SET listed = false WHERE game_id = :k"), {"k": game_id})

    def relist(self, game_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.text("UPDATE games SET listed = true WHERE game_id = :k"), {"k": game_id})

    def set_status(self, game_id: str, status: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE games SET status = :s WHERE game_id = :k"), {"s": status, "k": game_id}
            )


@pytest.fixture
def games(db: sa.Engine) -> Games:
    return Games(db)


# -- assertions over the simulator's ground truth ----------------------------------------------


def braze_truth(sim: SimServer) -> dict[str, Any]:
    return httpx.get(f"{sim.url}/_sim/state", timeout=10).json()["braze"]


def live_schedules(sim: SimServer, game: str | None = None) -> list[dict[str, Any]]:
    return [
        s
        for s in braze_truth(sim)["schedules"]
        if s["status"] == "scheduled" and (game is None or s["game_id"] == game)
    ]


def scheduler_log(engine: sa.Engine, game: str | None = None) -> list[tuple[str, str | None, str | None]]:
    """(action, reason, game_id) of every scheduler_logs row, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT action, reason, game_id FROM scheduler_logs ORDER BY id")).all()
    return [tuple(r) for r in rows if game is None or r.game_id == game]


def ledger_rows(engine: sa.Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [
            dict(r) for r in conn.execute(sa.text("SELECT * FROM schedule_ledger ORDER BY id")).mappings()
        ]


def assert_invariants(engine: sa.Engine, sim: SimServer, now: datetime, policy: NotificationPolicy) -> None:
    """DESIGN §3 1-3 over ground truth: never two live schedules per game, the ledger's live
    id is live at Braze at tip-off minus lead, no live schedule the ledger does not know."""
    truth = braze_truth(sim)
    live_by_game: dict[str, list[dict[str, Any]]] = {}
    for s in truth["schedules"]:
        if s["status"] == "scheduled":
            live_by_game.setdefault(s["game_id"], []).append(s)
    doubles = {g: [s["schedule_id"] for s in ss] for g, ss in live_by_game.items() if len(ss) > 1}
    assert not doubles, f"two live schedules for a game: {doubles}"
    assert truth["duplicate_messages"] == 0, truth["games_with_duplicates"]
    with engine.connect() as conn:
        rows = (
            conn.execute(
                sa.text(
                    """
                SELECT l.game_id, l.state, l.braze_schedule_id, l.send_at_utc, d.send_at_utc AS desired_at, d.active
                  FROM schedule_ledger l JOIN desired_notifications d USING (intent_key)
                 WHERE l.state = 'scheduled'
                """
                )
            )
            .mappings()
            .all()
        )
    by_id = {s["schedule_id"]: s for s in truth["schedules"]}
    for row in rows:
        braze_row = by_id.get(row["braze_schedule_id"])
        assert braze_row is not None and braze_row["status"] in ("scheduled", "sent"), (
            f"ledger holds {row['braze_schedule_id']} for {row['game_id']} but Braze has {braze_row}"
        )
    _ = now, policy


def scheduled_time(entry: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(entry["time"].replace("Z", "+00:00"))


def at(hours: float = 0, minutes: float = 0) -> datetime:
    return T0 + timedelta(hours=hours, minutes=minutes)
