"""The simulated Braze: API-triggered campaign schedules, the scheduled-broadcasts list, and
Currents delivery of the pushes it "sends" when the simulated clock passes a send time.

Mounted at ``/braze`` on the simulator (same clock, same fault injector as BDL/NBA.com):

* ``POST /campaigns/trigger/schedule/create`` -> 201 ``{"schedule_id", "dispatch_id", "message"}``
* ``POST /campaigns/trigger/schedule/update`` -> 200 ``{"schedule_id", "message"}``
* ``POST /campaigns/trigger/schedule/delete`` -> 200 ``{"message": "success"}``
* ``GET  /messages/scheduled_broadcasts?end_time=ISO`` -> ``{"scheduled_broadcasts": [...]}``
* ``POST /sends/id/create`` -> 201 ``{"message": "success", "send_id"}``

Send identifiers: a schedule create that names a ``send_id`` is accepted only if that
``(campaign_id, send_id)`` pair was created first with ``POST /sends/id/create`` (400
otherwise). Creating a pair that already exists succeeds again without counting; each new
pair counts toward a daily limit of ``SimConfig.braze_send_id_daily_limit`` (Braze: 100 per
workspace per day) per *simulated* UTC day. Over the limit the answer is a 429 whose
``X-RateLimit-*`` headers describe the daily limit (reset at the next simulated UTC midnight,
also given as ``Retry-After`` seconds so a client never mixes simulated and wall time); valid
send-ID answers carry the same daily headers.

Errors are Braze-shaped: ``{"message": <fatal error>, "errors": [...]}``; unknown or no
longer live schedule ids answer 404. Every response carries ``X-RateLimit-Limit``,
``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (epoch seconds); the hourly quota is
``SimConfig.braze_rate_limit_per_hour`` (wall clock: rate limits are about real request
rates, not simulated time).

Audience contract (how the simulated campaign picks its users):

* the simulator has ``audience_per_team`` users per team, ``external_user_id`` ``fan-BOS-001``
  ..., custom attribute ``favorite_team`` = the team's tricode, timezone of the team's arena;
* ``trigger_properties`` must carry ``game_id`` (any string: it keys the ground truth of
  messages per game), and — unless ``recipients`` or ``audience`` narrow the send —
  ``home_team`` and ``away_team`` tricodes; with ``broadcast: true`` the campaign's segment is
  "fans whose favorite_team is home_team or away_team";
* ``audience`` (connected audience: ``AND``/``OR`` of ``custom_attribute`` filters with
  ``equals``/``not_equal``/``includes_value``) selects users by attribute instead;
* ``recipients`` (``[{"external_user_id": ...}]``) selects exactly those known users.

``schedule.in_local_time`` / ``at_optimal_time`` are recorded (and shown as the list's
``schedule_type``) but every send happens at ``schedule.time`` in UTC.

When the clock moves past a live schedule's time, the schedule is sent: each audience user gets
one message (ground truth counts messages per ``(external_user_id, game_id)``, so two live
schedules for a game show up as two messages per user, and records when each game's pushes
went out, so a push at a stale time shows up as a second send time), and one
``users.messages.pushnotification.Send`` Currents event per message is queued and POSTed to
``SimConfig.currents_url`` in batches of at most 100 (``Authorization: Bearer <currents_token>``).
A batch that fails (non-2xx, timeout, connection error) stays in the outbox and is retried
with backoff on later clock moves; nothing is dropped (at-least-once, like Currents).

Faults (route names ``braze.create|update|delete|list|send_id_create`` and ``braze.currents``):

* transport faults through :func:`faulted` (``latency``, ``status``, ``timeout``, ``rate_limit``,
  ``truncate``, ``malformed``, ``brotli``); a ``timeout`` holds a request Braze has received
  and then processes it (it lands after the client gave up), a ``status`` answers without
  applying anything;
* ``timeout_after_apply`` (per request, ``params.seconds`` default 30): the change is applied,
  then the response is held past any client read timeout — the ambiguous outcome;
* ``new_id_on_update`` (per request, ``params.keep_old`` default true): an update creates a
  NEW schedule id at the new time; with ``keep_old`` the old schedule also stays live at its
  old time (seed 002, scenario 6), otherwise the old one is cancelled;
* ``list_lag`` (state, ``params.seconds`` or ``params.never``): how long after creation an
  API-created schedule appears in the scheduled-broadcasts list (default
  ``BrazeSim.list_lag_seconds`` = 0);
* ``duplicate_delivery`` on ``braze.currents`` (per batch): a delivered batch is POSTed again
  with the same event ids.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
import random
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from nba_notify.lib.teams import TEAMS
from nba_notify.sim.faults import faulted

ROUTE_CREATE = "braze.create"
ROUTE_UPDATE = "braze.update"
ROUTE_DELETE = "braze.delete"
ROUTE_LIST = "braze.list"
ROUTE_CURRENTS = "braze.currents"
ROUTE_SEND_ID_CREATE = "braze.send_id_create"
SCHEDULE_WRITE_ROUTES = (ROUTE_CREATE, ROUTE_UPDATE, ROUTE_DELETE)
WRITE_ROUTES = (*SCHEDULE_WRITE_ROUTES, ROUTE_SEND_ID_CREATE)

SEND_EVENT_TYPE = "users.messages.pushnotification.Send"
CURRENTS_BATCH_SIZE = 100
MAX_SCHEDULE_AHEAD = timedelta(days=90)
MAX_SEND_ID_LENGTH = 64
CURRENTS_BACKOFF_BASE = timedelta(seconds=30)
CURRENTS_BACKOFF_MAX = timedelta(minutes=15)
CAMPAIGN_NAME = "NBA tip-off reminder"

# Schedule states in the ground truth.
SCHEDULED, CANCELLED, SENT, ABORTED = "scheduled", "cancelled", "sent", "aborted"
ABORT_EVENT_TYPE = "users.messages.pushnotification.Abort"


class BrazeApiError(Exception):
    """A Braze-shaped error response: ``{"message": ..., "errors": [...]}``."""

    def __init__(
        self, status: int, message: str, errors: Iterable[str] = (), headers: dict[str, str] | None = None
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = list(errors)
        self.headers = dict(headers or {})

    def response(self) -> JSONResponse:
        return JSONResponse(
            {"message": self.message, "errors": self.errors}, status_code=self.status, headers=self.headers
        )


# -- pure helpers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SimUser:
    external_user_id: str
    user_id: str  # Braze's own 24-hex user id
    device_id: str
    favorite_team: str
    timezone: str
    platform: str

    def attributes(self) -> dict[str, Any]:
        return {"favorite_team": self.favorite_team}


def generate_audience(per_team: int, rng: random.Random) -> list[SimUser]:
    """``per_team`` followers for each of the 30 teams, deterministic from ``rng``."""
    users = []
    for team in TEAMS:
        for n in range(1, per_team + 1):
            users.append(
                SimUser(
                    external_user_id=f"fan-{team.tricode}-{n:03d}",
                    user_id=f"{rng.getrandbits(96):024x}",
                    device_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    favorite_team=team.tricode,
                    timezone=team.timezone,
                    platform="ios" if n % 2 else "android",
                )
            )
    return users


def parse_schedule_time(value: Any) -> datetime:
    """Braze's ``schedule.time``: ISO 8601; without an offset it means UTC."""
    if not isinstance(value, str) or not value.strip():
        raise BrazeApiError(400, "Invalid schedule", ["schedule.time is required (ISO 8601 string)"])
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise BrazeApiError(400, "Invalid schedule", [f"schedule.time {value!r} is not ISO 8601"]) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def validate_schedule(schedule: Any, now: datetime) -> tuple[datetime, dict[str, Any]]:
    """The send time and the normalised schedule object, or a 400."""
    if not isinstance(schedule, dict):
        raise BrazeApiError(400, "Invalid schedule", ["schedule object is required"])
    when = parse_schedule_time(schedule.get("time"))
    if when < now:
        raise BrazeApiError(
            400,
            "Invalid schedule",
            [f"schedule.time {when.isoformat()} is in the past (now {now.isoformat()})"],
        )
    if when > now + MAX_SCHEDULE_AHEAD:
        raise BrazeApiError(400, "Invalid schedule", ["schedule.time is more than 90 days in the future"])
    normalised = {
        "time": when.isoformat().replace("+00:00", "Z"),
        "in_local_time": bool(schedule.get("in_local_time", False)),
        "at_optimal_time": bool(schedule.get("at_optimal_time", False)),
    }
    return when, normalised


