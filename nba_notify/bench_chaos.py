"""`nba-notify bench chaos`: adversarial rounds judged only by what users received.

Each round starts from an empty database and a reset simulator, ingests a game day and the
next through the real pipeline (simulated BDL and NBA.com over HTTP), then runs the product's
day in simulated time. Every tick (30 simulated minutes; 2 hours when no push is due within 6):
the world may change — a tip-off moved
the same day or to the next day, a game postponed, a postponed game made up the next day — and
the affected days are re-ingested; Braze may misbehave (429, 5xx, timeouts after applying,
updates answered with a new id that keep or drop the old one, a lagging or never-listing
scheduled-broadcasts list); two to four schedulers and a reconcile run at once, and one of
them may be killed at any checkpoint (no cleanup, lease left to expire). Braze sends when the
clock passes a schedule and Currents reaches the product's receiver.

Nothing the product says about itself is believed: the round is judged from the simulated
Braze's delivery record against the league's final truth — per game, each fan of either team
gets exactly one push at final tip-off minus the lead, none for a game postponed or cancelled.
A miss is excused only if a CRITICAL alert named the game at least 30 minutes before its push
was due. Prints one ``chaos: ...`` line (and the ambiguous outcomes' alert lead times).
"""

from __future__ import annotations

import json
import random
import statistics
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from nba_notify.lib.clients.braze import BrazeClient
from nba_notify.lib.clients.http import CallRecorder, RetryPolicy, Timeouts
from nba_notify.lib.db.engine import get_engine
from nba_notify.lib.db.tables import metadata
from nba_notify.lib.ingest import pipeline
from nba_notify.lib.ingest.parse import EASTERN
from nba_notify.lib.ledger.planning import NotificationPolicy, to_minute
from nba_notify.lib.ledger.reconcile import reconcile
from nba_notify.lib.ledger.service import sync_once
from nba_notify.sim.faults import Fault

T0 = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
TICK = timedelta(minutes=30)
# Far from any push (nights, the day before) the product's day is uneventful: tick coarser.
QUIET_TICK = timedelta(hours=2)
QUIET_AHEAD = timedelta(hours=6)
LEASE_TTL_SECONDS = 1.0
LEAD = timedelta(minutes=60)
ALERT_LEAD_GOAL = timedelta(minutes=30)
# The world changes only well before the pushes it touches (real reschedules come hours ahead;
# a change inside Braze's dispatch window is excluded by policy, not a product failure).
CHANGE_AHEAD = timedelta(minutes=90)
BRAZE_FAULTS: list[tuple[str, str, dict[str, Any]]] = [
    ("timeout_after_apply", "braze.create", {"seconds": 0.8}),
    ("timeout_after_apply", "braze.update", {"seconds": 0.8}),
    ("timeout_after_apply", "braze.delete", {"seconds": 0.8}),
    ("status", "braze.create", {"code": 503}),
    ("status", "braze.update", {"code": 502}),
    ("status", "braze.create", {"code": 429}),
    ("status", "braze.delete", {"code": 503}),
    ("new_id_on_update", "braze.update", {"keep_old": True}),
    ("new_id_on_update", "braze.update", {"keep_old": False}),
    ("list_lag", "braze.list", {"seconds": 1800}),
    ("list_lag", "braze.list", {"never": True}),
]
KILL_POINTS = ("after_claim", "after_braze_answer", "after_outcome_recorded", "after_write_back")


class Killed(BaseException):
    """A worker dying mid-run: no cleanup, no lease release (it lapses on its own)."""


@dataclass
class RoundResult:
    games: int = 0
    pushes: int = 0
    duplicates: int = 0
    misses: int = 0
    misses_without_timely_alert: int = 0
    wrong_time: int = 0
    braze_writes: int = 0
    real_changes: int = 0
    kills: int = 0
    faults: int = 0
    ambiguous: int = 0
    alert_leads_minutes: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    # what went wrong, per game, with what the ledger and Braze said (printed with --verbose)
    incidents: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ChaosSummary:
    rounds: list[RoundResult]

    def total(self, name: str) -> int:
        return sum(getattr(r, name) for r in self.rounds)

    @property
    def goals_met(self) -> bool:
        return (
            self.total("duplicates") == 0
            and self.total("wrong_time") == 0
            and self.total("misses_without_timely_alert") == 0
        )

    def line(self) -> str:
        return (
            f"chaos: rounds={len(self.rounds)} games={self.total('games')} pushes={self.total('pushes')} "
            f"duplicates={self.total('duplicates')} misses={self.total('misses')} "
            f"wrong_time={self.total('wrong_time')} braze_writes={self.total('braze_writes')} "
            f"real_changes={self.total('real_changes')}"
        )


