"""`nba-notify bench signals`: precision and recall of the product's alarms over a simulated
season with known faults.

**The world.** The simulator serves a full season (``SimConfig.full_season``: preseason, NBA
Cup nights and knockout days in Las Vegas, neutral sites, All-Star weekend between teams that
are none of the 30 franchises, play-in, playoffs whose "if necessary" games are dropped when a
series ends early, postponements made up weeks later under the same ids, box scores published
0-3 h after the final). None of that is a problem; an alarm about it is a false alarm.

**The product** runs as the Dagster daemon would run it, in simulated time, through its real
jobs and sensors on a real PostgreSQL (``execute_in_process`` on a Dagster instance of the
benchmark's own). Each simulated day:

* 06:00 ET — ``ingest_job`` for yesterday and today (``daily_ingest_schedule``), then
  ``braze_sync_job``;
* 12:00 ET — nothing but the ticks below;
* 23:45 ET — ``ingest_job`` for today (finals whose box scores may not be out yet) and
  ``full_verify_job``;
* after each of the three: one tick of ``scrape_retry_sensor``, ``sync_execution_tracker``, ``alert_evaluator``,
  ``count_mismatch_sensor`` and ``stale_pending_sensor`` (and the runs they ask for).

**Ground truth** — the problems, each recorded with what, which game(s)/day and when (simulated
time) it began, injected through the simulator's fault machinery on distinct days:

* ``dropped_game``: BDL never lists one game of the day (``drop_games``);
* ``late_feed``: BDL lists the day's games only 36 h after their tip-off (``lag_games``);
* ``wrong_score``: BDL reports a final score 3 points off (``wrong_score``), from the next morning;
* ``box_score_never``: NBA.com never publishes one game's box score (``drop_games`` on the box
  score route); the season's own never-published box scores are ground truth of the same kind,
  beginning at the game's final buzzer;
* ``extra_braze_schedule``: a live Braze schedule for one of the day's games created behind the
  product's back (a double push in the making), 10 minutes after the morning sync; it counts as
  detected only by an alarm before the second push goes out;
* ``failed_run``: the NBA.com schedule answers 503 from 05:59 to midnight (three ingest runs fail).

**An alarm** is a signal an operator is asked to act on: (a) an asset check evaluation that
failed, at ERROR or WARN — counted once per episode (per check and partition: a failure after a
pass or a first evaluation; consecutive failures are the same alarm); (b) a row in ``alerts``
(raised by the alert rules, the tracker's failed-check rule, the Braze sensors or any other
domain), counted once per row, except ``scrape_recovered`` (a recovery notice, not an alarm).
Its time is the simulated time at which the benchmark first saw it. Alert rules with a time
window (consecutive failures within an hour, success rate over a day) read Dagster's wall-clock
run times, and a simulated day passes in seconds here: their windows hold more simulated days
than in production, so they fire sooner on repeated failures, never later.

**Matching.** An alarm belongs to a domain by its name: notifications (Braze, ledger, sends),
runs (failure/success-rate/duration rules) or data (everything else). A fault is detectable in
data (the four feed faults), notifications (the extra schedule) or runs and data (a failed
run). An alarm matches a fault when its domain is one of the fault's, it was seen within 4
simulated days after the fault began, and it points at the fault: if both name game ids
(NBA.com ``gameId``), one is shared; otherwise, if the alarm names days (its partition, or dates
in its text), one of the fault's days is among them; an alarm that names neither is matched by domain
and time; an alarm naming the fault's own identifiers (a Braze schedule or dispatch id)
matches it outright. **Precision** = alarms matching some fault / alarms; **recall** = faults
matched by some alarm (before the fault's deadline, if it has one) / faults. The time from fault to alarm is that of the first matching alarm.
"""

from __future__ import annotations

import json
import random
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from nba_notify.lib.ingest.parse import EASTERN

QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
SCRATCH_DATABASE = "nba_notify_signals"
MATCH_WINDOW = timedelta(days=4)
FAULT_KINDS = (
    "dropped_game",
    "wrong_score",
    "late_feed",
    "box_score_never",
    "extra_braze_schedule",
    "failed_run",
)
DOMAINS = {
    "dropped_game": {"data"},
    "late_feed": {"data"},
    "wrong_score": {"data"},
    "box_score_never": {"data"},
    "extra_braze_schedule": {"notifications"},
    "failed_run": {"runs", "data"},
}
# BDL does not list these (nba_notify/sim/bdl.py), so no feed fault is aimed at them.
_UNLISTED_KINDS = ("preseason", "all_star")
NOT_ALARMS = frozenset({"scrape_recovered"})
SENSORS = ("sync_execution_tracker", "alert_evaluator", "count_mismatch_sensor", "stale_pending_sensor")
_NOTIFICATION_WORDS = (
    "braze", "notification", "count_mismatch", "stale_pending", "duplicate_schedules", "orphaned_schedules",
    "missing_schedules", "timing", "unresolved_intents", "unmatched_sends", "double push", "ambiguous",
    "ledger", "currents",
)  # fmt: skip
_RUN_WORDS = ("consecutive_failures", "success_rate", "duration_exceeded", "memory_usage")
_GAME_ID = re.compile(r"\b00[1-6]\d{7}\b")
_DAY = re.compile(r"\b20\d\d-\d\d-\d\d\b")


def _near(text: str, day: date, days: int = 14) -> bool:
    try:
        return abs((date.fromisoformat(text) - day).days) <= days
    except ValueError:
        return False


@dataclass
class InjectedFault:
    kind: str
    day: date  # the game day (partition) the problem is about
    game_ids: list[str]
    injected_at: datetime  # simulated time the problem began
    detail: str
    natural: bool = False  # part of the season itself, not injected by the benchmark
    # Other partitions the problem touches (a failed 06:00 run fails yesterday's and today's).
    also_days: list[date] = field(default_factory=list)
    # Identifiers only this problem has (a Braze schedule's id and dispatch id): an alarm that
    # names one points at it whatever else it names.
    refs: list[str] = field(default_factory=list)
    # An alarm after this instant is true but too late to prevent the harm (the double push has
    # gone out): it does not count for recall.
    deadline: datetime | None = None

    @property
    def domains(self) -> set[str]:
        return DOMAINS["box_score_never" if self.kind == "box_score_never_published" else self.kind]

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "day": self.day.isoformat(),
            "game_ids": self.game_ids,
            "injected_at": self.injected_at.isoformat(),
            "detail": self.detail,
            "natural": self.natural,
            "also_days": [d.isoformat() for d in self.also_days],
            "refs": self.refs,
            "deadline": self.deadline.isoformat() if self.deadline else None,
        }


@dataclass
class Alarm:
    source: str  # check | alert
    name: str  # asset:check, or the alert's rule key
    severity: str
    partition: str | None
    text: str
    at: datetime  # simulated time first seen

    @property
    def domain(self) -> str:
        lowered = f"{self.name} {self.text}".lower() if self.source == "alert" else self.name.lower()
        if any(word in self.name.lower() for word in _RUN_WORDS):
            return "runs"
        if any(word in lowered for word in _NOTIFICATION_WORDS):
            return "notifications"
        return "data"

    def game_ids(self) -> set[str]:
        return set(_GAME_ID.findall(self.text))

    def days(self) -> set[str]:
        """Game days the alarm names: its partition and dates in its text near its own simulated
        time (a wall-clock timestamp in an alert's details is no game day)."""
        near = self.at.astimezone(EASTERN).date()
        found = {text for text in _DAY.findall(self.text) if _near(text, near)}
        if self.partition:
            found.add(self.partition)
        return found

    def matches(self, fault: InjectedFault) -> bool:
        if self.domain not in fault.domains:
            return False
        if not fault.injected_at - timedelta(minutes=1) <= self.at <= fault.injected_at + MATCH_WINDOW:
            return False
        if any(ref in self.text for ref in fault.refs):
            return True
        named_games = self.game_ids()
        if fault.game_ids and named_games:
            return bool(named_games & set(fault.game_ids))
        named_days = self.days()
        if named_days:
            return bool(named_days & {d.isoformat() for d in (fault.day, *fault.also_days)})
        return True

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "name": self.name,
            "severity": self.severity,
            "partition": self.partition,
            "at": self.at.isoformat(),
            "domain": self.domain,
            "text": self.text[:400],
        }


