"""``nba-notify``: the operator's command line.

nba-notify demo [--days N]    the whole product end to end, headless (exit 0 = all good)
nba-notify dev                PostgreSQL + simulator + webhook + Dagster UI/daemon
nba-notify bench ingest       full-season backfill through the simulator, measured
nba-notify migrate            apply database migrations
nba-notify sim                run the BDL / NBA.com / Braze simulator
nba-notify webhook            the Braze Currents receiver (POST /currents); the health dashboard
                              on its own loopback port (--dashboard-port)
nba-notify sync --entity E    request a manual sync (audited; --priority EMERGENCY jumps the queue)
nba-notify alerts list|ack|resolve   open alerts; acknowledge (stops escalation) or resolve
nba-notify retries [--status S]       the scrape retry queue: backlog, exhausted and permanent items by cause
nba-notify reprocess --plan|--apply   targeted reprocessing of the real-loss game days
nba-notify unknown list|resolve       intents whose Braze schedule we cannot see; the operator's answer
nba-notify foreign list|resolve       schedules Braze holds that the ledger does not own (possible double
                                      pushes); delete one by id or adopt it (audited)
nba-notify bench chaos --rounds N     adversarial rounds judged by what users received
nba-notify ingest --from D --to D     one single-run backfill of the ingest assets, with progress
nba-notify doctor             can this deployment run? upstreams, keys, database, instance, daemon
nba-notify db url|psql|stop   reach the database (URL masked unless --show-secrets)
nba-notify env                shell exports putting `dagster` on the same instance
nba-notify dagster ARGS...    the dagster CLI on the project's instance
nba-notify bench signals      alarms' precision and recall over a simulated season with faults
nba-notify bench fuzz         hostile-input probes of the receiver and the payload parsers

Every command uses the one persistent Dagster instance under $NBA_NOTIFY_HOME (unless
DAGSTER_HOME is set), the same one `nba-notify dev` serves in the UI.

A user error is one line on stderr and a non-zero exit (2), never a traceback; SIGINT and
SIGTERM stop every process a command started, the embedded PostgreSQL included.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path

from nba_notify.lib.config import DEFAULT_DASHBOARD_PORT, DEFAULT_SIM_PORT, DEFAULT_WEBHOOK_PORT
from nba_notify.lib.redact import mask_url

Command = Callable[[argparse.Namespace], int]
USAGE_ERROR = 2
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


class UserError(Exception):
    """A mistake the operator can fix: printed as one line, exit status 2."""


class Stopped(BaseException):
    """SIGTERM arrived: unwind like Ctrl-C so every context manager and exit hook runs."""


def _raise_stopped(signum: int, frame: object) -> None:
    raise Stopped()


def cmd_migrate(args: argparse.Namespace) -> int:
    from nba_notify.lib.db.engine import resolve_database_url
    from nba_notify.lib.db.migrate import upgrade

    url = resolve_database_url()
    heads = upgrade(url)
    print(f"database migrated to {', '.join(heads)}")
    return 0


def cmd_sim(args: argparse.Namespace) -> int:
    from nba_notify.sim.app import SimConfig
    from nba_notify.sim.server import SimServer

    config = SimConfig(
        seed=args.seed, rate=args.rate, currents_url=args.currents_url, full_season=args.full_season
    )
    if args.start:
        config.start = args.start
    with _stop_on_signals() as stop:
        with SimServer(config, port=args.port) as server:
            print(
                f"simulator on {server.url} (clock {config.start.isoformat()}, rate {config.rate})",
                flush=True,
            )
            _wait_for(stop)
    return 0


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """SIGINT/SIGTERM only set the returned event: the command finishes what it is doing
    (a migration, a server start-up) and then stops in order. Raising from the handler instead
    could interrupt a thread holding a lock (logging's, a pool's) and hang the exit."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {
        signum: signal.signal(signum, lambda *_: stop.set()) for signum in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _wait_for(stop: threading.Event) -> None:
    while not stop.wait(0.5):
        pass
    print("stopping ...", file=sys.stderr, flush=True)


def cmd_demo(args: argparse.Namespace) -> int:
    from nba_notify.demo import print_report, run_demo

    start = args.start
    log = (lambda message: None) if args.json else print
    report = run_demo(days=args.days, start=start, seed=args.seed, faults=not args.no_faults, log=log)
    if args.json:
        print(report.to_json())
    else:
        print_report(report)
    return 0 if report.ok else 1