_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "equals": lambda actual, value: actual == value,
    "not_equal": lambda actual, value: actual != value,
    "includes_value": lambda actual, value: value in actual if isinstance(actual, list) else actual == value,
}


def check_audience_filter(node: Any) -> None:
    """Reject filters the simulator cannot evaluate (a 400, never a silent empty audience)."""
    if not isinstance(node, dict) or len(node) != 1:
        raise BrazeApiError(400, "Invalid audience", ["each audience filter is an object with one key"])
    ((key, value),) = node.items()
    if key in ("AND", "OR"):
        if not isinstance(value, list) or not value:
            raise BrazeApiError(400, "Invalid audience", [f"{key} needs a non-empty list"])
        for child in value:
            check_audience_filter(child)
        return
    if key != "custom_attribute":
        raise BrazeApiError(
            400, "Invalid audience", [f"unsupported audience filter {key!r} in the simulator"]
        )
    if not isinstance(value, dict) or "custom_attribute_name" not in value:
        raise BrazeApiError(400, "Invalid audience", ["custom_attribute needs custom_attribute_name"])
    if value.get("comparison") not in _COMPARISONS:
        raise BrazeApiError(400, "Invalid audience", [f"unsupported comparison {value.get('comparison')!r}"])


def audience_matches(user: SimUser, node: dict[str, Any]) -> bool:
    ((key, value),) = node.items()
    if key == "AND":
        return all(audience_matches(user, child) for child in value)
    if key == "OR":
        return any(audience_matches(user, child) for child in value)
    actual = user.attributes().get(value["custom_attribute_name"])
    return actual is not None and _COMPARISONS[value["comparison"]](actual, value.get("value"))


