"""Braze Currents batches -> ``notification_sends`` (exactly once per event) and ledger rows
-> ``sent`` on their first send event.

Validation happens for the whole batch before anything is written (a batch with one bad
event is rejected whole, Currents retries it, nothing half-written). The write is ONE
statement in one transaction: the events are passed as a single JSON parameter, correlated to
the ledger in SQL (by ``dispatch_id``, else by our deterministic ``send_id``), inserted with
``ON CONFLICT (event_id) DO NOTHING``, and only the newly inserted send events move their
ledger rows to ``sent``. Replays, duplicates and out-of-order deliveries are therefore
harmless, and events we cannot correlate are stored with ``matched = false`` (surfaced by a
check), never dropped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from nba_notify.lib.errors import ErrorCategory, PipelineError, validation_error_from_pydantic

SEND_EVENT_TYPE = "users.messages.pushnotification.Send"
MAX_EVENTS_PER_BATCH = 1000
# Far enough back for Currents' multi-day retries, near enough to catch garbage timestamps.
EARLIEST_EVENT = datetime(2015, 1, 1, tzinfo=UTC)


class CurrentsUser(BaseModel):
    model_config = ConfigDict(extra="allow")
    user_id: str | None = None
    external_user_id: str | None = Field(default=None, max_length=100)


class CurrentsProperties(BaseModel):
    model_config = ConfigDict(extra="allow")
    campaign_id: str | None = Field(default=None, max_length=100)
    dispatch_id: str | None = Field(default=None, max_length=64)
    send_id: str | None = Field(default=None, max_length=64)


class CurrentsEvent(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str = Field(min_length=1, max_length=64)
    event_type: str = Field(min_length=1, max_length=100)
    time: datetime
    user: CurrentsUser = Field(default_factory=CurrentsUser)
    properties: CurrentsProperties = Field(default_factory=CurrentsProperties)

    @field_validator("time", mode="before")
    @classmethod
    def _epoch_or_iso(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("time must be epoch seconds or ISO 8601")
        if isinstance(value, (int, float)):
            return datetime.fromtimestamp(value, tz=UTC)
        return value

    @field_validator("time")
    @classmethod
    def _aware_and_sane(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        if value < EARLIEST_EVENT:
            raise ValueError(f"time {value.isoformat()} is before {EARLIEST_EVENT.date()}")
        return value.astimezone(UTC)


class CurrentsBatch(BaseModel):
    model_config = ConfigDict(extra="allow")
    events: list[CurrentsEvent] = Field(max_length=MAX_EVENTS_PER_BATCH)


def parse_batch(body: bytes) -> list[dict[str, Any]]:
    """Validate a whole Currents batch; returns rows ready for :func:`store_batch`. Raises a
    VALIDATION :class:`PipelineError` naming the offending field (nothing is written)."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PipelineError(
            ErrorCategory.VALIDATION, f"Currents batch is not valid JSON: {exc}", details={"reason": "invalid_json"}
        ) from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("events"), list):
        raise PipelineError(
            ErrorCategory.VALIDATION,
            "Currents batch must be an object with an 'events' list",
            details={"reason": "schema", "field": "events"},
        )
    raw_events = payload["events"]
    try:
        batch = CurrentsBatch.model_validate(payload)
    except ValidationError as exc:
        raise validation_error_from_pydantic(exc, source="currents batch") from exc
    rows = []
    for event, raw in zip(batch.events, raw_events, strict=True):
        rows.append(
            {
                "event_id": event.id,
                "event_type": event.event_type,
                "event_time": event.time.isoformat(),
                "external_user_id": event.user.external_user_id,
                "campaign_id": event.properties.campaign_id,
                "dispatch_id": event.properties.dispatch_id,
                "send_id": event.properties.send_id,
                "raw": raw,
            }
        )
    return rows