def cmd_dev(args: argparse.Namespace) -> int:
    from nba_notify.stack import start_stack

    start = args.start or datetime.now(UTC)
    with ExitStack() as exit_stack:
        stack = start_stack(
            exit_stack,
            sim_start=start,
            sim_rate=args.rate,
            sim_port=args.sim_port,
            webhook_port=args.webhook_port,
            dashboard_port=args.dashboard_port,
        )
        env = stack.child_env()
        command = [sys.executable, "-m", "dagster", "dev", "-h", args.host, "-p", str(args.port)]
        workspace = Path(__file__).resolve().parent.parent / "workspace.yaml"
        command += ["-w", str(workspace)] if workspace.exists() else ["-m", "nba_notify.definitions"]
        print(f"PostgreSQL   {mask_url(stack.database_url)}")
        if stack.sim is not None:
            print(f"simulator    {stack.sim.url}  (clock {start.isoformat()}, rate {args.rate})")
        else:
            print("upstreams    the real APIs (NBA_NOTIFY_MODE=production); `nba-notify doctor` checks them")
        print(f"webhook      {stack.webhook.url}/currents")
        if stack.dashboard is not None:
            print(f"health       {stack.dashboard.url}/health/")
        print(f"Dagster UI   http://{args.host}:{args.port}   (DAGSTER_HOME={stack.dagster_home})")
        # Handlers before the spawn: a handled signal is reset to default in the child, whereas
        # an ignored one (a shell's background job) would be inherited and Ctrl-C lost.
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        # Its own session, so a terminal's Ctrl-C reaches only us and we shut it down in order
        # (webserver and daemon first, then the simulator, webhook and PostgreSQL on exit).
        dagster = subprocess.Popen(
            command, env=env, cwd=workspace.parent if workspace.exists() else None, start_new_session=True
        )
        while dagster.poll() is None and not stop.wait(0.5):
            pass
        if dagster.poll() is None:
            print("stopping Dagster ...")
            _stop_process_group(dagster)
        return 0 if stop.is_set() else dagster.returncode


def _stop_process_group(process: subprocess.Popen, timeout: float = 30.0) -> None:
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def cmd_sync(args: argparse.Namespace) -> int:
    """Request a manual sync; the Dagster daemon's manual_sync_dispatcher launches it with its
    priority (EMERGENCY jumps the run queue). Every request is audited in manual_sync_audit."""
    from nba_notify.lib.db.engine import get_engine, resolve_database_url
    from nba_notify.lib.errors import PipelineError
    from nba_notify.lib.monitoring.manual import request_manual_sync

    try:
        request = request_manual_sync(
            get_engine(resolve_database_url()),
            entity=args.entity,
            partition_key=args.date,
            priority=args.priority,
            reason=args.reason,
            triggered_by=args.by,
        )
    except PipelineError as err:
        print(f"rejected: {err.message}", file=sys.stderr)
        return 2
    print(
        f"manual sync {request.request_id} requested: {request.entity_type}"
        f"{' ' + request.partition_key if request.partition_key else ''} priority {request.priority} "
        f"by {request.triggered_by}; the manual_sync_dispatcher sensor launches it"
    )
    return 0


def cmd_alerts(args: argparse.Namespace) -> int:
    """List open alerts, acknowledge one (stops its escalation) or resolve it."""
    from nba_notify.lib.alerts import acknowledge, open_alerts, resolve
    from nba_notify.lib.db.engine import get_engine, resolve_database_url

    engine = get_engine(resolve_database_url())
    if args.action == "list":
        with engine.connect() as conn:
            rows = open_alerts(conn)
        for a in rows:
            key = f"/{a['dedupe_key']}" if a["dedupe_key"] else ""
            print(
                f"{a['id']:>6}  {a['severity']:<8} {a['status']:<12} {a['entity']}{key}  {a['title']}"
                f"  (x{a['occurrences']}, last {a['last_seen_at']:%Y-%m-%d %H:%M} UTC)"
            )
        if not rows:
            print("no open alerts")
        return 0
    if args.alert_id is None or not args.by:
        raise UserError("ack/resolve need an alert id and --by")
    if args.action == "ack":
        done = acknowledge(engine, args.alert_id, by=args.by)
    else:
        done = resolve(engine, args.alert_id, by=args.by, note=args.note)
    print(f"alert {args.alert_id} {'updated' if done else 'not open (unknown, or already done)'}")
    return 0 if done else 1


def cmd_retries(args: argparse.Namespace) -> int:
    """The scrape retry queue: the backlog, and every open item by root cause — exhausted and
    permanent ones included (they are never retried again, and never dropped)."""
    import sqlalchemy as sa

    from nba_notify.lib.db.engine import get_engine, resolve_database_url
    from nba_notify.lib.db.tables.quality import scrape_retry_queue as queue
    from nba_notify.lib.quality import queue as q

    engine = get_engine(resolve_database_url())
    with engine.connect() as conn:
        figures = q.backlog_figures(q.counts_by_status(conn))
        causes = [c for c in q.open_by_cause(conn) if args.status in (None, c.status)]
        query = (
            sa.select(queue).where(queue.c.status != "recovered").order_by(queue.c.target_date, queue.c.id)
        )
        if args.status:
            query = query.where(queue.c.status == args.status)
        rows = conn.execute(query.limit(args.limit)).all()
    print(
        f"backlog {figures['backlog']} (pending {figures['pending']}, retrying {figures['retrying']}); "
        f"exhausted {figures['exhausted']}; permanent {figures['permanent']}"
    )
    for c in causes:
        print(f"  {c.root_cause:<48} {c.status:<10} {c.items:>5} game day(s)  {c.first_day}..{c.last_day}")
    for r in rows:
        due = f"next {r.next_retry_at:%Y-%m-%d %H:%M} UTC" if r.next_retry_at else "not retried"
        why = (r.details or {}).get("classification") or r.original_error
        print(
            f"{r.id:>6}  {r.target_date}  {r.scraper_name:<16} {r.status:<10} {r.attempts}/{r.max_retries}  {due}  {why}"
        )
    return 0


