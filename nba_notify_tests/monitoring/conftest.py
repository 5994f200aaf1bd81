"""Fixtures for monitoring tests: default alert rules on clean tables, a real webhook
receiver over loopback, and a real in-process SMTP server (aiosmtpd)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from nba_notify.lib.alerts import ensure_default_rules
from nba_notify.lib.web.serve import BackgroundServer, free_port


@pytest.fixture
def mdb(db: sa.Engine) -> sa.Engine:
    """Clean tables with the default alert rules seeded (as migration 0004 does)."""
    with db.begin() as conn:
        ensure_default_rules(conn)
    return db


@dataclass
class WebhookReceiver:
    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    fail_next: int = 0  # answer 503 this many times


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(url="")

    async def hook(request: Request) -> JSONResponse:
        if receiver.fail_next > 0:
            receiver.fail_next -= 1
            return JSONResponse({"error": "unavailable"}, status_code=503)
        receiver.received.append(await request.json())
        return JSONResponse({"ok": True})

    app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    with BackgroundServer(app) as server:
        receiver.url = server.url + "/hook"
        yield receiver


@dataclass
class SmtpSink:
    host: str
    port: int
    messages: list[Any] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def smtp_server() -> Iterator[SmtpSink]:
    from aiosmtpd.controller import Controller

    sink = SmtpSink("127.0.0.1", free_port())

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            with sink.lock:
                sink.messages.append(envelope)
            return "250 OK"

    controller = Controller(Handler(), hostname=sink.host, port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


@pytest.fixture
def dead_smtp_port() -> int:
    """A loopback port nobody listens on: connections are refused at once."""
    return free_port()
