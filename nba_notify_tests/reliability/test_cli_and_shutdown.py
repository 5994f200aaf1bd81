"""The operator's command line under mistakes and signals: a user error is one line on stderr
and a non-zero exit (never a traceback with SQL), inputs are length- and range-checked, and
SIGTERM stops every process a command started, the embedded PostgreSQL included."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from nba_notify import cli
from nba_notify.lib.web.serve import free_port

REPO = Path(__file__).resolve().parents[2]


def one_line(text: str) -> str:
    assert text.count("\n") == 1 and text.endswith("\n"), text
    for internal in ("Traceback", "SELECT", "UPDATE", "INSERT", "psycopg", "[parameters"):
        assert internal not in text, text
    return text


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["alerts", "resolve", "99999999999999999999", "--by", "x"], "alert id must be a whole number"),
        (["alerts", "ack", "-5", "--by", "x"], "alert id"),
        (["alerts", "resolve", "7", "--by", "x" * 101], "longer than 100"),
        (["demo", "--days", "0"], "--days must be"),
        (["demo", "--start", "yesterday"], "ISO 8601"),
        (["sim", "--port", "70000"], "port must be"),
        (["sim", "--rate", "-1"], "clock rate"),
        (["webhook", "--dashboard-port", "1e3"], "port must be"),
        (["bench", "ingest", "--start", "2025/10/01"], "YYYY-MM-DD"),
    ],
    ids=[
        "alert_id_overflow",
        "alert_id_negative",
        "by_too_long",
        "days_zero",
        "start_not_iso",
        "port_range",
        "negative_rate",
        "port_not_int",
        "bench_date_form",
    ],
)
def test_usage_error_is_one_line_and_exit_2(capsys, argv, needle):
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == 2
    assert needle in one_line(capsys.readouterr().err)


def test_sync_with_an_overlong_requester_is_rejected_in_one_line_and_not_written(db, capsys):
    assert (
        cli.main(
            ["sync", "--entity", "box_scores", "--date", "2026-11-20", "--reason", "r", "--by", "x" * 101]
        )
        == 2
    )
    assert "longer than 100 characters" in one_line(capsys.readouterr().err)


def test_alert_command_without_id_or_requester_is_one_line(db, capsys):
    assert cli.main(["alerts", "ack"]) == 2
    assert "need an alert id and --by" in one_line(capsys.readouterr().err)


def test_unknown_alert_id_in_range_is_a_plain_answer(db, capsys):
    assert cli.main(["alerts", "resolve", str(2**63 - 1), "--by", "oncall"]) == 1
    assert "not open" in capsys.readouterr().out


def test_database_unreachable_is_one_line_without_sql(monkeypatch, capsys):
    monkeypatch.setenv("NBA_NOTIFY_DATABASE_URL", f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere")
    assert cli.main(["alerts", "list"]) == 1
    assert "database error (OperationalError)" in one_line(capsys.readouterr().err)


def test_dashboard_beyond_loopback_without_a_password_is_refused(monkeypatch, capsys):
    monkeypatch.delenv("NBA_NOTIFY_DASHBOARD_PASSWORD", raising=False)
    assert cli.main(["webhook", "--dashboard-host", "0.0.0.0", "--dashboard-port", str(free_port())]) == 2
    assert "NBA_NOTIFY_DASHBOARD_PASSWORD" in one_line(capsys.readouterr().err)


def test_user_error_from_the_installed_command_prints_no_traceback():
    done = subprocess.run(
        [sys.executable, "-m", "nba_notify.cli", "alerts", "resolve", "99999999999999999999", "--by", "x"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    one_line(done.stderr)


# -- clean shutdown ----------------------------------------------------------------------------


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


@pytest.fixture
def fresh_home() -> Iterator[Path]:
    """A project home of its own (the embedded server's user must be able to reach it, which
    pytest's private tmp_path does not allow)."""
    home = Path(tempfile.mkdtemp(prefix="nba_notify_sigterm_"))
    yield home
    shutil.rmtree(home, ignore_errors=True)


def test_sigterm_stops_the_webhook_and_the_embedded_postgresql_it_started(fresh_home):
    tmp_path = fresh_home
    env = {k: v for k, v in os.environ.items() if k != "NBA_NOTIFY_DATABASE_URL"}
    env.update({"NBA_NOTIFY_HOME": str(tmp_path), "PYTHONPATH": str(REPO)})
    port, dashboard_port = free_port(), free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nba_notify.cli",
            "webhook",
            "--port",
            str(port),
            "--dashboard-port",
            str(dashboard_port),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def answering() -> bool:
            assert process.poll() is None, process.communicate()[1][-2000:]
            try:
                return (
                    httpx.post(f"http://127.0.0.1:{port}/currents", content=b"{}", timeout=2).status_code
                    == 401
                )
            except httpx.HTTPError:
                return False

        wait_until(answering, 120, "the receiver")
        pgdata = tmp_path / "pg"
        postmaster = int((pgdata / "postmaster.pid").read_text().split()[0])
        assert pid_alive(postmaster)

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0, process.communicate()[1][-2000:]
        wait_until(lambda: not pid_alive(postmaster), 30, "PostgreSQL to stop")
        assert not (pgdata / "postmaster.pid").exists(), "a stale postmaster.pid is left on record"
        handles = pgdata / ".handle_pids.json"
        assert not handles.exists() or json.loads(handles.read_text() or "[]") == []
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_sigterm_stops_the_simulator_cleanly():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "nba_notify.cli", "sim", "--port", str(port)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def answering() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/_sim/clock", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(answering, 60, "the simulator")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
