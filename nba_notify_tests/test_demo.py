"""`nba-notify demo` is a stable interface (DESIGN §5): with faults on, it still ends with
every check passing and every user messaged exactly once per game."""

import json
import os

from nba_notify.cli import main
from nba_notify.demo import DEMO_DATABASE


def test_demo_with_faults_messages_every_user_exactly_once_and_passes_every_check(
    database_url, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("NBA_NOTIFY_HOME", str(tmp_path))
    before = dict(os.environ)
    exit_code = main(["demo", "--days", "2", "--json"])
    report = json.loads(capsys.readouterr().out)

    assert exit_code == 0, report["failed_checks"]
    assert report["ok"] and report["failed_checks"] == []
    totals = report["notifications"]["totals"]
    assert totals["duplicate_messages"] == 0 and totals["misses"] == 0
    assert totals["sent_for_withdrawn_games"] == 0
    assert totals["users_messaged"] == totals["messages"] > 0
    # the postponed game was cancelled at Braze, the moved one updated in place (one schedule)
    cancelled = [g for g in report["notifications"]["games"] if g["schedules_cancelled"]]
    assert len(cancelled) == 1 and cancelled[0]["users_messaged"] == 0
    assert all(g["schedules_created"] == 1 for g in report["notifications"]["games"])
    # the source that dropped games was detected, queued and recovered on retry
    assert report["quality"]["retry_queue"]["by_status"]["recovered"] == 1
    assert report["quality"]["zero_record_audit"]["false_positive_rate_pct"] == 0.0
    # the demo worked in its own database and left the environment as it found it
    assert DEMO_DATABASE in report["database_url"]
    assert dict(os.environ) == before
