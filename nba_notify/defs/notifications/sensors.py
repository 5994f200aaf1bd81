"""Sensors: alert within minutes, request the repair run, never alert twice for the same row
(cursors; the logic is :mod:`nba_notify.lib.ledger.monitor`)."""

from datetime import timedelta

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
    description="Asks Braze (its scheduled-broadcasts list, at most once a minute and never into the quota "
    "reserved for schedule writes) and compares with the ledger: a schedule Braze holds that the ledger does not "
    "own is a possible double push - adopted when it can only be one intent's, else a CRITICAL alert naming game, "
    "send time and schedule id (`nba-notify foreign list`). Desired vs ledger counts that disagree for more than "
    "two minutes: alert once and run Reconcile Counts.",
)
def count_mismatch_sensor(
    context: dg.SensorEvaluationContext,
    database: PostgresResource,
    clock: ClockResource,
    braze: BrazeResource,
    notification_policy: NotificationPolicyResource,
    alerts: AlertsResource,
):
    with braze.client() as client:
        tick = count_mismatch_tick(
            database.engine(),
            notification_policy.policy(braze.campaign_id),
            clock.now(),
            context.cursor,
            alerts,
            braze=client,
            lag_allowance=timedelta(seconds=notification_policy.list_lag_allowance_seconds),
        )
    context.log.info(f"count_mismatch_sensor: {tick.detail}; alerts: {tick.alerts}")
    if tick.cursor != (context.cursor or ""):
        context.update_cursor(tick.cursor)
    if tick.run_key is None:
        return dg.SkipReason(f"counts {tick.detail}")
    return dg.RunRequest(run_key=tick.run_key, tags={"trigger": "count_mismatch_sensor"})