class Round:
    """One round against the stack (see the module docstring)."""

    def __init__(self, stack: Any, rng: random.Random, games_per_round: int):
        self.stack = stack
        self.sim = stack.sim.sim
        self.rng = rng
        self.games_per_round = games_per_round
        self.engine = get_engine(stack.database_url)
        self.policy = NotificationPolicy(
            campaign_id=self.sim.config.braze_campaign_id, in_flight_grace_seconds=1.0
        )
        self.result = RoundResult()
        from nba_notify.defs.resources import build_resources
        from nba_notify.lib.config import Settings

        resources = build_resources(Settings.from_env())
        recorder = CallRecorder()
        self.bdl = resources["bdl"].client(recorder)
        self.nbac = resources["nbac"].client(recorder)
        self.braze_url = f"{stack.sim.url}/braze"
        self.braze_key = self.sim.config.braze_api_key
        self.tracked: list[str] = []
        self.postponed: set[str] = set()
        self.changes: list[tuple[str, str, str]] = []  # (sim time, game, what)

    # -- setup --------------------------------------------------------------------------------

    def reset(self) -> None:
        self.sim.reset(T0)
        self.sim.config.braze_send_id_daily_limit = 10_000
        names = ", ".join(t.name for t in metadata.sorted_tables if t.name not in ("alert_rules",))
        with self.engine.begin() as conn:
            conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")

    def ingest(self, *days: date) -> None:
        now = self.sim.clock.now()
        for day in sorted(set(days)):
            recorder = CallRecorder()
            pipeline.scrape_bdl_games(self.engine, self.bdl, day, run_id="chaos", recorder=recorder)
            pipeline.scrape_nbac_schedule(
                self.engine,
                self.nbac,
                day,
                current_season=pipeline.current_season(now),
                run_id="chaos",
                recorder=recorder,
            )
            pipeline.process_games(self.engine, day, run_id="chaos")

    def client(self) -> BrazeClient:
        return BrazeClient(
            self.braze_url,
            self.braze_key,
            timeouts=Timeouts(connect=2.0, read=0.4, write=2.0, pool=5.0),
            retry=RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.05, max_retry_after=0.5),
        )

    # -- the round ----------------------------------------------------------------------------

    def run(self) -> RoundResult:
        self.reset()
        today = T0.astimezone(EASTERN).date()
        self.ingest(today, today + timedelta(days=1))
        slate = [g for g in self.league_games(today) if g.tipoff_utc - LEAD > T0 + CHANGE_AHEAD]
        self.rng.shuffle(slate)
        self.tracked = sorted(g.nba_id for g in slate[: self.games_per_round])
        # Only the tracked games are kept in play: the others of both days are withdrawn from the
        # feed before the first sync, so every push of the round belongs to a judged game.
        for g in self.league_games(today) + self.league_games(today + timedelta(days=1)):
            if g.nba_id not in self.tracked:
                self.sim.league.override(g.nba_id, status="cancelled")
        self.ingest(today, today + timedelta(days=1))
        self.result.real_changes += len(self.tracked)  # one create each

        end = max(self.truth(g).tipoff_utc for g in self.tracked) + timedelta(hours=1)
        now = T0
        while now < end:
            self.maybe_change_the_world(now)
            self.maybe_inject_a_fault()
            self.storm()
            sends = [self.truth(g).tipoff_utc - LEAD for g in self.tracked]
            upcoming = [t for t in sends if t > now]
            now += TICK if upcoming and min(upcoming) - now <= QUIET_AHEAD else QUIET_TICK
            self.sim.clock.set(now)
            end = max(end, max(self.truth(g).tipoff_utc for g in self.tracked) + timedelta(hours=1))
        # the faults stop; the product settles on its own schedule
        self.sim.faults.reset()
        for _ in range(3):
            self.storm(kill=False)
        self.sim.braze.flush_outbox(force=True)
        self.judge()
        return self.result

    def league_games(self, day: date) -> list[Any]:
        return self.sim.league.games_on(day, self.sim.clock.now())

    def truth(self, game_id: str) -> Any:
        return self.sim.league.game(game_id, self.sim.clock.now())

    def maybe_change_the_world(self, now: datetime) -> None:
        if self.rng.random() > 0.25:
            return
        game_id = self.rng.choice(self.tracked)
        state = self.truth(game_id)
        old_day = state.game_date
        if game_id in self.postponed:
            # made up on a later day, at the same hour: the first such day far enough ahead
            make_up = state.tipoff_utc + timedelta(days=1)
            while make_up - LEAD < now + CHANGE_AHEAD:
                make_up += timedelta(days=1)
            self.sim.league.override(game_id, status="scheduled", tipoff_utc=make_up)
            self.postponed.discard(game_id)
            self.changes.append((now.isoformat(), game_id, f"made up at {make_up.isoformat()}"))
            self.after_change(old_day, make_up)
            return
        if state.status != "scheduled" or state.tipoff_utc - LEAD < now + CHANGE_AHEAD:
            return
        kind = self.rng.choice(["same_day", "same_day", "next_day", "postpone"])
        if kind == "postpone":
            self.sim.league.override(game_id, status="postponed")
            self.postponed.add(game_id)
            self.changes.append((now.isoformat(), game_id, "postponed"))
            self.after_change(old_day, state.tipoff_utc)
            return
        delta = (
            timedelta(days=1)
            if kind == "next_day"
            else timedelta(minutes=self.rng.choice([-60, -30, 15, 45, 90]))
        )
        new_tipoff = state.tipoff_utc + delta
        if new_tipoff - LEAD < now + CHANGE_AHEAD:
            return
        self.sim.league.override(game_id, tipoff_utc=new_tipoff)
        self.changes.append((now.isoformat(), game_id, f"moved to {new_tipoff.isoformat()}"))
        self.after_change(old_day, new_tipoff)

    def after_change(self, old_day: date, new_tipoff: datetime) -> None:
        self.result.real_changes += 1
        self.ingest(old_day, new_tipoff.astimezone(EASTERN).date())

    def maybe_inject_a_fault(self) -> None:
        if self.rng.random() > 0.15:
            return
        kind, route, params = self.rng.choice(BRAZE_FAULTS)
        times = None if kind == "list_lag" else self.rng.choice([1, 1, 2])
        if kind == "list_lag":
            self.sim.faults.clear(route="braze.list", kind="list_lag")
        self.sim.faults.add(Fault(kind=kind, route=route, times=times, params=dict(params)))
        self.changes.append(
            (self.sim.clock.now().isoformat(), "-", f"fault {kind} {route} {params} x{times}")
        )
        self.result.faults += 1

    def storm(self, *, kill: bool = True) -> None:
        """One to four schedulers (one maybe killed) and a reconcile, all at once."""
        n = self.rng.choice([1, 1, 2, 3, 4])
        victim = self.rng.randrange(n) if kill and self.rng.random() < 0.2 else None
        point = self.rng.choice(KILL_POINTS)
        errors: list[BaseException] = []

        def worker(slot: int, reconciler: bool = False) -> None:
            client = self.client()
            try:
                barrier.wait()
                clock = self.sim.clock.now
                if reconciler:
                    reconcile(
                        self.engine,
                        client,
                        self.policy,
                        clock=clock,
                        lease_ttl_seconds=LEASE_TTL_SECONDS,
                        lease_wait_seconds=20,
                    )
                    return

                def checkpoint(name: str, **_: Any) -> None:
                    if slot == victim and name == point:
                        raise Killed(name)

                sync_once(
                    self.engine,
                    client,
                    self.policy,
                    clock=clock,
                    checkpoint=checkpoint,
                    lease_ttl_seconds=LEASE_TTL_SECONDS,
                    lease_wait_seconds=20,
                )
            except Killed:
                self.result.kills += 1
            except BaseException as exc:
                errors.append(exc)
            finally:
                client.close()

        threads = [threading.Thread(target=worker, args=(slot,)) for slot in range(n)]
        if self.rng.random() < 0.5:
            threads.append(threading.Thread(target=worker, args=(n, True)))
        barrier = threading.Barrier(len(threads))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if victim is not None:
            time.sleep(
                LEASE_TTL_SECONDS + 0.1
            )  # the dead worker's lease lapses, as a crashed process's would
        self.result.failures += [f"{type(e).__name__}: {e}" for e in errors]

    # -- the judgement ------------------------------------------------------------------------

    def judge(self) -> None:
        truth = self.sim.braze.truth()
        alerts = self.alerts()
        self.result.games += len(self.tracked)
        calls = truth["calls"]
        self.result.braze_writes += sum(
            calls.get(r, 0) for r in ("braze.create", "braze.update", "braze.delete")
        )
        audience = self.sim.braze.users
        for game_id in self.tracked:
            state = self.truth(game_id)
            fans = {
                u.external_user_id
                for u in audience
                if u.favorite_team in (state.home.tricode, state.away.tricode)
            }
            per_user = truth["messages"].get(game_id, {})
            times = truth["push_times"].get(game_id, {})
            self.result.pushes += sum(per_user.values())
            self.result.duplicates += sum(n - 1 for n in per_user.values() if n > 1)
            if state.status in ("postponed", "cancelled"):
                wrong = sum(times.values())
                self.result.wrong_time += wrong
                if wrong:
                    self.incident(game_id, "pushed for a withdrawn game", times, per_user)
                continue
            expected = to_minute(state.tipoff_utc - LEAD).strftime("%Y-%m-%dT%H:%M:%SZ")
            wrong = sum(n for at, n in times.items() if at != expected)
            self.result.wrong_time += wrong
            if wrong:
                self.incident(game_id, f"pushed at a wrong time (expected {expected})", times, per_user)
            if any(n > 1 for n in per_user.values()):
                self.incident(game_id, "duplicate push", times, per_user)
            missed = {u for u in fans if per_user.get(u, 0) == 0}
            if missed:
                self.result.misses += 1
                due = to_minute(state.tipoff_utc - LEAD)
                if not any(
                    a["game_id"] == game_id and a["first_seen_at"] <= due - ALERT_LEAD_GOAL for a in alerts
                ):
                    self.result.misses_without_timely_alert += 1
                    self.incident(
                        game_id, f"missed without a timely alert (due {due.isoformat()})", times, per_user
                    )
        with self.engine.connect() as conn:
            self.result.ambiguous += conn.execute(
                sa.text(
                    "SELECT count(*) FROM schedule_attempts WHERE status = 'ambiguous' "
                    "OR error_message LIKE 'caller vanished%'"
                )
            ).scalar_one()
        for a in alerts:
            at_risk = a["details"].get("earliest_send_at_risk")
            if at_risk:
                lead = datetime.fromisoformat(at_risk) - a["first_seen_at"]
                self.result.alert_leads_minutes.append(round(lead.total_seconds() / 60, 1))

    def incident(self, game_id: str, what: str, times: dict[str, int], per_user: dict[str, int]) -> None:
        with self.engine.connect() as conn:
            ledger = [
                dict(r)
                for r in conn.execute(
                    sa.text(
                        "SELECT state, braze_schedule_id, send_at_utc, signature FROM schedule_ledger WHERE game_id = :g"
                    ),
                    {"g": game_id},
                ).mappings()
            ]
            logs = [
                f"{r.logged_at:%H:%M:%S} {r.action} {r.reason} {r.send_at_utc}"
                for r in conn.execute(
                    sa.text(
                        "SELECT logged_at, action, reason, send_at_utc FROM scheduler_logs WHERE game_id = :g ORDER BY id"
                    ),
                    {"g": game_id},
                )
            ]
        schedules = [
            {k: s[k] for k in ("schedule_id", "status", "time", "origin", "history")}
            for s in self.sim.braze.schedules_for(game_id)
        ]
        self.result.incidents.append(
            {
                "game_id": game_id,
                "what": what,
                "push_times": times,
                "pushes_per_user": per_user,
                "changes": [c for c in self.changes if c[1] in (game_id, "-")],
                "ledger": ledger,
                "braze": schedules,
                "log": logs,
            }
        )

    def alerts(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = (
                conn.execute(
                    sa.text("SELECT details, first_seen_at FROM alerts WHERE rule_key = 'ambiguous_schedule'")
                )
                .mappings()
                .all()
            )
        return [
            {
                "game_id": r["details"].get("game_id"),
                "details": r["details"],
                "first_seen_at": r["first_seen_at"],
            }
            for r in rows
        ]


def run_chaos(
    *, rounds: int = 5, seed: int = 1, games_per_round: int = 6, echo: bool = True, verbose: bool = False
) -> ChaosSummary:
    from nba_notify.stack import start_stack

    results = []
    with ExitStack() as exit_stack:
        stack = start_stack(
            exit_stack, sim_start=T0, scratch_database="nba_notify_chaos", hermetic=True, audience_per_team=2
        )
        stack.apply_env(exit_stack)
        for n in range(rounds):
            rng = random.Random(f"{seed}:{n}")
            started = time.perf_counter()
            result = Round(stack, rng, games_per_round).run()
            results.append(result)
            if echo:
                print(
                    f"  round {n + 1}: games={result.games} pushes={result.pushes} duplicates={result.duplicates} "
                    f"misses={result.misses} (no timely alert: {result.misses_without_timely_alert}) "
                    f"wrong_time={result.wrong_time} writes={result.braze_writes} changes={result.real_changes} "
                    f"faults={result.faults} kills={result.kills} ambiguous={result.ambiguous} "
                    f"errors={len(result.failures)} ({time.perf_counter() - started:.1f} s)",
                    flush=True,
                )
                for failure in result.failures:
                    print(f"    worker error: {failure}")
                if verbose:
                    for incident in result.incidents:
                        print(json.dumps(incident, indent=1, default=str))
    summary = ChaosSummary(results)
    if echo:
        leads = [m for r in results for m in r.alert_leads_minutes]
        if leads:
            print(
                f"ambiguous outcomes: {summary.total('ambiguous')}; alert lead before the earliest push at risk "
                f"(minutes): min {min(leads)}, median {statistics.median(leads)}, max {max(leads)}"
            )
        else:
            print(f"ambiguous outcomes: {summary.total('ambiguous')}; no ambiguity alert raised")
        print(f"misses without an alert >= 30 min ahead: {summary.total('misses_without_timely_alert')}")
        print(summary.line())
    return summary
