"""Hostile Currents deliveries over real HTTP into the real PostgreSQL (issue 11's probes): a
bad event is quarantined with its bytes while its neighbours are stored, nothing answers 500,
only an outage answers 503 (and says nothing of the driver), overlapping concurrent batches
never deadlock, bodies are bounded whatever the transfer encoding, and ``sent_at`` is the
earliest send."""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import select
import socket
from collections import Counter
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa

from nba_notify.lib.ledger.webhook_store import ParsedBatch, parse_batch, store_batch
from nba_notify.lib.web.serve import BackgroundServer, free_port
from nba_notify.webhook.app import create_app
from nba_notify.webhook.currents import MAX_BODY_BYTES
from nba_notify_tests.reliability.conftest import (
    JSON,
    TOKEN,
    add_ledger_rows,
    dead_letters,
    receiver_settings,
    send_event,
    stored_event_ids,
)


def batch_with(poison: bytes) -> tuple[bytes, bytes]:
    """A body of two good events around ``poison`` (exact bytes of one event); returns
    (body, poison)."""
    good = [json.dumps(send_event(f"good-{i}", user=f"fan-{i}")).encode() for i in (1, 2)]
    return b'{"events": [' + good[0] + b", " + poison + b", " + good[1] + b"]}", poison


POISON_VALUES = {
    "nul_character": b'"a\\u0000b"',
    "unpaired_surrogate": b'"\\ud800"',
    "nan": b"NaN",
    "infinity": b"Infinity",
    "minus_infinity": b"-Infinity",
    "float_overflow": b"1e400",
    "huge_integer": b"1" + b"0" * 5000,
}


@pytest.mark.parametrize("value", POISON_VALUES.values(), ids=POISON_VALUES.keys())
def test_poison_event_is_quarantined_on_every_delivery_and_its_neighbours_stored(post, db, value):
    event = send_event("poison")
    event["properties"]["note"] = "@@"
    poison = json.dumps(event).encode().replace(b'"@@"', value)
    body, poison = batch_with(poison)
    for _ in range(3):  # Currents redelivers whatever it did not get a 2xx for
        response = post(raw=body)
        assert response.status_code == 200, response.text
        assert response.json()["quarantined"] == 1
    assert stored_event_ids(db) == ["good-1", "good-2"]
    [letter] = dead_letters(db)
    assert bytes(letter["raw"]) == poison and letter["raw_sha256"] == hashlib.sha256(poison).hexdigest()
    assert letter["event_id"] == "poison" and letter["batch_position"] == 1
    assert letter["deliveries"] == 3
    assert letter["reason"] in ("unstorable_text", "non_finite_number", "number_too_large")


TIMES = {
    "epoch_1e20": b"1e20",
    "epoch_minus_1e20": b"-1e20",
    "infinity": b"Infinity",
    "year_9999": b'"9999-12-31T23:59:59-23:59"',
    "bool": b"true",
    "year_1": b'"0001-01-01T00:00:00+01:00"',
}


@pytest.mark.parametrize("value", TIMES.values(), ids=TIMES.keys())
def test_absurd_event_time_is_quarantined_not_a_500(post, db, value):
    poison = json.dumps(send_event("bad-time", when=0)).encode().replace(b'"time": 0', b'"time": ' + value)
    body, poison = batch_with(poison)
    response = post(raw=body)
    assert response.status_code == 200, response.text
    assert stored_event_ids(db) == ["good-1", "good-2"]
    [letter] = dead_letters(db)
    assert bytes(letter["raw"]) == poison and letter["reason"] in ("invalid_event", "non_finite_number")


def test_event_nested_6000_levels_is_quarantined_and_its_neighbours_stored(post, db):
    poison = (
        b'{"id": "deep", "event_type": "x", "time": 1795535400, "deep": ' + b"[" * 6000 + b"]" * 6000 + b"}"
    )
    body, poison = batch_with(poison)
    response = post(raw=body)
    assert response.status_code == 200, response.text
    assert stored_event_ids(db) == ["good-1", "good-2"]
    [letter] = dead_letters(db)
    assert letter["reason"] == "too_deep" and bytes(letter["raw"]) == poison


