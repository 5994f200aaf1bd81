"""``nba-notify doctor``: is this deployment able to run? A readable pass/fail report.

Checks, in order: the mode and its settings; each configured upstream (reachable,
authenticated, and for Braze: the key's permissions for every call the sync makes and the
campaign's existence); the Currents token; the database and its migrations; the Dagster
instance; the daemon's heartbeat; schedules and sensors running.

Every probe is read-only or provably harmless at the real services: Braze write permissions are
probed with a schedule id that cannot exist (the answer is "not found", or "not permitted"),
and send-id creation with an invalid id (refused before anything is created). Schedule
*creation* is never probed: no request can test it without the risk of a real push."""

from __future__ import annotations

import json
import os
import stat
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from nba_notify.lib.clients.braze import DELETE_PATH, LIST_PATH, SEND_ID_CREATE_PATH, UPDATE_PATH
from nba_notify.lib.clients.nbac import (
    BROWSER_HEADERS,
    CDN_SCHEDULE_PATH,
    STATS_HEADERS,
    STATS_SCHEDULE_PATH,
    season_param,
)
from nba_notify.lib.config import SIM_CURRENTS_TOKEN, ConfigurationError, Mode, Settings, current_mode
from nba_notify.lib.ingest.parse import EASTERN, season_for_date
from nba_notify.lib.redact import mask_url

PASS, WARN, FAIL = "PASS", "WARN", "FAIL"
PROBE_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# Dagster's daemon beats every 30 s; older than this it is not running.
HEARTBEAT_FRESH_SECONDS = 90
# What runs unattended; a stopped one means nothing happens on its own.
EXPECTED_RUNNING = (
    "daily_ingest_schedule",
    "todays_schedule_refresh",
    "braze_sync_schedule",
    "gap_detection_schedule",
    "pre_send_check_schedule",
    "reconcile_schedule",
    "analytics_schedule",
    "live_scoreboard_sensor",
    "scrape_retry_sensor",
    "sync_execution_tracker",
    "alert_evaluator",
)


@dataclass
class Check:
    area: str
    status: str  # PASS | WARN | FAIL
    detail: str
    fix: str = ""


@dataclass
class Report:
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(check.status != FAIL for check in self.checks)

    def lines(self) -> list[str]:
        out = []
        for check in self.checks:
            out.append(f"{check.status}  {check.area:<18} {check.detail}")
            if check.fix and check.status != PASS:
                out.append(f"      {'':<18} fix: {check.fix}")
        failed = sum(c.status == FAIL for c in self.checks)
        warned = sum(c.status == WARN for c in self.checks)
        out.append(
            f"{'OK' if self.ok else 'NOT READY'}: {len(self.checks)} checks, {failed} failed, {warned} warning(s)"
        )
        return out

    def to_json(self) -> str:
        return json.dumps({"ok": self.ok, "checks": [asdict(c) for c in self.checks]}, indent=2)


# -- upstreams --------------------------------------------------------------------------------


def _get(url: str, **kwargs: Any) -> httpx.Response:
    """Status and headers only: large bodies (a season's schedule) are not downloaded."""
    with httpx.stream("GET", url, timeout=PROBE_TIMEOUT, follow_redirects=True, **kwargs) as response:
        if response.status_code >= 400 or "json" not in response.headers.get("content-type", ""):
            response.read()
        return response


def _unreachable(area: str, url: str, exc: Exception, variable: str) -> Check:
    if current_mode() is Mode.SIMULATOR:
        fix = "simulator mode: start it (`nba-notify dev` or `nba-notify sim`) or point NBA_NOTIFY_SIM_URL at it"
    else:
        fix = f"check {variable}, DNS and egress to that host"
    return Check(area, FAIL, f"{mask_url(url)} unreachable ({type(exc).__name__}: {str(exc)[:120]})", fix)


