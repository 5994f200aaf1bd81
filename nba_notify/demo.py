"""`nba-notify demo`: the whole product end to end, headless, on embedded defaults.

Through the real Dagster jobs, against the simulator over HTTP and a real PostgreSQL:

1. ingest N game days (both sources, raw -> games/box scores -> discrepancy detection);
2. schedule one Braze push per upcoming game, then change the world — move one tip-off,
   postpone another — and sync again (one update call, one delete call);
3. let the simulated clock run: the retry queue re-scrapes what a source dropped once it is due,
   Braze sends at each send time and posts Currents events to the webhook receiver;
4. run every check (notification gaps, data quality, SQL checks) and report per game.

With ``faults=True`` (the default) the upstreams misbehave the whole time: a source silently
drops games for a few hours, requests are slow or rate-limited, a Braze create times out after
Braze applied it, Currents re-delivers batches, and the scheduled-broadcasts list lags.

Exit status 0 only when every user got exactly one message per game, nothing was missed, and
every check's latest evaluation passed.

Hermetic: the demo runs in simulator mode whatever the shell exports. Settings that name a real
upstream, a real credential or a real alert channel (``BRAZE_REST_ENDPOINT``, ``BDL_BASE_URL``,
``NBA_NOTIFY_MODE=production``, ...) are ignored for its duration and listed in the report, so
it can never schedule a push on a real Braze workspace."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import dagster as dg
import sqlalchemy as sa

from nba_notify.lib.db.engine import get_engine
from nba_notify.lib.db.tables.ingest import games, player_box_scores, processor_run_history, scrape_events
from nba_notify.lib.redact import mask_url
from nba_notify.stack import Stack, start_stack

EASTERN = ZoneInfo("America/New_York")
# The report is the demo's output; each run's event stream stays in the Dagster instance.
QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
DEMO_DATABASE = "nba_notify_demo"  # re-created by every demo; the application database is untouched
SYNC_EVERY = timedelta(minutes=15)  # braze_sync_schedule's cadence
RETRY_DUE_AFTER = timedelta(hours=4)  # first retry-queue backoff step


@dataclass
class StepResult:
    name: str
    ok: bool
    seconds: float
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class DemoReport:
    game_days: list[str]
    faults: bool
    database_url: str = ""  # masked: never a password
    ignored_settings: list[str] = field(default_factory=list)
    steps: list[StepResult] = field(default_factory=list)
    checks: dict[str, bool] = field(default_factory=dict)
    ingest: dict[str, Any] = field(default_factory=dict)
    quality: dict[str, Any] = field(default_factory=dict)
    notifications: dict[str, Any] = field(default_factory=dict)

    @property
    def failed_checks(self) -> list[str]:
        return sorted(name for name, passed in self.checks.items() if not passed)

    @property
    def failed_runs(self) -> list[str]:
        return [step.name for step in self.steps if not step.ok]

    @property
    def ok(self) -> bool:
        """Judged by outcomes: with faults on, a run may fail (that is the fault doing its job,
        classified, alerted and retried); what must hold at the end is that every check passes
        and every user got exactly one message per game. Without faults every run must pass."""
        totals = self.notifications.get("totals", {})
        return (
            (self.faults or not self.failed_runs)
            and not self.failed_checks
            and totals.get("duplicate_messages", 1) == 0
            and totals.get("misses", 1) == 0
            and totals.get("sent_for_withdrawn_games", 1) == 0
        )

    def to_json(self) -> str:
        body = {
            "ok": self.ok,
            "failed_checks": self.failed_checks,
            "failed_runs": self.failed_runs,
            **asdict(self),
        }
        return json.dumps(body, indent=2, default=str)


class DemoRunner:
    """Runs jobs the way the daemon would, records every step and every check evaluation."""

    def __init__(self, stack: Stack, report: DemoReport, log: Callable[[str], None]):
        from nba_notify.definitions import load

        self.stack = stack
        self.report = report
        self.log = log
        self.definitions = load()
        self.instance = dg.DagsterInstance.get()
        self.engine = get_engine(stack.database_url)

    @property
    def control(self):
        return self.stack.sim.control

    def now(self) -> datetime:
        return self.control.now()

    def job(self, name: str, *, partition_key: str | None = None, label: str | None = None) -> StepResult:
        started = time.perf_counter()
        result = self.definitions.resolve_job_def(name).execute_in_process(
            instance=self.instance,
            partition_key=partition_key,
            raise_on_error=False,
            tags={"nba_notify/source": "demo"},
            run_config=QUIET_RUN_CONFIG,
        )
        self._record_checks(result)
        failures = [
            {"step": event.step_key, "error": event.event_specific_data.error.message.strip()}  # type: ignore[union-attr]
            for event in result.all_events
            if event.event_type_value == "STEP_FAILURE"
        ]
        step = StepResult(
            label or (f"{name}[{partition_key}]" if partition_key else name),
            result.success,
            round(time.perf_counter() - started, 2),
            {"run_id": result.run_id, "failures": failures, "at": self.now().isoformat()},
        )
        self.report.steps.append(step)
        self.log(f"  [{'ok ' if step.ok else 'FAIL'}] {step.name:<46} {step.seconds:>6.2f}s")
        for failure in failures[:1]:
            reason = (
                failure["error"].splitlines()[0].removeprefix("dagster._core.definitions.events.Failure: ")
            )
            self.log(f"         {failure['step']}: {reason[:150]}")
        return step

    def _record_checks(self, result: dg.ExecuteInProcessResult) -> None:
        """The latest evaluation of each check wins (a gap detected at 10:00 and recovered by
        14:00 is a pass at the end; one still open is a failure)."""
        for event in result.all_events:
            if event.event_type_value == "ASSET_CHECK_EVALUATION":
                evaluation = event.event_specific_data
                key = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"  # type: ignore[union-attr]
                self.report.checks[key] = bool(evaluation.passed)  # type: ignore[union-attr]

    def retry_tick(self) -> None:
        from nba_notify.harness.retry_driver import run_retry_tick

        started = time.perf_counter()
        runs = run_retry_tick(self.definitions, self.instance, run_config=QUIET_RUN_CONFIG)
        for run in runs:
            run_record = self.instance.get_run_by_id(run.run_id)
            if run_record is not None:
                for record in self.instance.get_records_for_run(run.run_id).records:
                    entry = record.event_log_entry
                    if (
                        entry.dagster_event
                        and entry.dagster_event.event_type_value == "ASSET_CHECK_EVALUATION"
                    ):
                        evaluation = entry.dagster_event.event_specific_data
                        key = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"  # type: ignore[union-attr]
                        self.report.checks[key] = bool(evaluation.passed)  # type: ignore[union-attr]
        step = StepResult(
            "scrape_retry_sensor tick",
            all(r.success for r in runs),
            round(time.perf_counter() - started, 2),
            {"runs": [asdict(r) for r in runs], "at": self.now().isoformat()},
        )
        self.report.steps.append(step)
        self.log(
            f"  [{'ok ' if step.ok else 'FAIL'}] {step.name:<46} {step.seconds:>6.2f}s  ({len(runs)} re-scrape run(s))"
        )

    def advance_to(self, when: datetime) -> None:
        if when > self.now():
            self.control.set_clock(when)


def add_faults(runner: DemoRunner, today: date) -> list[str]:
    """Misbehaving upstreams for the whole demo (see the module docstring)."""
    from nba_notify.harness.retry_driver import add_recoverable_source_fault

    control = runner.control
    dropped = add_recoverable_source_fault(control, today, runner.now())
    control.add_fault("latency", "bdl.*", params={"ms": 20})
    control.add_fault("status", "nbac.boxscore", times=2, params={"code": 503})
    control.add_fault(
        "status", "bdl.box_scores", times=1, params={"code": 429, "body": {"error": "Too many requests"}}
    )
    control.add_fault("status", "braze.create", times=1, params={"code": 429})
    control.add_fault("timeout_after_apply", "braze.create", times=1, params={"seconds": 15})
    control.add_fault("duplicate_delivery", "braze.currents", probability=0.5)
    control.add_fault("list_lag", "braze.list", params={"seconds": 900})
    return [
        f"BDL hides 2 of today's games until {dropped['params']['until']}",
        "BDL +20 ms and one 429",
        "NBA.com box scores 503 twice",
        "a Braze create is rate-limited once and another times out after Braze applied it",
        "Currents re-delivers about half the batches",
        "the scheduled-broadcasts list lags 15 minutes",
    ]


def change_the_world(runner: DemoRunner, today: date) -> dict[str, Any]:
    """Move today's third game by 30 minutes and postpone the second (seed 002 scenarios 2 and
    the cancellation path): the next sync must make exactly one update and one delete."""
    slate = sorted(runner.control.truth_games(today), key=lambda g: (g["tipoff_utc"], g["nba_game_id"]))
    if len(slate) < 3:
        return {}
    # Not the first game: its create is the one the demo times out (ambiguous), and a schedule
    # whose id Braze never returned cannot be moved through the API — that combination alerts
    # for an operator (tested in nba_notify_tests/notifications/test_ambiguity.py), it is not a demo.
    moved, postponed = slate[2], slate[1]
    new_tipoff = datetime.fromisoformat(moved["tipoff_utc"].replace("Z", "+00:00")) + timedelta(minutes=30)
    runner.control.update_game(moved["nba_game_id"], tipoff_utc=new_tipoff.isoformat())
    runner.control.update_game(postponed["nba_game_id"], status="postponed")
    return {
        "moved": f"{moved['away']}@{moved['home']} to {new_tipoff.isoformat()}",
        "postponed": f"{postponed['away']}@{postponed['home']}",
    }


def upcoming_send_times(runner: DemoRunner) -> list[datetime]:
    with runner.engine.connect() as conn:
        return list(
            conn.execute(
                sa.text("SELECT DISTINCT send_at_utc FROM desired_notifications WHERE active ORDER BY 1")
            ).scalars()
        )


def run_demo(
    *,
    days: int = 3,
    start: datetime | None = None,
    seed: int = 2026,
    faults: bool = True,
    log: Callable[[str], None] = print,
) -> DemoReport:
    with ExitStack() as exit_stack:
        stack = start_stack(
            exit_stack, sim_start=start, seed=seed, scratch_database=DEMO_DATABASE, hermetic=True
        )
        stack.apply_env(exit_stack)
        assert stack.sim is not None  # a hermetic stack always has its simulator
        now = stack.sim.control.now()
        today = now.astimezone(EASTERN).date()
        game_days = [today - timedelta(days=offset) for offset in reversed(range(days))]
        report = DemoReport(
            [d.isoformat() for d in game_days], faults, mask_url(stack.database_url), stack.ignored
        )
        runner = DemoRunner(stack, report, log)
        log(f"nba-notify demo — simulated now {now.isoformat()}, game days {game_days[0]} .. {today}")
        if stack.ignored:
            log(
                "ignored (the demo only talks to its own simulator on this machine): "
                + ", ".join(stack.ignored)
            )

        injected = add_faults(runner, today) if faults else []
        log("faults: " + ("; ".join(injected) if injected else "none"))
        log("1. ingest")
        for day in game_days:
            runner.job("ingest_job", partition_key=day.isoformat())
        # tonight's player props and game lines (one run: the past days' history would cost
        # historical credits and seconds the demo does not need to show the path)
        runner.job("props_job", partition_key=today.isoformat())

        log("2. schedule pushes, then move one game and postpone another")
        runner.job("braze_sync_job", label="braze_sync_job (initial)")
        changes = change_the_world(runner, today)
        runner.job("schedule_refresh_job", partition_key=today.isoformat())
        runner.job("braze_sync_job", label="braze_sync_job (after changes)")

        log("3. the clock runs: retries fall due, Braze sends, Currents arrive")
        runner.advance_to(now + RETRY_DUE_AFTER + timedelta(minutes=1))
        runner.retry_tick()
        sends = upcoming_send_times(runner)
        if sends:
            slot = max(runner.now(), sends[0] - 2 * SYNC_EVERY)
            while slot <= sends[-1] + 2 * SYNC_EVERY:
                runner.advance_to(slot)
                runner.job("braze_sync_job", label=f"braze_sync_job @ {slot.astimezone(EASTERN):%H:%M} ET")
                slot += SYNC_EVERY
        runner.advance_to(runner.now() + timedelta(minutes=30))  # Currents stragglers, grace

        log("4. verify everything")
        stack.sim.control.flush_braze_outbox()
        runner.job("full_verify_job")
        runner.job("sql_models_job")

        from nba_notify.lib.ledger.report import notification_report
        from nba_notify.lib.quality import quality_summary

        report.ingest = summarize_ingest(runner.engine, game_days, stack)
        report.ingest["world_changes"] = changes
        report.ingest["props"] = summarize_props(runner.engine, today)
        report.quality = quality_summary(runner.engine)
        report.notifications = notification_report(
            runner.engine, stack.sim.control.state(), now=runner.now(), campaign_id=None
        )
        return report


def summarize_ingest(engine: sa.Engine, game_days: list[date], stack: Stack) -> dict[str, Any]:
    with engine.connect() as conn:
        per_day = {
            row.game_date.isoformat(): {"games": row.n, "in_both_sources": row.both, "final": row.final}
            for row in conn.execute(
                sa.select(
                    games.c.game_date,
                    sa.func.count().label("n"),
                    sa.func.count().filter(games.c.in_bdl & games.c.in_nbac).label("both"),
                    sa.func.count().filter(games.c.status == "final").label("final"),
                )
                .where(games.c.game_date.in_(game_days))
                .group_by(games.c.game_date)
                .order_by(games.c.game_date)
            )
        }
        scrapes = dict(
            conn.execute(
                sa.select(scrape_events.c.status, sa.func.count())
                .where(scrape_events.c.target_date.in_(game_days))
                .group_by(scrape_events.c.status)
            ).all()
        )
        player_rows = conn.execute(
            sa.select(sa.func.count())
            .select_from(player_box_scores)
            .where(player_box_scores.c.game_date.in_(game_days))
        ).scalar_one()
        processed = conn.execute(
            sa.select(
                processor_run_history.c.processor_name, sa.func.sum(processor_run_history.c.records_processed)
            )
            .where(
                processor_run_history.c.data_date.in_(game_days), processor_run_history.c.status == "success"
            )
            .group_by(processor_run_history.c.processor_name)
        ).all()
    return {
        "games_by_day": per_day,
        "games": sum(d["games"] for d in per_day.values()),
        "player_box_score_rows": player_rows,
        "scrape_events": scrapes,
        "records_processed": {name: int(total) for name, total in processed},
        "simulator_requests": stack.sim.control.state().get("request_counts", {}),
    }


def summarize_props(engine: sa.Engine, day: date) -> dict[str, Any]:
    """Tonight's props and lines: quotes, proven events and players, credits spent."""
    from nba_notify.lib.db.tables.props import game_lines, odds_api_usage, player_props, prop_events

    with engine.connect() as conn:

        def count(table: sa.Table, *where: Any) -> int:
            return conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()

        return {
            "game_day": day.isoformat(),
            "player_prop_quotes": count(player_props, player_props.c.game_date == day),
            "players_proven": conn.execute(
                sa.select(sa.func.count(sa.distinct(player_props.c.player_id))).where(
                    player_props.c.game_date == day
                )
            ).scalar_one(),
            "game_line_quotes": count(game_lines, game_lines.c.game_date == day),
            "events_mapped": count(
                prop_events, prop_events.c.game_date == day, prop_events.c.identity == "mapped"
            ),
            "events_not_mapped": count(
                prop_events, prop_events.c.game_date == day, prop_events.c.identity != "mapped"
            ),
            "credits_spent": int(
                conn.execute(
                    sa.select(sa.func.coalesce(sa.func.sum(odds_api_usage.c.requests_last), 0))
                ).scalar_one()
            ),
        }


