"""Targeted reprocessing (seed 004 C1): from the zero-record audit to a Dagster backfill of
exactly the partitions that lost data — never a bulk re-run of dates that have data.

Per real-loss game day:

* ``reprocess_from_raw`` when a stored payload with records exists: phase-2 assets only
  (``games`` and/or ``player_box_scores``), reading what was already fetched;
* ``rescrape`` otherwise: the raw asset of each input scraper without a usable payload, then
  the phase-2 assets downstream and ``source_discrepancies`` (a fresh scrape is compared).

Days needing the same assets form one backfill (a backfill has one asset selection).
Backfills are launched through the Dagster webserver's GraphQL API (``launchPartitionBackfill``,
the same public mutation the UI's "Materialize" dialog sends), so they show up in the UI's
Backfills tab and run under the daemon with the assets' single-run backfill policy.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import httpx

from nba_notify.lib.errors import ErrorCategory, PipelineError
from nba_notify.lib.quality.audit import AuditRow
from nba_notify.lib.quality.discrepancies import BDL_BOX_SCORES, BDL_GAMES, NBAC_BOX_SCORES, NBAC_SCHEDULE

REPROCESS_FROM_RAW = "reprocess_from_raw"
RESCRAPE = "rescrape"

GAMES, PLAYER_BOX_SCORES = "games", "player_box_scores"
PLAYER_PROPS, GAME_LINES = "player_props", "game_lines"
ODDS_API_PROPS, ODDS_API_LINES = "odds_api_props", "odds_api_lines"
PHASE2_ORDER = (GAMES, PLAYER_BOX_SCORES, PLAYER_PROPS, GAME_LINES)
SOURCE_DISCREPANCIES = "source_discrepancies"
BOX_SCORE_COVERAGE = "box_score_coverage"

# player_box_scores keys its rows to the day's games, so re-processing games re-processes it.
PHASE2_DOWNSTREAM = {
    GAMES: (GAMES, PLAYER_BOX_SCORES),
    PLAYER_BOX_SCORES: (PLAYER_BOX_SCORES,),
    PLAYER_PROPS: (PLAYER_PROPS,),
    GAME_LINES: (GAME_LINES,),
}
SCRAPER_FEEDS = {
    BDL_GAMES: GAMES,
    NBAC_SCHEDULE: GAMES,
    BDL_BOX_SCORES: PLAYER_BOX_SCORES,
    NBAC_BOX_SCORES: PLAYER_BOX_SCORES,
    ODDS_API_PROPS: PLAYER_PROPS,
    ODDS_API_LINES: GAME_LINES,
}
# NBA.com box scores are fetched for the games its stored schedule lists as started. A game
# missing from a source's listing is missing from its box scores too, and is reported once, as
# a listing gap: re-scraping a listing re-scrapes that source's box scores with it.
SCRAPER_RAW_ASSETS = {
    BDL_GAMES: ("bdl_games_raw", "bdl_box_scores_raw"),
    NBAC_SCHEDULE: ("nbac_schedule_raw", "nbac_box_scores_raw"),
    BDL_BOX_SCORES: ("bdl_box_scores_raw",),
    NBAC_BOX_SCORES: ("nbac_schedule_raw", "nbac_box_scores_raw"),
    ODDS_API_PROPS: ("odds_api_props_raw",),
    ODDS_API_LINES: ("odds_api_lines_raw",),
}
# The comparison(s) that judge a scraper's data after a re-scrape. A listing re-scrape rebuilds
# games, which also changes which final games need a box score.
EVALUATION_ASSETS = {
    BDL_GAMES: (SOURCE_DISCREPANCIES, BOX_SCORE_COVERAGE),
    NBAC_SCHEDULE: (SOURCE_DISCREPANCIES, BOX_SCORE_COVERAGE),
    BDL_BOX_SCORES: (BOX_SCORE_COVERAGE,),
    NBAC_BOX_SCORES: (BOX_SCORE_COVERAGE,),
    # props and lines are judged by their own asset checks, not by the source comparisons
    ODDS_API_PROPS: (),
    ODDS_API_LINES: (),
}
EVALUATION_ORDER = (SOURCE_DISCREPANCIES, BOX_SCORE_COVERAGE)
RAW_ORDER = (
    "bdl_games_raw",
    "bdl_box_scores_raw",
    "nbac_schedule_raw",
    "nbac_box_scores_raw",
    "odds_api_props_raw",
    "odds_api_lines_raw",
)

REPROCESS_TAG = "nba_notify/reprocess"
DEFAULT_WEBSERVER_URL = "http://127.0.0.1:3000"  # where `nba-notify dev` serves the UI
WEBSERVER_URL_ENV = "NBA_NOTIFY_DAGSTER_URL"


def resolve_webserver_url(configured: str | None = None) -> str:
    return configured or os.environ.get(WEBSERVER_URL_ENV) or DEFAULT_WEBSERVER_URL


@dataclass(frozen=True)
class PartitionPlan:
    partition_key: str
    action: str
    processors: tuple[str, ...]
    scrapers: tuple[str, ...]
    asset_keys: tuple[str, ...]
    root_causes: tuple[str, ...]


@dataclass(frozen=True)
class BackfillGroup:
    action: str
    asset_keys: tuple[str, ...]
    partition_keys: tuple[str, ...]

    @property
    def title(self) -> str:
        return f"reprocess: {self.action} ({len(self.partition_keys)} game day(s))"


@dataclass(frozen=True)
class ReprocessPlan:
    partitions: tuple[PartitionPlan, ...]

    @property
    def partition_keys(self) -> list[str]:
        return [p.partition_key for p in self.partitions]

    @property
    def groups(self) -> list[BackfillGroup]:
        grouped: dict[tuple[str, tuple[str, ...]], list[str]] = {}
        for p in self.partitions:
            grouped.setdefault((p.action, p.asset_keys), []).append(p.partition_key)
        return [
            BackfillGroup(action, keys, tuple(sorted(parts)))
            for (action, keys), parts in sorted(grouped.items())
        ]

    def only(self, partition_keys: Iterable[str]) -> ReprocessPlan:
        """The plan restricted to ``partition_keys``; a key that is not a real-loss day is an
        error, never silently re-run (dates that have data are not reprocessed)."""
        wanted = list(dict.fromkeys(partition_keys))
        known = {p.partition_key: p for p in self.partitions}
        unknown = [k for k in wanted if k not in known]
        if unknown:
            raise PipelineError(
                ErrorCategory.VALIDATION,
                f"not in the reprocess plan (no real data loss recorded): {', '.join(unknown)}",
                details={"not_planned": unknown, "planned": sorted(known)},
                recovery="Run `nba-notify reprocess --plan` to see the real-loss days; "
                "dates that have data are never re-run.",
            )
        return ReprocessPlan(tuple(known[k] for k in sorted(wanted)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "partitions": [asdict(p) for p in self.partitions],
            "backfills": [
                {
                    "action": g.action,
                    "asset_keys": list(g.asset_keys),
                    "partition_keys": list(g.partition_keys),
                }
                for g in self.groups
            ],
        }


def describe_plan(plan: ReprocessPlan) -> list[str]:
    """One line per game day, then one per backfill: what ``--plan`` prints."""
    if not plan.partitions:
        return ["nothing to reprocess: no real data loss on record"]
    lines = [
        f"{p.partition_key}  {p.action:<18} lost: {', '.join(p.processors)}"
        + (f"; re-scrape {', '.join(p.scrapers)}" if p.scrapers else "")
        + f"  ({', '.join(p.root_causes)})"
        for p in plan.partitions
    ]
    lines.append("")
    for g in plan.groups:
        lines.append(f"backfill {g.action}: {', '.join(g.asset_keys)} x {len(g.partition_keys)} day(s)")
    return lines


def build_plan(rows: Iterable[AuditRow]) -> ReprocessPlan:
    """Exactly the real-loss game days of the audit, each with its recovery action."""
    by_day: dict[date, list[AuditRow]] = {}
    for row in rows:
        if row.audit_class == "real_loss":
            by_day.setdefault(row.data_date, []).append(row)
    return ReprocessPlan(tuple(_partition_plan(day, lost) for day, lost in sorted(by_day.items())))


def _partition_plan(day: date, lost: Sequence[AuditRow]) -> PartitionPlan:
    processors = tuple(p for p in PHASE2_ORDER if any(r.processor_name == p for r in lost))
    scrapers = tuple(
        sorted({s for r in lost if r.recovery_action == RESCRAPE for s in r.scrapers_without_raw})
    )
    phase2 = {asset for p in processors for asset in PHASE2_DOWNSTREAM[p]}
    if scrapers:
        raw = {asset for s in scrapers for asset in SCRAPER_RAW_ASSETS[s]}
        phase2 |= {asset for s in scrapers for asset in PHASE2_DOWNSTREAM[SCRAPER_FEEDS[s]]}
        assets = (
            *(a for a in RAW_ORDER if a in raw),
            *(a for a in PHASE2_ORDER if a in phase2),
            *(a for a in EVALUATION_ORDER if any(a in EVALUATION_ASSETS[s] for s in scrapers)),
        )
        action = RESCRAPE
    else:
        assets = tuple(a for a in PHASE2_ORDER if a in phase2)
        action = REPROCESS_FROM_RAW
    return PartitionPlan(
        partition_key=day.isoformat(),
        action=action,
        processors=processors,
        scrapers=scrapers,
        asset_keys=assets,
        root_causes=tuple(sorted({r.root_cause for r in lost})),
    )


# -- launching -------------------------------------------------------------------------------

LAUNCH_BACKFILL = """
mutation LaunchReprocessBackfill($backfillParams: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $backfillParams) {
    __typename
    ... on LaunchBackfillSuccess { backfillId launchedRunIds }
    ... on Error { message }
  }
}
"""


@dataclass(frozen=True)
class LaunchedBackfill:
    backfill_id: str
    action: str
    asset_keys: tuple[str, ...]
    partition_keys: tuple[str, ...]
    tags: dict[str, str] = field(default_factory=dict)


def backfill_params(group: BackfillGroup, tags: dict[str, str] | None = None) -> dict[str, Any]:
    all_tags = {REPROCESS_TAG: group.action, **(tags or {})}
    return {
        "assetSelection": [{"path": [key]} for key in group.asset_keys],
        "partitionNames": list(group.partition_keys),
        "title": group.title,
        "description": "Targeted reprocessing from the zero-record audit: " + ", ".join(group.partition_keys),
        "tags": [{"key": k, "value": v} for k, v in sorted(all_tags.items())],
    }


def launch_backfills(
    plan: ReprocessPlan,
    webserver_url: str,
    *,
    tags: dict[str, str] | None = None,
    timeout: float = 30.0,
    transport: httpx.BaseTransport | None = None,
) -> list[LaunchedBackfill]:
    """One backfill per group of the plan, through ``{webserver_url}/graphql``."""
    if not plan.partitions:
        return []
    launched = []
    with httpx.Client(base_url=webserver_url.rstrip("/"), timeout=timeout, transport=transport) as http:
        for group in plan.groups:
            params = backfill_params(group, tags)
            try:
                response = http.post(
                    "/graphql", json={"query": LAUNCH_BACKFILL, "variables": {"backfillParams": params}}
                )
            except httpx.HTTPError as exc:
                raise PipelineError(
                    ErrorCategory.NETWORK,
                    f"Dagster webserver at {webserver_url} unreachable: {exc}",
                    details={"webserver_url": webserver_url, "launched": [b.backfill_id for b in launched]},
                    recovery="Start it (`nba-notify dev`) or pass --webserver-url; backfills "
                    "already launched are listed in details.",
                ) from exc
            result = _launch_result(response, webserver_url, group)
            launched.append(
                LaunchedBackfill(
                    result, group.action, group.asset_keys, group.partition_keys, dict(tags or {})
                )
            )
    return launched


def _launch_result(response: httpx.Response, url: str, group: BackfillGroup) -> str:
    if response.status_code != 200:
        raise PipelineError(
            ErrorCategory.API,
            f"launchPartitionBackfill: HTTP {response.status_code} from {url}",
            details={"body": response.text[:500], "partitions": list(group.partition_keys)},
            status_code=response.status_code,
        )
    body = response.json()
    data = (body.get("data") or {}).get("launchPartitionBackfill") or {}
    if data.get("__typename") == "LaunchBackfillSuccess":
        return str(data["backfillId"])
    message = data.get("message") or "; ".join(e.get("message", "") for e in body.get("errors") or [])
    raise PipelineError(
        ErrorCategory.API,
        f"launchPartitionBackfill refused: {data.get('__typename', 'error')}: {message}",
        details={"partitions": list(group.partition_keys), "asset_keys": list(group.asset_keys)},
    )
