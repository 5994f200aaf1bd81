"""Braze Currents batches -> ``notification_sends`` (exactly once per event), ledger rows ->
``sent`` with the earliest send time, and everything we cannot store -> ``currents_dead_letters``.

Braze retries a batch it did not get a 2xx for and disables the connector after days of
failures, so one bad event must never hold its batch hostage: **each event is validated on its
own** (:func:`parse_batch`). Good events are stored, bad ones are quarantined with their exact
bytes and the reason, and the receiver answers 2xx once both are committed. Only a database
outage is worth a retry (5xx).

What makes an event bad is decided here, before PostgreSQL sees it, so the database never
refuses a batch for its content: JSON that does not parse (the batch is split at its top-level
commas so its neighbours still parse), nesting deeper than :data:`MAX_EVENT_DEPTH`, ``NaN`` /
``Infinity`` / numbers that overflow, text jsonb cannot hold (``\\u0000``, unpaired
surrogates), and fields that fail the schema (id, type, a time between 2015 and 2100). Should
PostgreSQL refuse a batch anyway, it is stored again event by event and only the refused
events are quarantined (:func:`store_batch`).

The write is one transaction whose locks are taken in a stable order — dead letters by hash,
sends by ``event_id``, ledger rows by id — so concurrent overlapping deliveries queue behind
each other instead of deadlocking. Events are inserted with ``ON CONFLICT (event_id) DO
NOTHING``; a ledger row moves to ``sent`` on its first send event and its ``sent_at`` only ever
moves earlier, so redeliveries and out-of-order batches are harmless. Events we cannot
correlate are stored with ``matched = false`` (surfaced by a check), never dropped.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.dialects.postgresql import insert as pg_insert

from nba_notify.lib.db.tables.webhook import currents_dead_letters
from nba_notify.lib.errors import validation_error_from_pydantic

log = logging.getLogger(__name__)

SEND_EVENT_TYPE = "users.messages.pushnotification.Send"
# Braze posts at most 100; more is not a Currents batch (the body size is bounded anyway).
MAX_EVENTS_PER_BATCH = 1000
# Currents events are a few levels deep; PostgreSQL's jsonb parser runs out of stack long
# before Python's does, and nothing legitimate nests this far.
MAX_EVENT_DEPTH = 32
# Python refuses to parse integers over 4,300 digits (and nothing real has 40).
MAX_INT_DIGITS = 40
MAX_DETAIL_CHARS = 500
# Far enough back for Currents' multi-day retries, near enough to catch garbage timestamps;
# the upper bound keeps every accepted time inside datetime's range in any time zone.
EARLIEST_EVENT = datetime(2015, 1, 1, tzinfo=UTC)
LATEST_EVENT = datetime(2100, 1, 1, tzinfo=UTC)

# Transient conflicts worth retrying in process before anyone is told to come back later.
_RETRY_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure
_STORE_ATTEMPTS = 3


# -- validating one event ---------------------------------------------------------------------


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
            # Checked before conversion: 1e20 would overflow datetime instead of failing here.
            if not EARLIEST_EVENT.timestamp() <= value < LATEST_EVENT.timestamp():
                raise ValueError(
                    f"epoch time {value!r} is not between {EARLIEST_EVENT.year} and {LATEST_EVENT.year}"
                )
            return datetime.fromtimestamp(value, tz=UTC)
        return value

    @field_validator("time")
    @classmethod
    def _aware_and_sane(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        try:
            value = value.astimezone(UTC)
        except OverflowError:
            raise ValueError("time is out of range") from None
        if not EARLIEST_EVENT <= value < LATEST_EVENT:
            raise ValueError(
                f"time {value.isoformat()} is not between {EARLIEST_EVENT.year} and {LATEST_EVENT.year}"
            )
        return value


class _Unstorable:
    """What the decoder puts where JSON held a number jsonb cannot store (NaN, Infinity, an
    overflowing float, an absurdly long integer), so that only its event is quarantined."""

    __slots__ = ("reason", "text")

    def __init__(self, reason: str, text: str):
        self.reason, self.text = reason, text

    def __repr__(self) -> str:
        return self.text[:50]


def _parse_constant(name: str) -> _Unstorable:
    return _Unstorable("non_finite_number", name)


def _parse_float(text: str) -> float | _Unstorable:
    value = float(text)
    return value if math.isfinite(value) else _Unstorable("non_finite_number", text)


def _parse_int(text: str) -> int | _Unstorable:
    return int(text) if len(text) <= MAX_INT_DIGITS else _Unstorable("number_too_large", text)


_DECODER = json.JSONDecoder(parse_float=_parse_float, parse_int=_parse_int, parse_constant=_parse_constant)
# jsonb stores text as UTF-8 and refuses NUL; an unpaired surrogate has no UTF-8 form at all.
_UNSTORABLE_TEXT = re.compile("[\x00\ud800-\udfff]")

Problem = tuple[str, str]  # (reason code, human detail)


def decode_json(data: bytes) -> tuple[Any, Problem | None]:
    """Strict UTF-8 JSON; never raises: returns ``(value, None)`` or ``(None, problem)``."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, ("invalid_utf8", f"not UTF-8 (byte {exc.start})")
    try:
        return _DECODER.decode(text), None
    except RecursionError:
        return None, ("too_deep", "JSON nested too deeply to parse")
    except ValueError as exc:
        return None, ("invalid_json", _bounded(f"not valid JSON: {exc}"))


