"""A stand-in for "the real upstream" on loopback: it answers nothing useful and records every
request, so a test can point production settings at it and prove nobody called."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from nba_notify.lib.web.serve import BackgroundServer


class Sentinel(BackgroundServer):
    def __init__(self) -> None:
        self.requests: list[str] = []

        async def record(request: Request) -> JSONResponse:
            self.requests.append(f"{request.method} {request.url.path}")
            return JSONResponse({"message": "sentinel: this is the real upstream"}, status_code=418)

        methods = ["GET", "POST", "PUT", "DELETE", "PATCH"]
        super().__init__(Starlette(routes=[Route("/{path:path}", record, methods=methods)]))


@contextmanager
def sentinel() -> Iterator[Sentinel]:
    with Sentinel() as server:
        yield server