def cmd_reprocess(args: argparse.Namespace) -> int:
    """Targeted reprocessing (seed 004): ``--plan`` prints exactly the game days the
    zero-record audit found real data loss for, and what each needs; ``--apply`` launches the
    Dagster backfill(s) of those days through the webserver (``nba-notify dev``)."""
    import json

    from nba_notify.admin.instance import NotMigrated, require_migrated
    from nba_notify.lib.db.engine import get_engine, resolve_database_url
    from nba_notify.lib.errors import PipelineError
    from nba_notify.lib.quality.audit import load_audit, load_audit_summary, refresh_audit
    from nba_notify.lib.quality.reprocess import (
        build_plan,
        describe_plan,
        launch_backfills,
        resolve_webserver_url,
    )

    url = resolve_database_url()
    try:
        require_migrated(url)
    except NotMigrated as err:
        print(f"reprocess: {err}", file=sys.stderr)
        return 2
    engine = get_engine(url)
    try:
        project = refresh_audit(engine)
        plan = build_plan(load_audit(engine, project, build=False))
        if args.date:
            plan = plan.only(args.date)
        audit = load_audit_summary(engine, project, build=False).get("all", {})
        launched = []
        if args.apply and plan.partitions:
            url = resolve_webserver_url(args.webserver_url)
            launched = launch_backfills(plan, url, tags={"nba_notify/launched_by": "nba-notify reprocess"})
    except PipelineError as err:
        print(f"reprocess: {err}", file=sys.stderr)
        if err.recovery:
            print(f"  {err.recovery}", file=sys.stderr)
        return 2
    figures = {
        "zero_record_runs": int(audit.get("zero_record_runs") or 0),
        "false_positive_rate_pct": float(audit.get("false_positive_pct") or 0.0),
    }
    if args.json:
        print(
            json.dumps(
                {**figures, **plan.to_dict(), "launched": [b.__dict__ for b in launched]},
                indent=2,
                default=str,
            )
        )
        return 0
    print(
        f"zero-record runs audited: {figures['zero_record_runs']}, "
        f"false-positive rate {figures['false_positive_rate_pct']:.2f}% (goal < 1%)"
    )
    for line in describe_plan(plan):
        print(f"  {line}")
    for b in launched:
        print(f"launched backfill {b.backfill_id}: {b.action} {', '.join(b.partition_keys)}")
    if args.apply and not launched:
        print("nothing launched")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from nba_notify.bench import bench_ingest, print_figures

    figures = bench_ingest(args.start, args.end)
    print_figures(figures, args.json)
    return 0 if figures["success"] else 1


def cmd_bench_props(args: argparse.Namespace) -> int:
    from nba_notify.bench import print_figures
    from nba_notify.bench_props import bench_props

    figures = bench_props(args.start, args.end, args.budget)
    print_figures(figures, args.json)
    return 0 if figures["success"] else 1


def cmd_unknown(args: argparse.Namespace) -> int:
    """List the intents whose Braze schedule we cannot see or change, or record the operator's
    answer for one of them (what the Braze dashboard shows: a send there, or none)."""
    from nba_notify.defs.notifications.policy import NotificationPolicyResource
    from nba_notify.lib.clock import make_clock
    from nba_notify.lib.config import Settings
    from nba_notify.lib.db.engine import get_engine, resolve_database_url
    from nba_notify.lib.ledger.service import resolve_unknown, unknown_intents

    settings = Settings.from_env()
    engine = get_engine(resolve_database_url())
    policy = NotificationPolicyResource().policy(settings.braze_campaign_id)
    if args.action == "list":
        rows = unknown_intents(engine, make_clock(settings.clock_url).now(), policy)
        if not rows:
            print("no unresolved or unidentified intents")
            return 0
        for r in rows:
            at_risk = r["earliest_send_at_risk"].isoformat() if r["earliest_send_at_risk"] else "?"
            deadline = r["decision_deadline"].isoformat() if r["decision_deadline"] else "?"
            print(
                f"{r['intent_key']}  {r['state']:<12} {r['operation'] or '-':<7} earliest push at risk {at_risk}"
                f"  decide by {deadline}"
            )
        return 0
    if not args.intent or not (args.exists or args.absent):
        raise UserError("unknown resolve: --intent and one of --exists / --absent are required")
    if len(args.intent) > 200:
        raise UserError("unknown resolve: --intent is at most 200 characters")
    try:
        seen_at = datetime.fromisoformat(args.at) if args.at else None
    except ValueError:
        raise UserError(
            f"unknown resolve: --at must be an ISO 8601 time with offset, not {args.at!r}"
        ) from None
    if seen_at is not None and seen_at.tzinfo is None:
        raise UserError("unknown resolve: --at needs a UTC offset (e.g. 2026-11-24T23:00:00+00:00)")
    result = resolve_unknown(
        engine,
        policy,
        args.intent,
        decision="exists" if args.exists else "absent",
        schedule_id=args.schedule_id,
        orphan_ids=args.orphan or (),
        by=args.by,
        note=args.note,
        seen_at=seen_at,
    )
    if not result.applied:
        print(f"unknown resolve: not applied: {result.note}", file=sys.stderr)
        return 1
    print(f"{args.intent} -> {result.new_state}")
    return 0


