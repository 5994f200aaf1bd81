"""The Braze REST client: schedule, move and cancel API-triggered campaign sends, create the
send identifiers they carry, and read the scheduled-broadcasts list.

Every write returns a :class:`ScheduleOutcome` instead of raising, because what the caller must
do next depends on *whether Braze may have applied the change*:

* ``SUCCESS`` — applied; ``schedule_id`` (and for creates ``dispatch_id``) are Braze's answer.
* ``DEFINITE_FAILURE`` — provably not applied: a 4xx (validation, auth, 404, 429 once the retry
  budget is spent) or a connection that was never made. Safe to retry later.
* ``AMBIGUOUS`` — it may have been applied: a read timeout or connection reset after the
  request went out, a 5xx, or a 2xx whose body could not be read. Never blindly re-create:
  Braze has no idempotency key for creates, so a retry could schedule a second push.

Schedule writes are non-idempotent POSTs: the shared :class:`ApiClient` retries them only on
429 and on connect failures (the server never saw them). Creating a send identifier is the
exception: Braze answers success again for a pair that exists, so it is retried like a GET.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from nba_notify.lib.clients.http import ApiClient, ApiResponse, CallRecorder, RetryPolicy, Sleep, Timeouts
from nba_notify.lib.errors import ErrorCategory, PipelineError

API_NAME = "braze"
CREATE_PATH = "/campaigns/trigger/schedule/create"
UPDATE_PATH = "/campaigns/trigger/schedule/update"
DELETE_PATH = "/campaigns/trigger/schedule/delete"
LIST_PATH = "/messages/scheduled_broadcasts"
SEND_ID_CREATE_PATH = "/sends/id/create"

DEFAULT_TIMEOUTS = Timeouts(connect=5.0, read=10.0, write=10.0, pool=5.0)
# A 429 that asks for more than a minute is reported (the sync retries on its next run)
# rather than slept through while holding a lease.
DEFAULT_RETRY = RetryPolicy(max_attempts=3, base_delay=0.5, max_delay=5.0, max_retry_after=60.0)


class OutcomeKind(enum.StrEnum):
    SUCCESS = "SUCCESS"
    DEFINITE_FAILURE = "DEFINITE_FAILURE"
    AMBIGUOUS = "AMBIGUOUS"


@dataclass(frozen=True)
class RateLimitSnapshot:
    limit: int | None
    remaining: int | None
    reset_epoch: int | None

    @classmethod
    def from_headers(cls, headers: Any) -> RateLimitSnapshot | None:
        def number(name: str) -> int | None:
            value = headers.get(name)
            try:
                return int(float(value)) if value is not None else None
            except ValueError:
                return None

        snapshot = cls(
            number("x-ratelimit-limit"), number("x-ratelimit-remaining"), number("x-ratelimit-reset")
        )
        return None if snapshot == cls(None, None, None) else snapshot


class _Classified:
    """How a write ended: applied, definitely not applied, or possibly applied."""

    kind: OutcomeKind

    @property
    def succeeded(self) -> bool:
        return self.kind is OutcomeKind.SUCCESS

    @property
    def ambiguous(self) -> bool:
        return self.kind is OutcomeKind.AMBIGUOUS


@dataclass(frozen=True)
class ScheduleOutcome(_Classified):
    kind: OutcomeKind
    schedule_id: str | None = None
    dispatch_id: str | None = None
    error: PipelineError | None = field(default=None, compare=False, hash=False)
    status_code: int | None = None
    rate_limit_remaining: int | None = None

    @property
    def not_found(self) -> bool:
        """Braze does not know this schedule (any more): for a delete, that means done."""
        return bool(self.error is not None and self.error.details.get("not_found"))


@dataclass(frozen=True)
class SendIdOutcome(_Classified):
    """What ``POST /sends/id/create`` told us. ``rate_limit`` is the endpoint's *daily* limit
    (Braze: 100 new send identifiers per workspace per day), not the hourly REST limit."""

    kind: OutcomeKind
    send_id: str | None = None
    error: PipelineError | None = field(default=None, compare=False, hash=False)
    status_code: int | None = None
    rate_limit: RateLimitSnapshot | None = None

    @property
    def rate_limited(self) -> bool:
        return self.status_code == 429

    @property
    def rate_limit_remaining(self) -> int | None:
        if self.rate_limited:
            return 0
        return self.rate_limit.remaining if self.rate_limit else None


def format_schedule_time(send_at: datetime) -> str:
    """``schedule.time`` as Braze gets it: UTC, truncated to the minute, ``...Z``. Ledger
    signatures use the same normalisation so a one-second jitter is not a change."""
    if send_at.tzinfo is None:
        raise ValueError("send_at must be timezone-aware")
    minute = send_at.astimezone(UTC).replace(second=0, microsecond=0)
    return minute.strftime("%Y-%m-%dT%H:%M:%SZ")


def list_end_time_param(end_time: datetime) -> str:
    """Braze treats ``end_time`` as midnight UTC of its date: ask for the next midnight at or
    after ``end_time`` so nothing before ``end_time`` is cut off (callers filter the rest)."""
    if end_time.tzinfo is None:
        raise ValueError("end_time must be timezone-aware")
    utc = end_time.astimezone(UTC)
    midnight = utc.replace(hour=0, minute=0, second=0, microsecond=0)
    if midnight < utc:
        midnight += timedelta(days=1)
    return midnight.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_braze_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def classify_write_error(error: PipelineError, *, body_irrelevant: bool = False) -> OutcomeKind:
    """Did a failed write perhaps reach Braze and get applied?"""
    status = error.status_code
    if status is None:
        # Transport failure: the base client says whether the request may have gone out.
        return (
            OutcomeKind.AMBIGUOUS
            if error.details.get("possibly_applied", True)
            else OutcomeKind.DEFINITE_FAILURE
        )
    if 200 <= status < 300:
        # Applied, but the answer (the schedule id) could not be read.
        return OutcomeKind.SUCCESS if body_irrelevant else OutcomeKind.AMBIGUOUS
    if status == 408 or status >= 500:
        return OutcomeKind.AMBIGUOUS
    return OutcomeKind.DEFINITE_FAILURE  # 4xx incl. 429 after the retry budget: not applied


class BrazeClient:
    """Braze REST API (Bearer auth) for one workspace."""

    def __init__(
        self,
        rest_endpoint: str,
        api_key: str,
        *,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        retry: RetryPolicy = DEFAULT_RETRY,
        recorder: CallRecorder | None = None,
        sleep: Sleep = time.sleep,
        seed: int | None = None,
    ):
        self._api = ApiClient(
            API_NAME,
            rest_endpoint,
            headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"},
            timeouts=timeouts,
            retry=retry,
            recorder=recorder,
            sleep=sleep,
            seed=seed,
        )
        self.rate_limit: RateLimitSnapshot | None = None
        # The send-identifier endpoint reports its own daily limit; kept apart from the hourly one.
        self.send_id_rate_limit: RateLimitSnapshot | None = None

    @property
    def recorder(self) -> CallRecorder:
        return self._api.recorder

    def close(self) -> None:
        self._api.close()

    def __enter__(self) -> BrazeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writes -----------------------------------------------------------------------------

    def create_schedule(
        self,
        campaign_id: str,
        send_at: datetime,
        trigger_properties: dict[str, Any],
        audience: dict[str, Any] | None = None,
        send_id: str | None = None,
    ) -> ScheduleOutcome:
        """Schedule one send of ``campaign_id``. Without ``audience`` the send is a broadcast
        to the campaign's segment (``broadcast: true``)."""
        try:
            schedule_time = format_schedule_time(send_at)
        except ValueError as exc:
            return _rejected_locally(str(exc))
        body: dict[str, Any] = {
            "campaign_id": campaign_id,
            "trigger_properties": trigger_properties,
            "schedule": {"time": schedule_time},
        }
        if audience is not None:
            body["audience"] = audience
        else:
            body["broadcast"] = True
        if send_id is not None:
            body["send_id"] = send_id
        return self._write(CREATE_PATH, "schedule_create", body, required=("schedule_id", "dispatch_id"))

    def update_schedule(
        self,
        campaign_id: str,
        schedule_id: str,
        send_at: datetime,
        trigger_properties: dict[str, Any] | None = None,
    ) -> ScheduleOutcome:
        """Move a schedule. Braze replaces the whole ``schedule`` object, and may answer with a
        *different* ``schedule_id`` than the one updated: the outcome carries the one returned."""
        try:
            schedule_time = format_schedule_time(send_at)
        except ValueError as exc:
            return _rejected_locally(str(exc))
        body: dict[str, Any] = {
            "campaign_id": campaign_id,
            "schedule_id": schedule_id,
            "schedule": {"time": schedule_time},
        }
        if trigger_properties is not None:
            body["trigger_properties"] = trigger_properties
        # An answer without schedule_id means the same schedule; an unreadable answer could
        # have carried a new id, so it stays AMBIGUOUS.
        return self._write(UPDATE_PATH, "schedule_update", body, required=(), default_id=schedule_id)

    def delete_schedule(self, campaign_id: str, schedule_id: str) -> ScheduleOutcome:
        """Cancel a schedule. A 404 is a DEFINITE_FAILURE with ``not_found`` (already gone)."""
        body = {"campaign_id": campaign_id, "schedule_id": schedule_id}
        return self._write(
            DELETE_PATH, "schedule_delete", body, required=(), default_id=schedule_id, answer_irrelevant=True
        )

    def create_send_id(self, campaign_id: str, send_id: str) -> SendIdOutcome:
        """Create the send identifier ``send_id`` for ``campaign_id`` (``POST /sends/id/create``);
        a schedule create may name it only once this succeeded.

        Idempotent at Braze: creating a pair that already exists succeeds again and does not
        count toward the daily limit. So unlike schedule writes, timeouts, resets and 5xx are
        retried by the base client, and an outcome still AMBIGUOUS after the retries is safe
        to try again on a later run - it can never cause a second push. A 429 (the daily
        limit of 100 new pairs, or the hourly REST limit) is a DEFINITE_FAILURE once the wait
        it asks for exceeds ``max_retry_after``."""
        if not send_id:
            return SendIdOutcome(
                OutcomeKind.DEFINITE_FAILURE, error=_rejected_locally("send_id is empty").error
            )
        body = {"campaign_id": campaign_id, "send_id": send_id}
        try:
            response = self._api.post(
                SEND_ID_CREATE_PATH,
                endpoint="send_id_create",
                json_body=body,
                ok_statuses=(200, 201),
                idempotent=True,
            )
        except PipelineError as error:
            # A 2xx whose body could not be read still created the pair we named.
            kind = classify_write_error(error, body_irrelevant=True)
            error.details["outcome"] = str(kind)
            return SendIdOutcome(
                kind,
                send_id=send_id if kind is OutcomeKind.SUCCESS else None,
                error=error,
                status_code=error.status_code,
            )
        snapshot = RateLimitSnapshot.from_headers({k.lower(): v for k, v in response.headers.items()})
        if snapshot is not None:
            self.send_id_rate_limit = snapshot
        payload = response.json()
        answered = payload.get("send_id") if isinstance(payload, dict) else None
        if answered is not None and answered != send_id:
            error = PipelineError(
                ErrorCategory.VALIDATION,
                f"Braze answered send_id {answered!r} when asked to create {send_id!r}",
                details={"url": response.url, "body": response.text[:500], "outcome": "AMBIGUOUS"},
                status_code=response.status,
            )
            return SendIdOutcome(
                OutcomeKind.AMBIGUOUS, error=error, status_code=response.status, rate_limit=snapshot
            )
        return SendIdOutcome(
            OutcomeKind.SUCCESS, send_id=send_id, status_code=response.status, rate_limit=snapshot
        )

    def _write(
        self,
        path: str,
        endpoint: str,
        body: dict[str, Any],
        *,
        required: tuple[str, ...],
        default_id: str | None = None,
        answer_irrelevant: bool = False,
    ) -> ScheduleOutcome:
        try:
            response = self._api.post(path, endpoint=endpoint, json_body=body, ok_statuses=(200, 201))
        except PipelineError as error:
            kind = classify_write_error(error, body_irrelevant=answer_irrelevant)
            if error.status_code == 404:
                error.details["not_found"] = True
            error.details["outcome"] = str(kind)
            return ScheduleOutcome(
                kind,
                schedule_id=default_id if kind is OutcomeKind.SUCCESS else None,
                error=error,
                status_code=error.status_code,
                rate_limit_remaining=0 if error.status_code == 429 else None,
            )
        self._remember_rate_limit(response)
        remaining = self.rate_limit.remaining if self.rate_limit else None
        payload = response.json()
        missing = [
            k
            for k in required
            if not (isinstance(payload, dict) and isinstance(payload.get(k), str) and payload[k])
        ]
        if missing:
            # Braze said yes without saying which schedule: the change exists somewhere.
            error = PipelineError(
                ErrorCategory.VALIDATION,
                f"Braze accepted {endpoint} but the answer lacks {', '.join(missing)}",
                details={
                    "url": response.url,
                    "body": response.text[:500],
                    "missing": missing,
                    "outcome": "AMBIGUOUS",
                },
                status_code=response.status,
            )
            return ScheduleOutcome(
                OutcomeKind.AMBIGUOUS,
                error=error,
                status_code=response.status,
                rate_limit_remaining=remaining,
            )
        return ScheduleOutcome(
            OutcomeKind.SUCCESS,
            schedule_id=(payload.get("schedule_id") if isinstance(payload, dict) else None) or default_id,
            dispatch_id=payload.get("dispatch_id") if isinstance(payload, dict) else None,
            status_code=response.status,
            rate_limit_remaining=remaining,
        )

    # -- reads ------------------------------------------------------------------------------

    def list_scheduled_broadcasts(self, end_time: datetime) -> list[dict[str, Any]]:
        """Scheduled campaigns/Canvases whose next send is at or before ``end_time``.

        Braze documents this list as *dashboard*-scheduled messages: API-created schedules
        may appear late or never, and entries name the campaign, not the schedule. Absence
        here never proves a schedule does not exist. Raises :class:`PipelineError`."""
        response = self._api.get(
            LIST_PATH, endpoint="scheduled_broadcasts", params={"end_time": list_end_time_param(end_time)}
        )
        self._remember_rate_limit(response)
        payload = response.json()
        entries = payload.get("scheduled_broadcasts") if isinstance(payload, dict) else None
        if not isinstance(entries, list):
            raise PipelineError(
                ErrorCategory.VALIDATION,
                "scheduled_broadcasts response lacks the 'scheduled_broadcasts' list",
                details={"url": response.url, "body_start": response.text[:200]},
                status_code=response.status,
            )
        limit = end_time.astimezone(UTC)
        result = []
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            when = parse_braze_time(entry.get("next_send_time"))
            if when is None or when <= limit:
                result.append(entry)
        return result

    def _remember_rate_limit(self, response: ApiResponse) -> None:
        snapshot = RateLimitSnapshot.from_headers({k.lower(): v for k, v in response.headers.items()})
        if snapshot is not None:
            self.rate_limit = snapshot


def _rejected_locally(problem: str) -> ScheduleOutcome:
    error = PipelineError(
        ErrorCategory.VALIDATION,
        f"Braze request not sent: {problem}",
        details={"outcome": "DEFINITE_FAILURE"},
    )
    return ScheduleOutcome(OutcomeKind.DEFINITE_FAILURE, error=error)
