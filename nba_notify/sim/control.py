"""The control plane (``/_sim``): clock, faults, ground truth, reset."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from nba_notify.sim import league
from nba_notify.sim.faults import Fault


def routes(sim) -> list[Route]:
    async def clock(request: Request) -> JSONResponse:
        if request.method == "POST":
            body = await request.json()
            # Clock listeners do real work (Braze sends and POSTs Currents batches): run them
            # off the event loop so the simulator keeps serving while they do.
            if "advance_seconds" in body:
                delta = timedelta(seconds=float(body["advance_seconds"]))
                await asyncio.to_thread(sim.clock.advance, delta)
            if "now" in body:
                when = datetime.fromisoformat(body["now"])
                await asyncio.to_thread(sim.clock.set, when, body.get("rate"))
            elif "rate" in body:
                await asyncio.to_thread(sim.clock.set, sim.clock.now(), float(body["rate"]))
        return JSONResponse({"now": sim.clock.now().isoformat(), "rate": sim.clock.rate})

    async def faults(request: Request) -> JSONResponse:
        if request.method == "POST":
            body = await request.json()
            specs = body if isinstance(body, list) else [body]
            try:
                added = [sim.faults.add(Fault(**spec)).as_dict() for spec in specs]
            except (TypeError, ValueError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
            return JSONResponse({"added": added})
        if request.method == "DELETE":
            removed = sim.faults.clear(
                route=request.query_params.get("route"), kind=request.query_params.get("kind")
            )
            return JSONResponse({"removed": removed})
        return JSONResponse({"faults": sim.faults.list()})

    async def state(request: Request) -> JSONResponse:
        return JSONResponse(sim.truth())

    async def reset(request: Request) -> JSONResponse:
        body = await request.json() if await request.body() else {}
        start = datetime.fromisoformat(body["now"]) if body.get("now") else None
        sim.reset(start)
        return JSONResponse({"now": sim.clock.now().isoformat()})

    return [
        Route("/clock", clock, methods=["GET", "POST"]),
        Route("/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route("/state", state, methods=["GET"]),
        Route("/reset", reset, methods=["POST"]),
        *league.control_routes(sim),  # /truth/games?date=, /games/{game_id}
    ]
