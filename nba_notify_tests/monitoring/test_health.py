"""Health dashboard: JSON correctness against constructed history, and the HTML page drawing
its charts in a real headless Chromium."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import tempfile
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser

import httpx
import pytest
import sqlalchemy as sa

from nba_notify.lib.alerts import raise_alert
from nba_notify.lib.config import Settings
from nba_notify.lib.db.tables.monitoring import sync_error_log, sync_execution_history, sync_status
from nba_notify.lib.db.tables.quality import scrape_retry_queue
from nba_notify.lib.web.serve import BackgroundServer
from nba_notify.webhook.app import create_app, create_dashboard_app

NOW = datetime(2026, 11, 24, 18, 30, tzinfo=UTC)
OPERATOR = ("operator", "dashboard-test-password")


def add_run(conn, entity, start, ok, duration=10.0, records=5, memory=None, category="NETWORK"):
    run_id = f"{entity}-{start.isoformat()}"
    execution_id = conn.execute(
        sa.insert(sync_execution_history)
        .values(
            entity_type=entity,
            run_id=run_id,
            job_name="job",
            trigger="schedule",
            run_status="SUCCESS" if ok else "FAILURE",
            success=ok,
            execution_start=start,
            execution_end=start + timedelta(seconds=duration),
            duration_seconds=duration,
            records_processed=records if ok else 0,
            peak_memory_mb=memory,
        )
        .returning(sync_execution_history.c.id)
    ).scalar_one()
    if not ok:
        conn.execute(
            sa.insert(sync_error_log).values(
                execution_id=execution_id,
                run_id=run_id,
                entity_type=entity,
                error_type=category,
                error_severity="MEDIUM",
                error_message="boom",
                occurred_at=start + timedelta(seconds=duration),
            )
        )


def set_status(conn, entity, *, last_success, last_run, consecutive_failures, last_error=None):
    conn.execute(
        sa.insert(sync_status).values(
            entity_type=entity,
            last_success_at=last_success,
            last_run_at=last_run,
            consecutive_failures=consecutive_failures,
            last_error=last_error,
            sync_frequency_seconds={"games_schedule": 900, "box_scores": 86400}.get(entity, 30),
        )
    )


@pytest.fixture
def history(mdb):
    """games_schedule: every 15 min for 24 h, healthy (one failure 5 h ago).
    box_scores: 3 failures in a row in the last 3 hours (CRITICAL), one success yesterday."""
    with mdb.begin() as conn:
        t = NOW - timedelta(hours=23, minutes=50)
        while t <= NOW:
            failed = t == NOW - timedelta(hours=5, minutes=5)
            add_run(conn, "games_schedule", t, not failed, duration=20.0, records=30, memory=100.0)
            t += timedelta(minutes=15)
        add_run(conn, "box_scores", NOW - timedelta(hours=20), True, duration=120.0, records=500)
        for hours in (3, 2, 1):
            add_run(
                conn,
                "box_scores",
                NOW - timedelta(hours=hours, minutes=10),
                False,
                duration=60.0,
                category="RATE_LIMIT",
            )
        set_status(
            conn,
            "games_schedule",
            last_success=NOW - timedelta(minutes=5),
            last_run=NOW - timedelta(minutes=5),
            consecutive_failures=0,
        )
        set_status(
            conn,
            "box_scores",
            last_success=NOW - timedelta(hours=20),
            last_run=NOW - timedelta(hours=1, minutes=10),
            consecutive_failures=3,
            last_error="[RATE_LIMIT] 429",
        )
    raise_alert(
        mdb,
        rule_key="box_scores_consecutive_failures",
        entity="box_scores",
        title="box_scores: 3 consecutive failed syncs",
        now=NOW,
    )
    with mdb.begin() as conn:  # an old game day whose NBA.com box score will never come
        conn.execute(
            sa.insert(scrape_retry_queue).values(
                scraper_name="nbac_box_scores",
                target_date=date(2026, 11, 3),
                reason="api_incomplete",
                original_error="NBA.com box scores cover 0 of 9 final games",
                status="permanent",
                permanent_at=NOW,
                root_cause="nbac_box_scores:box_score_unavailable",
                created_at=NOW,
                updated_at=NOW,
                correlation_id="c0ffee",
            )
        )
    return mdb


def operator_settings(**changes) -> Settings:
    settings = Settings.from_env()
    return Settings(
        **{**settings.__dict__, "dashboard_user": OPERATOR[0], "dashboard_password": OPERATOR[1], **changes}
    )


@pytest.fixture
def server(history, database_url):
    """The dashboard as ``nba-notify webhook`` serves it: its own app, behind the operators'
    password."""
    app = create_dashboard_app(database_url=database_url, settings=operator_settings(), now=lambda: NOW)
    with BackgroundServer(app) as srv:
        yield srv


def get(server, path: str, **kwargs) -> httpx.Response:
    return httpx.get(server.url + path, auth=OPERATOR, timeout=5, **kwargs)


def test_overview_reports_entity_health_from_history(server):
    body = get(server, "/health/overview").json()
    assert body["overall_status"] == "CRITICAL"
    games = body["sync_entities"]["games_schedule"]
    runs = 96  # every 15 min from 23:50 ago to now
    assert games["status"] == "HEALTHY" and games["runs_24h"] == runs
    assert games["success_rate_24h"] == round((runs - 1) / runs, 4)
    assert games["consecutive_failures"] == 0
    assert games["average_duration_seconds"] == 20.0
    today_runs = sum(
        1
        for i in range(runs)
        if NOW - timedelta(hours=23, minutes=50) + i * timedelta(minutes=15) >= NOW.replace(hour=0, minute=0)
    )
    assert games["records_processed_today"] == 30 * (
        today_runs - 1
    )  # the failure (05:05 ago) is today: 0 records
    box = body["sync_entities"]["box_scores"]
    assert box["status"] == "CRITICAL" and box["consecutive_failures"] == 3
    assert box["success_rate_24h"] == 0.25 and box["active_alerts"] == 1
    assert "3 consecutive failures" in box["reasons"]
    assert box["last_successful_sync"] == (NOW - timedelta(hours=20)).isoformat()
    live = body["sync_entities"]["live_scoreboard"]  # no game on: not expected to run
    assert live["status"] == "HEALTHY" and live["reasons"] == []
    assert (live["expected_to_run"], live["idle_reason"]) == (False, "no game on")
    notifications = body["sync_entities"]["notifications_sync"]  # due for a day, never ran
    assert notifications["status"] == "WARNING" and notifications["reasons"] == ["no executions recorded"]
    [alert] = body["active_alerts"]
    assert alert["rule_key"] == "box_scores_consecutive_failures" and alert["severity"] == "HIGH"
    retry = body["retry_queue"]  # given-up items stay in sight, by root cause
    assert (retry["backlog"], retry["permanent"], retry["exhausted"]) == (0, 1, 0)
    assert [(c["root_cause"], c["status"], c["game_days"]) for c in retry["by_root_cause"]] == [
        ("nbac_box_scores:box_score_unavailable", "permanent", 1)
    ]
    perf = body["performance_summary"]
    assert perf["runs_24h"] == runs + 4
    assert perf["errors_by_category_24h"] == {"NETWORK": 1, "RATE_LIMIT": 3}


def test_history_buckets_and_aggregates_match_the_constructed_runs(server):
    body = get(server, "/health/history", params={"period": "24h", "entity": "box_scores"}).json()
    assert body["entity_type"] == "box_scores" and body["bucket_seconds"] == 3600
    points = body["data_points"]
    assert len(points) == 25  # 24 h of hourly buckets, the first and the current partial
    with_runs = [p for p in points if p["runs"]]
    assert [(p["success_rate"], p["error_count"]) for p in with_runs] == [
        (1.0, 0),
        (0.0, 1),
        (0.0, 1),
        (0.0, 1),
    ]
    assert with_runs[0]["timestamp"] == (NOW - timedelta(hours=20)).replace(minute=0).isoformat()
    assert with_runs[0]["records_processed"] == 500 and with_runs[0]["duration_ms"] == 120000.0
    agg = body["aggregated_metrics"]
    assert agg["total_runs"] == 4 and agg["failed_runs"] == 3 and agg["success_rate"] == 0.25
    assert agg["average_duration_ms"] == 75000.0
    assert agg["errors_by_category"] == {"RATE_LIMIT": 3}


def test_history_for_all_entities_and_bad_period(server):
    body = get(server, "/health/history", params={"period": "7d"}).json()
    assert body["entity_type"] == "all" and body["bucket_seconds"] == 6 * 3600
    assert sum(p["runs"] for p in body["data_points"]) == 96 + 4
    bad = get(server, "/health/history", params={"period": "1y"})
    assert bad.status_code == 400 and "unknown period" in bad.json()["error"]


class DomCounter(HTMLParser):
    """Counts elements by (tag, class) and collects attributes of interest."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: Counter[tuple[str, str]] = Counter()
        self.attrs: dict[str, dict[str, str]] = {}
        self.stack: list[str] = []
        self.svg_children: Counter[tuple[str, str]] = Counter()
        self.current_svg: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for cls in (a.get("class") or "").split():
            self.counts[(tag, cls)] += 1
            if self.current_svg:
                self.svg_children[(self.current_svg, f"{tag}.{cls}")] += 1
        if a.get("id"):
            self.attrs[a["id"]] = a
        if tag == "svg":
            self.current_svg = a.get("id")
        if tag == "body":
            self.attrs["body"] = a

    def handle_endtag(self, tag):
        if tag == "svg":
            self.current_svg = None