def cmd_foreign(args: argparse.Namespace) -> int:
    """List the schedules Braze holds that the ledger does not own, or record the operator's
    decision for one: delete it (by the id the Braze dashboard shows) or adopt it as a game's push."""
    from nba_notify.defs.notifications.policy import NotificationPolicyResource
    from nba_notify.lib.clients.braze import BrazeClient
    from nba_notify.lib.clock import make_clock
    from nba_notify.lib.config import Settings
    from nba_notify.lib.db.engine import get_engine, resolve_database_url
    from nba_notify.lib.ledger.foreign import foreign_rows, resolve_foreign

    settings = Settings.from_env()
    engine = get_engine(resolve_database_url())
    policy = NotificationPolicyResource().policy(settings.braze_campaign_id)
    if args.action == "list":
        with engine.connect() as conn:
            rows = foreign_rows(conn, include_closed=args.all)
        if not rows:
            print("no foreign schedules" + ("" if args.all else " open"))
            return 0
        for r in rows:
            games = ", ".join(f"{g['game_id']} ({g['matchup']})" for g in r["games"]) or "no game of ours"
            print(
                f"{r['id']:>5}  {r['status']:<8} {r['send_at_utc'].astimezone(UTC):%Y-%m-%d %H:%MZ}  "
                f"listed {r['listed']} / ledger {r['accounted']}  {games}  "
                f"schedule {r['braze_schedule_id'] or 'unknown'}"
                + (f"  [{r['resolution']} by {r['resolved_by']}]" if r["status"] != "open" else "")
            )
        return 0
    if args.id is None or not (args.delete or args.adopt):
        raise UserError("foreign resolve: --id and one of --delete / --adopt are required")
    if args.delete and not args.schedule_id:
        raise UserError(
            "foreign resolve: --delete needs --schedule-id (Braze's list does not name schedules)"
        )
    with BrazeClient(settings.braze_rest_endpoint, settings.braze_api_key) as braze:
        result = resolve_foreign(
            engine,
            braze,
            policy,
            args.id,
            decision="delete" if args.delete else "adopt",
            schedule_id=args.schedule_id,
            intent_key=args.intent,
            by=args.by,
            note=args.note,
            now=make_clock(settings.clock_url).now(),
        )
    if not result.applied:
        print(f"foreign resolve: not applied: {result.note}", file=sys.stderr)
        return 1
    print(f"foreign {args.id} -> {result.status}: {result.note}")
    return 0


def cmd_bench_chaos(args: argparse.Namespace) -> int:
    from nba_notify.bench_chaos import run_chaos

    summary = run_chaos(
        rounds=args.rounds, seed=args.seed, games_per_round=args.games, verbose=args.verbose or args.incidents
    )
    return 0 if summary.goals_met else 1


def cmd_bench_signals(args: argparse.Namespace) -> int:
    import json
    from datetime import date

    from nba_notify.bench_signals import print_report, run_signals

    start = date.fromisoformat(args.start) if args.start else None
    report = run_signals(season=args.season, seed=args.seed, days=args.days, start=start)
    if args.json:
        print(json.dumps(report.as_dict(), indent=2, default=str))
    print_report(report)
    return 0


def cmd_bench_fuzz(args: argparse.Namespace) -> int:
    """Hostile input at scale: Currents bodies over HTTP (one at a time, then many at once) and
    upstream payloads through the parsers; prints the counts, exit 1 on any 5xx, lost event or
    unclassified parser error."""
    try:
        from nba_notify.fuzz import print_fuzz_figures, run_fuzz_bench
    except ImportError as exc:  # hypothesis ships with the test extras
        raise UserError(f"bench fuzz needs the test extras (pip install -e '.[test]'): {exc}") from exc

    figures = run_fuzz_bench(
        webhook_cases=args.webhook_cases,
        parser_cases=args.parser_cases,
        concurrency=args.concurrency,
        seed=args.seed,
    )
    print_fuzz_figures(figures, args.json)
    return 0 if figures["ok"] else 1


def cmd_webhook(args: argparse.Namespace) -> int:
    """Serve the Currents receiver (public) and the health dashboard (operators, its own
    listener) until SIGINT/SIGTERM, then stop both and release the embedded PostgreSQL."""
    from nba_notify.lib.config import Settings
    from nba_notify.lib.db import engine as db_engine
    from nba_notify.lib.db.migrate import upgrade
    from nba_notify.lib.web.serve import BackgroundServer
    from nba_notify.webhook.app import create_app, create_dashboard_app

    settings = Settings.from_env()
    dashboard = args.dashboard_port != 0
    if dashboard and args.dashboard_host not in LOOPBACK_HOSTS and not settings.dashboard_password:
        raise UserError(
            f"the dashboard may listen on {args.dashboard_host} only behind a password: "
            "set NBA_NOTIFY_DASHBOARD_PASSWORD (or keep --dashboard-host 127.0.0.1)"
        )
    with _stop_on_signals() as stop:
        try:
            url = db_engine.resolve_database_url()
            upgrade(url)  # the receiver writes notification_sends: make sure it exists
            with ExitStack() as servers:
                public = servers.enter_context(
                    BackgroundServer(
                        create_app(database_url=url, settings=settings), host=args.host, port=args.port
                    )
                )
                print(f"Currents receiver on {public.url}/currents")
                if dashboard:
                    operators = servers.enter_context(
                        BackgroundServer(
                            create_dashboard_app(database_url=url, settings=settings),
                            host=args.dashboard_host,
                            port=args.dashboard_port,
                        )
                    )
                    guarded = (
                        "password required" if settings.dashboard_password else "no password: loopback only"
                    )
                    print(f"health dashboard on {operators.url}/health/  ({guarded})")
                sys.stdout.flush()
                _wait_for(stop)
        finally:
            db_engine.dispose_engines()
            db_engine.release_embedded_postgres()
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    """One single-run backfill of the ingest assets over --from..--to (daemon or in-process)."""
    import dagster as dg

    from nba_notify.admin.ingest import IngestRangeError, ingest
    from nba_notify.admin.instance import NotMigrated, require_migrated
    from nba_notify.definitions import load

    try:
        require_migrated(os.environ["NBA_NOTIFY_DATABASE_URL"])
        start, end = _ingest_day(args.start), _ingest_day(args.end or args.start)
        with dg.DagsterInstance.get() as instance:
            outcome = ingest(instance, load(), start, end, prefer_daemon=not args.in_process)
    except (NotMigrated, IngestRangeError) as err:
        print(f"ingest: {err}", file=sys.stderr)
        return 2
    return 0 if outcome.success else 1


