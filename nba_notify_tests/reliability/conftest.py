"""Fixtures for the hostile-input and fault probes: the real Currents receiver over loopback on
the session's PostgreSQL, a ledger to correlate sends with, and readers of what was kept."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from nba_notify.lib.config import Settings
from nba_notify.lib.web.serve import BackgroundServer
from nba_notify.webhook.app import create_app

TOKEN = "reliability-currents-token"
CAMPAIGN = "sim-campaign-tipoff"
SEND = "users.messages.pushnotification.Send"
JSON = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}


def receiver_settings() -> Settings:
    settings = Settings.from_env()
    return Settings(**{**settings.__dict__, "currents_token": TOKEN})


@pytest.fixture(scope="session")
def receiver(database_url: str) -> Iterator[BackgroundServer]:
    with BackgroundServer(create_app(database_url=database_url, settings=receiver_settings())) as server:
        yield server


@pytest.fixture
def post(receiver: BackgroundServer, db: sa.Engine) -> Iterator[Callable[..., httpx.Response]]:
    client = httpx.Client(base_url=receiver.url, timeout=30)

    def _post(
        body: Any = None, *, raw: bytes | None = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        content = raw if raw is not None else json.dumps(body).encode()
        return client.post("/currents", content=content, headers={**JSON, **(headers or {})})

    yield _post
    client.close()


def send_event(
    event_id: str, *, when: float = 1795535400, dispatch_id: str | None = "disp-1", user: str = "fan-BOS-001"
) -> dict[str, Any]:
    return {
        "event_type": SEND,
        "id": event_id,
        "time": when,
        "user": {"user_id": "u-" + user, "external_user_id": user},
        "properties": {"campaign_id": CAMPAIGN, "dispatch_id": dispatch_id, "platform": "ios"},
    }


def add_ledger_rows(engine: sa.Engine, count: int) -> list[str]:
    """``count`` scheduled ledger rows with dispatch ids disp-1 .. disp-N; returns the ids."""
    dispatch_ids = [f"disp-{i}" for i in range(1, count + 1)]
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO schedule_ledger (intent_key, game_id, kind, campaign_id, template_version, send_id, "
                "state, braze_schedule_id, dispatch_id, signature, send_at_utc) "
                "SELECT 'intent-' || g, 'game-' || g, 'tipoff_reminder', :c, 'v1', 'send-' || g, 'scheduled', "
                "'sched-' || g, 'disp-' || g, 'sig', '2026-11-24T18:00:00Z' FROM generate_series(1, :n) g"
            ),
            {"c": CAMPAIGN, "n": count},
        )
    return dispatch_ids


def stored_event_ids(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(sa.text("SELECT event_id FROM notification_sends")).scalars())


def dead_letters(engine: sa.Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(sa.text("SELECT * FROM currents_dead_letters ORDER BY id")).mappings()
        ]
