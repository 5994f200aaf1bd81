"""A hypothesis state machine over the whole notification system: 2-4 concurrent schedulers and
a reconcile (real threads), a scheduler paused mid-call past its lease, clock moves (sends go
out, Currents reaches our receiver; the 15-minute sync runs as the clock passes), tip-off moves
and jitters, games moved to another day, postponed and made up, gone from every feed and back,
Braze faults (timeouts after apply, 5xx, 429, updates answering with a new id, send-id creation
refused or unanswered) and duplicate Currents deliveries - against the real simulator over HTTP
and a real PostgreSQL.

The oracle is what fans received: after every step no fan has two pushes for a game, and every
push went out at the game's send time as it stood when Braze could last be told (changes inside
the update buffer are left alone by policy). After the faults stop (teardown) desired, ledger
and Braze must agree, and one more sync must cost zero Braze writes."""

from __future__ import annotations

import os
import threading
import time
from datetime import datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from nba_notify.lib.clients.braze import BrazeClient
from nba_notify.lib.ledger.planning import NotificationPolicy, to_minute
from nba_notify.lib.ledger.reconcile import reconcile
from nba_notify.lib.ledger.service import resolve_unknown, sync_once
from nba_notify.sim.faults import Fault
from nba_notify_tests.notifications.conftest import CURRENTS_TOKEN, T0, Games, make_braze_client
from nba_notify_tests.notifications.interleave import Pauses, Runner, start

GAMES = {
    "0022600301": ("NYK", "BOS", T0 + timedelta(hours=3)),
    "0022600302": ("GSW", "LAL", T0 + timedelta(hours=5)),
}
# Games ingest adds later (more creates for faults to hit).
LATER_GAMES = {
    "0022600303": ("CHI", "MIA", T0 + timedelta(hours=4)),
    "0022600304": ("PHX", "DEN", T0 + timedelta(hours=6, minutes=30)),
}
TABLES = (
    "games, desired_notifications, schedule_ledger, schedule_attempts, schedule_orphans, scheduler_leases, "
    "scheduler_logs, notification_sends, alerts, alert_deliveries, send_guard_claims, send_guard_decisions"
)
FAULTS = [
    ("timeout_after_apply", "braze.create", {"seconds": 0.5}),
    ("timeout_after_apply", "braze.update", {"seconds": 0.5}),
    ("timeout_after_apply", "braze.delete", {"seconds": 0.5}),
    ("status", "braze.create", {"code": 503}),
    ("status", "braze.update", {"code": 502}),
    ("status", "braze.create", {"code": 429}),
    ("status", "braze.delete", {"code": 503}),
    ("new_id_on_update", "braze.update", {"keep_old": True}),
    ("new_id_on_update", "braze.update", {"keep_old": False}),
    ("duplicate_delivery", "braze.currents", {}),
    ("status", "braze.send_id_create", {"code": 429}),
    ("status", "braze.send_id_create", {"code": 503}),
    ("timeout_after_apply", "braze.send_id_create", {"seconds": 0.5}),
]
PAUSE_POINTS = ("after_claim", "after_braze_answer", "after_outcome_recorded")
UNRESOLVED = ("creating", "updating", "unknown")


class Env:
    """Injected by the test: the engine, simulator, receiver and reusable Braze clients."""

    engine: sa.Engine
    sim = None
    webhook_url: str = ""
    clients: list[BrazeClient] = []
    policy: NotificationPolicy


def truth() -> dict:
    return Env.sim.sim.braze.truth()


