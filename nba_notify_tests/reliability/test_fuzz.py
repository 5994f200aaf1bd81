"""Property-based fuzzing in CI (a few thousand cases; ``nba-notify bench fuzz`` runs more):
the Currents receiver over real HTTP never answers 5xx, never loses a good event and keeps
every bad one byte for byte; the upstream parsers return rows or a VALIDATION error, nothing
else. The properties themselves live in :mod:`nba_notify.fuzz`.

``NBA_NOTIFY_FUZZ_WEBHOOK_CASES`` / ``NBA_NOTIFY_FUZZ_PARSER_CASES`` / ``NBA_NOTIFY_FUZZ_SEED``
change the size and the seed (the default seed keeps CI reproducible)."""

from __future__ import annotations

import copy
import os

import pytest

from nba_notify.fuzz import PARSERS, TEMPLATES, run_parser_fuzz, run_webhook_fuzz
from nba_notify.lib.errors import ErrorCategory, PipelineError
from nba_notify_tests.reliability.conftest import TOKEN

SEED = int(os.environ.get("NBA_NOTIFY_FUZZ_SEED", "2026"))
WEBHOOK_CASES = int(os.environ.get("NBA_NOTIFY_FUZZ_WEBHOOK_CASES", "600"))
PARSER_CASES = int(os.environ.get("NBA_NOTIFY_FUZZ_PARSER_CASES", "3000"))


def test_fuzzed_currents_bodies_are_kept_or_refused_with_a_reason_never_5xx(receiver, db, capsys):
    tally = run_webhook_fuzz(receiver.url, db, TOKEN, max_examples=WEBHOOK_CASES, random_seed=SEED)
    with capsys.disabled():
        print(f"\ncurrents fuzz: {tally.as_dict()}")
    assert tally.cases >= WEBHOOK_CASES and tally.five_xx == 0
    assert tally.good_events > 0 and tally.quarantined_events > 0 and tally.refused_bodies > 0  # it probed


def test_fuzzed_upstream_payloads_parse_or_fail_as_validation(capsys):
    tally = run_parser_fuzz(max_examples=PARSER_CASES, random_seed=SEED)
    with capsys.disabled():
        print(f"\nparser fuzz: {tally.as_dict()}")
    assert tally.cases >= PARSER_CASES and tally.parsed > 0 and tally.refused_validation > 0


@pytest.mark.parametrize(
    "parser,path,value",
    [
        ("bdl_box_scores", ("data", 0, "home_team", "players", 0, "min"), 10**400),
        ("bdl_box_scores", ("data", 0, "home_team", "players", 0, "min"), float("nan")),
        ("bdl_games", ("data", 0, "status"), "0001-01-01T00:00:00+01:00"),
        (
            "nbac_schedule",
            ("leagueSchedule", "gameDates", 0, "games", 0, "gameDateTimeUTC"),
            "0001-01-01T00:00:00Z",
        ),
        ("nbac_scoreboard", ("scoreboard", "games", 0, "gameTimeUTC"), "9999-12-31T23:59:59-23:59"),
    ],
    ids=["minutes_overflow", "minutes_nan", "bdl_status_year_1", "schedule_year_1", "scoreboard_year_9999"],
)
def test_payloads_the_fuzzer_found_fail_as_validation_naming_the_field(parser, path, value):
    payload = copy.deepcopy(TEMPLATES[parser])
    target = payload
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    with pytest.raises(PipelineError) as raised:
        PARSERS[parser](payload)
    assert raised.value.category == ErrorCategory.VALIDATION
    assert str(path[-1]) in raised.value.message