def print_report(report: DemoReport) -> None:
    ingest, quality, notes = report.ingest, report.quality, report.notifications
    print()
    print(f"ingest: {ingest.get('games')} games, {ingest.get('player_box_score_rows')} player rows")
    for day, counts in ingest.get("games_by_day", {}).items():
        print(
            f"  {day}: {counts['games']} games, {counts['in_both_sources']} in both sources, {counts['final']} final"
        )
    print(f"  scrape events: {ingest.get('scrape_events')}; world changes: {ingest.get('world_changes')}")
    props = ingest.get("props")
    if props:
        print(
            f"props ({props['game_day']}): {props['player_prop_quotes']} player prop quotes for "
            f"{props['players_proven']} proven players, {props['game_line_quotes']} game line quotes, events "
            f"mapped {props['events_mapped']} / not {props['events_not_mapped']}, {props['credits_spent']} credits"
        )
    if quality:
        retry = quality.get("retry_queue", {})
        print(
            "quality: discrepancies {d}, retries by status {r}, recoveries {rec}, zero-record false-positive rate {fp}%".format(
                d=quality.get("discrepancies", {}).get("detections", quality.get("discrepancies")),
                r=retry.get("by_status"),
                rec=quality.get("recoveries", {}).get("items_recovered", quality.get("recoveries")),
                fp=quality.get("zero_record_audit", {}).get("false_positive_rate_pct"),
            )
        )
    if notes:
        print("notifications (per game: schedules live/sent/cancelled at Braze, users messaged, duplicates):")
        for game in notes.get("games", []):
            print(
                f"  {game['game_id']:<20} {str(game.get('ledger_state')):<10} created {game['schedules_created']}"
                f" sent {game['schedules_sent']} cancelled {game['schedules_cancelled']}"
                f"  users {game['users_messaged']:>3}  duplicates {game['duplicate_messages']}"
                f"{'  MISSED' if game['missed'] else ''}{'  SENT FOR WITHDRAWN GAME' if game['sent_for_withdrawn_game'] else ''}"
            )
        print(f"  totals: {notes.get('totals')}")
    print(f"checks: {len(report.checks)} evaluated, failed: {report.failed_checks or 'none'}")
    if report.failed_runs:
        note = " (injected faults: classified, alerted, retried)" if report.faults else ""
        print(f"runs that failed along the way{note}: {', '.join(report.failed_runs)}")
    print("RESULT:", "OK" if report.ok else "FAILED")