def _ingest_day(text: str):
    from datetime import date

    try:
        return date.fromisoformat(text) if len(text) == 10 else _refuse(text)
    except ValueError:
        return _refuse(text)


def _refuse(text: str):
    from nba_notify.admin.ingest import IngestRangeError

    raise IngestRangeError(f"{text!r} is not a game day (YYYY-MM-DD)")


def cmd_doctor(args: argparse.Namespace) -> int:
    from nba_notify.admin.doctor import run_doctor

    report = run_doctor()
    print(report.to_json() if args.json else "\n".join(report.lines()))
    return 0 if report.ok else 1


def cmd_db(args: argparse.Namespace) -> int:
    """Reach the application database: its URL (masked unless --show-secrets), psql on it, or
    stop the embedded server that `db url` left running."""
    from nba_notify.lib.db import engine as db_engine

    if args.action == "stop":
        if os.environ.get("NBA_NOTIFY_DATABASE_URL"):
            print("db stop: the database is external (NBA_NOTIFY_DATABASE_URL); nothing to stop")
            return 0
        stopped = db_engine.stop_embedded_postgres()
        print(
            "embedded PostgreSQL stopped"
            if stopped
            else "embedded PostgreSQL still in use by another process"
        )
        return 0 if stopped else 1
    embedded = not os.environ.get("NBA_NOTIFY_DATABASE_URL")
    if embedded:
        # other tools are about to use the URL: keep the server up after this command
        server = db_engine.start_embedded_postgres(keep_running=args.action == "url")
        url = db_engine.with_database(server, db_engine.APP_DATABASE)
        db_engine.ensure_database(server, db_engine.APP_DATABASE)
    else:
        url = os.environ["NBA_NOTIFY_DATABASE_URL"]
    if args.action == "url":
        print(url if args.show_secrets else mask_url(url))
        if embedded:
            print("(embedded PostgreSQL left running; `nba-notify db stop` stops it)", file=sys.stderr)
        return 0
    libpq = db_engine.sqlalchemy_url(url).replace("postgresql+psycopg://", "postgresql://", 1)
    return subprocess.call([str(db_engine.psql_path()), libpq, *args.psql_args])


def cmd_env(args: argparse.Namespace) -> int:
    from nba_notify.admin.instance import shell_exports, use_operator_instance

    for line in shell_exports(use_operator_instance(keep_database_running=True)):
        print(line)
    return 0


def cmd_dagster(args: argparse.Namespace) -> int:
    """The dagster CLI on this instance (e.g. `nba-notify dagster sensor preview ...`)."""
    return subprocess.call([sys.executable, "-m", "dagster", *args.dagster_args])


# Commands that work on the instance and the application database.
INSTANCE_COMMANDS = {
    "sync",
    "alerts",
    "retries",
    "reprocess",
    "ingest",
    "doctor",
    "dagster",
    "migrate",
    "unknown",
    "foreign",
}


# -- argument types: a bad value is a one-line usage error, never a traceback further down -----


def _port(text: str) -> int:
    return _int_in(0, 65535, "a port")(text)


def _int_in(low: int, high: int, what: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text.strip()) if len(text.strip()) <= 20 else None
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"{what} must be a whole number from {low} to {high}, got {text[:30]!r}"
            )
        return value

    return parse


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 100_000:
        raise argparse.ArgumentTypeError(
            f"the clock rate must be a number from 0 to 100000, got {text[:30]!r}"
        )
    return value


def _instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip()) if len(text) <= 40 else None
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"expected an ISO 8601 time with its offset, e.g. 2026-11-24T15:00:00+00:00; got {text[:40]!r}"
        )
    return value


def _game_day(text: str) -> str:
    """The form only; whether the day has a partition is checked where the request is made."""
    from nba_notify.lib.game_days import game_day_problem

    problem = game_day_problem(text, now=datetime(2100, 1, 1, tzinfo=UTC))
    if problem is not None and "outside" not in problem:
        raise argparse.ArgumentTypeError(problem)
    return text