def storability_problem(value: Any) -> Problem | None:
    """Why PostgreSQL's jsonb could not hold ``value`` (None if it can). Iterative, so a deep
    value cannot exhaust our stack either."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_EVENT_DEPTH:
            return "too_deep", f"nested deeper than {MAX_EVENT_DEPTH} levels"
        if isinstance(item, _Unstorable):
            return item.reason, _bounded(f"number {item.text!r} cannot be stored")
        if isinstance(item, str):
            if _UNSTORABLE_TEXT.search(item):
                return "unstorable_text", "text holds \\u0000 or an unpaired surrogate"
        elif isinstance(item, dict):
            for key, child in item.items():
                if _UNSTORABLE_TEXT.search(key):
                    return "unstorable_text", "a key holds \\u0000 or an unpaired surrogate"
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return None


def event_row(value: Any) -> tuple[dict[str, Any] | None, Problem | None]:
    """One decoded event -> a row for ``notification_sends``, or the reason it cannot be one."""
    if not isinstance(value, dict):
        return None, ("not_an_object", f"an event must be a JSON object, not {_json_kind(value)}")
    problem = storability_problem(value)
    if problem is not None:
        return None, problem
    try:
        event = CurrentsEvent.model_validate(value)
    except ValidationError as exc:
        return None, (
            "invalid_event",
            _bounded(validation_error_from_pydantic(exc, source="currents event").message),
        )
    return {
        "event_id": event.id,
        "event_type": event.event_type,
        "event_time": event.time.isoformat(),
        "external_user_id": event.user.external_user_id,
        "campaign_id": event.properties.campaign_id,
        "dispatch_id": event.properties.dispatch_id,
        "send_id": event.properties.send_id,
        "raw": value,
    }, None


def _json_kind(value: Any) -> str:
    if isinstance(value, _Unstorable):
        return "a number"
    for kind, types in (
        ("null", type(None)),
        ("a boolean", bool),
        ("a number", (int, float)),
        ("a string", str),
        ("an array", list),
    ):
        if isinstance(value, types):
            return kind
    return type(value).__name__


def _bounded(text: str) -> str:
    return text if len(text) <= MAX_DETAIL_CHARS else text[: MAX_DETAIL_CHARS - 1] + "…"


# -- finding the events in a body that does not parse whole -------------------------------------

# Strings are matched whole (a bracket inside one is text), then the structural characters.
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[{}\[\],:]', re.DOTALL)
_BLANK = b" \t\r\n"


def event_spans(body: bytes) -> list[tuple[int, int]] | None:
    """Byte spans of the elements of the top-level ``"events"`` array, found without parsing
    them (strings skipped whole, brackets counted), so one malformed event leaves its
    neighbours readable. None when the body has no such array."""
    tokens = _TOKEN.finditer(body)
    depth, key = 0, 0  # key: 1 after a top-level "events", 2 after its colon
    for match in tokens:
        token = match.group()
        if token in (b"{", b"["):
            if depth == 0 and token != b"{":
                return None
            if depth == 1 and key == 2 and token == b"[":
                return _array_elements(body, tokens, match.end())
            depth += 1
        elif token in (b"}", b"]"):
            depth -= 1
            if depth <= 0:
                return None
        elif depth == 1 and token == b'"events"' and key == 0:
            key = 1
            continue
        elif depth == 1 and token == b":" and key == 1:
            key = 2
            continue
        key = 0
    return None


def _array_elements(body: bytes, tokens: Iterator[re.Match[bytes]], start: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    depth, element_start = 0, start
    for match in tokens:
        token = match.group()
        if token in (b"{", b"["):
            depth += 1
        elif token in (b"}", b"]"):
            if depth > 0:
                depth -= 1
            elif token == b"]":
                _add_span(spans, body, element_start, match.start(), last=True)
                return spans
        elif token == b"," and depth == 0:
            _add_span(spans, body, element_start, match.start(), last=False)
            element_start = match.end()
    _add_span(spans, body, element_start, len(body), last=True)  # truncated: keep what is there
    return spans


def _add_span(spans: list[tuple[int, int]], body: bytes, start: int, end: int, *, last: bool) -> None:
    while start < end and body[start] in _BLANK:
        start += 1
    while end > start and body[end - 1] in _BLANK:
        end -= 1
    if start < end or not last or spans:  # "[]" has no element; "[a,]" has an empty one
        spans.append((start, end))


# -- a whole batch -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DeadLetter:
    """Something Braze sent that we keep but cannot store as a send event."""

    raw: bytes
    reason: str
    detail: str
    event_id: str | None = None
    batch_position: int | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()


@dataclass(frozen=True)
class ParsedBatch:
    """``rows`` ready for :func:`store_batch`; ``dead_letters`` to quarantine. ``refused`` is
    set when not even the ``{"events": [...]}`` envelope could be read (the whole body is then
    the one dead letter)."""

    rows: list[dict[str, Any]]
    dead_letters: list[DeadLetter]
    batch_sha256: str
    refused: DeadLetter | None = None

    @property
    def received(self) -> int:
        return len(self.rows) + (0 if self.refused else len(self.dead_letters))


def parse_batch(body: bytes) -> ParsedBatch:
    """Validate every event of a Currents body on its own. Never raises."""
    digest = hashlib.sha256(body).hexdigest()
    payload, problem = decode_json(body)
    if problem is None:
        events = payload.get("events") if isinstance(payload, dict) else None
        if not isinstance(events, list):
            return _refuse(
                body, digest, ("bad_envelope", "a Currents batch is a JSON object with an 'events' list")
            )
        if len(events) > MAX_EVENTS_PER_BATCH:
            return _refuse(body, digest, _too_many(len(events)))
        return _validate_events(body, digest, events)
    spans = event_spans(body)
    if spans is None:
        return _refuse(body, digest, problem)
    if len(spans) > MAX_EVENTS_PER_BATCH:
        return _refuse(body, digest, _too_many(len(spans)))
    rows, dead = [], []
    for position, (start, end) in enumerate(spans):
        raw = body[start:end]
        value, problem = decode_json(raw) if raw else (None, ("invalid_json", "empty array element"))
        row, problem = (None, problem) if problem else event_row(value)
        if row is not None:
            rows.append(row)
        else:
            dead.append(DeadLetter(raw, problem[0], problem[1], _readable_id(value), position))
    return ParsedBatch(rows, dead, digest)


def _validate_events(body: bytes, digest: str, events: list[Any]) -> ParsedBatch:
    rows, dead = [], []
    spans: list[tuple[int, int]] | None = None
    for position, value in enumerate(events):
        row, problem = event_row(value)
        if row is not None:
            rows.append(row)
            continue
        if spans is None:  # only a batch with a bad event pays for locating its bytes
            spans = event_spans(body) or []
        raw = body[slice(*spans[position])] if len(spans) == len(events) else _reserialised(value)
        dead.append(DeadLetter(raw, problem[0], problem[1], _readable_id(value), position))
    return ParsedBatch(rows, dead, digest)


def _refuse(body: bytes, digest: str, problem: Problem) -> ParsedBatch:
    letter = DeadLetter(body, problem[0], problem[1])
    return ParsedBatch([], [letter], digest, refused=letter)


def _too_many(count: int) -> Problem:
    return "too_many_events", f"{count} events in one batch (at most {MAX_EVENTS_PER_BATCH})"


def _readable_id(value: Any) -> str | None:
    event_id = value.get("id") if isinstance(value, dict) else None
    if isinstance(event_id, str) and 0 < len(event_id) <= 64 and not _UNSTORABLE_TEXT.search(event_id):
        return event_id
    return None


def _reserialised(value: Any) -> bytes:
    try:
        return json.dumps(value, default=repr, separators=(",", ":")).encode()
    except (RecursionError, ValueError):
        return repr(value).encode("utf-8", "backslashreplace")


# -- storing it --------------------------------------------------------------------------------

INSERT_SENDS_SQL = sa.text(
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
    )
    INSERT INTO notification_sends (
           event_id, event_type, event_time, external_user_id, campaign_id, dispatch_id,
           send_id, ledger_id, intent_key, game_id, matched, raw)
    SELECT event_id, event_type, event_time, external_user_id, campaign_id, dispatch_id,
           send_id, ledger_id, intent_key, game_id, ledger_id IS NOT NULL, raw
      FROM correlated
     ORDER BY event_id  -- a stable lock order: overlapping batches queue, never deadlock
    ON CONFLICT (event_id) DO NOTHING
    RETURNING ledger_id, event_type, event_time, dispatch_id, matched
    """
)

