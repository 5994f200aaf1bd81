"""Run the simulator over real HTTP on loopback, and drive it from tests and the CLI."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import httpx

from nba_notify.lib.web.serve import BackgroundServer
from nba_notify.sim.app import SimConfig, Simulator, create_app


class SimServer(BackgroundServer):
    def __init__(self, config: SimConfig | None = None, port: int = 0):
        self.sim = Simulator.create(config)
        super().__init__(create_app(self.sim), port=port)
        self.control = SimControl(self.url)


class SimControl:
    """A thin client of ``/_sim`` (used by tests, the demo and the CLI)."""

    def __init__(self, base_url: str):
        self._http = httpx.Client(base_url=base_url.rstrip("/") + "/_sim", timeout=30)

    def now(self) -> datetime:
        return datetime.fromisoformat(self._http.get("/clock").json()["now"])

    def set_clock(self, when: datetime, rate: float | None = None) -> datetime:
        body: dict[str, Any] = {"now": when.isoformat()}
        if rate is not None:
            body["rate"] = rate
        return datetime.fromisoformat(self._http.post("/clock", json=body).json()["now"])

    def advance(self, seconds: float) -> datetime:
        response = self._http.post("/clock", json={"advance_seconds": seconds})
        response.raise_for_status()
        return datetime.fromisoformat(response.json()["now"])

    def add_fault(self, kind: str, route: str = "*", **kwargs: Any) -> dict[str, Any]:
        response = self._http.post("/faults", json={"kind": kind, "route": route, **kwargs})
        response.raise_for_status()
        return response.json()["added"][0]

    def clear_faults(self, route: str | None = None, kind: str | None = None) -> int:
        params = {k: v for k, v in {"route": route, "kind": kind}.items() if v}
        return int(self._http.delete("/faults", params=params).json()["removed"])

    def state(self) -> dict[str, Any]:
        return self._http.get("/state").json()

    def truth_games(self, day: date) -> list[dict[str, Any]]:
        """Ground truth for a game day (both sources' ids, tip-off, status, scores)."""
        response = self._http.get("/truth/games", params={"date": day.isoformat()})
        response.raise_for_status()
        return response.json()["games"]

    def update_game(self, game_id: str | int, **changes: Any) -> dict[str, Any]:
        """Move (``tipoff_utc=iso``) or postpone/cancel (``status=...``) a game."""
        response = self._http.post(f"/games/{game_id}", json=changes)
        response.raise_for_status()
        return response.json()

    def flush_braze_outbox(self) -> dict[str, Any]:
        """Redeliver pending Currents batches now (tests and the demo's final check)."""
        response = self._http.post("/braze/flush")
        response.raise_for_status()
        return response.json()

    def foreign_schedule(
        self, game_id: str, home_team: str, away_team: str, when: datetime, **body: Any
    ) -> dict[str, Any]:
        """Schedule the campaign for a game behind the product's back (a double push in the
        making); ``body`` adds or overrides create fields. Returns Braze's answer."""
        payload = {
            "trigger_properties": {"game_id": game_id, "home_team": home_team, "away_team": away_team},
            "schedule": {"time": when.isoformat()},
            **body,
        }
        response = self._http.post("/braze/foreign_schedules", json=payload)
        response.raise_for_status()
        return response.json()

    def reset(self, now: datetime | None = None) -> None:
        self._http.post("/reset", json={"now": now.isoformat()} if now else {}).raise_for_status()