def chunked(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def iso_z(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


# -- state ------------------------------------------------------------------------------------


@dataclass
class Schedule:
    schedule_id: str
    dispatch_id: str
    campaign_id: str
    send_id: str | None
    time: datetime
    schedule: dict[str, Any]
    trigger_properties: dict[str, Any]
    audience: dict[str, Any] | None
    recipients: list[dict[str, Any]] | None
    broadcast: bool
    created_at: datetime
    origin: str = "create"  # or "update" (a new id handed out by an update), "foreign" (control route)
    replaces: str | None = None
    status: str = SCHEDULED
    updated_at: datetime | None = None
    cancelled_at: datetime | None = None
    sent_at: datetime | None = None
    recipients_sent: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def game_id(self) -> str | None:
        return self.trigger_properties.get("game_id")

    def as_dict(self) -> dict[str, Any]:
        stamp = lambda d: iso_z(d) if d else None  # noqa: E731
        return {
            "schedule_id": self.schedule_id,
            "dispatch_id": self.dispatch_id,
            "campaign_id": self.campaign_id,
            "send_id": self.send_id,
            "game_id": self.game_id,
            "time": iso_z(self.time),
            "schedule": dict(self.schedule),
            "trigger_properties": dict(self.trigger_properties),
            "audience": self.audience,
            "recipients": self.recipients,
            "broadcast": self.broadcast,
            "status": self.status,
            "origin": self.origin,
            "replaces": self.replaces,
            "created_at": stamp(self.created_at),
            "updated_at": stamp(self.updated_at),
            "cancelled_at": stamp(self.cancelled_at),
            "sent_at": stamp(self.sent_at),
            "recipients_sent": self.recipients_sent,
            "history": [dict(h) for h in self.history],
        }


@dataclass
class CurrentsBatch:
    batch_id: int
    events: list[dict[str, Any]]
    created_at: datetime
    next_attempt_at: datetime
    status: str = "pending"  # pending | delivered | no_connector
    attempts: int = 0
    duplicate_sends: int = 0
    last_status: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "events": len(self.events),
            "event_ids": [e["id"] for e in self.events],
            "status": self.status,
            "attempts": self.attempts,
            "duplicate_sends": self.duplicate_sends,
            "last_status": self.last_status,
            "last_error": self.last_error,
            "created_at": iso_z(self.created_at),
            "delivered_at": iso_z(self.delivered_at) if self.delivered_at else None,
        }


@dataclass(frozen=True)
class Quota:
    allowed: bool
    limit: int
    remaining: int
    reset_epoch: int

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_epoch),
        }


