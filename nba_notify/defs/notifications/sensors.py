"""Sensors: alert within minutes, request the repair run, never alert twice for the same row
(cursors; the logic is :mod:`nba_notify.lib.ledger.monitor`)."""

import dagster as dg

from nba_notify.defs.notifications.jobs import full_verify_job, reconcile_counts_job
from nba_notify.defs.notifications.policy import NotificationPolicyResource
from nba_notify.defs.resources import AlertsResource, BrazeResource, ClockResource, PostgresResource
from nba_notify.lib.ledger.monitor import count_mismatch_tick, stale_pending_tick


@dg.sensor(
    job=full_verify_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="A schedule past send_at + grace with no Currents send event: CRITICAL alert within the "
    "minute, and a Full Verify run. The cursor (send_at, id) never alerts a row twice.",
)
def stale_pending_sensor(
    context: dg.SensorEvaluationContext,
    database: PostgresResource,
    clock: ClockResource,
    braze: BrazeResource,
    notification_policy: NotificationPolicyResource,
    alerts: AlertsResource,
):
    tick = stale_pending_tick(
        database.engine(), notification_policy.policy(braze.campaign_id), clock.now(), context.cursor, alerts
    )
    if tick.cursor != (context.cursor or ""):
        context.update_cursor(tick.cursor)
    if tick.run_key is None:
        return dg.SkipReason("no stale pending notifications")
    context.log.info(f"stale pending: {tick.alerts}")
    return dg.RunRequest(run_key=tick.run_key, tags={"trigger": "stale_pending_sensor"})


@dg.sensor(
    job=reconcile_counts_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Desired vs ledger counts disagree for more than two minutes: alert once and run Reconcile Counts.",
)
def count_mismatch_sensor(
    context: dg.SensorEvaluationContext,
    database: PostgresResource,
    clock: ClockResource,
    braze: BrazeResource,
    notification_policy: NotificationPolicyResource,
    alerts: AlertsResource,
):
    tick = count_mismatch_tick(
        database.engine(), notification_policy.policy(braze.campaign_id), clock.now(), context.cursor, alerts
    )
    if tick.cursor != (context.cursor or ""):
        context.update_cursor(tick.cursor)
    if tick.run_key is None:
        return dg.SkipReason(f"counts {tick.detail}")
    return dg.RunRequest(run_key=tick.run_key, tags={"trigger": "count_mismatch_sensor"})