def _text(limit: int, what: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if not text.strip():
            raise argparse.ArgumentTypeError(f"{what} must not be empty")
        if len(text) > limit:
            raise argparse.ArgumentTypeError(f"{what} is longer than {limit} characters")
        return text

    return parse


MAX_ALERT_ID = 2**63 - 1  # alerts.id is a BIGINT


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line naming the command and how to get help."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from nba_notify.lib.monitoring.manual import MAX_REASON_CHARS, MAX_REQUESTER_CHARS

    parser = OneLineParser(prog="nba-notify", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging and full tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run the product end to end on embedded defaults")
    demo.add_argument(
        "--days", type=_int_in(1, 60, "--days"), default=3, help="game days to ingest, ending today"
    )
    demo.add_argument("--json", action="store_true", help="print the report as JSON")
    demo.add_argument("--seed", type=_int_in(0, 2**31 - 1, "--seed"), default=2026)
    demo.add_argument("--start", type=_instant, help="simulated 'now' (ISO 8601 with offset)")
    demo.add_argument("--no-faults", action="store_true", help="well-behaved upstreams")
    demo.set_defaults(func=cmd_demo)

    dev = sub.add_parser("dev", help="PostgreSQL, simulator, webhook, dashboard and the Dagster UI + daemon")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=_port, default=3000)
    dev.add_argument("--sim-port", type=_port, default=DEFAULT_SIM_PORT)
    dev.add_argument("--webhook-port", type=_port, default=DEFAULT_WEBHOOK_PORT)
    dev.add_argument(
        "--dashboard-port", type=_port, default=DEFAULT_DASHBOARD_PORT, help="health dashboard (loopback)"
    )
    dev.add_argument("--rate", type=_rate, default=1.0, help="simulated clock speed")
    dev.add_argument("--start", type=_instant, help="simulated start time (default: now)")
    dev.set_defaults(func=cmd_dev)

    bench = sub.add_parser("bench", help="benchmarks that print figures")
    bench_sub = bench.add_subparsers(dest="benchmark", required=True)
    bench_ingest = bench_sub.add_parser("ingest", help="full-season ingest backfill via the simulator")
    bench_ingest.add_argument("--start", type=_game_day, default="2025-10-01")
    bench_ingest.add_argument("--end", type=_game_day, default="2026-04-30")
    bench_ingest.add_argument("--json", action="store_true")
    bench_ingest.set_defaults(func=cmd_bench)
    bench_props = bench_sub.add_parser(
        "props", help="a season's player props backfilled from The Odds API history: time and credits"
    )
    bench_props.add_argument("--start", type=_game_day, default="2025-10-01")
    bench_props.add_argument("--end", type=_game_day, default="2026-04-30")
    bench_props.add_argument("--budget", type=_int_in(1, 10**9, "--budget"), default=100_000)
    bench_props.add_argument("--json", action="store_true")
    bench_props.set_defaults(func=cmd_bench_props)
    bench_chaos = bench_sub.add_parser(
        "chaos", help="concurrent syncs, Braze faults, moves, postponements and kills, judged by deliveries"
    )
    bench_chaos.add_argument("--rounds", type=_int_in(1, 1000, "--rounds"), default=5)
    bench_chaos.add_argument("--seed", type=_int_in(0, 2**31 - 1, "--seed"), default=1)
    bench_chaos.add_argument("--games", type=_int_in(1, 15, "--games"), default=6, help="games per round")
    bench_chaos.add_argument(
        "--incidents", action="store_true", help="print each failed game with what the ledger and Braze said"
    )
    bench_chaos.set_defaults(func=cmd_bench_chaos)
    bench_signals = bench_sub.add_parser(
        "signals",
        help="precision and recall of the product's alarms over a simulated season with known faults",
    )
    bench_signals.add_argument(
        "--season",
        type=_int_in(2019, 2098, "--season"),
        default=2025,
        help="season start year (2025 = 2025-26)",
    )
    bench_signals.add_argument("--seed", type=_int_in(0, 2**31 - 1, "--seed"), default=2026)
    bench_signals.add_argument(
        "--days",
        type=_int_in(1, 400, "--days"),
        default=None,
        help="a shortened season: this many days from --start",
    )
    bench_signals.add_argument(
        "--start", type=_game_day, default=None, help="first day (default: the first preseason day)"
    )
    bench_signals.add_argument("--json", action="store_true")
    bench_signals.set_defaults(func=cmd_bench_signals)
    bench_fuzz = bench_sub.add_parser(
        "fuzz", help="hostile-input probes of the Currents receiver and the parsers"
    )
    bench_fuzz.add_argument("--webhook-cases", type=_int_in(1, 10_000_000, "--webhook-cases"), default=5_000)
    bench_fuzz.add_argument("--parser-cases", type=_int_in(1, 10_000_000, "--parser-cases"), default=20_000)
    bench_fuzz.add_argument("--concurrency", type=_int_in(1, 2_000, "--concurrency"), default=500)
    bench_fuzz.add_argument("--seed", type=_int_in(0, 2**31 - 1, "--seed"), default=2026)
    bench_fuzz.add_argument("--json", action="store_true")
    bench_fuzz.set_defaults(func=cmd_bench_fuzz)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)

    sim = sub.add_parser("sim", help="run the upstream simulator (BDL, NBA.com, Braze)")
    sim.add_argument("--port", type=_port, default=DEFAULT_SIM_PORT)
    sim.add_argument("--seed", type=_int_in(0, 2**31 - 1, "--seed"), default=2026)
    sim.add_argument("--rate", type=_rate, default=1.0, help="clock speed; 0 freezes it")
    sim.add_argument("--start", type=_instant, help="initial simulated time (ISO 8601, with offset)")
    sim.add_argument("--currents-url", default=None, help="where Braze Currents are POSTed")
    sim.add_argument(
        "--full-season",
        action="store_true",
        help="serve seasons as the league runs them (preseason, NBA Cup, All-Star, play-in, playoffs, "
        "postponements, neutral sites, late box scores)",
    )
    sim.set_defaults(func=cmd_sim)

    sync = sub.add_parser("sync", help="request a manual (emergency) sync of one entity")
    sync.add_argument(
        "--entity",
        required=True,
        choices=["games_schedule", "box_scores", "live_scoreboard", "notifications_sync"],
    )
    # Date, reason and requester are checked with the request (one check for the CLI and the
    # UI's manual_sync_job): a bad one is a one-line "rejected: ..." and exit 2.
    sync.add_argument("--date", default=None, help="US-Eastern game date YYYY-MM-DD (partitioned entities)")
    sync.add_argument("--priority", default="NORMAL", type=str.upper, choices=["NORMAL", "HIGH", "EMERGENCY"])
    sync.add_argument("--reason", required=True, help=f"why (audited; at most {MAX_REASON_CHARS} characters)")
    sync.add_argument(
        "--by", required=True, help=f"who asks (audited; at most {MAX_REQUESTER_CHARS} characters)"
    )
    sync.set_defaults(func=cmd_sync)

    alerts = sub.add_parser("alerts", help="list, acknowledge or resolve alerts")
    alerts.add_argument("action", choices=["list", "ack", "resolve"])
    alerts.add_argument("alert_id", type=_int_in(1, MAX_ALERT_ID, "an alert id"), nargs="?")
    alerts.add_argument(
        "--by", default=None, type=_text(100, "--by"), help="who acknowledges/resolves (audited)"
    )
    alerts.add_argument("--note", default=None, type=_text(2000, "--note"), help="resolution note")
    alerts.set_defaults(func=cmd_alerts)

    retries = sub.add_parser("retries", help="the scrape retry queue: backlog, exhausted and permanent items")
    retries.add_argument(
        "--status",
        choices=["pending", "retrying", "exhausted", "permanent"],
        default=None,
        help="only these items",
    )
    retries.add_argument(
        "--limit", type=_int_in(1, 100000, "a limit"), default=200, help="items listed at most"
    )
    retries.set_defaults(func=cmd_retries)

    reprocess = sub.add_parser("reprocess", help="targeted reprocessing of the real-loss game days")
    mode = reprocess.add_mutually_exclusive_group(required=True)
    mode.add_argument("--plan", action="store_true", help="print the plan from the zero-record audit")
    mode.add_argument("--apply", action="store_true", help="launch its Dagster backfill(s)")
    reprocess.add_argument(
        "--date", type=_game_day, action="append", help="only this game day (repeatable; must be in the plan)"
    )
    reprocess.add_argument(
        "--webserver-url",
        default=None,
        help="Dagster webserver (default $NBA_NOTIFY_DAGSTER_URL or http://127.0.0.1:3000)",
    )
    reprocess.add_argument("--json", action="store_true")
    reprocess.set_defaults(func=cmd_reprocess)

    unknown = sub.add_parser("unknown", help="intents whose Braze schedule we cannot see; resolve one")
    unknown.add_argument("action", choices=["list", "resolve"])
    unknown.add_argument("--intent", type=_text(200, "--intent"), help="the intent key (from `unknown list`)")
    answer = unknown.add_mutually_exclusive_group()
    answer.add_argument("--exists", action="store_true", help="a send for this game is scheduled at its time")
    answer.add_argument("--absent", action="store_true", help="no send for this game is scheduled")
    unknown.add_argument("--schedule-id", default=None, help="the schedule's id, if the dashboard shows it")
    unknown.add_argument(
        "--at", default=None, help="with --exists: the send time the dashboard shows (ISO 8601)"
    )
    unknown.add_argument("--orphan", action="append", help="another schedule id found for it (cancelled)")
    unknown.add_argument(
        "--by",
        type=_text(MAX_REQUESTER_CHARS, "--by"),
        default=os.environ.get("USER", "operator"),
        help="who answers (audited)",
    )
    unknown.add_argument("--note", type=_text(MAX_REASON_CHARS, "--note"), default=None)
    unknown.set_defaults(func=cmd_unknown)

    foreign = sub.add_parser("foreign", help="schedules Braze holds that the ledger does not own; decide one")
    foreign.add_argument("action", choices=["list", "resolve"])
    foreign.add_argument("--all", action="store_true", help="list: closed ones too (adopted, deleted, gone)")
    foreign.add_argument("--id", type=_int_in(1, 2**62, "--id"), default=None, help="from `foreign list`")
    decision = foreign.add_mutually_exclusive_group()
    decision.add_argument("--delete", action="store_true", help="cancel it at Braze (needs --schedule-id)")
    decision.add_argument("--adopt", action="store_true", help="keep it as the game's push")
    foreign.add_argument(
        "--schedule-id",
        type=_text(64, "--schedule-id"),
        default=None,
        help="the schedule's id as the Braze dashboard shows it",
    )
    foreign.add_argument(
        "--intent",
        type=_text(200, "--intent"),
        default=None,
        help="with --adopt: the intent, when several games send at that time",
    )
    foreign.add_argument(
        "--by",
        type=_text(MAX_REQUESTER_CHARS, "--by"),
        default=os.environ.get("USER", "operator"),
        help="who decides (audited)",
    )
    foreign.add_argument("--note", type=_text(MAX_REASON_CHARS, "--note"), default=None)
    foreign.set_defaults(func=cmd_foreign)

    ingest = sub.add_parser("ingest", help="one single-run backfill of the ingest assets, with progress")
    ingest.add_argument("--from", dest="start", required=True, help="first game day YYYY-MM-DD (US-Eastern)")
    ingest.add_argument("--to", dest="end", default=None, help="last game day (default: --from)")
    ingest.add_argument("--in-process", action="store_true", help="run here even if the daemon runs")
    ingest.set_defaults(func=cmd_ingest)

    doctor = sub.add_parser("doctor", help="check upstreams, keys, database, instance, daemon, automation")
    doctor.add_argument("--json", action="store_true")
    doctor.set_defaults(func=cmd_doctor)

    db = sub.add_parser("db", help="the application database: url, psql, stop (embedded)")
    db.add_argument("action", choices=["url", "psql", "stop"])
    db.add_argument("--show-secrets", action="store_true", help="print the URL with its password")
    db.add_argument("psql_args", nargs="*", help="passed to psql (after --)")
    db.set_defaults(func=cmd_db)

    sub.add_parser("env", help='shell exports for this instance: eval "$(nba-notify env)"').set_defaults(
        func=cmd_env
    )

    dagster = sub.add_parser("dagster", help="the dagster CLI on the project's instance", add_help=False)
    dagster.add_argument("dagster_args", nargs=argparse.REMAINDER)
    dagster.set_defaults(func=cmd_dagster)

    webhook = sub.add_parser(
        "webhook", help="run the Braze Currents receiver (public) and the health dashboard (operators)"
    )
    webhook.add_argument("--host", default="127.0.0.1")
    webhook.add_argument("--port", type=_port, default=DEFAULT_WEBHOOK_PORT)
    webhook.add_argument("--dashboard-host", default="127.0.0.1", help="beyond loopback only with a password")
    webhook.add_argument(
        "--dashboard-port",
        type=_port,
        default=DEFAULT_DASHBOARD_PORT,
        help="0 = no dashboard in this process",
    )
    webhook.set_defaults(func=cmd_webhook)

    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.verbose:
        # Library notices that say nothing to an operator (beta parameters, XDG fallbacks).
        warnings.filterwarnings("ignore", message=".*is currently in beta")
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO)
    if not args.verbose:  # one line per HTTP request drowns the reports
        for noisy in ("httpx", "pgserver", "alembic"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    func: Command = args.func
    if args.command in INSTANCE_COMMANDS:
        from nba_notify.admin.instance import use_operator_instance
        from nba_notify.lib.config import ConfigurationError

        try:
            use_operator_instance()
        except ConfigurationError as err:
            print(f"nba-notify {args.command}: error: {err}", file=sys.stderr)
            return USAGE_ERROR
    previous = _on_sigterm(_raise_stopped)
    try:
        return func(args)
    except (KeyboardInterrupt, Stopped):
        return 130
    except Exception as exc:
        if args.verbose:
            raise
        print(f"nba-notify {args.command}: {_one_line(exc)}", file=sys.stderr)
        return USAGE_ERROR if isinstance(exc, UserError) or _is_user_error(exc) else 1
    finally:
        _on_sigterm(previous)


def _on_sigterm(handler: object) -> object:
    """Install a SIGTERM handler (main thread only: tests call ``main`` from others)."""
    if threading.current_thread() is not threading.main_thread() or handler is None:
        return None
    return signal.signal(signal.SIGTERM, handler)  # type: ignore[arg-type]


def _is_user_error(exc: Exception) -> bool:
    from nba_notify.lib.errors import ErrorCategory, PipelineError

    return isinstance(exc, PipelineError) and exc.category == ErrorCategory.VALIDATION


def _one_line(exc: Exception) -> str:
    """What went wrong in one line, without SQL, parameters or driver internals."""
    import sqlalchemy.exc as sa_exc

    from nba_notify.lib.errors import PipelineError

    if isinstance(exc, UserError):
        return f"error: {exc}"
    if isinstance(exc, PipelineError):
        return f"error: {exc.message.splitlines()[0] if exc.message else exc.category} [{exc.category}]"
    if isinstance(exc, sa_exc.SQLAlchemyError):
        kind = type(getattr(exc, "orig", None) or exc).__name__
        return f"database error ({kind}); check NBA_NOTIFY_DATABASE_URL and `nba-notify migrate`, or rerun with -v"
    return f"unexpected {type(exc).__name__}; rerun with -v for the traceback"


if __name__ == "__main__":
    sys.exit(main())