LEDGER_SQL = sa.text("SELECT id, state, sent_at FROM schedule_ledger WHERE id = ANY(:ids)")
LOCK_LEDGER_SQL = sa.text(
    "SELECT id, state, sent_at FROM schedule_ledger WHERE id = ANY(:ids) ORDER BY id FOR UPDATE"
)

MARK_SENT_SQL = sa.text(
    """
    UPDATE schedule_ledger l
       SET state = 'sent',
           sent_at = LEAST(COALESCE(l.sent_at, f.first_time), f.first_time),
           dispatch_id = COALESCE(l.dispatch_id, f.dispatch_id),
           updated_at = now()
      FROM jsonb_to_recordset(CAST(:firsts AS jsonb)) AS f(ledger_id bigint, first_time timestamptz, dispatch_id text)
     WHERE l.id = f.ledger_id
    """
)


@dataclass
class StoreResult:
    received: int
    stored: int
    unmatched: int
    ledger_sent: int
    quarantined: int = 0
    quarantine_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def duplicates(self) -> int:
        return self.received - self.stored - self.quarantined

    def as_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "quarantined": self.quarantined,
            "unmatched": self.unmatched,
            "ledger_sent": self.ledger_sent,
        }


def store_batch(engine: sa.Engine, batch: ParsedBatch) -> StoreResult:
    """One transaction: dead letters, then send events, then ledger rows, each in a stable
    order. Idempotent under replays and concurrent deliveries. Should PostgreSQL refuse the
    content anyway, each event is tried on its own and only the refused ones are quarantined.
    Raises only when the database cannot be used (an outage: the caller answers 5xx)."""
    for attempt in range(1, _STORE_ATTEMPTS + 1):
        try:
            with engine.begin() as conn:
                result = _write(conn, batch.rows, batch.dead_letters, batch.batch_sha256)
            break
        except sa.exc.DBAPIError as exc:
            if _sqlstate(exc) in _RETRY_SQLSTATES and attempt < _STORE_ATTEMPTS:
                continue
            if not isinstance(exc, (sa.exc.DataError, sa.exc.IntegrityError)):
                raise
            log.warning(
                "PostgreSQL refused a Currents batch (%s); storing its events one by one", _sqlstate(exc)
            )
            result = _write_one_by_one(engine, batch)
            break
    result.received = batch.received
    if result.quarantined:
        _alert_quarantine(engine, result)
    return result


