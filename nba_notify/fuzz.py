"""Hostile input, generated: property-based probes of the Braze Currents receiver (over real
HTTP into the real PostgreSQL) and of the upstream payload parsers. The CI runs them at a few
thousand cases (``nba_notify_tests/reliability/test_fuzz.py``); ``nba-notify bench fuzz`` runs
them at scale and prints the counts.

Properties
----------
Currents receiver, per delivered body:

* never a 5xx (the database is up) and never a 500;
* a well-formed ``{"events": [...]}`` body is answered 200, every good event in it is stored,
  every bad one is quarantined with its exact bytes, and the answer adds up (received = stored
  + duplicates + quarantined);
* any other body is answered 200 or 400, and a 400 body is kept whole in the dead letters.

Parsers, per payload (valid templates in the documented shapes, mutated one to three times,
and arbitrary JSON): a list of rows or a ``PipelineError(VALIDATION)``, nothing else.

Needs ``hypothesis`` (the test extras).
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import itertools
import json
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, note, seed, settings
from hypothesis import strategies as st

from nba_notify.lib.errors import ErrorCategory, PipelineError
from nba_notify.lib.ingest import parse

SEND = "users.messages.pushnotification.Send"
EPOCH_2026 = 1_767_225_600  # 2026-01-01T00:00:00Z

# -- tallies -------------------------------------------------------------------------------------


@dataclass
class WebhookTally:
    cases: int = 0
    events_sent: int = 0
    good_events: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined_events: int = 0
    refused_bodies: int = 0
    statuses: Counter[int] = field(default_factory=Counter)

    @property
    def five_xx(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def as_dict(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "events_sent": self.events_sent,
            "good_events": self.good_events,
            "events_kept": self.stored,
            "duplicates": self.duplicates,
            "events_quarantined": self.quarantined_events,
            "bodies_refused_and_kept": self.refused_bodies,
            "statuses": dict(sorted(self.statuses.items())),
            "5xx": self.five_xx,
        }


@dataclass
class ParserTally:
    cases: int = 0
    parsed: int = 0
    rows: int = 0
    refused_validation: int = 0
    by_parser: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "parsed": self.parsed,
            "rows": self.rows,
            "refused_as_validation": self.refused_validation,
            "unclassified_errors": 0,  # any would have failed the property
            "by_parser": dict(sorted(self.by_parser.items())),
        }


# -- Currents bodies -----------------------------------------------------------------------------

_ids = itertools.count()

# Generation is driven by hypothesis (how many events, which kind, which defect, a seed per
# event) while the bulk of each value comes from a seeded ``random.Random``: a few draws per
# element keep a case at a few milliseconds, so CI affords thousands of them.
STORABLE_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    2**53,
    1.5,
    -0.0,
    1e308,
    5e-324,
    "",
    "ios",
    "é",
    "😀",
    "line\nbreak",
    "\t",
    "\u2028",
    "\\",
    '"quoted"',
    "<script>alert(1)</script>",
    "'; DROP TABLE notification_sends; --",
    [1, "a", None],
    {"k": {"n": [None, {"deep": "er"}]}},
    [],
    {},
]
any_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8)),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=10,
)


def _storable(rng: random.Random) -> Any:
    return copy.deepcopy(rng.choice(STORABLE_VALUES))


def good_event(rng: random.Random, prefix: str) -> dict[str, Any]:
    when = EPOCH_2026 + rng.randint(0, 400 * 86400)
    event = {
        "id": f"{prefix}-good-{next(_ids)}",
        "event_type": rng.choice([SEND, "users.messages.pushnotification.Open", "custom.Thing"]),
        "time": rng.choice(
            [when, when + rng.random(), time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when))]
        ),
        "user": {
            "user_id": f"u{rng.randint(0, 999)}",
            "external_user_id": rng.choice([None, f"fan-{rng.randint(0, 99)}"]),
        },
        "properties": {
            "campaign_id": "sim-campaign-tipoff",
            "dispatch_id": rng.choice([None, "fuzz-disp-1", "fuzz-disp-2"]),
            "send_id": rng.choice([None, f"nba_{rng.getrandbits(64):x}"]),
        },
    }
    for key in rng.sample(["platform", "app_id", "extra", "ad_id"], rng.randint(0, 2)):
        event["properties"][key] = _storable(rng)
    return event


# Defects that keep quotes and brackets balanced: the batch around them must stay readable.
# Each is (where, replacement bytes); "time"/"id"/"note" replace that member's value.
DEFECTS: list[tuple[str, bytes]] = [
    ("time", b"NaN"),
    ("time", b"Infinity"),
    ("time", b"-Infinity"),
    ("time", b"1e20"),
    ("time", b"-1e20"),
    ("time", b"1e400"),
    ("time", b"86400"),
    ("time", b"true"),
    ("time", b'"yesterday-ish"'),
    ("time", b'"9999-12-31T23:59:59-23:59"'),
    ("time", b"null"),
    ("id", b'""'),
    ("id", b"12345"),
    ("id", b'"' + b"x" * 65 + b'"'),
    ("id", b'"a\\u0000b"'),
    ("id", b"null"),
    ("note", b'"a\\u0000b"'),
    ("note", b'"\\ud800"'),
    ("note", b'"\\udfff tail"'),
    ("note", b'"\xff\xfe bad utf-8"'),
    ("note", b"1" + b"0" * 50),
    ("note", b"[" * 40 + b"]" * 40),
    ("note", b"[" * 3000 + b"]" * 3000),
    ("note", b"NaN"),
    ("note", b"tru"),
    ("note", b'"ok",, "x": 1'),
    ("note", b'"ok" "x": 1'),
    ("user", b'"not an object"'),
    ("whole", b"[1, 2, 3]"),
    ("whole", b'"just a string"'),
    ("whole", b"42"),
    ("whole", b"null"),
    ("whole", b"{}"),
]


def _with_defect(event: dict[str, Any], where: str, value: bytes) -> bytes:
    if where == "whole":
        return value
    template = dict(event)
    placeholder = "@@defect@@"
    if where == "note":
        template["properties"] = {**template["properties"], "note": placeholder}
    else:
        template[where] = placeholder
    return json.dumps(template).encode().replace(json.dumps(placeholder).encode(), value)


@dataclass(frozen=True)
class CurrentsCase:
    body: bytes
    envelope_ok: bool  # a well-formed {"events": [...]} with at most 1000 elements
    elements: int
    good_ids: tuple[str, ...]  # must be stored
    bad_raw: tuple[bytes, ...]  # must be in the dead letters, byte for byte


@st.composite
def currents_cases(draw: st.DrawFn) -> CurrentsCase:
    prefix = f"fz{draw(st.integers(0, 2**32))}"
    if draw(st.integers(0, 9)) == 0:  # a body that is not a batch at all
        body = draw(
            st.one_of(
                st.binary(max_size=200),
                any_json.map(lambda v: json.dumps(v).encode()),
                st.integers(2000, 8000).map(lambda n: b'{"events": ' + b"[" * n + b"]" * n + b"}"),
                st.just(b'{"events": {}}'),
            )
        )
        return CurrentsCase(body, False, 0, (), ())
    parts: list[bytes] = []
    good_ids: list[str] = []
    bad: list[bytes] = []
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["good", "good", "good", "redelivered", "defect", "defect", "random"]))
        if kind == "redelivered" and parts:
            parts.append(draw(st.sampled_from(parts)))
            continue
        event = good_event(random.Random(draw(st.integers(0, 2**32))), prefix)
        if kind in ("good", "redelivered"):
            parts.append(json.dumps(event).encode())
            good_ids.append(event["id"])
        elif kind == "defect":
            raw = _with_defect(event, *draw(st.sampled_from(DEFECTS)))
            parts.append(raw)
            bad.append(raw)
        else:
            parts.append(json.dumps(draw(any_json)).encode())
    separator = draw(st.sampled_from([b",", b", ", b" ,\n  "]))
    body = (
        b'{"events": [' + separator.join(parts) + b"]" + draw(st.sampled_from([b"}", b', "meta": {"v": 1}}']))
    )
    return CurrentsCase(body, True, len(parts), tuple(good_ids), tuple(bad))


def check_currents_case(
    client: httpx.Client, engine: sa.Engine, token: str, case: CurrentsCase, tally: WebhookTally
) -> None:
    response = client.post(
        "/currents",
        content=case.body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    tally.cases += 1
    tally.events_sent += case.elements
    tally.good_events += len(case.good_ids)
    tally.statuses[response.status_code] += 1
    assert response.status_code < 500, f"{response.status_code}: {response.text[:300]}"
    answer = response.json()
    if response.status_code == 400:
        assert not case.envelope_ok, answer
        tally.refused_bodies += 1
        assert _kept(engine, [case.body]) == 1, "a refused body must be kept whole"
        return
    assert response.status_code == 200, answer
    assert answer["received"] == case.elements if case.envelope_ok else True, answer
    assert answer["received"] == answer["stored"] + answer["duplicates"] + answer["quarantined"], answer
    tally.stored += answer["stored"]
    tally.duplicates += answer["duplicates"]
    tally.quarantined_events += answer["quarantined"]
    missing = set(case.good_ids) - _stored(engine, case.good_ids)
    assert not missing, f"good events lost: {sorted(missing)[:5]}"
    assert _kept(engine, case.bad_raw) == len(set(case.bad_raw)), (
        "a bad event was not quarantined byte for byte"
    )


def _stored(engine: sa.Engine, ids: tuple[str, ...]) -> set[str]:
    if not ids:
        return set()
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT event_id FROM notification_sends WHERE event_id = ANY(:ids)"), {"ids": list(ids)}
        )
        return set(rows.scalars())


def _kept(engine: sa.Engine, raws: Any) -> int:
    digests = {hashlib.sha256(raw).hexdigest(): raw for raw in raws}
    if not digests:
        return 0
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT raw_sha256, raw FROM currents_dead_letters WHERE raw_sha256 = ANY(:d)"),
            {"d": list(digests)},
        ).all()
    return sum(1 for r in rows if bytes(r.raw) == digests[r.raw_sha256])


def fuzz_settings(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
    )


def run_webhook_fuzz(
    base_url: str,
    engine: sa.Engine,
    token: str,
    *,
    max_examples: int,
    random_seed: int,
    tally: WebhookTally | None = None,
) -> WebhookTally:
    tally = tally or WebhookTally()
    with httpx.Client(base_url=base_url, timeout=60) as client:

        @seed(random_seed)
        @fuzz_settings(max_examples)
        @given(case=currents_cases())
        def every_body_is_kept_or_refused_with_a_reason(case: CurrentsCase) -> None:
            check_currents_case(client, engine, token, case, tally)

        every_body_is_kept_or_refused_with_a_reason()
    return tally


def concurrent_overlapping_deliveries(
    base_url: str, token: str, *, deliveries: int, random_seed: int
) -> Counter[int]:
    """``deliveries`` batches posted at once, each 100 of 200 events in a random order (they
    overlap, so their locks would clash in batch order). Returns the status counts."""
    rng = random.Random(random_seed)
    prefix = f"conc{rng.getrandbits(32)}"
    events = [
        {
            "id": f"{prefix}-{i}",
            "event_type": SEND,
            "time": EPOCH_2026 + rng.randint(0, 900),
            "properties": {"dispatch_id": f"fuzz-disp-{i % 2 + 1}"},
        }
        for i in range(200)
    ]
    bodies = [json.dumps({"events": rng.sample(events, 100)}).encode() for _ in range(deliveries)]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    async def deliver() -> list[int]:
        limits = httpx.Limits(max_connections=deliveries, max_keepalive_connections=deliveries)
        async with httpx.AsyncClient(base_url=base_url, timeout=300, limits=limits) as client:
            responses = await asyncio.gather(
                *(client.post("/currents", content=b, headers=headers) for b in bodies)
            )
        return [r.status_code for r in responses]

    return Counter(asyncio.run(deliver()))


# -- upstream payloads ---------------------------------------------------------------------------

GAME_DAY = date(2025, 11, 5)


def _bdl_team(tricode: str, players: bool = False) -> dict[str, Any]:
    team: dict[str, Any] = {"id": 1, "abbreviation": tricode, "city": "X", "full_name": "X", "name": "X"}
    if players:
        team["players"] = [
            {
                "min": "34:12",
                "pts": 20,
                "reb": 5,
                "ast": 7,
                "player": {"id": 101, "first_name": "A", "last_name": "B"},
            },
            {
                "min": "",
                "pts": 0,
                "reb": 0,
                "ast": 0,
                "player": {"id": 102, "first_name": "C", "last_name": "D"},
            },
        ]
    return team


def _nbac_team(tricode: str, score: int, players: bool = False) -> dict[str, Any]:
    team: dict[str, Any] = {"teamTricode": tricode, "score": score}
    if players:
        team["players"] = [
            {
                "personId": 201,
                "name": "E F",
                "played": "1",
                "statistics": {"minutes": "PT34M12.00S", "points": 20, "reboundsTotal": 5, "assists": 7},
            },
            {
                "personId": 202,
                "name": "G H",
                "played": "0",
                "statistics": {"minutes": "", "points": 0, "reboundsTotal": 0, "assists": 0},
            },
        ]
    return team


TEMPLATES: dict[str, dict[str, Any]] = {
    "bdl_games": {
        "data": [
            {
                "id": 1,
                "date": "2025-11-05",
                "season": 2025,
                "status": "2025-11-06T00:00:00Z",
                "period": 0,
                "time": None,
                "postseason": False,
                "home_team_score": 0,
                "visitor_team_score": 0,
                "datetime": "2025-11-06T00:00:00.000Z",
                "home_team": _bdl_team("CLE"),
                "visitor_team": _bdl_team("PHI"),
            },
            {
                "id": 2,
                "date": "2025-11-05T00:00:00.000Z",
                "season": 2025,
                "status": "Final",
                "period": 4,
                "time": "Final",
                "postseason": False,
                "home_team_score": 110,
                "visitor_team_score": 102,
                "home_team": _bdl_team("BOS"),
                "visitor_team": _bdl_team("NYK"),
            },
        ],
        "meta": {"per_page": 100, "next_cursor": 3},
    },
    "bdl_box_scores": {
        "data": [
            {
                "date": "2025-11-05",
                "season": 2025,
                "status": "Final",
                "period": 4,
                "home_team_score": 110,
                "visitor_team_score": 102,
                "home_team": _bdl_team("BOS", True),
                "visitor_team": _bdl_team("NYK", True),
            },
        ]
    },
    "nbac_schedule": {
        "leagueSchedule": {
            "seasonYear": "2025-26",
            "gameDates": [
                {
                    "gameDate": "11/05/2025 00:00:00",
                    "games": [
                        {
                            "gameId": "0022500171",
                            "gameStatus": 1,
                            "gameStatusText": "7:00 pm ET",
                            "gameDateTimeUTC": "2025-11-06T00:00:00Z",
                            "gameDateEst": "2025-11-05T00:00:00Z",
                            "homeTeam": _nbac_team("CLE", 0),
                            "awayTeam": _nbac_team("PHI", 0),
                        },
                        {
                            "gameId": "0022500172",
                            "gameStatus": 3,
                            "gameStatusText": "Final",
                            "gameDateTimeUTC": "2025-11-06T03:00:00Z",
                            "homeTeam": _nbac_team("LAL", 101),
                            "awayTeam": _nbac_team("GSW", 99),
                        },
                    ],
                },
                {
                    "gameDate": "11/06/2025 00:00:00",
                    "games": [
                        {
                            "gameId": "0022500180",
                            "gameStatus": 1,
                            "gameStatusText": "PPD",
                            "gameDateTimeUTC": "2025-11-07T00:00:00Z",
                            "homeTeam": _nbac_team("MIA", 0),
                            "awayTeam": _nbac_team("ORL", 0),
                        },
                    ],
                },
            ],
        }
    },
    "nbac_scoreboard": {
        "scoreboard": {
            "gameDate": "2025-11-05",
            "games": [
                {
                    "gameId": "0022500171",
                    "gameStatus": 2,
                    "gameStatusText": "Q3 5:00",
                    "gameTimeUTC": "2025-11-06T00:00:00Z",
                    "homeTeam": _nbac_team("CLE", 70),
                    "awayTeam": _nbac_team("PHI", 65),
                },
            ],
        }
    },
    "nbac_box_score": {
        "game": {
            "gameId": "0022500171",
            "gameStatus": 3,
            "gameStatusText": "Final",
            "gameTimeUTC": "2025-11-06T00:00:00Z",
            "homeTeam": _nbac_team("CLE", 110, True),
            "awayTeam": _nbac_team("PHI", 102, True),
        }
    },
}

PARSERS: dict[str, Callable[[Any], list[Any]]] = {
    "bdl_games": lambda payload: parse.parse_bdl_games([payload]),
    "bdl_box_scores": parse.parse_bdl_box_scores,
    "nbac_schedule": lambda payload: parse.parse_nbac_schedule(payload, GAME_DAY),
    "nbac_scoreboard": parse.parse_nbac_scoreboard,
    "nbac_box_score": lambda payload: parse.parse_nbac_box_score(payload, GAME_DAY),
}

HOSTILE_STRINGS = [
    "",
    " ",
    "\x00",
    "\ud800",
    "null",
    "0",
    "-1",
    "1e400",
    "NaN",
    "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00+01:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "2025-02-30",
    "2025-11-05T25:00:00Z",
    "12/31/9999 23:59:59",
    "01/01/0001 00:00:00",
    "2025-26",
    "2025-27",
    "PT",
    "PT99999999999999999999M",
    "PT" + "9" * 400 + "M",
    "PT1H2M3.5S",
    "99:99",
    "34:60",
    "-5:00",
    "9" * 5000,
    "Final",
    "Final/OT",
    "final",
    "PPD",
    "Postponed",
    "Cancelled",
    "TBD",
    "1st Qtr",
    "Halftime",
    "7:00 pm ET",
    "13:99 pm ET",
    "0:00 am ET",
    "CLE",
    "cle",
    "XXX",
    "0022500171",
    "1022500171",
    "00225001710",
    "ÿ" * 10,
]


def _hostile(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if roll < 0.45:
        return rng.choice(HOSTILE_STRINGS)
    if roll < 0.75:
        return rng.choice(
            [
                None,
                True,
                False,
                0,
                -1,
                2**63,
                -(2**70),
                10**400,
                1.5,
                float("nan"),
                float("inf"),
                -float("inf"),
                1e308,
            ]
        )
    if depth >= 2 or roll < 0.85:
        return "".join(chr(rng.randint(0, 0x2FFF)) for _ in range(rng.randint(0, 6)))
    if roll < 0.93:
        return [_hostile(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {
        rng.choice(["id", "x", "", "gameId", "data"]): _hostile(rng, depth + 1)
        for _ in range(rng.randint(0, 3))
    }


def _paths(value: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield at
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*at, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*at, index))


def mutate(document: Any, rng: random.Random) -> Any:
    """One random edit: mostly a leaf replaced by a hostile value, sometimes a member deleted,
    a list element duplicated or a whole subtree replaced."""
    paths = list(_paths(document))
    leaves = [p for p in paths if p and not isinstance(_at(document, p), (dict, list))]
    path = rng.choice(leaves) if leaves and rng.random() < 0.7 else rng.choice(paths)
    operation = rng.choice(["replace", "replace", "replace", "delete", "duplicate"])
    if not path:
        return _hostile(rng)
    parent, last = _at(document, path[:-1]), path[-1]
    if operation == "delete":
        del parent[last]
    elif operation == "duplicate" and isinstance(parent, list):
        parent.insert(last, copy.deepcopy(parent[last]))
    else:
        parent[last] = _hostile(rng)
    return document


def _at(document: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        document = document[step]
    return document


@st.composite
def parser_cases(draw: st.DrawFn) -> tuple[str, Any]:
    name = draw(st.sampled_from(sorted(TEMPLATES)))
    if draw(st.integers(0, 19)) == 0:
        return name, draw(any_json)
    rng = random.Random(draw(st.integers(0, 2**64)))
    document = copy.deepcopy(TEMPLATES[name])
    for _ in range(draw(st.integers(1, 3))):
        document = mutate(document, rng)
    return name, document


def check_parser_case(name: str, payload: Any, tally: ParserTally) -> None:
    tally.cases += 1
    tally.by_parser[name] += 1
    try:
        rows = PARSERS[name](payload)
    except PipelineError as error:
        assert error.category == ErrorCategory.VALIDATION, error
        tally.refused_validation += 1
        return
    assert isinstance(rows, list)
    tally.parsed += 1
    tally.rows += len(rows)


def run_parser_fuzz(*, max_examples: int, random_seed: int, tally: ParserTally | None = None) -> ParserTally:
    tally = tally or ParserTally()
    for name, template in TEMPLATES.items():  # the templates themselves are valid
        assert PARSERS[name](copy.deepcopy(template)), name

    @seed(random_seed)
    @fuzz_settings(max_examples)
    @given(case=parser_cases())
    def every_payload_parses_or_is_a_validation_error(case: tuple[str, Any]) -> None:
        note(f"parser {case[0]}: {case[1]!r:.4000}")
        check_parser_case(*case, tally)

    every_payload_parses_or_is_a_validation_error()
    return tally


# -- the benchmark -------------------------------------------------------------------------------


def run_fuzz_bench(*, webhook_cases: int, parser_cases: int, concurrency: int, seed: int) -> dict[str, Any]:
    """Everything above at scale on a scratch database (``nba_notify_fuzz``, re-created) of the
    embedded or configured PostgreSQL, through a receiver on loopback."""
    import os

    from nba_notify.lib.config import Settings
    from nba_notify.lib.db import engine as db_engine
    from nba_notify.lib.db.migrate import upgrade
    from nba_notify.lib.web.serve import BackgroundServer
    from nba_notify.webhook.app import create_app

    token = "fuzz-currents-token"
    figures: dict[str, Any] = {}
    with ExitStack() as stack:
        external = os.environ.get("NBA_NOTIFY_DATABASE_URL")
        server = (
            db_engine.with_database(external, "postgres") if external else db_engine.start_embedded_postgres()
        )
        db_engine.drop_database(server, "nba_notify_fuzz")
        db_engine.ensure_database(server, "nba_notify_fuzz")
        url = db_engine.with_database(server, "nba_notify_fuzz")
        upgrade(url)
        engine = db_engine.get_engine(url)
        settings_ = Settings(**{**Settings.from_env().__dict__, "currents_token": token})
        receiver = stack.enter_context(BackgroundServer(create_app(database_url=url, settings=settings_)))

        started = time.perf_counter()
        webhook = run_webhook_fuzz(receiver.url, engine, token, max_examples=webhook_cases, random_seed=seed)
        figures["webhook"] = {**webhook.as_dict(), "seconds": round(time.perf_counter() - started, 1)}

        started = time.perf_counter()
        statuses = concurrent_overlapping_deliveries(
            receiver.url, token, deliveries=concurrency, random_seed=seed
        )
        figures["concurrent"] = {
            "deliveries": concurrency,
            "statuses": dict(sorted(statuses.items())),
            "5xx": sum(n for s, n in statuses.items() if s >= 500),
            "seconds": round(time.perf_counter() - started, 1),
        }

        started = time.perf_counter()
        parsers = run_parser_fuzz(max_examples=parser_cases, random_seed=seed)
        figures["parsers"] = {**parsers.as_dict(), "seconds": round(time.perf_counter() - started, 1)}
        with engine.connect() as conn:
            figures["dead_letters_by_reason"] = dict(
                conn.execute(
                    sa.text("SELECT reason, count(*) FROM currents_dead_letters GROUP BY reason ORDER BY 1")
                )
                .tuples()
                .all()
            )
        stack.callback(db_engine.dispose_engines)
    figures["ok"] = figures["webhook"]["5xx"] == 0 and figures["concurrent"]["5xx"] == 0
    return figures


def print_fuzz_figures(figures: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(figures, indent=2))
        return
    for section in ("webhook", "concurrent", "parsers"):
        print(f"{section}:")
        for key, value in figures[section].items():
            print(f"  {key:>26}: {value}")
    print(f"  {'dead-letter rows by reason':>26}: {figures['dead_letters_by_reason']}")
    print(f"  {'ok':>26}: {figures['ok']}")