def with_credentials(url: str) -> str:
    return url.replace("http://", f"http://{OPERATOR[0]}:{OPERATOR[1]}@", 1)


def chromium_dump_dom(url: str) -> str:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    assert binary, "Debian's chromium is required: apt-get install -y chromium"
    with tempfile.TemporaryDirectory(prefix="nba_chromium_") as profile:
        done = subprocess.run(
            [
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                f"--user-data-dir={profile}",
                "--virtual-time-budget=5000",
                "--dump-dom",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=90,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_dashboard_page_draws_data_driven_charts_in_headless_chromium(server):
    history = get(server, "/health/history", params={"period": "24h", "entity": "all"}).json()
    overview = get(server, "/health/overview").json()
    dom = DomCounter()
    # The browser is given the operator's credentials the way a person would type them; the
    # page's own API calls must then work behind the Basic auth.
    dom.feed(chromium_dump_dom(with_credentials(server.url) + "/health/"))
    assert dom.attrs["body"].get("data-rendered") == "true"
    points = history["data_points"]
    assert dom.svg_children[("chart-success", "rect.success-bar")] == sum(1 for p in points if p["runs"])
    assert dom.svg_children[("chart-duration", "circle.duration-point")] == sum(
        1 for p in points if p["duration_ms"] is not None
    )
    assert dom.svg_children[("chart-errors", "rect.error-bar")] == sum(1 for p in points if p["error_count"])
    assert (
        dom.svg_children[("chart-errors", "rect.error-bar")] == 4
    )  # 1 games_schedule + 3 box_scores failures
    assert dom.counts[("polyline", "line")] == 1
    assert dom.counts[("article", "entity-card")] == len(overview["sync_entities"])
    assert dom.counts[("tr", "alert-row")] == len(overview["active_alerts"]) == 1
    assert dom.counts[("tr", "retry-row")] == len(overview["retry_queue"]["by_root_cause"]) == 1
    assert dom.attrs["overall"]["class"] == "badge CRITICAL"
    html = chromium_dump_dom(with_credentials(server.url) + "/health/dashboard")
    assert re.search(r'data-entity="box_scores" data-status="CRITICAL"', html)


# -- guarded: the dashboard is not public -------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "Basic " + base64.b64encode(b"operator:wrong").decode(), "Bearer wrong", "Basic !!notbase64"],
    ids=["missing", "wrong_password", "wrong_token", "garbage"],
)
def test_dashboard_refuses_requests_without_the_operator_credentials(server, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    for path in ("/health/", "/health/overview", "/health/history", "/health"):
        response = httpx.get(server.url + path, headers=headers, timeout=5)
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"].startswith("Basic ")
        assert "sync_entities" not in response.text


def test_dashboard_accepts_the_password_as_a_bearer_token(server):
    response = httpx.get(
        server.url + "/health/overview", headers={"Authorization": f"Bearer {OPERATOR[1]}"}, timeout=5
    )
    assert response.status_code == 200 and response.json()["overall_status"] == "CRITICAL"


def test_health_redirect_is_relative_whatever_the_host_header_says(server):
    response = get(server, "/health", headers={"Host": "evil.example"}, follow_redirects=False)
    assert response.status_code == 308
    assert response.headers["location"] == "/health/"


def test_public_currents_app_does_not_serve_the_dashboard(history, database_url):
    public = create_app(database_url=database_url, settings=operator_settings())
    with BackgroundServer(public) as srv:
        for path in ("/health", "/health/", "/health/overview", "/health/history"):
            response = httpx.get(
                srv.url + path,
                headers={"Host": "evil.example"},
                auth=OPERATOR,
                timeout=5,
                follow_redirects=False,
            )
            assert response.status_code == 404, path
            assert "location" not in response.headers
