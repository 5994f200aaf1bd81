"""A short chaos round in CI (``nba-notify bench chaos`` runs the long ones): moves the same day
and to the next, postponements and make-ups, Braze faults, concurrent schedulers and a reconcile,
workers killed mid-run — judged only by what the simulated Braze delivered."""

from __future__ import annotations

import pytest

from nba_notify.bench_chaos import run_chaos


@pytest.mark.slow
def test_a_chaos_round_delivers_each_fan_one_push_at_the_right_time_or_alerts_in_time(database_url):
    summary = run_chaos(rounds=1, seed=7, games_per_round=3, echo=False)
    [result] = summary.rounds
    assert result.failures == [], result.failures
    assert result.games == 3 and result.real_changes > 3 and result.faults > 0
    assert result.duplicates == 0, result.incidents
    assert result.wrong_time == 0, result.incidents
    assert result.misses_without_timely_alert == 0, result.incidents
