"""Seed 000's verification workflow as Dagster jobs and schedules.

=====================  ===========================  =========================================
seed 000               job                          what it does
=====================  ===========================  =========================================
(scheduler)            ``braze_sync_job``           upcoming -> desired -> sync (+ checks)
gap-detection (5 min)  ``gap_detection_job``        checks: missing_schedules, stale_pending
pre-send (10 min)      ``pre_send_check_job``       prove upcoming schedules exist; recreate
                                                    what is provably gone (404), within limits
braze-reconcile (day)  ``reconcile_job``            adopt-or-cancel unresolved intents, cancel
                                                    recorded orphans, expire stale statuses
Full Verify (manual)   ``full_verify_job``          every notification check
Reconcile Count (man.) ``reconcile_counts_job``     ledger vs Braze vs desired (+ alert)
Pre-Send Check (man.)  ``pre_send_check_job``       as above
(operator)             ``resolve_unknown_schedule_  answer a CRITICAL ambiguous-schedule alert:
                       job``                        exists (with or without its id) / absent
(operator)             ``resolve_foreign_schedule_  decide a CRITICAL possible-double-push alert:
                       job``                        delete the foreign schedule by id / adopt it
=====================  ===========================  =========================================
"""

import dagster as dg

from nba_notify.defs.notifications.assets import (
    braze_schedules,
    desired_notifications,
    notification_sends,
    upcoming_games,
)
from nba_notify.defs.notifications.checks import missing_schedules, stale_pending
from nba_notify.defs.notifications.policy import NotificationPolicyResource
from nba_notify.defs.resources import AlertsResource, BrazeResource, ClockResource, PostgresResource
from nba_notify.lib.failures import as_failure
from nba_notify.lib.ledger.reconcile import count_reconcile, pre_send_verification, reconcile
from nba_notify.lib.ledger.service import resolve_unknown
from nba_notify.lib.ledger.sync import first_error
from nba_notify.lib.run_coordinator import braze_writer_tags

# Steps are a few HTTP + SQL calls: one process per run, not one per step.
IN_PROCESS = dg.in_process_executor

# Jobs that write to Braze carry the campaign, so the run queue's tag concurrency limit
# (deploy/dagster.yaml: one run per unique `nba_notify/braze_campaign`) serialises them; the
# fenced lease would make a second one wait anyway, this keeps it from holding a slot.
BRAZE_WRITER_TAGS = {"domain": "notifications", **braze_writer_tags()}

braze_sync_job = dg.define_asset_job(
    "braze_sync_job",
    selection=dg.AssetSelection.assets(
        upcoming_games, desired_notifications, braze_schedules, notification_sends
    ),
    executor_def=IN_PROCESS,
    tags=BRAZE_WRITER_TAGS,
    description="upcoming_games -> desired_notifications -> braze_schedules (the fenced sync) -> notification_sends, "
    "with every notification check.",
)

full_verify_job = dg.define_asset_job(
    "full_verify_job",
    selection=dg.AssetSelection.checks_for_assets(braze_schedules, notification_sends),
    executor_def=IN_PROCESS,
    tags={"domain": "notifications"},
    description="Full Verify: every notification check - missing, orphaned, count mismatch, stale "
    "pending, duplicates, timing, unmatched sends. Reads only.",
)

gap_detection_job = dg.define_asset_job(
    "gap_detection_job",
    selection=dg.AssetSelection.checks(missing_schedules, stale_pending),
    executor_def=IN_PROCESS,
    tags={"domain": "notifications"},
    description="Gap detection (every 5 minutes): games without a live schedule, sends gone stale.",
)


@dg.op(
    description="Adopt-or-cancel unresolved intents, cancel recorded orphans, re-correlate Currents "
    "events, expire rows long past their send time. Never touches the ledger's live schedules."
)
def reconcile_op(
    context: dg.OpExecutionContext,
    database: PostgresResource,
    clock: ClockResource,
    braze: BrazeResource,
    notification_policy: NotificationPolicyResource,
    alerts: AlertsResource,
) -> None:
    with braze.client() as client:
        try:
            report = reconcile(
                database.engine(),
                client,
                notification_policy.policy(braze.campaign_id),
                clock=clock.now,
                run_id=context.run.run_id,
                alerts=alerts,
                lease_ttl_seconds=notification_policy.lease_ttl_seconds,
                lease_wait_seconds=notification_policy.lease_wait_seconds,
            )
        except Exception as exc:
            raise as_failure(exc) from exc
    context.log_event(
        dg.AssetObservation(
            asset_key=braze_schedules.key, metadata={"reconcile": dg.MetadataValue.json(report.as_metadata())}
        )
    )
    if (error := first_error(report)) is not None:
        raise as_failure(error)