class NotificationMachine(RuleBasedStateMachine):
    @initialize()
    def reset(self) -> None:
        with Env.engine.begin() as conn:
            conn.exec_driver_sql(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
        Env.sim.sim.reset(T0)
        self.games = Games(Env.engine)
        self.tipoff = {}
        for key, (home, away, tipoff) in GAMES.items():
            self.games.put(key, home, away, tipoff)
            self.tipoff[key] = tipoff
        self.paused: tuple[Pauses, Runner, str] | None = None
        self.runs = 0
        # game -> [(changed_at, send_at or None when withdrawn)]: the push-time oracle's record
        self.history: dict[str, list[tuple]] = {}
        self.withdrawn: set[str] = set()
        for key, tipoff in self.tipoff.items():
            self.record(key, tipoff)
        self.sync()  # start from a scheduled slate: updates and deletes are one step away

    # -- helpers ------------------------------------------------------------------------

    def now(self):
        return Env.sim.sim.clock.now()

    def record(self, game: str, tipoff, *, withdrawn: bool = False) -> None:
        send = None if withdrawn or tipoff is None else to_minute(tipoff - Env.policy.lead)
        self.history.setdefault(game, []).append((self.now(), send))

    def wanted_at(self, game: str, moment) -> object:
        """The game's send time as it stood at ``moment`` (None: withdrawn)."""
        entries = [send for changed_at, send in self.history.get(game, []) if changed_at <= moment]
        return entries[-1] if entries else None

    def sync(self, slot: int = 0, **kwargs):
        self.runs += 1
        return sync_once(
            Env.engine, Env.clients[slot], Env.policy, clock=self.now, lease_wait_seconds=20, **kwargs
        )

    def reconcile(self, slot: int = 4):
        return reconcile(Env.engine, Env.clients[slot], Env.policy, clock=self.now, lease_wait_seconds=20)

    def ledger(self) -> list[dict]:
        with Env.engine.connect() as conn:
            return [
                dict(r) for r in conn.execute(sa.text("SELECT * FROM schedule_ledger ORDER BY id")).mappings()
            ]

    def operator_resolves(self, before=None) -> None:
        """A human answering the CRITICAL alerts: looks at the dashboard (the simulator's
        truth) for each unresolved intent — or a live one whose id we never learned — adopts
        what is there (with the id the dashboard shows), orphans any extra."""
        schedules = truth()["schedules"]
        touched = False
        for row in self.ledger():
            if row["state"] not in (*UNRESOLVED, "unidentified"):
                continue
            if before is not None and row["send_at_utc"] is not None and row["send_at_utc"] > before:
                continue
            live = sorted(
                (s for s in schedules if s["status"] == "scheduled" and s["send_id"] == row["send_id"]),
                key=lambda s: (s["created_at"], s["schedule_id"]),
            )
            keep = live[-1]["schedule_id"] if live else None
            others = [s["schedule_id"] for s in live[:-1]]
            resolve_unknown(
                Env.engine,
                Env.policy,
                row["intent_key"],
                decision="exists" if keep else "absent",
                schedule_id=keep,
                dispatch_id=live[-1]["dispatch_id"] if live else None,
                orphan_ids=others,
                lease_wait_seconds=20,
            )
            touched = True
        if touched:
            self.reconcile()

    # -- rules --------------------------------------------------------------------------

    def inject(self, fault) -> None:
        if fault is not None:
            kind, route, params = fault
            Env.sim.sim.faults.add(Fault(kind=kind, route=route, times=1, params=dict(params)))

    @rule(
        n=st.integers(min_value=2, max_value=4),
        with_reconcile=st.booleans(),
        fault=st.none() | st.sampled_from(FAULTS),
    )
    def concurrent_runs(self, n: int, with_reconcile: bool, fault) -> None:
        self.inject(fault)
        barrier = threading.Barrier(n + int(with_reconcile))

        def scheduler(slot: int):
            barrier.wait()
            return self.sync(slot)

        def reconciler():
            barrier.wait()
            return self.reconcile()

        runners = [start(lambda s=slot: scheduler(s), f"S{slot}") for slot in range(n)]
        if with_reconcile:
            runners.append(start(reconciler, "R"))
        for runner in runners:
            runner.result()

    @precondition(lambda self: self.paused is None)
    @rule(point=st.sampled_from(PAUSE_POINTS), fault=st.none() | st.sampled_from(FAULTS))
    def scheduler_pauses_past_its_lease(self, point: str, fault) -> None:
        self.inject(fault)
        pauses = Pauses(at=(point,))
        runner = start(lambda: self.sync(3, checkpoint=pauses, lease_ttl_seconds=0.05), "paused")
        deadline = time.monotonic() + 20
        while not pauses.reached[point].is_set() and runner.is_alive() and time.monotonic() < deadline:
            time.sleep(0.005)
        if pauses.reached[point].is_set():
            time.sleep(0.06)  # let the lease lapse while the call is "in flight"
            self.paused = (pauses, runner, point)
        else:
            runner.result()  # nothing to claim: it finished normally

    @precondition(lambda self: self.paused is not None)
    @rule()
    def paused_scheduler_resumes(self) -> None:
        pauses, runner, point = self.paused  # type: ignore[misc]
        pauses.release(point)
        runner.result()
        self.paused = None

    @rule()
    def reconcile_runs(self) -> None:
        self.reconcile()

    @precondition(lambda self: self.paused is None)
    @rule(minutes=st.sampled_from([15, 45, 100, 200]))
    def clock_moves(self, minutes: int) -> None:
        target = self.now() + timedelta(minutes=minutes)
        # CRITICAL alerts are raised at once; the on-call answers them before the send.
        self.operator_resolves(before=target + timedelta(minutes=5))
        while self.now() < target:
            step = min(timedelta(minutes=15), target - self.now())
            Env.sim.sim.clock.advance(step)
            self.sync()  # the 15-minute braze_sync_schedule

    @rule(
        game=st.sampled_from(sorted(GAMES | LATER_GAMES)), delta=st.sampled_from([-40, -10, 10, 35, 1 / 60])
    )
    def tipoff_moves(self, game: str, delta: float) -> None:
        if game not in self.tipoff:
            return
        self.tipoff[game] = self.tipoff[game] + timedelta(minutes=delta)
        self.games.move(game, self.tipoff[game])
        self.record(game, self.tipoff[game], withdrawn=game in self.withdrawn)

    @rule(game=st.sampled_from(sorted(GAMES | LATER_GAMES)), days=st.sampled_from([1, -1]))
    def game_moves_to_another_day(self, game: str, days: int) -> None:
        """The league reschedules the game a day later or earlier: same game, new day."""
        if game not in self.tipoff or self.tipoff[game] + timedelta(days=days) - Env.policy.lead < self.now():
            return
        self.tipoff[game] += timedelta(days=days)
        self.games.move(game, self.tipoff[game])
        self.record(game, self.tipoff[game], withdrawn=game in self.withdrawn)

    @rule(
        game=st.sampled_from(sorted(GAMES | LATER_GAMES)),
        status=st.sampled_from(["postponed", "cancelled", "scheduled"]),
    )
    def game_status_changes(self, game: str, status: str) -> None:
        if game not in self.tipoff:
            return
        self.games.set_status(game, status)
        self.withdrawn.discard(game)
        if status == "scheduled":
            self.games.relist(game)  # back in the feed as well
        else:
            self.withdrawn.add(game)
        self.record(game, self.tipoff[game], withdrawn=game in self.withdrawn)

    @rule(game=st.sampled_from(sorted(GAMES | LATER_GAMES)))
    def postponed_game_is_made_up_the_next_day(self, game: str) -> None:
        if game not in self.withdrawn or game not in self.tipoff:
            return
        self.tipoff[game] += timedelta(days=1)
        self.games.move(game, self.tipoff[game])
        self.games.set_status(game, "scheduled")
        self.games.relist(game)
        self.withdrawn.discard(game)
        self.record(game, self.tipoff[game])

    @rule(game=st.sampled_from(sorted(GAMES | LATER_GAMES)))
    def game_leaves_every_feed(self, game: str) -> None:
        if game not in self.tipoff:
            return
        self.games.unlist(game)
        self.withdrawn.add(game)
        self.record(game, self.tipoff[game], withdrawn=True)

    @rule(
        game=st.sampled_from(sorted(GAMES)),
        delta=st.sampled_from([-40, 10, 35]),
        fault=st.sampled_from([f for f in FAULTS if f[1] == "braze.update"]),
        n=st.integers(1, 3),
    )
    def kickoff_moves_and_schedulers_race(self, game: str, delta: int, fault, n: int) -> None:
        """Scenarios 2 and 6: a moved tip-off, racing schedulers, Braze misbehaving on the update."""
        self.tipoff[game] = self.tipoff[game] + timedelta(minutes=delta)
        self.games.move(game, self.tipoff[game])
        self.record(game, self.tipoff[game], withdrawn=game in self.withdrawn)
        self.concurrent_runs(n + 1, False, fault)

    @rule(game=st.sampled_from(sorted(LATER_GAMES)))
    def ingest_adds_a_game(self, game: str) -> None:
        if game not in self.tipoff:
            home, away, tipoff = LATER_GAMES[game]
            self.games.put(game, home, away, tipoff)
            self.tipoff[game] = tipoff
            self.record(game, tipoff)

    @rule()
    def currents_redelivers(self) -> None:
        with Env.engine.connect() as conn:
            raws = (
                conn.execute(sa.text("SELECT raw FROM notification_sends ORDER BY random() LIMIT 5"))
                .scalars()
                .all()
            )
        if raws:
            response = httpx.post(
                Env.webhook_url,
                json={"events": list(raws)},
                headers={"Authorization": f"Bearer {CURRENTS_TOKEN}"},
                timeout=10,
            )
            assert response.status_code == 200 and response.json()["stored"] == 0

    # -- safety, after every step ------------------------------------------------------

    @invariant()
    def never_two_and_never_the_wrong_one(self) -> None:
        if not hasattr(self, "games"):
            return
        t = truth()
        assert t["duplicate_messages"] == 0, f"a fan got two pushes: {t['games_with_duplicates']}"
        for game, times in t["push_times"].items():
            for at in times:
                pushed = datetime.fromisoformat(at.replace("Z", "+00:00"))
                # what Braze could last be told before the update buffer closed, or at the push
                told = {self.wanted_at(game, pushed - Env.policy.update_buffer), self.wanted_at(game, pushed)}
                assert pushed in told, (
                    f"{game} pushed at {at}; wanted {told} (history {self.history.get(game)})"
                )
        rows = self.ledger()
        unresolved_games = {r["game_id"] for r in rows if r["state"] in UNRESOLVED}
        mid_call = self.paused is not None and self.paused[2] != "after_claim"
        if not mid_call:
            live: dict[str, list[str]] = {}
            for s in t["schedules"]:
                if s["status"] == "scheduled":
                    live.setdefault(s["game_id"], []).append(s["schedule_id"])
            doubles = {g: ids for g, ids in live.items() if len(ids) > 1 and g not in unresolved_games}
            assert not doubles, f"two live schedules: {doubles}"
        by_id = {s["schedule_id"]: s for s in t["schedules"]}
        for row in rows:
            if row["state"] == "scheduled":
                status = by_id.get(row["braze_schedule_id"], {}).get("status")
                assert status in ("scheduled", "sent"), (
                    f"ledger's live {row['braze_schedule_id']} is {status}"
                )
        live_rows: dict[str, int] = {}
        for row in rows:
            if row["state"] in (
                "creating",
                "updating",
                "scheduled",
                "unknown",
                "unidentified",
                "cancel_requested",
            ):
                live_rows[row["game_id"]] = live_rows.get(row["game_id"], 0) + 1
        assert all(n == 1 for n in live_rows.values()), live_rows
        with Env.engine.connect() as conn:
            stored = conn.execute(sa.text("SELECT count(*) FROM notification_sends")).scalar_one()
        assert stored == t["currents"]["events_delivered"], (stored, t["currents"])

    # -- liveness, once the faults stop ----------------------------------------------------

    def teardown(self) -> None:
        if not hasattr(self, "games"):
            return
        if self.paused is not None:
            self.paused_scheduler_resumes()
        Env.sim.sim.faults.reset()
        self.operator_resolves()
        self.sync()
        self.reconcile()
        self.sync()
        now = self.now()
        buffer_edge = now + Env.policy.update_buffer
        rows = {r["game_id"]: r for r in self.ledger()}
        t = truth()
        with Env.engine.connect() as conn:
            desired = {
                r["game_id"]: dict(r)
                for r in conn.execute(sa.text("SELECT * FROM desired_notifications")).mappings()
            }
        for game, d in desired.items():
            live = [s for s in t["schedules"] if s["status"] == "scheduled" and s["game_id"] == game]
            sent = bool(t["messages"].get(game))
            if not d["active"]:
                assert live == [], f"{game} is {d['reason']} but Braze still holds {live}"
                continue
            assert len(live) <= 1, live
            if sent or d["send_at_utc"] <= buffer_edge:
                continue
            if any(_time(s) <= buffer_edge for s in live):
                continue  # inside the update buffer: left alone on purpose
            assert len(live) == 1, f"{game}: no live schedule for a future send ({rows.get(game)})"
            row = rows[game]
            if row["state"] == "unidentified":  # proven live by the list; its id never learned
                assert row["braze_schedule_id"] is None and row["send_at_utc"] == _time(live[0])
            else:
                assert row["state"] == "scheduled" and row["braze_schedule_id"] == live[0]["schedule_id"]
            assert _time(live[0]) == d["send_at_utc"], (game, live[0]["time"], d["send_at_utc"])
        assert self.sync().write_calls == 0, "an unchanged re-sync must not call Braze"


def _time(schedule: dict) -> datetime:
    return datetime.fromisoformat(schedule["time"].replace("Z", "+00:00"))


@pytest.mark.slow
# A fixed number of examples: about 2-3 minutes on a quiet 2-core machine, over the suite's
# 300 s default when other work shares the cores.
@pytest.mark.timeout(900)
def test_random_interleavings_keep_the_invariants(database_url, db, braze_sim, webhook_server, policy):
    import dataclasses

    Env.engine = db
    Env.sim = braze_sim
    Env.webhook_url = f"{webhook_server.url}/currents"
    Env.policy = dataclasses.replace(policy, in_flight_grace_seconds=0.2)
    Env.clients = [make_braze_client(braze_sim, read_timeout=0.3) for _ in range(5)]
    try:
        run_state_machine_as_test(
            NotificationMachine,
            settings=settings(
                max_examples=int(os.environ.get("NBA_NOTIFY_STATEFUL_EXAMPLES", "300")),
                stateful_step_count=6,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
                print_blob=True,
            ),
        )
    finally:
        for client in Env.clients:
            client.close()