@dataclass
class SignalsReport:
    season: str
    seed: int
    first_day: date
    last_day: date
    faults: list[InjectedFault] = field(default_factory=list)
    alarms: list[Alarm] = field(default_factory=list)
    runs: int = 0
    failed_runs: int = 0
    wall_seconds: float = 0.0
    seconds: dict[str, float] = field(default_factory=dict)  # wall time per job / sensor

    def matched(self, alarm: Alarm) -> list[InjectedFault]:
        return [f for f in self.faults if alarm.matches(f)]

    @property
    def false_alarms(self) -> list[Alarm]:
        return [a for a in self.alarms if not self.matched(a)]

    def first_alarm(self, fault: InjectedFault) -> Alarm | None:
        timely = [
            a for a in self.alarms if a.matches(fault) and (fault.deadline is None or a.at < fault.deadline)
        ]
        return min(timely, key=lambda a: a.at) if timely else None

    def detected(self, fault: InjectedFault) -> bool:
        return any(
            a.matches(fault) and (fault.deadline is None or a.at < fault.deadline) for a in self.alarms
        )

    @property
    def missed(self) -> list[InjectedFault]:
        return [f for f in self.faults if not self.detected(f)]

    @property
    def precision(self) -> float:
        return 1.0 if not self.alarms else 1 - len(self.false_alarms) / len(self.alarms)

    @property
    def recall(self) -> float:
        return 1.0 if not self.faults else 1 - len(self.missed) / len(self.faults)

    def hours_to_alarm(self) -> list[float]:
        hours = []
        for fault in self.faults:
            times = [
                a.at
                for a in self.alarms
                if a.matches(fault) and (fault.deadline is None or a.at < fault.deadline)
            ]
            if times:
                hours.append(round((min(times) - fault.injected_at).total_seconds() / 3600, 2))
        return hours

    def line(self) -> str:
        return (
            f"signals: precision={100 * self.precision:.1f}% recall={100 * self.recall:.1f}% "
            f"alarms={len(self.alarms)} injected={len(self.faults)}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "season": self.season,
            "seed": self.seed,
            "days": [self.first_day.isoformat(), self.last_day.isoformat()],
            "precision": self.precision,
            "recall": self.recall,
            "alarms": [a.as_dict() for a in self.alarms],
            "faults": [f.as_dict() for f in self.faults],
            "false_alarms": [a.as_dict() for a in self.false_alarms],
            "missed": [f.as_dict() for f in self.missed],
            "hours_to_alarm": self.hours_to_alarm(),
            "runs": self.runs,
            "failed_runs": self.failed_runs,
            "wall_seconds": self.wall_seconds,
            "seconds": self.seconds,
        }


def at_eastern(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=EASTERN).astimezone(UTC)


def season_span(league: Any, year: int) -> tuple[date, date]:
    """First preseason day through the day after the last game the league plays."""
    season = league.season(year)
    days = [g.tipoff_utc.astimezone(EASTERN).date() for g in season.all_games if g.listed_until is None]
    return min(days), max(days) + timedelta(days=1)