class HourlyQuota:
    """Braze's REST limit: a fixed window per wall-clock hour shared by all endpoints."""

    def __init__(self, limit_per_hour: int, wall_clock: Callable[[], float] = time.time):
        self.limit = limit_per_hour
        self._wall_clock = wall_clock
        self._lock = threading.Lock()
        self._window_start = 0
        self._used = 0

    def consume(self) -> Quota:
        with self._lock:
            now = self._wall_clock()
            window = int(now // 3600) * 3600
            if window != self._window_start:
                self._window_start, self._used = window, 0
            reset = window + 3600
            if self._used >= self.limit:
                return Quota(False, self.limit, 0, reset)
            self._used += 1
            return Quota(True, self.limit, self.limit - self._used, reset)

    def peek(self) -> Quota:
        """The current state without using a request (for answers that are not served)."""
        with self._lock:
            now = self._wall_clock()
            window = int(now // 3600) * 3600
            used = self._used if window == self._window_start else 0
            return Quota(used < self.limit, self.limit, max(0, self.limit - used), window + 3600)

    def reset(self) -> None:
        with self._lock:
            self._window_start, self._used = 0, 0


class DailySendIdQuota:
    """Braze's send-identifier limit: ``limit`` new (campaign_id, send_id) pairs per simulated
    UTC day. Simulated, unlike :class:`HourlyQuota`: it caps how many sends a day plans, so a
    test or benchmark that moves the clock to tomorrow must find the limit renewed."""

    def __init__(self, limit_per_day: int):
        self.limit = limit_per_day
        self.used: dict[str, int] = {}  # ISO date -> pairs created that day

    @staticmethod
    def _day(now: datetime) -> str:
        return now.astimezone(UTC).date().isoformat()

    @staticmethod
    def next_midnight(now: datetime) -> datetime:
        utc = now.astimezone(UTC)
        return datetime.combine(utc.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)

    def _quota(self, now: datetime, used: int, allowed: bool) -> Quota:
        return Quota(allowed, self.limit, max(0, self.limit - used), int(self.next_midnight(now).timestamp()))

    def consume(self, now: datetime) -> Quota:
        used = self.used.get(self._day(now), 0)
        if used >= self.limit:
            return self._quota(now, used, False)
        self.used[self._day(now)] = used + 1
        return self._quota(now, used + 1, True)

    def peek(self, now: datetime) -> Quota:
        used = self.used.get(self._day(now), 0)
        return self._quota(now, used, used < self.limit)

    def exhausted_headers(self, now: datetime) -> dict[str, str]:
        seconds = math.ceil((self.next_midnight(now) - now.astimezone(UTC)).total_seconds())
        return {**self.peek(now).headers(), "Retry-After": str(max(1, seconds))}


@dataclass(frozen=True)
class SendIdentifier:
    campaign_id: str
    send_id: str
    created_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "campaign_id": self.campaign_id,
            "send_id": self.send_id,
            "created_at": iso_z(self.created_at),
            "day": self.created_at.astimezone(UTC).date().isoformat(),
        }


class BrazeSim:
    """All of simulated Braze's state; attached to the simulator as ``sim.braze``."""

    def __init__(self, sim: Any):
        self.sim = sim
        self._lock = threading.RLock()
        # Serialises Currents deliveries so two clock moves never post the same batch at once.
        self._delivery_lock = threading.Lock()
        self.list_lag_seconds: float = 0.0
        self.currents_timeout = httpx.Timeout(connect=1.0, read=5.0, write=5.0, pool=1.0)
        self._http: httpx.Client | None = None
        self._init_state()
        sim.clock.subscribe(self.on_clock_move)

    @classmethod
    def attach(cls, sim: Any) -> BrazeSim:
        if sim.braze is None:
            sim.braze = cls(sim)
            sim.truth_providers["braze"] = sim.braze.truth
            sim.reset_hooks.append(sim.braze.reset)
        return sim.braze

    def _init_state(self) -> None:
        config = self.sim.config
        self._rng = random.Random(f"braze-{config.seed}")
        self.campaigns: dict[str, str] = {config.braze_campaign_id: CAMPAIGN_NAME}
        self.users = generate_audience(config.audience_per_team, self._rng)
        self._users_by_id = {u.external_user_id: u for u in self.users}
        self.quota = HourlyQuota(config.braze_rate_limit_per_hour)
        self.send_id_quota = DailySendIdQuota(config.braze_send_id_daily_limit)
        self.send_ids: dict[tuple[str, str], SendIdentifier] = {}
        self.schedules: dict[str, Schedule] = {}
        self._calls = {route: 0 for route in (*WRITE_ROUTES, ROUTE_LIST)}
        self._applied = {route: 0 for route in WRITE_ROUTES}
        # game_id -> external_user_id -> schedule ids that messaged this user (one per message)
        self._messages: dict[str, dict[str, list[str]]] = {}
        # game_id -> send time -> users messaged then: when each push went out (the oracle of
        # "the right time"; one game messaged at two times is a wrong-time push)
        self._push_times: dict[str, dict[datetime, int]] = {}
        self._outbox: list[CurrentsBatch] = []
        self._batch_ids = 0
        self._events_created = 0
        self._post_attempts = 0
        self._guard_calls = 0

    def reset(self) -> None:
        with self._delivery_lock, self._lock:
            self.list_lag_seconds = 0.0
            self._init_state()

    def add_campaign(self, campaign_id: str, name: str) -> None:
        with self._lock:
            self.campaigns[campaign_id] = name

    # -- ids ------------------------------------------------------------------------------

    def _new_id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _new_dispatch_id(self) -> str:
        return f"{self._rng.getrandbits(128):032x}"

    # -- API operations (called by the route handlers, under the state lock) ---------------

    def count_call(self, route: str) -> None:
        self.sim.count(route)
        with self._lock:
            self._calls[route] = self._calls.get(route, 0) + 1

    def _campaign(self, body: dict[str, Any]) -> str:
        campaign_id = body.get("campaign_id")
        if not isinstance(campaign_id, str) or not campaign_id:
            raise BrazeApiError(400, "Invalid campaign_id", ["campaign_id is required"])
        if campaign_id not in self.campaigns:
            raise BrazeApiError(400, "Invalid campaign_id", [f"campaign_id {campaign_id!r} not found"])
        return campaign_id

    def _live_schedule(self, body: dict[str, Any], campaign_id: str) -> Schedule:
        schedule_id = body.get("schedule_id")
        if not isinstance(schedule_id, str) or not schedule_id:
            raise BrazeApiError(400, "Invalid schedule_id", ["schedule_id is required"])
        found = self.schedules.get(schedule_id)
        if found is None or found.campaign_id != campaign_id or found.status != SCHEDULED:
            raise BrazeApiError(404, "Schedule not found", [f"schedule_id {schedule_id!r} not found"])
        return found

    def _validate_targeting(
        self, body: dict[str, Any]
    ) -> tuple[dict[str, Any], dict | None, list | None, bool]:
        trigger_properties = body.get("trigger_properties") or {}
        if not isinstance(trigger_properties, dict):
            raise BrazeApiError(400, "Invalid trigger_properties", ["trigger_properties must be an object"])
        if not trigger_properties.get("game_id"):
            raise BrazeApiError(
                400, "Invalid trigger_properties", ["trigger_properties.game_id is required by this campaign"]
            )
        audience = body.get("audience")
        recipients = body.get("recipients")
        broadcast = bool(body.get("broadcast", False))
        if audience is not None:
            check_audience_filter(audience)
        if recipients is not None:
            if broadcast:
                raise BrazeApiError(400, "Invalid recipients", ["broadcast cannot be true with recipients"])
            if not isinstance(recipients, list) or not all(
                isinstance(r, dict) and r.get("external_user_id") for r in recipients
            ):
                raise BrazeApiError(400, "Invalid recipients", ["recipients need external_user_id"])
        if audience is None and recipients is None:
            if not broadcast:
                raise BrazeApiError(
                    400,
                    "Invalid request",
                    ["broadcast must be true when neither recipients nor audience is given"],
                )
            known = {team.tricode for team in TEAMS}
            for key in ("home_team", "away_team"):
                if trigger_properties.get(key) not in known:
                    raise BrazeApiError(
                        400,
                        "Invalid trigger_properties",
                        [
                            f"trigger_properties.{key} must be a team tricode (got {trigger_properties.get(key)!r})"
                        ],
                    )
        return dict(trigger_properties), audience, recipients, broadcast

    def create(self, body: dict[str, Any], *, origin: str = "create") -> dict[str, Any]:
        """``origin="foreign"``: a schedule someone else made behind the product's back (the
        control route); it is not one of the product's applied writes."""
        with self._lock:
            now = self.sim.clock.now()
            campaign_id = self._campaign(body)
            when, schedule = validate_schedule(body.get("schedule"), now)
            trigger_properties, audience, recipients, broadcast = self._validate_targeting(body)
            send_id = self._created_send_id(body, campaign_id)
            record = Schedule(
                schedule_id=self._new_id(),
                dispatch_id=self._new_dispatch_id(),
                campaign_id=campaign_id,
                send_id=send_id,
                time=when,
                schedule=schedule,
                trigger_properties=trigger_properties,
                audience=audience,
                recipients=recipients,
                broadcast=broadcast,
                created_at=now,
                origin=origin,
            )
            record.history.append({"at": iso_z(now), "action": "created", "time": iso_z(when)})
            self.schedules[record.schedule_id] = record
            if origin == "create":
                self._applied[ROUTE_CREATE] += 1
            return {
                "schedule_id": record.schedule_id,
                "dispatch_id": record.dispatch_id,
                "message": "success",
            }

    def _created_send_id(self, body: dict[str, Any], campaign_id: str) -> str | None:
        """A schedule's ``send_id`` must have been created for its campaign beforehand."""
        send_id = body.get("send_id")
        if send_id is None:
            return None
        if not isinstance(send_id, str) or (campaign_id, send_id) not in self.send_ids:
            raise BrazeApiError(
                400,
                "Invalid send_id",
                [
                    f"send_id {send_id!r} does not exist for campaign_id {campaign_id!r}; "
                    "create it with /sends/id/create first"
                ],
            )
        return send_id

    def create_send_id(self, body: dict[str, Any]) -> tuple[dict[str, Any], Quota]:
        """Create a (campaign_id, send_id) pair: the answer and the daily-limit snapshot for
        its headers. An existing pair succeeds again without counting toward the limit."""
        with self._lock:
            now = self.sim.clock.now()
            campaign_id = self._campaign(body)
            send_id = body.get("send_id")
            if send_id is None:
                send_id = f"{self._rng.getrandbits(128):032x}"  # Braze makes one up when none is given
            if not isinstance(send_id, str) or not send_id.strip() or len(send_id) > MAX_SEND_ID_LENGTH:
                raise BrazeApiError(
                    400,
                    "Invalid send_id",
                    [f"send_id must be a non-empty string of at most {MAX_SEND_ID_LENGTH} characters"],
                )
            if (campaign_id, send_id) in self.send_ids:
                return {"message": "success", "send_id": send_id}, self.send_id_quota.peek(now)
            quota = self.send_id_quota.consume(now)
            if not quota.allowed:
                raise BrazeApiError(
                    429,
                    "Daily send identifier limit exceeded",
                    [f"at most {self.send_id_quota.limit} send identifiers can be created per day"],
                    headers=self.send_id_quota.exhausted_headers(now),
                )
            self.send_ids[(campaign_id, send_id)] = SendIdentifier(campaign_id, send_id, now)
            self._applied[ROUTE_SEND_ID_CREATE] += 1
            return {"message": "success", "send_id": send_id}, quota

    def update(self, body: dict[str, Any], *, new_id: bool = False, keep_old: bool = True) -> dict[str, Any]:
        with self._lock:
            now = self.sim.clock.now()
            campaign_id = self._campaign(body)
            record = self._live_schedule(body, campaign_id)
            when, schedule = validate_schedule(body.get("schedule"), now)
            trigger_properties = body.get("trigger_properties")
            if trigger_properties is not None and not isinstance(trigger_properties, dict):
                raise BrazeApiError(
                    400, "Invalid trigger_properties", ["trigger_properties must be an object"]
                )
            self._applied[ROUTE_UPDATE] += 1
            if not new_id:
                record.history.append(
                    {"at": iso_z(now), "action": "updated", "from": iso_z(record.time), "to": iso_z(when)}
                )
                record.time, record.schedule, record.updated_at = when, schedule, now
                if trigger_properties is not None:
                    record.trigger_properties = dict(trigger_properties)
                return {"schedule_id": record.schedule_id, "message": "success"}
            clone = self._reissue(record, when, schedule, trigger_properties, now)
            record.history.append(
                {
                    "at": iso_z(now),
                    "action": "update_returned_new_id",
                    "new_schedule_id": clone.schedule_id,
                    "old_kept_live": keep_old,
                }
            )
            if not keep_old:
                record.status, record.cancelled_at = CANCELLED, now
            return {"schedule_id": clone.schedule_id, "message": "success"}

    def _reissue(
        self,
        old: Schedule,
        when: datetime,
        schedule: dict[str, Any],
        trigger_properties: dict | None,
        now: datetime,
    ) -> Schedule:
        """The misbehaviour seed 002 (scenario 6) saw: an update that hands out a new schedule."""
        clone = dataclasses.replace(
            old,
            schedule_id=self._new_id(),
            dispatch_id=self._new_dispatch_id(),
            time=when,
            schedule=schedule,
            trigger_properties=dict(
                trigger_properties if trigger_properties is not None else old.trigger_properties
            ),
            created_at=now,
            origin="update",
            replaces=old.schedule_id,
            history=[
                {
                    "at": iso_z(now),
                    "action": "created_by_update",
                    "replaces": old.schedule_id,
                    "time": iso_z(when),
                }
            ],
        )
        self.schedules[clone.schedule_id] = clone
        return clone

    def delete(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            now = self.sim.clock.now()
            campaign_id = self._campaign(body)
            record = self._live_schedule(body, campaign_id)
            record.status, record.cancelled_at = CANCELLED, now
            record.history.append({"at": iso_z(now), "action": "cancelled"})
            self._applied[ROUTE_DELETE] += 1
            return {"message": "success"}

    def list_lag(self) -> float | None:
        """Seconds before an API schedule is listed; None = never listed."""
        now = self.sim.clock.now()
        lag: float | None = self.list_lag_seconds
        for fault in self.sim.faults.active(ROUTE_LIST, "list_lag", now):
            fault.hits += 1
            lag = None if fault.params.get("never") else float(fault.params.get("seconds", 0))
        return lag

    def scheduled_broadcasts(self, end_time: str | None) -> dict[str, Any]:
        if not end_time:
            raise BrazeApiError(400, "Invalid end_time", ["end_time is required"])
        parsed = parse_schedule_time(end_time)
        # Braze: "end_time ... is treated as midnight in UTC time by the API".
        end = datetime.combine(parsed.date(), datetime.min.time(), tzinfo=UTC)
        lag = self.list_lag()
        with self._lock:
            now = self.sim.clock.now()
            entries = []
            if lag is not None:
                for record in sorted(self.schedules.values(), key=lambda s: (s.time, s.schedule_id)):
                    if record.status != SCHEDULED or not (now <= record.time <= end):
                        continue
                    if now < record.created_at + timedelta(seconds=lag):
                        continue
                    entries.append(
                        {
                            "name": self.campaigns.get(record.campaign_id, record.campaign_id),
                            # The real list names the campaign, never the schedule.
                            "id": record.campaign_id,
                            "type": "Campaign",
                            "tags": [],
                            "next_send_time": iso_z(record.time),
                            "schedule_type": _schedule_type(record.schedule),
                        }
                    )
            return {"scheduled_broadcasts": entries, "message": "success"}

    # -- sending ----------------------------------------------------------------------------

    def _audience_of(self, record: Schedule) -> list[SimUser]:
        if record.recipients is not None:
            wanted = [r["external_user_id"] for r in record.recipients]
            return [self._users_by_id[w] for w in dict.fromkeys(wanted) if w in self._users_by_id]
        if record.audience is not None:
            return [u for u in self.users if audience_matches(u, record.audience)]
        teams = {record.trigger_properties.get("home_team"), record.trigger_properties.get("away_team")}
        return [u for u in self.users if u.favorite_team in teams]

    def _send_event(
        self, record: Schedule, user: SimUser, event_type: str = SEND_EVENT_TYPE, abort_log: str | None = None
    ) -> dict[str, Any]:
        properties_extra = {"abort_type": "liquid_abort_message", "abort_log": abort_log} if abort_log else {}
        return {
            "event_type": event_type,
            "id": self._new_id(),
            "time": int(record.time.timestamp()),
            "user": {
                "user_id": user.user_id,
                "external_user_id": user.external_user_id,
                "device_id": user.device_id,
                "timezone": user.timezone,
            },
            "properties": {
                "app_id": "sim-app-nba",
                "platform": user.platform,
                "campaign_id": record.campaign_id,
                "campaign_name": self.campaigns.get(record.campaign_id, record.campaign_id),
                "message_variation_id": f"{record.campaign_id}-push",
                "message_variation_name": "Push",
                "send_id": record.send_id,
                "dispatch_id": record.dispatch_id,
                **properties_extra,
            },
        }

    def send_due(self, now: datetime) -> int:
        """Send every live schedule whose time has come; queue its Currents events. Returns
        the number of messages sent. With a send guard configured, the campaign's Connected
        Content call decides first: a refusal aborts the send (no message, Abort events)."""
        with self._lock:
            due = sorted(
                (s for s in self.schedules.values() if s.status == SCHEDULED and s.time <= now),
                key=lambda s: (s.time, s.schedule_id),
            )
            events: list[dict[str, Any]] = []
            sent = 0
            for record in due:
                users = self._audience_of(record)
                verdict = self._ask_guard(record)
                if verdict is not None and not verdict[0]:
                    record.status = ABORTED
                    record.history.append({"at": iso_z(now), "action": "aborted", "reason": verdict[1]})
                    events.extend(
                        self._send_event(record, user, ABORT_EVENT_TYPE, verdict[1]) for user in users
                    )
                    continue
                if verdict is None and self.sim.config.braze_send_guard_url:
                    record.history.append({"at": iso_z(now), "action": "guard_unavailable"})
                record.status, record.sent_at, record.recipients_sent = SENT, record.time, len(users)
                record.history.append({"at": iso_z(now), "action": "sent", "recipients": len(users)})
                per_user = self._messages.setdefault(str(record.game_id), {})
                at = self._push_times.setdefault(str(record.game_id), {})
                at[record.time] = at.get(record.time, 0) + len(users)
                for user in users:
                    per_user.setdefault(user.external_user_id, []).append(record.schedule_id)
                    events.append(self._send_event(record, user))
                sent += len(users)
            self._events_created += len(events)
            connector = bool(self.sim.config.currents_url)
            for chunk in chunked(events, CURRENTS_BATCH_SIZE):
                self._batch_ids += 1
                self._outbox.append(
                    CurrentsBatch(
                        batch_id=self._batch_ids,
                        events=chunk,
                        created_at=now,
                        next_attempt_at=now,
                        # Events sent while no Currents connector is configured go nowhere,
                        # as with a real workspace that has no integration.
                        status="pending" if connector else "no_connector",
                    )
                )
            return sent

    def _ask_guard(self, record: Schedule) -> tuple[bool, str] | None:
        """The template's Connected Content call: (send?, reason), or None when it could not be
        answered (error, timeout, not 200) — the template then sends, as Braze would."""
        url = self.sim.config.braze_send_guard_url
        if not url:
            return None
        params = {"send_id": record.send_id or "", "dispatch_id": record.dispatch_id}
        if record.trigger_properties.get("send_at"):
            params["send_at"] = str(record.trigger_properties["send_at"])
        token = self.sim.config.braze_send_guard_token or self.sim.config.currents_token
        self._guard_calls += 1
        try:
            response = self._client().get(url, params=params, headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError:
            return None
        if response.status_code != 200:
            return None
        try:
            body = response.json()
        except ValueError:
            return None
        if body.get("send") is False:
            return False, str(body.get("reason") or "refused")
        return True, str(body.get("reason") or "")

    def _client(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(timeout=self.currents_timeout)
        return self._http

    def on_clock_move(self, old: datetime, new: datetime) -> None:
        self.send_due(new)
        self.flush_outbox(force=False)

    def flush_outbox(self, force: bool = True) -> dict[str, int]:
        """POST pending Currents batches. ``force`` ignores backoff (tests, demo). Stops at
        the first failure of a flush: the receiver is down or sick, the rest waits too."""
        url, token = self.sim.config.currents_url, self.sim.config.currents_token
        attempted = delivered = 0
        with self._delivery_lock:
            now = self.sim.clock.now()
            with self._lock:
                due = [
                    b for b in self._outbox if b.status == "pending" and (force or b.next_attempt_at <= now)
                ]
            if not url:
                return {"attempted": 0, "delivered": 0, "pending": self._pending_count()}
            for batch in due:
                attempted += 1
                status, error = self._post_batch(url, token, batch)
                with self._lock:
                    batch.attempts += 1
                    batch.last_status, batch.last_error = status, error
                    if status is not None and 200 <= status < 300:
                        batch.status, batch.delivered_at = "delivered", now
                        delivered += 1
                    else:
                        delay = min(CURRENTS_BACKOFF_MAX, CURRENTS_BACKOFF_BASE * (2 ** (batch.attempts - 1)))
                        batch.next_attempt_at = now + delay
                if batch.status != "delivered":
                    break
                if self.sim.faults.take(ROUTE_CURRENTS, "duplicate_delivery") is not None:
                    # Currents is at-least-once: the same events arrive again.
                    self._post_batch(url, token, batch)
                    with self._lock:
                        batch.duplicate_sends += 1
        return {"attempted": attempted, "delivered": delivered, "pending": self._pending_count()}

    def _pending_count(self) -> int:
        with self._lock:
            return sum(1 for b in self._outbox if b.status == "pending")

    def _post_batch(self, url: str, token: str, batch: CurrentsBatch) -> tuple[int | None, str | None]:
        if self._http is None:
            self._http = httpx.Client(timeout=self.currents_timeout)
        with self._lock:
            self._post_attempts += 1
        try:
            response = self._http.post(
                url,
                content=json.dumps({"events": batch.events}).encode(),
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"
        return response.status_code, None if response.is_success else response.text[:200]

    # -- ground truth -----------------------------------------------------------------------

    def live_schedules_for(self, game_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [
                s.as_dict()
                for s in self.schedules.values()
                if s.status == SCHEDULED and str(s.game_id) == str(game_id)
            ]

    def schedules_for(self, game_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [s.as_dict() for s in self.schedules.values() if str(s.game_id) == str(game_id)]

    def messages_for(self, game_id: str) -> dict[str, int]:
        """external_user_id -> number of pushes this user received for the game."""
        with self._lock:
            return {user: len(ids) for user, ids in self._messages.get(str(game_id), {}).items()}

    def push_times_for(self, game_id: str) -> dict[str, int]:
        """send time (ISO, UTC) -> users messaged at that time, for one game."""
        with self._lock:
            return {iso_z(t): n for t, n in sorted(self._push_times.get(str(game_id), {}).items())}

    def call_counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._calls)

    def currents_summary(self) -> dict[str, Any]:
        with self._lock:
            by_status: dict[str, int] = {}
            for batch in self._outbox:
                by_status[batch.status] = by_status.get(batch.status, 0) + 1
            return {
                "events_created": self._events_created,
                "events_delivered": sum(len(b.events) for b in self._outbox if b.status == "delivered"),
                "batches_created": len(self._outbox),
                "batches_attempted": sum(1 for b in self._outbox if b.attempts > 0),
                "batches_delivered": by_status.get("delivered", 0),
                "batches_pending": by_status.get("pending", 0),
                "batches_without_connector": by_status.get("no_connector", 0),
                "post_attempts": self._post_attempts,
                "duplicate_batch_sends": sum(b.duplicate_sends for b in self._outbox),
            }

    def truth(self) -> dict[str, Any]:
        with self._lock:
            messages = {
                game: {user: len(ids) for user, ids in per_user.items()}
                for game, per_user in self._messages.items()
            }
            extra = sum(
                count - 1 for per_user in messages.values() for count in per_user.values() if count > 1
            )
            return {
                "campaigns": dict(self.campaigns),
                "schedules": [s.as_dict() for s in self.schedules.values()],
                "live_schedules": sum(1 for s in self.schedules.values() if s.status == SCHEDULED),
                "aborted_schedules": sum(1 for s in self.schedules.values() if s.status == ABORTED),
                "send_guard_calls": self._guard_calls,
                "messages": messages,
                "push_times": {
                    game: {iso_z(t): n for t, n in sorted(times.items())}
                    for game, times in self._push_times.items()
                },
                "messages_total": sum(sum(p.values()) for p in messages.values()),
                "duplicate_messages": extra,
                "games_with_duplicates": sorted(
                    game for game, per_user in messages.items() if any(c > 1 for c in per_user.values())
                ),
                "calls": dict(self._calls),
                "applied": dict(self._applied),
                "send_ids": [s.as_dict() for s in self.send_ids.values()],
                "send_ids_created_per_day": dict(self.send_id_quota.used),
                "send_id_daily_limit": self.send_id_quota.limit,
                "currents": {
                    **self.currents_summary(),
                    "batches": [b.as_dict() for b in self._outbox],
                },
                "list_lag_seconds": self.list_lag_seconds,
                "audience_size": len(self.users),
            }


def _schedule_type(schedule: dict[str, Any]) -> str:
    if schedule.get("at_optimal_time"):
        return "intelligent_delivery"
    if schedule.get("in_local_time"):
        return "local_time_zones"
    return "UTC"  # the simulated company's time zone


# -- HTTP -------------------------------------------------------------------------------------

Handler = Callable[[Request], Awaitable[Response]]


def _fault_rate_limited(retry_after: float, limit: int) -> Response:
    return JSONResponse(
        {"message": "API rate limit exceeded", "errors": []},
        status_code=429,
        headers=Quota(False, limit, 0, math.ceil(time.time() + retry_after)).headers(),
    )


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BrazeApiError(400, "Invalid JSON", ["request body is not valid JSON"]) from None
    if not isinstance(body, dict):
        raise BrazeApiError(400, "Invalid JSON", ["request body must be a JSON object"])
    return body


def routes(sim: Any) -> list[Route]:
    state = BrazeSim.attach(sim)

    def endpoint(route: str, handler: Handler) -> Handler:
        inner = faulted(sim.faults, route, handler, on_rate_limit=_fault_rate_limited)

        async def wrapped(request: Request) -> Response:
            state.count_call(route)
            quota: Quota | None = None
            if request.headers.get("authorization") != f"Bearer {sim.config.braze_api_key}":
                response: Response = JSONResponse(
                    {"message": "Invalid API key", "errors": ["missing or unknown REST API key"]},
                    status_code=401,
                )
            else:
                quota = state.quota.consume()
                if not quota.allowed:
                    response = JSONResponse(
                        {"message": "API rate limit exceeded", "errors": []}, status_code=429
                    )
                else:
                    try:
                        # Read the body now: a request Braze received is processed even if the
                        # client stops waiting during an injected delay (it lands late).
                        await request.body()
                        response = await inner(request)
                    except BrazeApiError as error:
                        response = error.response()
            if "x-ratelimit-limit" not in response.headers:
                snapshot = quota or state.quota.peek()
                if response.status_code == 429 and snapshot.allowed:
                    # An injected 429 (status fault): a short, transient limit.
                    snapshot = Quota(False, snapshot.limit, 0, math.ceil(time.time()) + 1)
                for name, value in snapshot.headers().items():
                    response.headers[name] = value
            return response

        return wrapped

    async def hang_if_told(route: str) -> None:
        fault = sim.faults.take(route, "timeout_after_apply")
        if fault is not None:
            # The change is applied; the answer never reaches a client with a sane timeout.
            await asyncio.sleep(float(fault.params.get("seconds", 30)))

    async def create(request: Request) -> Response:
        payload = state.create(await _json_body(request))
        await hang_if_told(ROUTE_CREATE)
        return JSONResponse(payload, status_code=201)

    async def update(request: Request) -> Response:
        body = await _json_body(request)
        fault = sim.faults.take(ROUTE_UPDATE, "new_id_on_update")
        keep_old = bool(fault.params.get("keep_old", True)) if fault else True
        payload = state.update(body, new_id=fault is not None, keep_old=keep_old)
        await hang_if_told(ROUTE_UPDATE)
        return JSONResponse(payload)

    async def delete(request: Request) -> Response:
        payload = state.delete(await _json_body(request))
        await hang_if_told(ROUTE_DELETE)
        return JSONResponse(payload)

    async def scheduled_broadcasts(request: Request) -> Response:
        return JSONResponse(state.scheduled_broadcasts(request.query_params.get("end_time")))

    async def send_id_create(request: Request) -> Response:
        payload, quota = state.create_send_id(await _json_body(request))
        await hang_if_told(ROUTE_SEND_ID_CREATE)
        # The endpoint's own (daily) limit in the headers, as Braze reports per-endpoint limits.
        return JSONResponse(payload, status_code=201, headers=quota.headers())

    return [
        Route("/campaigns/trigger/schedule/create", endpoint(ROUTE_CREATE, create), methods=["POST"]),
        Route("/campaigns/trigger/schedule/update", endpoint(ROUTE_UPDATE, update), methods=["POST"]),
        Route("/campaigns/trigger/schedule/delete", endpoint(ROUTE_DELETE, delete), methods=["POST"]),
        Route("/messages/scheduled_broadcasts", endpoint(ROUTE_LIST, scheduled_broadcasts), methods=["GET"]),
        Route("/sends/id/create", endpoint(ROUTE_SEND_ID_CREATE, send_id_create), methods=["POST"]),
    ]


def control_routes(sim: Any) -> list[Route]:
    """``/_sim/braze``: force Currents redelivery, configure the connector, the list lag and
    the daily send-identifier limit, create a schedule behind the product's back."""
    state = BrazeSim.attach(sim)

    async def flush(request: Request) -> JSONResponse:
        return JSONResponse(await asyncio.to_thread(state.flush_outbox, True))

    async def config(request: Request) -> JSONResponse:
        if request.method == "POST":
            body = await request.json()
            if "currents_url" in body:
                sim.config.currents_url = body["currents_url"] or None
            if "currents_token" in body:
                sim.config.currents_token = body["currents_token"]
            if "list_lag_seconds" in body:
                state.list_lag_seconds = float(body["list_lag_seconds"])
            if "send_id_daily_limit" in body:
                sim.config.braze_send_id_daily_limit = int(body["send_id_daily_limit"])
                state.send_id_quota.limit = sim.config.braze_send_id_daily_limit
        return JSONResponse(
            {
                "currents_url": sim.config.currents_url,
                "list_lag_seconds": state.list_lag_seconds,
                "campaigns": state.campaigns,
                "audience_per_team": sim.config.audience_per_team,
                "send_id_daily_limit": state.send_id_quota.limit,
            }
        )

    async def foreign_schedule(request: Request) -> JSONResponse:
        """A schedule created behind the product's back (another deployment, a script): the
        create body as Braze takes it, the campaign defaulting to the simulated one. Validated
        like a create (400 for a bad body); listed after the list lag like any API schedule."""
        body = await request.json()
        if not isinstance(body, dict):
            return BrazeApiError(400, "Invalid JSON", ["body must be an object"]).response()
        body.setdefault("campaign_id", sim.config.braze_campaign_id)
        if "audience" not in body and "recipients" not in body:
            body.setdefault("broadcast", True)
        try:
            created = state.create(body, origin="foreign")
        except BrazeApiError as error:
            return error.response()
        return JSONResponse(created, status_code=201)

    return [
        Route("/flush", flush, methods=["POST"]),
        Route("/config", config, methods=["GET", "POST"]),
        Route("/foreign_schedules", foreign_schedule, methods=["POST"]),
    ]


__all__ = [
    "BrazeSim",
    "SimUser",
    "Schedule",
    "CurrentsBatch",
    "SEND_EVENT_TYPE",
    "CURRENTS_BATCH_SIZE",
    "routes",
    "control_routes",
]
