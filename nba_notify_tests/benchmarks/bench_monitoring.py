"""Monitoring performance guard (seed 001 performance tests). Prints figures; asserts nothing.

    PYTHONPATH=. python nba_notify_tests/benchmarks/bench_monitoring.py [--days 6] [--requests 30]

1. Ingest with and without monitoring: the real ingest assets against the simulator, one run
   per game day, then the same runs recorded by the execution tracker (what the daemon's
   ``sync_execution_tracker`` does) plus one alert-evaluation tick. Monitoring runs outside the
   runs (in the daemon), so the in-run overhead is zero by construction; the figure printed is
   the extra work monitoring adds per run, as a share of the run's own time. Goal: < 5 %.
2. Dashboard on 30 days of history (live scoreboard every 30 s, schedule and notification
   syncs every 15 min, box scores daily; ~92 k executions, 3 % failed): latency of
   ``/health/overview`` and ``/health/history`` over HTTP. Goal: < 100 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

os.environ.setdefault("NBA_NOTIFY_HOME", tempfile.mkdtemp(prefix="nba_bench_home_"))

import dagster as dg
import httpx
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.routing import Mount

from nba_notify.lib.db import engine as db_engine
from nba_notify.lib.db.migrate import upgrade
from nba_notify.lib.db.tables.monitoring import sync_error_log, sync_execution_history
from nba_notify.lib.monitoring.evaluate import evaluate_and_apply
from nba_notify.lib.monitoring.run_events import read_run_facts
from nba_notify.lib.monitoring.tracking import track_run
from nba_notify.lib.web.serve import BackgroundServer
from nba_notify.webhook import health


def fresh_database() -> str:
    server = db_engine.start_embedded_postgres(Path(os.environ["NBA_NOTIFY_HOME"]) / "pg")
    db_engine.ensure_database(server, "bench")
    url = db_engine.with_database(server, "bench")
    upgrade(url)
    os.environ["NBA_NOTIFY_DATABASE_URL"] = url
    return url


def bench_ingest(url: str, days: int) -> None:
    from nba_notify.defs.ingest.jobs import ingest_job  # noqa: F401 - the job under test
    from nba_notify.defs.resources import build_resources
    from nba_notify.lib.config import Settings
    from nba_notify.sim.server import SimServer
    from nba_notify_tests.ingest.conftest import INGEST_ASSETS

    engine = db_engine.get_engine(url)
    with SimServer() as sim, dg.instance_for_test() as instance:
        os.environ["NBA_NOTIFY_SIM_URL"] = sim.url
        resources = build_resources(Settings.from_env())
        quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
        first = date(2026, 11, 10)
        dg.materialize(
            INGEST_ASSETS,
            partition_key=first.isoformat(),
            resources=resources,
            instance=instance,
            run_config=quiet,
        )  # warm-up
        run_seconds, run_ids = [], []
        for i in range(1, days + 1):
            started = time.perf_counter()
            result = dg.materialize(
                INGEST_ASSETS,
                partition_key=(first + timedelta(days=i)).isoformat(),
                resources=resources,
                instance=instance,
                run_config=quiet,
            )
            run_seconds.append(time.perf_counter() - started)
            run_ids.append(result.run_id)
        track_seconds = []
        for run_id in run_ids:
            started = time.perf_counter()
            facts = read_run_facts(instance, run_id)
            tracked = track_run(engine, facts, datetime.now(UTC))
            track_seconds.append(time.perf_counter() - started)
            assert tracked.newly_recorded, "tracker recorded nothing"
        started = time.perf_counter()
        evaluate_and_apply(engine, datetime.now(UTC))
        evaluation = time.perf_counter() - started
    per_run = statistics.median(run_seconds)
    per_track = statistics.median(track_seconds)
    extra = per_track + evaluation / days
    print(f"ingest: {days} runs (one game day each, 6 assets, simulator over HTTP)")
    print(f"  run without monitoring      median {per_run * 1000:8.1f} ms")
    print(f"  tracker per run             median {per_track * 1000:8.1f} ms")
    print(f"  alert evaluation (one tick)        {evaluation * 1000:8.1f} ms")
    print("  in-run overhead                    0.0 % (monitoring runs in the daemon, not the run)")
    print(
        f"  monitoring work per run           {extra / per_run * 100:5.1f} % of the run's own time (goal < 5 %)"
    )


def seed_history(engine: sa.Engine, now: datetime) -> int:
    rng = random.Random(2026)
    cadences = {"live_scoreboard": 30, "games_schedule": 900, "notifications_sync": 900, "box_scores": 86400}
    start = now - timedelta(days=30)
    rows, errors = [], []
    for entity, every in cadences.items():
        t = start
        n = 0
        while t < now:
            ok = rng.random() > 0.03
            duration = rng.uniform(0.5, 3.0) if entity == "live_scoreboard" else rng.uniform(5, 120)
            rows.append(
                {
                    "entity_type": entity,
                    "run_id": f"{entity}-{n}",
                    "job_name": f"{entity}_job",
                    "trigger": "schedule",
                    "run_status": "SUCCESS" if ok else "FAILURE",
                    "success": ok,
                    "execution_start": t,
                    "execution_end": t + timedelta(seconds=duration),
                    "duration_seconds": duration,
                    "records_processed": rng.randint(5, 400) if ok else 0,
                    "peak_memory_mb": rng.uniform(60, 300),
                    "api_calls": rng.randint(1, 6),
                    "api_p50_ms": rng.uniform(20, 80),
                    "api_p95_ms": rng.uniform(80, 400),
                }
            )
            if not ok:
                errors.append(
                    {
                        "run_id": f"{entity}-{n}",
                        "entity_type": entity,
                        "error_type": rng.choice(["NETWORK", "TIMEOUT", "RATE_LIMIT", "API"]),
                        "error_severity": "MEDIUM",
                        "error_message": "synthetic",
                        "occurred_at": t + timedelta(seconds=duration),
                    }
                )
            t += timedelta(seconds=every)
            n += 1
    with engine.begin() as conn:
        for i in range(0, len(rows), 5000):
            conn.execute(sa.insert(sync_execution_history), rows[i : i + 5000])
        conn.execute(sa.insert(sync_error_log), errors)
        conn.exec_driver_sql("ANALYZE sync_execution_history")
        conn.exec_driver_sql("ANALYZE sync_error_log")
    return len(rows)


def bench_dashboard(url: str, requests: int) -> None:
    engine = db_engine.get_engine(url)
    now = datetime.now(UTC)
    count = seed_history(engine, now)
    app = Starlette(routes=[Mount("/health", routes=health.routes(database_url=url))])
    print(f"dashboard: {count:,} executions over 30 days, {requests} requests per endpoint (HTTP, loopback)")
    with BackgroundServer(app) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        endpoints = [
            ("/health/overview", {}),
            ("/health/history", {"period": "24h", "entity": "all"}),
            ("/health/history", {"period": "24h", "entity": "live_scoreboard"}),
            ("/health/history", {"period": "7d", "entity": "all"}),
            ("/health/history", {"period": "30d", "entity": "all"}),
            ("/health/history", {"period": "30d", "entity": "games_schedule"}),
        ]
        for path, params in endpoints:
            client.get(path, params=params).raise_for_status()  # warm-up
            timings = []
            for _ in range(requests):
                started = time.perf_counter()
                client.get(path, params=params).raise_for_status()
                timings.append((time.perf_counter() - started) * 1000)
            timings.sort()
            p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
            label = path + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")
            print(
                f"  {label:48s} median {statistics.median(timings):6.1f} ms   p95 {p95:6.1f} ms   (goal < 100 ms)"
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=6)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--skip-ingest", action="store_true")
    args = parser.parse_args()
    url = fresh_database()
    if not args.skip_ingest:
        bench_ingest(url, args.days)
    bench_dashboard(url, args.requests)


if __name__ == "__main__":
    main()