class SignalsBench:
    """One season (or a part of it) against the stack; see the module docstring."""

    def __init__(self, stack: Any, instance: Any, *, year: int, seed: int, first_day: date, last_day: date,
                 log: Callable[[str], None]):  # fmt: skip
        from nba_notify.definitions import load
        from nba_notify.lib.db.engine import get_engine
        from nba_notify.sim import league as lg

        self.stack = stack
        self.sim = stack.sim.sim
        self.league = lg.attach(self.sim)
        self.instance = instance
        self.definitions = load()
        self.resources = dict(self.definitions.resources or {})
        self.engine = get_engine(stack.database_url)
        self.rng = random.Random(f"signals:{seed}:{year}")
        self.log = log
        self.report = SignalsReport(lg.season_label(year), seed, first_day, last_day)
        self.cursors: dict[str, str | None] = {}
        self.check_passed: dict[tuple[str, str | None], bool] = {}
        self.last_alert_id = 0
        self.plan: dict[date, InjectedFault] = {}
        self.pending_heals: list[tuple[datetime, Callable[[], None]]] = []

    # -- clock and runs ---------------------------------------------------------------------

    def now(self) -> datetime:
        return self.sim.clock.now()

    def advance_to(self, when: datetime) -> None:
        if when > self.now():
            self.sim.clock.set(when)
        for due, heal in [h for h in self.pending_heals if h[0] <= when]:
            heal()
            self.pending_heals.remove((due, heal))

    def run_job(self, name: str, partition: str | None = None, **kwargs: Any) -> bool:
        started = time.perf_counter()
        result = self.definitions.resolve_job_def(name).execute_in_process(
            instance=self.instance,
            partition_key=partition,
            raise_on_error=False,
            tags={"nba_notify/source": "bench_signals", **kwargs.pop("tags", {})},
            run_config=QUIET_RUN_CONFIG,
            **kwargs,
        )
        self.report.runs += 1
        self.report.failed_runs += not result.success
        self.collect_checks(result.all_events, partition)
        self.report.seconds[name] = self.report.seconds.get(name, 0.0) + time.perf_counter() - started
        return result.success

    def collect_checks(self, events: Any, partition: str | None) -> None:
        import dagster as dg

        for event in events:
            if event.event_type_value != "ASSET_CHECK_EVALUATION":
                continue
            evaluation = event.event_specific_data
            key = (f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}", partition)
            failed = not evaluation.passed
            if failed and self.check_passed.get(key, True):
                metadata = {k: getattr(v, "value", v) for k, v in (evaluation.metadata or {}).items()}
                severity = "WARN" if evaluation.severity == dg.AssetCheckSeverity.WARN else "ERROR"
                text = json.dumps({"description": getattr(evaluation, "description", None), **metadata},
                                  default=str)  # fmt: skip
                self.report.alarms.append(Alarm("check", key[0], severity, partition, text, self.now()))
            self.check_passed[key] = not failed

    def retry_tick(self) -> None:
        from nba_notify.harness.retry_driver import run_retry_tick

        for run in run_retry_tick(self.definitions, self.instance, run_config=QUIET_RUN_CONFIG):
            self.report.runs += 1
            self.report.failed_runs += not run.success
            records = self.instance.get_records_for_run(run.run_id).records
            self.collect_checks(
                [r.event_log_entry.dagster_event for r in records if r.event_log_entry.dagster_event],
                run.partition_key,
            )

    def monitor(self) -> None:
        """One tick of each monitoring/Braze sensor, the runs they request, then new alerts."""
        import dagster as dg

        self.sim.braze.flush_outbox(force=True)  # Currents due by now reach the receiver
        for name in SENSORS:
            started = time.perf_counter()
            sensor = self.definitions.resolve_sensor_def(name)
            context = dg.build_sensor_context(
                instance=self.instance, resources=self.resources, cursor=self._cursor(name)
            )
            result = sensor(context)
            cursor = getattr(result, "cursor", None) or context.cursor
            self.cursors[name] = cursor
            requests = getattr(result, "run_requests", None) or (
                [result] if isinstance(result, dg.RunRequest) else []
            )
            for request in requests:
                job_name = request.job_name or sensor.job_name
                self.run_job(job_name, tags=dict(request.tags or {}))
            self.report.seconds[name] = self.report.seconds.get(name, 0.0) + time.perf_counter() - started
        self.collect_alerts()

    def _cursor(self, name: str) -> str | None:
        """The sensor's cursor for this tick. ``count_mismatch_sensor`` keeps its budget of Braze
        list reads (one a minute, by the wall clock) in its cursor; hours of simulated time pass
        between two ticks here but only seconds of wall time, so the budget is refreshed as it
        would have been: without that, Braze's list would be read once every few simulated days."""
        cursor = self.cursors.get(name)
        if name != "count_mismatch_sensor" or not cursor:
            return cursor
        state = json.loads(cursor)
        state.pop("list", None)
        return json.dumps(state) if state else None

    def collect_alerts(self) -> None:
        with self.engine.connect() as conn:
            rows = (
                conn.execute(
                    sa.text(
                        "SELECT id, rule_key, entity, severity, title, details FROM alerts WHERE id > :last ORDER BY id"
                    ),
                    {"last": self.last_alert_id},
                )
                .mappings()
                .all()
            )
        for row in rows:
            self.last_alert_id = max(self.last_alert_id, row["id"])
            if row["rule_key"] in NOT_ALARMS:
                continue
            text = json.dumps({"entity": row["entity"], "title": row["title"], "details": row["details"]},
                              default=str)  # fmt: skip
            self.report.alarms.append(
                Alarm("alert", row["rule_key"], row["severity"], None, text, self.now())
            )

    # -- ground truth ------------------------------------------------------------------------

    def listed_games(self, day: date) -> list[Any]:
        far = at_eastern(day, 23, 59) + timedelta(days=3)
        return [s for s in self.league.games_on(day, far) if s.game.kind not in _UNLISTED_KINDS]

    def plan_faults(self) -> None:
        first, last = self.report.first_day, self.report.last_day
        candidates = [
            first + timedelta(days=i)
            for i in range(1, (last - first).days - 1)
            if len(self.listed_games(first + timedelta(days=i))) >= 2
            and self.listed_games(first + timedelta(days=i - 1))
        ]
        self.rng.shuffle(candidates)
        count = max(len(FAULT_KINDS), (last - first).days // 4)
        for index, day in enumerate(sorted(candidates[:count])):
            kind = FAULT_KINDS[(index + self.rng.randrange(len(FAULT_KINDS))) % len(FAULT_KINDS)]
            self.plan[day] = InjectedFault(kind, day, [], at_eastern(day, 5), "")
        # every kind at least once when there is room for it
        kinds = Counter(f.kind for f in self.plan.values())
        missing = [k for k in FAULT_KINDS if not kinds[k]]
        for fault in sorted(self.plan.values(), key=lambda f: -kinds[f.kind]):
            if not missing:
                break
            if kinds[fault.kind] > 1:
                kinds[fault.kind] -= 1
                fault.kind = missing.pop()
                kinds[fault.kind] += 1
        for game in self.league.season(self.league_year).games:
            if "nbac" not in game.box_score_never:
                continue
            state = self.league.game(game.nba_id, at_eastern(last, 23) + timedelta(days=30))
            if first <= state.game_date < last:
                self.report.faults.append(
                    InjectedFault("box_score_never_published", state.game_date, [game.nba_id], state.ends_at,
                                  f"NBA.com never publishes the box score of {state.away.tricode}@"
                                  f"{state.home.tricode}", natural=True)
                )  # fmt: skip

    @property
    def league_year(self) -> int:
        from nba_notify.sim.league import season_year_of_label

        return season_year_of_label(self.report.season)

    def inject(self, fault: InjectedFault) -> None:
        """Put a planned fault into the world at its time (see the module docstring)."""
        from nba_notify.sim import league as lg
        from nba_notify.sim.faults import Fault

        day, faults = fault.day, self.sim.faults
        games = self.listed_games(day)
        fault.injected_at = self.now()
        if fault.kind == "dropped_game":
            added = faults.add(Fault("drop_games", "bdl.games", params={"date": day.isoformat(), "count": 1}))
            # the same games BDL's route draws from (nba_notify/sim/bdl.py)
            states = [s for s in self.league.games_on(day, self.now()) if s.game.kind not in _UNLISTED_KINDS]
            fault.game_ids = sorted(lg.hidden_games(self.sim, "bdl.games", states, self.now()))
            fault.detail = f"BDL never lists {', '.join(fault.game_ids)} (fault {added.id})"
        elif fault.kind == "late_feed":
            faults.add(Fault("lag_games", "bdl.games", params={"date": day.isoformat(), "delay_hours": 36}))
            fault.game_ids = [g.nba_id for g in games]
            fault.detail = f"BDL lists the {len(games)} games of {day} only 36 h after tip-off"
        elif fault.kind == "wrong_score":
            # One of the day's own games (misreported once it has started, and final by the
            # 23:45 run): a game of yesterday could be another problem's (a late feed hides it).
            game = self.rng.choice(games)
            faults.add(Fault("wrong_score", "bdl.games", params={"game_ids": [game.nba_id], "points": 3}))
            fault.game_ids = [game.nba_id]
            fault.detail = f"BDL reports {game.away.tricode}@{game.home.tricode}'s home score 3 points high"
        elif fault.kind == "box_score_never":
            game = self.rng.choice(games)
            faults.add(Fault("drop_games", "nbac.boxscore", params={"game_ids": [game.nba_id]}))
            fault.game_ids = [game.nba_id]
            fault.detail = f"NBA.com never publishes the box score of {game.away.tricode}@{game.home.tricode}"
        elif fault.kind == "failed_run":
            added = faults.add(Fault("status", "nbac.schedule*", params={"code": 503}))
            self.pending_heals.append(
                (at_eastern(day + timedelta(days=1), 0), lambda: self._remove_fault(added.id))
            )
            fault.also_days = [day - timedelta(days=1)]
            fault.detail = (
                "NBA.com's schedule answers 503 from 05:59 to midnight ET (yesterday's and today's runs)"
            )
        elif fault.kind == "extra_braze_schedule":
            fault.detail = self._extra_schedule(fault)
        self.report.faults.append(fault)
        self.log(f"    fault {fault.kind} on {fault.day}: {fault.detail}")

    def _remove_fault(self, fault_id: int) -> None:
        with self.sim.faults._lock:  # the injector has no remove-by-id; clear() is by route/kind
            self.sim.faults._faults = [f for f in self.sim.faults._faults if f.id != fault_id]

    def _extra_schedule(self, fault: InjectedFault) -> str:
        from nba_notify.sim.braze import BrazeSim

        braze = BrazeSim.attach(self.sim)
        lead = timedelta(minutes=60)
        now = self.now()
        later = [
            g
            for g in self.league.games_on(fault.day, now)
            if g.game.kind not in _UNLISTED_KINDS
            and g.status == "scheduled"
            and g.tipoff_utc - lead > now + timedelta(hours=2)
        ]
        if not later:
            return "no game left to double (nothing injected)"
        game = self.rng.choice(later)
        send_at = (game.tipoff_utc - lead).strftime("%Y-%m-%dT%H:%M:%SZ")
        answer = braze.create(
            {
                "campaign_id": self.sim.config.braze_campaign_id,
                "broadcast": True,
                "schedule": {"time": send_at},
                "trigger_properties": {
                    "game_id": game.nba_id,
                    "home_team": game.home.tricode,
                    "away_team": game.away.tricode,
                    "tipoff_utc": game.tipoff_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
                },
            }
        )
        fault.game_ids = [game.nba_id]
        fault.refs = [answer["schedule_id"], answer["dispatch_id"]]
        fault.deadline = game.tipoff_utc - lead  # caught before the second push goes out, or missed
        return f"schedule {answer['schedule_id']} for {game.away.tricode}@{game.home.tricode} at {send_at}, not the product's"

    # -- the season --------------------------------------------------------------------------

    def run(self) -> SignalsReport:
        started = time.perf_counter()
        self.plan_faults()
        day = self.report.first_day
        while day < self.report.last_day:
            day_started = time.perf_counter()
            planned = self.plan.get(day)
            early = planned and planned.kind != "extra_braze_schedule"
            self.advance_to(at_eastern(day, 5, 59 if planned and planned.kind == "failed_run" else 0))
            if early:
                self.inject(planned)
            self.advance_to(at_eastern(day, 6))
            self.run_job("ingest_job", (day - timedelta(days=1)).isoformat())
            self.run_job("ingest_job", day.isoformat())
            self.run_job("braze_sync_job")
            self.retry_tick()
            self.monitor()
            if planned and not early:
                self.advance_to(at_eastern(day, 6, 10))
                self.inject(planned)
            self.advance_to(at_eastern(day, 12))
            self.retry_tick()
            self.monitor()
            self.advance_to(at_eastern(day, 23, 45))
            if self.league.games_on(day, self.now()):
                self.run_job("ingest_job", day.isoformat())
            self.run_job("full_verify_job")
            self.retry_tick()
            self.monitor()
            games = self.league.games_on(day, self.now())
            kinds = sorted({g.game.kind for g in games} - {"regular"})
            self.log(
                f"  {day} {len(games):>2} games{' (' + ', '.join(kinds) + ')' if kinds else ''}: "
                f"alarms so far {len(self.report.alarms)}, faults {len(self.report.faults)} "
                f"({time.perf_counter() - day_started:.1f} s)"
            )
            day += timedelta(days=1)
        self.advance_to(at_eastern(day, 6))
        self.report.wall_seconds = round(time.perf_counter() - started, 1)
        return self.report


def run_signals(
    *,
    season: int = 2025,
    seed: int = 2026,
    days: int | None = None,
    start: date | None = None,
    log: Callable[[str], None] = print,
) -> SignalsReport:
    import dagster as dg

    from nba_notify.sim.league import League
    from nba_notify.stack import start_stack

    first, last = season_span(League(seed, full_season=True), season)
    first = start or first
    if days is not None:
        last = min(last, first + timedelta(days=days))
    with ExitStack() as exit_stack:
        stack = start_stack(
            exit_stack,
            sim_start=at_eastern(first, 4),
            seed=seed,
            scratch_database=SCRATCH_DATABASE,
            hermetic=True,
            audience_per_team=1,
            full_season=True,
        )
        stack.apply_env(exit_stack)
        stack.sim.sim.config.braze_send_id_daily_limit = 100_000
        # The benchmark's own instance (in memory): its runs never mix with the project's.
        instance = exit_stack.enter_context(dg.DagsterInstance.ephemeral())
        log(f"nba-notify bench signals — season {season}, seed {seed}, {first} .. {last - timedelta(days=1)}")
        bench = SignalsBench(stack, instance, year=season, seed=seed, first_day=first, last_day=last, log=log)
        return bench.run()


def print_report(report: SignalsReport, log: Callable[[str], None] = print) -> None:
    kinds = Counter(f.kind for f in report.faults)
    log("")
    log(f"real problems (ground truth): {len(report.faults)} — {dict(sorted(kinds.items()))}")
    for fault in report.faults:
        first = report.first_alarm(fault)
        late = any(a.matches(fault) for a in report.alarms) and not report.detected(fault)
        detected = (
            "detected"
            if report.detected(fault)
            else "MISSED (alarm only after the harm)"
            if late
            else "MISSED"
        )
        by = (
            f" (first: {first.source}:{first.name} after {(first.at - fault.injected_at).total_seconds() / 3600:.1f} h)"
            if first
            else ""
        )
        log(
            f"  {fault.injected_at:%Y-%m-%d %H:%M}Z {fault.kind:<26} {fault.day} {detected}{by}: {fault.detail}"
        )
    names = Counter(f"{a.source}:{a.name}" for a in report.alarms)
    log(f"alarms raised: {len(report.alarms)} — {dict(sorted(names.items()))}")
    for alarm in report.false_alarms:
        log(f"  FALSE {alarm.at:%Y-%m-%d %H:%M}Z {alarm.source}:{alarm.name} [{alarm.severity}] "
            f"partition={alarm.partition} {alarm.text[:300]}")  # fmt: skip
    hours = report.hours_to_alarm()
    if hours:
        log(
            f"time from fault to alarm (h): min {min(hours)}, median {statistics.median(hours)}, max {max(hours)}"
        )
    log(
        f"runs: {report.runs} ({report.failed_runs} failed); wall time {report.wall_seconds} s — "
        + ", ".join(f"{k} {v:.0f} s" for k, v in sorted(report.seconds.items(), key=lambda kv: -kv[1]))
    )
    log(report.line())
