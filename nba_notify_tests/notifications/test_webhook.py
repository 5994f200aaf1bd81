"""The Currents receiver over real HTTP (our web app on loopback) into a real PostgreSQL."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa

from nba_notify.lib.ledger.planning import intent_key, send_id_for
from nba_notify.lib.ledger.webhook_store import rematch_unmatched
from nba_notify.webhook.currents import bearer_token_matches
from nba_notify_tests.notifications.conftest import CAMPAIGN, CURRENTS_TOKEN

SEND = "users.messages.pushnotification.Send"
GAME = "0022600301"
INTENT = intent_key(GAME, "tipoff_reminder", CAMPAIGN, "v1")


def event(
    *,
    dispatch_id: str | None = "disp-1",
    send_id: str | None = None,
    user: str = "fan-BOS-001",
    event_id: str | None = None,
    event_type: str = SEND,
    when: object = 1795535400,
) -> dict:
    return {
        "event_type": event_type,
        "id": event_id or str(uuid.uuid4()),
        "time": when,
        "user": {"user_id": "u" + user, "external_user_id": user},
        "properties": {
            "campaign_id": CAMPAIGN,
            "dispatch_id": dispatch_id,
            "send_id": send_id,
            "platform": "ios",
        },
    }


@pytest.fixture
def post(webhook_server, db):
    client = httpx.Client(base_url=webhook_server.url, timeout=30)

    def _post(
        body: object,
        token: str | None = CURRENTS_TOKEN,
        raw: bytes | None = None,
        authorization: str | None = None,
    ) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if authorization is not None:
            headers["Authorization"] = authorization
        elif token is not None:
            headers["Authorization"] = f"Bearer {token}"
        content = raw if raw is not None else json.dumps(body).encode()
        return client.post("/currents", content=content, headers=headers)

    yield _post
    client.close()


@pytest.fixture
def scheduled_row(db):
    """A ledger row as a successful create leaves it."""
    with db.begin() as conn:
        conn.execute(
            sa.text(
                """
                INSERT INTO schedule_ledger (intent_key, game_id, kind, campaign_id, template_version, send_id,
                                             state, braze_schedule_id, dispatch_id, signature, send_at_utc)
                VALUES (:k, :g, 'tipoff_reminder', :c, 'v1', :s, 'scheduled', 'sched-1', 'disp-1', 'sig',
                        '2026-11-24T18:00:00Z')
                """
            ),
            {"k": INTENT, "g": GAME, "c": CAMPAIGN, "s": send_id_for(INTENT)},
        )


def stored(db) -> int:
    with db.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM notification_sends")).scalar_one()


def ledger_state(db) -> str:
    with db.connect() as conn:
        return conn.execute(sa.text("SELECT state FROM schedule_ledger")).scalar_one()


def test_bearer_token_compare_rejects_wrong_scheme_empty_and_prefix():
    assert bearer_token_matches("Bearer secret", "secret")
    assert not bearer_token_matches("Bearer secre", "secret")
    assert not bearer_token_matches("Basic secret", "secret")
    assert not bearer_token_matches("Bearer ", "")
    assert not bearer_token_matches(None, "secret")


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", f"Basic {CURRENTS_TOKEN}", f"Bearer {CURRENTS_TOKEN}x", "Bearer"],
    ids=["missing", "wrong", "wrong_scheme", "longer", "no_token"],
)
def test_missing_or_wrong_token_is_401_and_writes_nothing(post, db, authorization):
    response = post({"events": [event()]}, token=None, authorization=authorization)
    assert response.status_code == 401
    assert stored(db) == 0


# A bad *event* (malformed, no id, a bad or 1970 time) is quarantined on its own while its
# batch is stored: nba_notify_tests/reliability/test_currents_hostile.py.
@pytest.mark.parametrize(
    "raw",
    [
        b'{"events": {"id": "a"}}',  # events not a list
        b"[]",  # not an object
    ],
    ids=["events_not_list", "not_object"],
)
def test_invalid_batch_is_400_and_nothing_of_it_is_written(post, db, raw):
    response = post(None, raw=raw)
    assert response.status_code == 400, response.text
    assert stored(db) == 0


def test_first_send_event_moves_the_ledger_row_to_sent(post, db, scheduled_row):
    response = post({"events": [event(user="fan-BOS-001"), event(user="fan-NYK-001")]})
    assert response.status_code == 200
    assert response.json() == {
        "received": 2,
        "stored": 2,
        "duplicates": 0,
        "quarantined": 0,
        "unmatched": 0,
        "ledger_sent": 1,
    }
    assert ledger_state(db) == "sent"
    with db.connect() as conn:
        games = conn.execute(sa.text("SELECT DISTINCT game_id FROM notification_sends")).scalars().all()
    assert games == [GAME]


def test_redelivered_and_internally_duplicated_events_are_stored_once(post, db, scheduled_row):
    batch = {"events": [event(event_id="e1"), event(event_id="e2"), event(event_id="e1")]}
    first = post(batch).json()
    again = post(batch).json()  # Currents retries the whole batch (at-least-once)
    assert first["stored"] == 2 and again["stored"] == 0 and again["duplicates"] == 3
    assert stored(db) == 2


def test_send_correlates_by_send_id_when_the_dispatch_id_is_unknown(post, db, scheduled_row):
    with db.begin() as conn:  # an ambiguous create: we never learned the schedule or dispatch id
        conn.execute(
            sa.text(
                "UPDATE schedule_ledger SET state = 'unknown', braze_schedule_id = NULL, dispatch_id = NULL"
            )
        )
    response = post({"events": [event(dispatch_id="disp-learned", send_id=send_id_for(INTENT))]}).json()
    assert response["unmatched"] == 0 and response["ledger_sent"] == 1
    with db.connect() as conn:
        row = conn.execute(sa.text("SELECT state, dispatch_id FROM schedule_ledger")).one()
    assert tuple(row) == ("sent", "disp-learned")


def test_unknown_events_are_kept_flagged_and_matched_later_when_out_of_order(post, db):
    response = post(
        {"events": [event(dispatch_id="disp-early", send_id=send_id_for(INTENT), event_id="early")]}
    )
    assert response.json()["unmatched"] == 1
    assert stored(db) == 1  # kept, never dropped
    # The ledger learns about the intent afterwards (out of order): re-correlation matches it.
    with db.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO schedule_ledger (intent_key, game_id, kind, campaign_id, template_version, send_id, state) "
                "VALUES (:k, :g, 'tipoff_reminder', :c, 'v1', :s, 'unknown')"
            ),
            {"k": INTENT, "g": GAME, "c": CAMPAIGN, "s": send_id_for(INTENT)},
        )
    assert rematch_unmatched(db) == 1
    with db.connect() as conn:
        assert conn.execute(sa.text("SELECT matched, game_id FROM notification_sends")).one() == (True, GAME)


def test_older_event_arriving_after_newer_moves_sent_at_to_the_earliest_send(post, db, scheduled_row):
    post({"events": [event(when=1795535460, user="fan-NYK-002")]})
    post({"events": [event(when=1795535400, user="fan-NYK-001")]})
    with db.connect() as conn:
        sent_at = conn.execute(sa.text("SELECT sent_at FROM schedule_ledger")).scalar_one()
    assert sent_at == datetime.fromtimestamp(1795535400, tz=UTC)
    assert stored(db) == 2


def test_thousand_concurrent_events_store_exactly_thousand_rows(post, db, scheduled_row):
    events = [event(event_id=f"evt-{i:04d}", user=f"fan-{i:04d}") for i in range(1000)]
    deliveries = events + events[:200]  # 200 redeliveries racing the originals

    def deliver(e: dict) -> int:
        return post({"events": [e]}).status_code

    with ThreadPoolExecutor(max_workers=32) as pool:
        statuses = list(pool.map(deliver, deliveries))
    assert set(statuses) == {200}
    assert stored(db) == 1000
    assert ledger_state(db) == "sent"