STORE_SQL = sa.text(
    """
    WITH incoming AS (
        SELECT *
          FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(
               event_id text, event_type text, event_time timestamptz, external_user_id text,
               campaign_id text, dispatch_id text, send_id text, raw jsonb)
    ),
    correlated AS (
        SELECT i.*,
               COALESCE(by_dispatch.id, by_send.id) AS ledger_id,
               COALESCE(by_dispatch.intent_key, by_send.intent_key) AS intent_key,
               COALESCE(by_dispatch.game_id, by_send.game_id) AS game_id
          FROM incoming i
          LEFT JOIN LATERAL (
                SELECT l.id, l.intent_key, l.game_id FROM schedule_ledger l
                 WHERE i.dispatch_id IS NOT NULL AND l.dispatch_id = i.dispatch_id
                 LIMIT 1) by_dispatch ON true
          LEFT JOIN LATERAL (
                SELECT l.id, l.intent_key, l.game_id FROM schedule_ledger l
                 WHERE i.send_id IS NOT NULL AND l.send_id = i.send_id
                 LIMIT 1) by_send ON true
    ),
    inserted AS (
        INSERT INTO notification_sends (
               event_id, event_type, event_time, external_user_id, campaign_id, dispatch_id,
               send_id, ledger_id, intent_key, game_id, matched, raw)
        SELECT event_id, event_type, event_time, external_user_id, campaign_id, dispatch_id,
               send_id, ledger_id, intent_key, game_id, ledger_id IS NOT NULL, raw
          FROM correlated
        ON CONFLICT (event_id) DO NOTHING
        RETURNING ledger_id, event_type, event_time, dispatch_id, matched
    ),
    first_sends AS (
        SELECT ledger_id, min(event_time) AS first_time, min(dispatch_id) AS dispatch_id
          FROM inserted
         WHERE event_type = :send_type AND ledger_id IS NOT NULL
         GROUP BY ledger_id
    ),
    sent AS (
        UPDATE schedule_ledger l
           SET state = 'sent',
               sent_at = f.first_time,
               dispatch_id = COALESCE(l.dispatch_id, f.dispatch_id),
               updated_at = now()
          FROM first_sends f
         WHERE l.id = f.ledger_id AND l.state <> 'sent'
        RETURNING l.id
    )
    SELECT (SELECT count(*) FROM inserted) AS stored,
           (SELECT count(*) FROM inserted WHERE NOT matched) AS unmatched,
           (SELECT count(*) FROM sent) AS ledger_sent
    """
)


@dataclass(frozen=True)
class StoreResult:
    received: int
    stored: int
    unmatched: int
    ledger_sent: int

    @property
    def duplicates(self) -> int:
        return self.received - self.stored

    def as_dict(self) -> dict[str, int]:
        return {
            "received": self.received,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "unmatched": self.unmatched,
            "ledger_sent": self.ledger_sent,
        }


def store_batch(engine: sa.Engine, rows: list[dict[str, Any]]) -> StoreResult:
    """One transaction per batch; idempotent under replays and concurrent deliveries."""
    if not rows:
        return StoreResult(0, 0, 0, 0)
    with engine.begin() as conn:
        result = conn.execute(
            STORE_SQL, {"rows": json.dumps(rows, separators=(",", ":")), "send_type": SEND_EVENT_TYPE}
        ).mappings().one()
    return StoreResult(len(rows), int(result["stored"]), int(result["unmatched"]), int(result["ledger_sent"]))


def rematch_unmatched(engine: sa.Engine, limit: int = 10_000) -> int:
    """Events that arrived before their ledger row knew the dispatch/send id (e.g. an
    adoption came later) are correlated again; returns how many matched now."""
    with engine.begin() as conn:
        matched = conn.execute(
            sa.text(
                """
                WITH candidates AS (
                    SELECT s.event_id, l.id AS ledger_id, l.intent_key, l.game_id
                      FROM notification_sends s
                      JOIN LATERAL (
                            SELECT id, intent_key, game_id FROM schedule_ledger l
                             WHERE (s.dispatch_id IS NOT NULL AND l.dispatch_id = s.dispatch_id)
                                OR (s.send_id IS NOT NULL AND l.send_id = s.send_id)
                             LIMIT 1) l ON true
                     WHERE NOT s.matched
                     LIMIT :limit
                )
                UPDATE notification_sends s
                   SET ledger_id = c.ledger_id, intent_key = c.intent_key, game_id = c.game_id, matched = true
                  FROM candidates c
                 WHERE s.event_id = c.event_id
                RETURNING s.event_id
                """
            ),
            {"limit": limit},
        ).all()
    return len(matched)
