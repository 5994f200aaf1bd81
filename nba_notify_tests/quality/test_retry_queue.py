"""The retry queue's rules (pure) and its PostgreSQL store: one open item per (scraper, day),
claims that never overlap between workers, verdicts that move items as seed 003 says."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from nba_notify.lib.db.tables.quality import scrape_retry_queue
from nba_notify.lib.quality import queue as q
from nba_notify.lib.quality.retry import BackoffSchedule, on_verdict

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
DAY = date(2026, 11, 22)
SCHEDULE = BackoffSchedule()


def enqueue(conn, scraper="bdl_games", day=DAY, now=NOW, schedule=SCHEDULE):
    return q.enqueue(
        conn,
        scraper_name=scraper,
        target_date=day,
        reason="api_incomplete",
        original_error="BDL returned 7 games but NBA.com has 9",
        original_event_id=None,
        now=now,
        schedule=schedule,
    )


# -- rules -----------------------------------------------------------------------------------


def test_backoff_is_4_then_12_then_24_hours_and_the_last_delay_repeats():
    assert [SCHEDULE.delay_before(n) for n in (1, 2, 3, 4)] == [
        timedelta(hours=4),
        timedelta(hours=12),
        timedelta(hours=24),
        timedelta(hours=24),
    ]
    custom = BackoffSchedule.from_hours([0.5, 1], max_retries=5)
    assert [custom.delay_before(n) for n in (1, 2, 5)] == [
        timedelta(minutes=30),
        timedelta(hours=1),
        timedelta(hours=1),
    ]


def test_a_failed_attempt_reschedules_until_the_last_which_exhausts():
    kwargs = dict(max_retries=3, complete=False, is_attempt=True, now=NOW, schedule=SCHEDULE)
    second = on_verdict(status="retrying", attempts=1, **kwargs)
    assert (second.status, second.next_retry_at) == ("pending", NOW + timedelta(hours=12))
    third = on_verdict(status="retrying", attempts=2, **kwargs)
    assert third.next_retry_at == NOW + timedelta(hours=24)
    last = on_verdict(status="retrying", attempts=3, **kwargs)
    assert (last.status, last.exhausted_at, last.alert) == ("exhausted", NOW, "exhausted")


def test_only_the_items_own_retry_run_counts_as_an_attempt_but_any_complete_scrape_recovers():
    kwargs = dict(max_retries=3, now=NOW, schedule=SCHEDULE)
    assert on_verdict(status="retrying", attempts=1, complete=False, is_attempt=False, **kwargs) is None
    assert on_verdict(status="pending", attempts=1, complete=False, is_attempt=False, **kwargs) is None
    for status in ("pending", "retrying", "exhausted"):
        recovered = on_verdict(status=status, attempts=3, complete=True, is_attempt=False, **kwargs)
        assert (recovered.status, recovered.recovered_at, recovered.alert) == ("recovered", NOW, "recovered")
    assert on_verdict(status="recovered", attempts=1, complete=True, is_attempt=True, **kwargs) is None


# -- store -----------------------------------------------------------------------------------


def test_one_open_item_per_scraper_and_day_and_a_recovered_one_does_not_block_a_new_incident(db):
    with db.begin() as conn:
        first, created = enqueue(conn)
        again, created_again = enqueue(conn, now=NOW + timedelta(hours=1))
        other_scraper, _ = enqueue(conn, scraper="bdl_box_scores")
    assert created and not created_again and again.id == first.id
    assert first.next_retry_at == NOW + timedelta(hours=4) and again.next_retry_at == first.next_retry_at
    assert other_scraper.id != first.id
    with db.begin() as conn:
        q.apply_verdict(conn, first, complete=True, is_attempt=False, now=NOW, schedule=SCHEDULE)
        later, created_later = enqueue(conn, now=NOW + timedelta(days=1))
    assert created_later and later.id != first.id


def test_an_exhausted_item_stays_the_open_item_for_its_day(db):
    with db.begin() as conn:
        item, _ = enqueue(conn)
        conn.execute(sa.update(scrape_retry_queue).values(status="exhausted", attempts=3))
        again, created = enqueue(conn)
    assert not created and again.id == item.id and again.status == "exhausted"


def test_only_due_pending_items_are_claimed_and_each_claim_is_one_attempt(db):
    with db.begin() as conn:
        due, _ = enqueue(conn, scraper="bdl_games")
        enqueue(conn, scraper="nbac_schedule", now=NOW + timedelta(hours=1))
    with db.begin() as conn:
        claimed = q.claim_due(conn, now=NOW + timedelta(hours=4), limit=10, worker="w1")
    assert [(i.id, i.status, i.attempts, i.run_key) for i in claimed] == [
        (due.id, "retrying", 1, q.run_key_for(due.id, 1, due.correlation_id))
    ]
    with db.begin() as conn:
        assert q.claim_due(conn, now=NOW + timedelta(hours=4), limit=10, worker="w2") == []


def test_two_workers_never_claim_the_same_item_and_neither_waits_for_the_other(db):
    with db.begin() as conn:
        ids = {enqueue(conn, day=DAY - timedelta(days=n))[0].id for n in range(10)}
    due = NOW + timedelta(hours=5)
    with db.connect() as first, db.connect() as second:
        with first.begin():
            mine = q.claim_due(first, now=due, limit=6, worker="first")
            # the first worker's transaction is still open, its rows locked: the second skips them
            with second.begin():
                second.exec_driver_sql("SET LOCAL lock_timeout = '2s'")
                theirs = q.claim_due(second, now=due, limit=10, worker="second")
    assert len(mine) == 6 and len(theirs) == 4
    assert {i.id for i in mine}.isdisjoint({i.id for i in theirs})
    assert {i.id for i in mine} | {i.id for i in theirs} == ids


def test_racing_workers_claim_every_item_exactly_once(db):
    with db.begin() as conn:
        ids = [
            enqueue(conn, scraper=s, day=DAY - timedelta(days=n))[0].id
            for n in range(15)
            for s in ("bdl_games", "nbac_schedule")
        ]
    due = NOW + timedelta(hours=5)
    claims: list[tuple[str, int]] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def worker(name: str) -> None:
        start.wait()
        while True:
            with db.begin() as conn:
                got = q.claim_due(conn, now=due, limit=3, worker=name)
            if not got:
                return
            with lock:
                claims.extend((name, item.id) for item in got)

    threads = [threading.Thread(target=worker, args=(f"w{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    claimed_ids = [item_id for _, item_id in claims]
    assert sorted(claimed_ids) == sorted(ids)  # every item once, none twice
    with db.connect() as conn:
        attempts = conn.execute(sa.select(scrape_retry_queue.c.attempts)).scalars().all()
    assert set(attempts) == {1}


@pytest.mark.parametrize("hours", [[], [0]])
def test_a_backoff_without_positive_delays_is_rejected(hours):
    with pytest.raises(ValueError):
        BackoffSchedule.from_hours(hours)