@dg.op(
    description="Pre-send verification: prove each schedule about to leave the update window still "
    "exists (list, else an identical idempotent update); recreate the provably gone (404), within limits."
)
def pre_send_check_op(
    context: dg.OpExecutionContext,
    database: PostgresResource,
    clock: ClockResource,
    braze: BrazeResource,
    notification_policy: NotificationPolicyResource,
    alerts: AlertsResource,
) -> None:
    with braze.client() as client:
        try:
            result = pre_send_verification(
                database.engine(),
                client,
                notification_policy.policy(braze.campaign_id),
                clock=clock.now,
                run_id=context.run.run_id,
                alerts=alerts,
                lease_ttl_seconds=notification_policy.lease_ttl_seconds,
                lease_wait_seconds=notification_policy.lease_wait_seconds,
            )
        except Exception as exc:
            raise as_failure(exc) from exc
    context.log_event(
        dg.AssetObservation(
            asset_key=braze_schedules.key, metadata={"pre_send": dg.MetadataValue.json(result.as_metadata())}
        )
    )
    if result.sync is not None and (error := first_error(result.sync)) is not None:
        raise as_failure(error)


@dg.op(description="Reconcile counts: ledger vs Braze's list vs desired; raises the count_mismatch alert.")
def reconcile_counts_op(
    context: dg.OpExecutionContext,
    database: PostgresResource,
    clock: ClockResource,
    braze: BrazeResource,
    notification_policy: NotificationPolicyResource,
    alerts: AlertsResource,
) -> None:
    with braze.client() as client:
        try:
            result = count_reconcile(
                database.engine(),
                client,
                notification_policy.policy(braze.campaign_id),
                now=clock.now(),
                alerts=alerts,
            )
        except Exception as exc:
            raise as_failure(exc) from exc
    context.log.info(f"count reconcile: {result.as_metadata()}")
    context.log_event(
        dg.AssetObservation(
            asset_key=braze_schedules.key,
            metadata={
                "count_reconcile": dg.MetadataValue.json(result.as_metadata()),
                "mismatch": result.mismatch,
            },
        )
    )


class ResolveUnknownConfig(dg.Config):
    """What the operator saw in the Braze dashboard for an intent we cannot see (from
    ``nba-notify unknown list`` or the ``unresolved_intents`` check)."""

    intent_key: str
    # "exists": a send for this game is scheduled at the intent's time; "absent": none is.
    decision: str
    # The schedule's id, when the operator has it (Braze rarely shows it): adopted as live.
    schedule_id: str = ""
    # Further schedules found for the same game (e.g. an update that kept the old one live):
    # recorded as orphans, cancelled by the next reconcile.
    orphan_schedule_ids: list[str] = []
    note: str = ""


@dg.op(description="Operator answer to a CRITICAL ambiguous-schedule alert (after checking the dashboard).")
def resolve_unknown_op(
    context: dg.OpExecutionContext,
    config: ResolveUnknownConfig,
    database: PostgresResource,
    braze: BrazeResource,
    notification_policy: NotificationPolicyResource,
) -> None:
    try:
        result = resolve_unknown(
            database.engine(),
            notification_policy.policy(braze.campaign_id),
            config.intent_key,
            decision=config.decision,
            schedule_id=config.schedule_id or None,
            orphan_ids=config.orphan_schedule_ids,
            by=f"dagster run {context.run.run_id}",
            note=config.note or None,
        )
    except ValueError as error:
        raise dg.Failure(description=str(error)) from error
    if not result.applied:
        raise dg.Failure(description=f"not applied: {result.note}")
    context.log.info(f"{config.intent_key} -> {result.new_state}")


