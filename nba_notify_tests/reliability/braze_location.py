"""A code location for the orchestration fault test: the product's real Braze sync job and
assets with the product's resources (database and simulator from the environment), and a
policy whose in-flight grace and lease are seconds instead of minutes so a killed worker's
claim is judged within the test."""

import dagster as dg

from nba_notify.defs.notifications.assets import (
    braze_schedules,
    desired_notifications,
    notification_sends,
    upcoming_games,
)
from nba_notify.defs.notifications.jobs import braze_sync_job
from nba_notify.defs.notifications.policy import NotificationPolicyResource
from nba_notify.defs.resources import build_resources

defs = dg.Definitions(
    assets=[upcoming_games, desired_notifications, braze_schedules, notification_sends],
    jobs=[braze_sync_job],
    resources={
        **build_resources(),
        "notification_policy": NotificationPolicyResource(
            in_flight_grace_seconds=2.0, lease_ttl_seconds=3.0, lease_wait_seconds=30.0
        ),
    },
)