def check_bdl(settings: Settings, today: datetime) -> Check:
    url = f"{settings.bdl_base_url}/v1/games"
    try:
        started = time.perf_counter()
        response = _get(
            url,
            params={"dates[]": today.date().isoformat(), "per_page": 1},
            headers={"Authorization": settings.bdl_api_key},
        )
    except httpx.HTTPError as exc:
        return _unreachable("bdl", url, exc, "BDL_BASE_URL")
    ms = round((time.perf_counter() - started) * 1000)
    if response.status_code == 200:
        return Check("bdl", PASS, f"{mask_url(settings.bdl_base_url)} reachable, key accepted ({ms} ms)")
    if response.status_code in (401, 403):
        return Check(
            "bdl",
            FAIL,
            f"key refused ({response.status_code})",
            "set BDL_API_KEY to a valid balldontlie key (sent as `Authorization: <key>`)",
        )
    return Check(
        "bdl", FAIL, f"unexpected answer {response.status_code} from {mask_url(url)}", "check BDL_BASE_URL"
    )


def check_nbac(settings: Settings, today: datetime) -> list[Check]:
    checks = []
    cdn = f"{settings.nbac_base_url}{CDN_SCHEDULE_PATH}"
    try:
        response = _get(cdn, headers=BROWSER_HEADERS)
        if response.status_code == 200:
            checks.append(
                Check("nba.com cdn", PASS, f"{mask_url(settings.nbac_base_url)} serves the season file")
            )
        else:
            checks.append(
                Check(
                    "nba.com cdn",
                    FAIL,
                    f"{response.status_code} for {CDN_SCHEDULE_PATH}",
                    "NBAC_BASE_URL must be the CDN (https://cdn.nba.com)",
                )
            )
    except httpx.HTTPError as exc:
        checks.append(_unreachable("nba.com cdn", cdn, exc, "NBAC_BASE_URL"))
    # The stats host serves past seasons; ask for last season, as a backfill would.
    season = season_param(season_for_date(today.astimezone(EASTERN).date()) - 1)
    stats = f"{settings.nbac_stats_base_url}{STATS_SCHEDULE_PATH}"
    try:
        response = _get(stats, params={"LeagueID": "00", "Season": season}, headers=STATS_HEADERS)
        if response.status_code == 200:
            checks.append(
                Check(
                    "nba.com stats", PASS, f"{mask_url(settings.nbac_stats_base_url)} serves season {season}"
                )
            )
        else:
            checks.append(
                Check(
                    "nba.com stats",
                    FAIL,
                    f"{response.status_code} for {STATS_SCHEDULE_PATH}?Season={season}",
                    "NBAC_STATS_BASE_URL must be the stats host (https://stats.nba.com)",
                )
            )
    except httpx.HTTPError as exc:
        checks.append(_unreachable("nba.com stats", stats, exc, "NBAC_STATS_BASE_URL"))
    return checks


def _braze_answer(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:160]
    return " ".join(str(part) for part in (body.get("message", ""), body.get("errors", "")) if part)[:200]


