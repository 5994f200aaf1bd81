"""`nba-notify doctor` names what is broken, one readable line each, and exits non-zero.
(The passing case, with a daemon running, is in test_production_e2e.py.)"""

from __future__ import annotations

import uuid

import pytest

from nba_notify.admin.doctor import FAIL, PASS, run_doctor
from nba_notify.cli import main
from nba_notify.lib.db import engine as db_engine
from nba_notify.lib.web.serve import free_port
from nba_notify_tests.production.test_production_e2e import production_env


def statuses(report) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for check in report.checks:
        out.setdefault(check.area, []).append((check.status, check.detail))
    return out


@pytest.fixture
def never_migrated(database_server_url) -> str:
    name = f"doctor_{uuid.uuid4().hex[:8]}"
    db_engine.ensure_database(database_server_url, name)
    yield db_engine.with_database(database_server_url, name)
    db_engine.dispose_engines()
    db_engine.drop_database(database_server_url, name)


def test_doctor_names_a_refused_key_a_wrong_stats_host_an_unreachable_upstream_and_missing_migrations(
    sim, never_migrated, monkeypatch, tmp_path, capsys
):
    env = production_env(sim.url, never_migrated)
    env.update(
        BRAZE_API_KEY="wrong-key",
        NBAC_STATS_BASE_URL=f"{sim.url}/nbac",  # the CDN: it does not serve the stats path
        BDL_BASE_URL=f"http://127.0.0.1:{free_port()}",  # nothing listens there
    )
    del env["CURRENTS_TOKEN"]
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setenv("NBA_NOTIFY_HOME", str(tmp_path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CURRENTS_TOKEN", raising=False)
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-1].startswith("NOT READY")
    report = run_doctor()
    found = statuses(report)
    assert found["mode"][0][0] == FAIL and "CURRENTS_TOKEN" in found["mode"][0][1]
    assert found["bdl"][0][0] == FAIL and "unreachable" in found["bdl"][0][1]
    assert found["nba.com cdn"][0][0] == PASS
    assert found["nba.com stats"][0][0] == FAIL
    assert found["braze"][0][0] == FAIL and "key refused" in found["braze"][0][1]
    assert found["currents"][0][0] == FAIL
    assert found["migrations"][0][0] == FAIL
    assert found["daemon"][0][0] == FAIL  # none ever ran on this fresh instance
    assert "fix: run `nba-notify migrate`" in out


def test_doctor_names_a_missing_braze_permission_and_an_unknown_campaign(sim, database_url):
    env = production_env(sim.url, database_url)
    sim.control.add_fault("status", "braze.update", params={"code": 403, "body": {"message": "not allowed"}})
    report = run_doctor({**env, "BRAZE_CAMPAIGN_ID": "no-such-campaign"})
    found = statuses(report)
    permissions = dict((detail.split(":")[0], status) for status, detail in found["braze permission"])
    assert permissions == {
        "messages.schedule_broadcasts": PASS,
        "campaigns.trigger.schedule.update": FAIL,
        "campaigns.trigger.schedule.delete": PASS,
        "sends.id.create": PASS,
    }
    assert found["braze campaign"][0][0] == FAIL and "no-such-campaign" in found["braze campaign"][0][1]
    assert not report.ok
    # nothing was created at Braze by the probes
    state = sim.control.state()
    assert state["request_counts"].get("braze.create", 0) == 0