def test_moderately_deep_event_that_python_parses_is_still_quarantined(post, db):
    event = send_event("deep-40")
    event["properties"]["nest"] = json.loads("[" * 40 + "]" * 40)
    response = post({"events": [send_event("ok"), event]})
    assert response.status_code == 200 and response.json()["quarantined"] == 1
    assert stored_event_ids(db) == ["ok"] and dead_letters(db)[0]["reason"] == "too_deep"


@pytest.mark.parametrize(
    "body,reason",
    [
        (b"[" * 6000 + b"]" * 6000, "too_deep"),
        (b"not json at all", "invalid_json"),
        (b'{"events": {"id": "a"}}', "bad_envelope"),
        (b"\xff\xfe{}", "invalid_utf8"),
        (json.dumps({"events": [send_event(f"e{i}") for i in range(1001)]}).encode(), "too_many_events"),
    ],
    ids=["nested_body", "not_json", "events_not_a_list", "not_utf8", "too_many_events"],
)
def test_body_without_a_readable_events_list_is_kept_whole_and_answered_400_with_the_reason(
    post, db, body, reason
):
    for _ in range(2):
        response = post(raw=body)
        assert response.status_code == 400, response.text
        assert response.json()["reason"] == reason and response.json()["quarantined"] == 1
    assert stored_event_ids(db) == []
    [letter] = dead_letters(db)
    assert bytes(letter["raw"]) == body and letter["reason"] == reason and letter["deliveries"] == 2
    assert letter["batch_position"] is None


def test_malformed_event_inside_a_batch_is_quarantined_and_the_rest_parsed_on_their_own(post, db):
    body, poison = batch_with(b'{"id": "broken",, "time": }')
    response = post(raw=body)
    assert response.status_code == 200, response.text
    assert response.json() | {"received": 3, "stored": 2, "quarantined": 1} == response.json()
    assert stored_event_ids(db) == ["good-1", "good-2"]
    [letter] = dead_letters(db)
    assert bytes(letter["raw"]) == poison and letter["reason"] == "invalid_json"


def test_quarantine_raises_one_alert_for_operators(post, db):
    for i in range(3):
        body, _ = batch_with(json.dumps({"id": f"no-time-{i}", "event_type": "x"}).encode())
        assert post(raw=body).status_code == 200
    with db.connect() as conn:
        alerts = conn.execute(
            sa.text("SELECT rule_key, occurrences, title FROM alerts WHERE rule_key = 'currents_quarantined'")
        ).all()
    assert len(alerts) == 1 and alerts[0].occurrences == 3
    assert "invalid_event" in alerts[0].title


def test_database_refusal_quarantines_only_the_refused_events(db):
    """Defence in depth: should PostgreSQL refuse a row parse_batch let through, the batch is
    stored event by event and only the refused event is quarantined."""
    good = parse_batch(json.dumps({"events": [send_event("fine-1"), send_event("fine-2")]}).encode())
    smuggled = {**good.rows[0], "event_id": "smuggled", "raw": {"text": "a\x00b"}}
    result = store_batch(db, ParsedBatch([*good.rows, smuggled], [], good.batch_sha256))
    assert (result.stored, result.quarantined) == (2, 1)
    assert stored_event_ids(db) == ["fine-1", "fine-2"]
    [letter] = dead_letters(db)
    assert letter["reason"] == "database_refused" and letter["event_id"] == "smuggled"


def test_database_outage_is_503_with_retry_after_and_no_driver_text(database_url):
    unreachable = f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere"
    with BackgroundServer(create_app(database_url=unreachable, settings=receiver_settings())) as server:
        response = httpx.post(
            server.url + "/currents",
            content=json.dumps({"events": [send_event("e")]}).encode(),
            headers=JSON,
            timeout=30,
        )
    assert response.status_code == 503
    assert response.headers["retry-after"].isdigit()
    assert response.json() == {"error": "storage unavailable, retry later"}
    for internal in ("psycopg", "OperationalError", "127.0.0.1", "nowhere", "SQL"):
        assert internal not in response.text


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1", ""],
    ids=["text_plain", "form", "latin1", "missing"],
)
def test_body_that_is_not_declared_utf8_json_is_415_and_not_stored(post, db, content_type):
    response = post({"events": [send_event("e1")]}, headers={"Content-Type": content_type})
    assert response.status_code == 415
    assert stored_event_ids(db) == [] and dead_letters(db) == []


