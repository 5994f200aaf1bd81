"""`nba-notify demo`: the whole product end to end, headless, on embedded defaults.

migrate -> simulator (+ webhook receiver) -> ingest N game days through the real Dagster
jobs -> report. Exit status 0 only when every step succeeded."""

from __future__ import annotations

import json
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import dagster as dg
import sqlalchemy as sa

from nba_notify.lib.db.engine import get_engine
from nba_notify.lib.db.tables.ingest import games, player_box_scores, processor_run_history, scrape_events
from nba_notify.stack import Stack, start_stack

EASTERN = ZoneInfo("America/New_York")


@dataclass
class StepResult:
    name: str
    ok: bool
    seconds: float
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class DemoReport:
    game_days: list[str]
    steps: list[StepResult] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(step.ok for step in self.steps)

    def to_json(self) -> str:
        return json.dumps({"ok": self.ok, **asdict(self)}, indent=2, default=str)


def run_demo(*, days: int = 3, start: datetime | None = None, seed: int = 2026) -> DemoReport:
    with ExitStack() as exit_stack:
        stack = start_stack(exit_stack, sim_start=start, seed=seed)
        stack.apply_env()
        now = stack.sim.control.now()
        today = now.astimezone(EASTERN).date()
        game_days = [today - timedelta(days=offset) for offset in reversed(range(days))]
        report = DemoReport([d.isoformat() for d in game_days])

        from nba_notify.definitions import load

        definitions = load()
        instance = dg.DagsterInstance.get()
        ingest = definitions.resolve_job_def("ingest_job")
        for day in game_days:
            report.steps.append(_run_job(ingest, instance, day))

        report.summary = summarize_ingest(stack, game_days)
        return report


def _run_job(job: dg.JobDefinition, instance: dg.DagsterInstance, day: date) -> StepResult:
    started = time.perf_counter()
    result = job.execute_in_process(
        instance=instance,
        partition_key=day.isoformat(),
        raise_on_error=False,
        tags={"nba_notify/source": "demo"},
    )
    failures = [
        {"step": event.step_key, "error": event.event_specific_data.error.message.strip()}  # type: ignore[union-attr]
        for event in result.all_events
        if event.event_type_value == "STEP_FAILURE"
    ]
    return StepResult(
        f"{job.name}[{day.isoformat()}]",
        result.success,
        round(time.perf_counter() - started, 2),
        {"run_id": result.run_id, "failures": failures},
    )


def summarize_ingest(stack: Stack, game_days: list[date]) -> dict[str, Any]:
    engine = get_engine(stack.database_url)
    with engine.connect() as conn:
        per_day = {
            row.game_date.isoformat(): {
                "games": row.n,
                "in_both_sources": row.both,
                "final": row.final,
            }
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


def print_report(report: DemoReport) -> None:
    print(f"nba-notify demo — game days {report.game_days[0]} .. {report.game_days[-1]}")
    for step in report.steps:
        mark = "ok " if step.ok else "FAIL"
        print(f"  [{mark}] {step.name:<40} {step.seconds:>6.2f}s")
        for failure in step.detail.get("failures", []):
            print(f"         {failure['step']}: {failure['error'][:200]}")
    summary = report.summary
    print(f"  games: {summary.get('games')}  player rows: {summary.get('player_box_score_rows')}")
    for day, counts in summary.get("games_by_day", {}).items():
        print(
            f"    {day}: {counts['games']} games, {counts['in_both_sources']} in both sources, {counts['final']} final"
        )
    print(f"  scrape events: {summary.get('scrape_events')}")
    print("RESULT:", "OK" if report.ok else "FAILED")