def _write(
    conn: sa.Connection, rows: list[dict[str, Any]], dead: list[DeadLetter], batch_sha256: str
) -> StoreResult:
    quarantined = _quarantine(conn, dead, batch_sha256)
    inserted = []
    if rows:
        inserted = (
            conn.execute(
                INSERT_SENDS_SQL, {"rows": json.dumps(sorted(rows, key=_by_event_id), separators=(",", ":"))}
            )
            .mappings()
            .all()
        )
    # Per ledger row: its earliest send among the events stored now, and a dispatch id to learn.
    firsts: dict[int, dict[str, Any]] = {}
    for row in inserted:
        if row["event_type"] != SEND_EVENT_TYPE or row["ledger_id"] is None:
            continue
        first = firsts.setdefault(
            row["ledger_id"], {"ledger_id": row["ledger_id"], "first_time": row["event_time"]}
        )
        first["first_time"] = min(first["first_time"], row["event_time"])
        dispatch_ids = [d for d in (first.get("dispatch_id"), row["dispatch_id"]) if d is not None]
        first["dispatch_id"] = min(dispatch_ids) if dispatch_ids else None
    ledger_sent = 0
    if firsts:
        # Most sends of a push arrive after its row is already 'sent' with an earlier time:
        # those rows are left alone (and unlocked), so the hot row of a big audience does not
        # serialise every batch. The others are locked in id order and checked again.
        seen = conn.execute(LEDGER_SQL, {"ids": sorted(firsts)}).mappings().all()
        stale = sorted(r["id"] for r in seen if _needs_update(r, firsts[r["id"]]))
        if stale:
            locked = conn.execute(LOCK_LEDGER_SQL, {"ids": stale}).mappings().all()
            changes = [firsts[r["id"]] for r in locked if _needs_update(r, firsts[r["id"]])]
            ledger_sent = sum(1 for r in locked if r["state"] != "sent")
            if changes:
                conn.execute(
                    MARK_SENT_SQL, {"firsts": json.dumps(changes, default=_iso, separators=(",", ":"))}
                )
    reasons: dict[str, int] = {}
    for letter in dead:
        reasons[letter.reason] = reasons.get(letter.reason, 0) + 1
    return StoreResult(
        received=len(rows) + len(dead),
        stored=len(inserted),
        unmatched=sum(1 for r in inserted if not r["matched"]),
        ledger_sent=ledger_sent,
        quarantined=quarantined,
        quarantine_reasons=reasons,
    )