def test_json_with_explicit_utf8_charset_is_accepted(post, db):
    response = post(
        {"events": [send_event("e1")]}, headers={"Content-Type": "application/json; charset=UTF-8"}
    )
    assert response.status_code == 200 and stored_event_ids(db) == ["e1"]


def test_chunked_body_past_the_limit_is_refused_before_it_is_read_whole(receiver, db):
    """50 MB sent chunked (no Content-Length) with a valid token: the receiver stops reading
    past its limit and answers 413 (or drops the connection) long before the client is done."""
    total, chunk = 50 * 1024 * 1024, b"x" * (64 * 1024)
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    host, port = receiver.host, receiver.port
    sent, answer = 0, b""
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(
            f"POST /currents HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {TOKEN}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        try:
            while sent < total:
                if select.select([sock], [], [], 0)[0]:
                    break  # the server answered while we were still sending
                sock.sendall(frame)
                sent += len(chunk)
            answer = sock.recv(4096)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass  # the server closed a connection it was not going to read further
    assert sent < total / 2, f"the receiver read {sent} bytes before refusing"
    assert answer == b"" or answer.startswith(b"HTTP/1.1 413"), answer[:100]
    assert sent >= MAX_BODY_BYTES / 2  # the probe did reach the limit region
    # and the receiver is still well
    ok = httpx.post(
        receiver.url + "/currents", content=json.dumps({"events": [send_event("after")]}), headers=JSON
    )
    assert ok.status_code == 200 and stored_event_ids(db) == ["after"]


def test_declared_length_past_the_limit_is_413_without_reading(post, db):
    response = post(raw=b"{" + b" " * (MAX_BODY_BYTES + 1) + b"}")
    assert response.status_code == 413 and stored_event_ids(db) == []


def test_500_concurrent_overlapping_deliveries_store_each_event_once_without_a_5xx(receiver, db):
    dispatch_ids = add_ledger_rows(db, 20)
    rng = random.Random(11)
    events = [
        send_event(
            f"evt-{i:04d}",
            when=1795535400 + rng.randint(0, 900),
            dispatch_id=dispatch_ids[i % 20],
            user=f"fan-{i:04d}",
        )
        for i in range(200)
    ]
    # Each delivery: 100 of the 200 events (Braze's largest batch) in a random order, so batches
    # overlap heavily and, locked in batch order, deadlock (65 of 500 answered 503 before).
    batches = [rng.sample(events, 100) for _ in range(500)]

    async def deliver_all() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=500, max_keepalive_connections=500)
        async with httpx.AsyncClient(base_url=receiver.url, timeout=120, limits=limits) as client:
            return await asyncio.gather(
                *(
                    client.post("/currents", content=json.dumps({"events": b}).encode(), headers=JSON)
                    for b in batches
                )
            )

    responses = asyncio.run(deliver_all())
    assert Counter(r.status_code for r in responses) == {200: 500}
    delivered = {e["id"]: e for b in batches for e in b}
    assert stored_event_ids(db) == sorted(delivered)
    assert sum(r.json()["stored"] for r in responses) == len(delivered)
    earliest: dict[str, float] = {}
    for e in delivered.values():
        d = e["properties"]["dispatch_id"]
        earliest[d] = min(earliest.get(d, e["time"]), e["time"])
    with db.connect() as conn:
        ledger = {
            r.dispatch_id: (r.state, r.sent_at)
            for r in conn.execute(sa.text("SELECT dispatch_id, state, sent_at FROM schedule_ledger"))
        }
    assert ledger == {d: ("sent", datetime.fromtimestamp(t, tz=UTC)) for d, t in earliest.items()}


def test_sent_at_is_the_earliest_send_whatever_order_the_batches_arrive_in(post, db):
    add_ledger_rows(db, 1)
    for i, when in enumerate((1795535700, 1795535400, 1795535550)):
        assert post({"events": [send_event(f"late-{i}", when=when, user=f"fan-{i}")]}).status_code == 200
    with db.connect() as conn:
        state, sent_at = conn.execute(sa.text("SELECT state, sent_at FROM schedule_ledger")).one()
    assert state == "sent" and sent_at == datetime.fromtimestamp(1795535400, tz=UTC)