def check_braze(settings: Settings, now: datetime) -> list[Check]:
    """Authentication, the permission of every call the sync makes, and the campaign."""
    base = settings.braze_rest_endpoint.rstrip("/")
    headers = {"Authorization": f"Bearer {settings.braze_api_key}"}
    checks: list[Check] = []
    list_url = f"{base}{LIST_PATH}"
    try:
        end = (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        response = _get(list_url, params={"end_time": end}, headers=headers)
    except httpx.HTTPError as exc:
        return [_unreachable("braze", list_url, exc, "BRAZE_REST_ENDPOINT")]
    if response.status_code == 401:
        return [
            Check(
                "braze",
                FAIL,
                f"key refused: {_braze_answer(response)}",
                "BRAZE_API_KEY must be a REST API key of this workspace (BRAZE_REST_ENDPOINT is its cluster)",
            )
        ]
    checks.append(_permission("messages.schedule_broadcasts", response))
    probe_id = f"nba-notify-doctor-{uuid.uuid4().hex}"  # cannot exist: nothing to change
    campaign = {"campaign_id": settings.braze_campaign_id}
    for permission, path, body in (
        (
            "campaigns.trigger.schedule.update",
            UPDATE_PATH,
            {**campaign, "schedule_id": probe_id, "schedule": {"time": end}},
        ),
        ("campaigns.trigger.schedule.delete", DELETE_PATH, {**campaign, "schedule_id": probe_id}),
        # an id no send can have: refused as invalid, never created (the daily quota is untouched)
        ("sends.id.create", SEND_ID_CREATE_PATH, {**campaign, "send_id": "!" * 80}),
    ):
        try:
            answer = httpx.post(f"{base}{path}", json=body, headers=headers, timeout=PROBE_TIMEOUT)
        except httpx.HTTPError as exc:
            checks.append(_unreachable("braze", f"{base}{path}", exc, "BRAZE_REST_ENDPOINT"))
            continue
        checks.append(_permission(permission, answer))
        if path == DELETE_PATH:
            checks.append(_campaign_exists(settings.braze_campaign_id, answer))
    checks.append(
        Check(
            "braze",
            WARN,
            "campaigns.trigger.schedule.create not probed (any probe could send a real push)",
            "make sure the key has it; the first sync reports AUTH errors otherwise",
        )
    )
    return checks


def _permission(permission: str, response: httpx.Response) -> Check:
    if response.status_code in (401, 403):
        return Check(
            "braze permission",
            FAIL,
            f"{permission}: refused ({response.status_code}: {_braze_answer(response)})",
            f"grant the REST API key the {permission} permission (Braze: Settings -> APIs and Identifiers)",
        )
    if response.status_code >= 500 or response.status_code == 429:
        return Check(
            "braze permission", WARN, f"{permission}: Braze answered {response.status_code}", "retry later"
        )
    return Check("braze permission", PASS, f"{permission}: allowed")


def _campaign_exists(campaign_id: str, response: httpx.Response) -> Check:
    answer = _braze_answer(response)
    if response.status_code == 400 and "campaign" in answer.lower():
        return Check(
            "braze campaign",
            FAIL,
            f"campaign {campaign_id!r} not found: {answer}",
            "set BRAZE_CAMPAIGN_ID to the API-triggered campaign's id (Campaign -> API identifier)",
        )
    if response.status_code in (401, 403):
        return Check("braze campaign", WARN, "could not check the campaign (no delete permission)")
    return Check("braze campaign", PASS, f"campaign {campaign_id!r} exists")


def check_currents_token(settings: Settings) -> Check:
    token = settings.currents_token
    if not token:
        return Check(
            "currents",
            FAIL,
            "CURRENTS_TOKEN is not set: the receiver would refuse every Currents batch",
            "set CURRENTS_TOKEN and the same Bearer token in Braze's Currents connector",
        )
    if settings.production and (token == SIM_CURRENTS_TOKEN or len(token) < 16):
        return Check(
            "currents",
            FAIL,
            "CURRENTS_TOKEN is the simulator's or shorter than 16 characters",
            "use a long random token",
        )
    return Check("currents", PASS, f"CURRENTS_TOKEN set ({len(token)} characters)")


# -- database, instance, daemon, automation -----------------------------------------------------


def check_database(database_url: str | None) -> list[Check]:
    import sqlalchemy as sa

    from nba_notify.lib.db.engine import get_engine, resolve_database_url
    from nba_notify.lib.db.migrate import pending_revisions

    try:
        url = database_url or resolve_database_url()
        with get_engine(url).connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # any failure to connect is the finding itself
        return [
            Check(
                "database",
                FAIL,
                f"cannot connect to {mask_url(database_url or '(embedded)')}: {type(exc).__name__}",
                "check NBA_NOTIFY_DATABASE_URL / NBA_NOTIFY_DATABASE_PASSWORD",
            )
        ]
    checks = [Check("database", PASS, f"connected to {mask_url(url)}")]
    missing = pending_revisions(url)
    if missing:
        checks.append(
            Check("migrations", FAIL, f"missing revision(s) {', '.join(missing)}", "run `nba-notify migrate`")
        )
    else:
        checks.append(Check("migrations", PASS, "every revision applied"))
    return checks


def check_instance() -> tuple[list[Check], Any]:
    import dagster as dg

    home = os.environ.get("DAGSTER_HOME")
    if not home:
        return [Check("instance", FAIL, "DAGSTER_HOME is not set", 'eval "$(nba-notify env)"')], None
    config = Path(home) / "dagster.yaml"
    checks = []
    if config.exists():
        mode = stat.S_IMODE(config.stat().st_mode)
        if mode & 0o077:
            checks.append(
                Check(
                    "instance", FAIL, f"{config} is readable by others (mode {mode:o})", f"chmod 600 {config}"
                )
            )
    try:
        instance = dg.DagsterInstance.get()
    except Exception as exc:  # the finding
        return checks + [
            Check(
                "instance",
                FAIL,
                f"{config} does not load: {str(exc).splitlines()[0][:160]}",
                "run `nba-notify migrate`",
            )
        ], None
    storage = type(instance.run_storage).__name__
    status = PASS if "Postgres" in storage else WARN
    checks.append(Check("instance", status, f"DAGSTER_HOME={home} ({storage})", "use PostgreSQL storage"))
    return checks, instance


def check_daemon(instance: Any, now: float | None = None) -> Check:
    now = time.time() if now is None else now
    beats = instance.get_daemon_heartbeats() if instance is not None else {}
    if not beats:
        return Check(
            "daemon",
            FAIL,
            "no dagster-daemon has ever run on this instance",
            "start `nba-notify dev` or `dagster-daemon run`",
        )
    stale = sorted(kind for kind, beat in beats.items() if now - beat.timestamp > HEARTBEAT_FRESH_SECONDS)
    newest = max(beat.timestamp for beat in beats.values())
    if len(stale) == len(beats):
        return Check(
            "daemon",
            FAIL,
            f"last heartbeat {round(now - newest)} s ago: the daemon is not running",
            "start `nba-notify dev` or `dagster-daemon run` (schedules, sensors, queued runs need it)",
        )
    if stale:
        return Check(
            "daemon", WARN, f"running, but silent loops: {', '.join(stale)}", "check the daemon's log"
        )
    return Check("daemon", PASS, f"heartbeat {round(now - newest)} s ago ({len(beats)} loops)")


def check_automation(instance: Any) -> Check:
    from dagster._core.scheduler.instigation import InstigatorStatus

    from nba_notify.definitions import load

    definitions = load()
    repo = definitions.get_repository_def()
    declared = {s.name: s.default_status for s in repo.schedule_defs}
    declared.update({s.name: s.default_status for s in repo.sensor_defs})
    stored = {}
    if instance is not None:
        for state in instance.all_instigator_state():
            stored[state.name] = state.status
    stopped = []
    for name in EXPECTED_RUNNING:
        if name not in declared:
            stopped.append(f"{name} (not defined)")
            continue
        status = stored.get(name)
        running_by_default = str(getattr(declared[name], "value", declared[name])) == "RUNNING"
        if status == InstigatorStatus.STOPPED or (status is None and not running_by_default):
            stopped.append(name)
    if stopped:
        return Check(
            "automation",
            FAIL,
            f"stopped: {', '.join(stopped)}",
            "turn them on in the UI (Automation) or `dagster schedule start` / `dagster sensor start`",
        )
    return Check("automation", PASS, f"{len(EXPECTED_RUNNING)} schedules and sensors running")


# -- the report ---------------------------------------------------------------------------------


def run_doctor(
    settings_env: dict[str, str] | None = None, *, now: Callable[[], datetime] | None = None
) -> Report:
    checks: list[Check] = []
    try:
        settings = Settings.from_env(settings_env)
    except ConfigurationError as exc:
        return Report([Check("settings", FAIL, str(exc), "fix the named variable")])
    mode = current_mode(settings_env)
    if mode is Mode.PRODUCTION:
        missing = settings.missing_for_production(settings_env)
        checks.append(
            Check(
                "mode",
                FAIL,
                f"production, missing: {', '.join(missing)}",
                "set them (README: Run against the real APIs)",
            )
            if missing
            else Check("mode", PASS, "production: real APIs, wall clock, credentials from the environment")
        )
    else:
        ignored = f"; ignored: {', '.join(settings.ignored)}" if settings.ignored else ""
        checks.append(
            Check(
                "mode", PASS, f"simulator at {mask_url(settings.bdl_base_url.removesuffix('/bdl'))}{ignored}"
            )
        )
    wall = (now or (lambda: datetime.now(UTC)))()
    checks.append(check_bdl(settings, wall))
    checks.extend(check_nbac(settings, wall))
    checks.extend(check_braze(settings, wall))
    checks.append(check_currents_token(settings))
    checks.extend(check_database(settings.database_url))
    instance_checks, instance = check_instance()
    checks.extend(instance_checks)
    checks.append(check_daemon(instance))
    try:
        checks.append(check_automation(instance))
    except Exception as exc:  # a location that does not load is a finding, not a crash
        checks.append(
            Check(
                "automation",
                FAIL,
                f"the code location does not load: {str(exc)[:200]}",
                "fix the error shown",
            )
        )
    return Report(checks)