def _write_one_by_one(engine: sa.Engine, batch: ParsedBatch) -> StoreResult:
    refused: list[DeadLetter] = []
    total = StoreResult(0, 0, 0, 0)
    with engine.begin() as conn:
        for row in sorted(batch.rows, key=_by_event_id):
            try:
                with conn.begin_nested():
                    one = _write(conn, [row], [], batch.batch_sha256)
            except (sa.exc.DataError, sa.exc.IntegrityError) as exc:
                refused.append(
                    DeadLetter(
                        _reserialised(row["raw"]),
                        "database_refused",
                        f"PostgreSQL refused the event (SQLSTATE {_sqlstate(exc)})",
                        row["event_id"],
                    )
                )
                continue
            total.stored += one.stored
            total.unmatched += one.unmatched
            total.ledger_sent += one.ledger_sent
        letters = [*batch.dead_letters, *refused]
        rest = _write(conn, [], letters, batch.batch_sha256)
    total.quarantined, total.quarantine_reasons = rest.quarantined, rest.quarantine_reasons
    return total


def _quarantine(conn: sa.Connection, dead: list[DeadLetter], batch_sha256: str) -> int:
    """Insert (or count another delivery of) each dead letter, in hash order."""
    if not dead:
        return 0
    unique = {letter.sha256: letter for letter in dead}
    rows = [
        {
            "raw": letter.raw,
            "raw_sha256": digest,
            "reason": letter.reason,
            "detail": letter.detail,
            "event_id": letter.event_id,
            "batch_position": letter.batch_position,
            "batch_sha256": batch_sha256,
        }
        for digest, letter in sorted(unique.items())
    ]
    stmt = pg_insert(currents_dead_letters).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=[currents_dead_letters.c.raw_sha256],
        set_={"deliveries": currents_dead_letters.c.deliveries + 1, "last_received_at": sa.func.now()},
    )
    conn.execute(stmt)
    return len(dead)


def _alert_quarantine(engine: sa.Engine, result: StoreResult) -> None:
    """Tell an operator (deduplicated: one open alert, bumped). After the commit and best
    effort: the events are already safe, an alerting hiccup must not turn into a 5xx."""
    from nba_notify.lib.alerts import raise_alert

    reasons = ", ".join(f"{n} {reason}" for reason, n in sorted(result.quarantine_reasons.items()))
    try:
        raise_alert(
            engine,
            rule_key="currents_quarantined",
            entity="notifications_sync",
            title=f"Currents events quarantined ({reasons}); see currents_dead_letters",
            details={"reasons": result.quarantine_reasons},
        )
    except Exception:
        log.exception("could not raise the currents_quarantined alert")


def _needs_update(ledger_row: Any, first: dict[str, Any]) -> bool:
    return (
        ledger_row["state"] != "sent"
        or ledger_row["sent_at"] is None
        or first["first_time"] < ledger_row["sent_at"]
    )


def _by_event_id(row: dict[str, Any]) -> str:
    return row["event_id"]


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _sqlstate(exc: sa.exc.DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None)


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
