"""`nba-notify demo` is a stable interface (DESIGN §5): with faults on, it still ends with
every check passing and every user messaged exactly once per game — and it is hermetic: on a
production host, whose environment names the real APIs, it talks only to its own simulator."""

import json
import os

from nba_notify.cli import main
from nba_notify.demo import DEMO_DATABASE
from nba_notify_tests.upstream_sentinel import sentinel


def test_demo_with_faults_messages_every_user_exactly_once_and_passes_every_check(
    database_url, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("NBA_NOTIFY_HOME", str(tmp_path))
    with sentinel() as production:
        # a production host's environment: every real endpoint is the sentinel on loopback
        real = {
            "NBA_NOTIFY_MODE": "production",
            "BRAZE_REST_ENDPOINT": f"{production.url}/braze",
            "BRAZE_API_KEY": "real-braze-key",
            "BRAZE_CAMPAIGN_ID": "real-campaign",
            "BDL_BASE_URL": f"{production.url}/bdl",
            "BDL_API_KEY": "real-bdl-key",
            "NBAC_BASE_URL": f"{production.url}/nbac",
            "NBAC_STATS_BASE_URL": f"{production.url}/stats",
            "NBA_NOTIFY_ALERT_WEBHOOK_URL": f"{production.url}/slack",
        }
        for name, value in real.items():
            monkeypatch.setenv(name, value)
        before = dict(os.environ)
        exit_code = main(["demo", "--days", "2", "--json"])
        report = json.loads(capsys.readouterr().out)
    assert production.requests == []
    assert set(report["ignored_settings"]) == {*real, "NBA_NOTIFY_MODE=production"} - {"NBA_NOTIFY_MODE"}

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
