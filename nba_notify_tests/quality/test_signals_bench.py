"""The alarms an operator gets are exactly the problems that happened (issue 9).

``nba-notify bench signals`` on a shortened season — All-Star week, with its Rising Stars and
All-Star games between teams that are none of the 30 franchises and five empty days — with one
fault of each kind injected on distinct days (a game BDL never lists, a late BDL feed, a wrong
BDL score, a box score NBA.com never publishes, a Braze schedule created behind the product's
back, failed ingest runs). Judged against the injected ground truth: every alarm must point at
a real problem (precision 100 %) and every problem must raise an alarm (recall 100 %). When it
fails, the message lists each false alarm and each missed problem.
"""

from __future__ import annotations

import re
from datetime import date

import pytest

from nba_notify.bench_signals import FAULT_KINDS, print_report, run_signals

LINE = re.compile(r"^signals: precision=(\d+\.\d)% recall=(\d+\.\d)% alarms=(\d+) injected=(\d+)$")


# 17 simulated days of the real jobs: ~4 minutes on an idle 2-core machine, more under load.
@pytest.mark.timeout(1800)
def test_shortened_season_with_one_fault_of_each_kind_has_full_precision_and_recall(
    database_url, tmp_path, monkeypatch
):
    monkeypatch.setenv("NBA_NOTIFY_HOME", str(tmp_path))
    report = run_signals(season=2025, seed=2026, start=date(2026, 2, 5), days=17, log=lambda _line: None)
    printed: list[str] = []
    print_report(report, printed.append)

    assert {f.kind for f in report.faults if not f.natural} == set(FAULT_KINDS)
    assert all(f.game_ids or f.kind == "failed_run" for f in report.faults), "every fault names its games"
    assert report.failed_runs > 0, "the failed-run fault made runs fail"
    match = LINE.match(printed[-1])
    assert match, printed[-1]
    assert int(match[3]) == len(report.alarms) and int(match[4]) == len(report.faults)

    # the message: every problem (detected by what, or missed) and every false alarm
    shown = [line for line in printed if line.startswith("  ")]
    assert report.false_alarms == [] and report.missed == [], "\n".join(shown)
    assert (report.precision, report.recall) == (1.0, 1.0)