class ResolveForeignConfig(dg.Config):
    """The operator's decision on a schedule Braze holds that the ledger does not own (from
    ``nba-notify foreign list``, the ``count_mismatch`` check or the CRITICAL alert)."""

    foreign_id: int
    # "delete": cancel ``schedule_id`` at Braze (never the ledger's own); "adopt": keep it as
    # the game's push (only for a game that holds no live schedule).
    decision: str
    # As the Braze dashboard shows it: required to delete; with adopt, proven live first.
    schedule_id: str = ""
    # With adopt, when several games send at that time.
    intent_key: str = ""
    note: str = ""


@dg.op(
    description="Operator decision on a foreign Braze schedule (possible double push): delete by id or adopt."
)
def resolve_foreign_op(
    context: dg.OpExecutionContext,
    config: ResolveForeignConfig,
    database: PostgresResource,
    clock: ClockResource,
    braze: BrazeResource,
    notification_policy: NotificationPolicyResource,
) -> None:
    from nba_notify.lib.ledger.foreign import resolve_foreign

    with braze.client() as client:
        try:
            result = resolve_foreign(
                database.engine(),
                client,
                notification_policy.policy(braze.campaign_id),
                config.foreign_id,
                decision=config.decision,
                schedule_id=config.schedule_id or None,
                intent_key=config.intent_key or None,
                by=f"dagster run {context.run.run_id}",
                note=config.note or None,
                now=clock.now(),
            )
        except ValueError as error:
            raise dg.Failure(description=str(error)) from error
    if not result.applied:
        raise dg.Failure(description=f"not applied: {result.note}")
    context.log.info(f"foreign {config.foreign_id} -> {result.status}: {result.note}")


@dg.job(
    executor_def=IN_PROCESS,
    tags=BRAZE_WRITER_TAGS,
    description="Decide a foreign Braze schedule (possible double push) after checking the Braze dashboard.",
)
def resolve_foreign_schedule_job() -> None:
    resolve_foreign_op()


@dg.job(
    executor_def=IN_PROCESS,
    tags=BRAZE_WRITER_TAGS,
    description="Braze reconcile (daily): unresolved intents, orphans, stale statuses.",
)
def reconcile_job() -> None:
    reconcile_op()


@dg.job(
    executor_def=IN_PROCESS,
    tags=BRAZE_WRITER_TAGS,
    description="Pre-Send Check (every 10 minutes and on demand): proves upcoming schedules exist at Braze and "
    "re-creates what is provably gone (404), within limits.",
)
def pre_send_check_job() -> None:
    pre_send_check_op()


@dg.job(
    executor_def=IN_PROCESS,
    tags={"domain": "notifications"},
    description="Reconcile Counts (on demand and from count_mismatch_sensor): desired, ledger and Braze's "
    "list compared per send minute; alerts on a mismatch.",
)
def reconcile_counts_job() -> None:
    reconcile_counts_op()


@dg.job(
    executor_def=IN_PROCESS,
    tags=BRAZE_WRITER_TAGS,
    description="Resolve an unknown (ambiguous) schedule after checking the Braze dashboard.",
)
def resolve_unknown_schedule_job() -> None:
    resolve_unknown_op()


RUNNING = dg.DefaultScheduleStatus.RUNNING
EASTERN = "America/New_York"  # every schedule in one zone, the game days' (defs/ingest/partitions.py)

braze_sync_schedule = dg.ScheduleDefinition(
    name="braze_sync_schedule",
    job=braze_sync_job,
    cron_schedule="*/15 * * * *",
    execution_timezone=EASTERN,
    default_status=RUNNING,
    description="The sync every 15 minutes (zero Braze calls when nothing changed).",
)
gap_detection_schedule = dg.ScheduleDefinition(
    name="gap_detection_schedule",
    job=gap_detection_job,
    cron_schedule="*/5 * * * *",
    execution_timezone=EASTERN,
    default_status=RUNNING,
)
pre_send_check_schedule = dg.ScheduleDefinition(
    name="pre_send_check_schedule",
    job=pre_send_check_job,
    cron_schedule="*/10 * * * *",
    execution_timezone=EASTERN,
    default_status=RUNNING,
)
reconcile_schedule = dg.ScheduleDefinition(
    name="reconcile_schedule",
    job=reconcile_job,
    cron_schedule="30 4 * * *",  # 04:30 ET (09:30 UTC in winter), as before
    execution_timezone=EASTERN,
    default_status=RUNNING,
    description="Daily, in the quiet hours between the last sends and the next slate.",
)
