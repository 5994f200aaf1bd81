"""games -> upcoming_games -> desired_notifications -> braze_schedules -> notification_sends.

Thin shells over :mod:`nba_notify.lib.ledger`: read resources, call the logic, report what
was written. The sync's guarantees live in the library, not here."""

import dagster as dg
import sqlalchemy as sa

from nba_notify.defs.notifications.policy import NotificationPolicyResource
from nba_notify.defs.resources import AlertsResource, BrazeResource, ClockResource, PostgresResource
from nba_notify.lib.failures import as_failure
from nba_notify.lib.ledger import store
from nba_notify.lib.ledger.service import refresh_desired
from nba_notify.lib.ledger.sync import first_error, run_sync
from nba_notify.lib.ledger.verification import markdown_table
from nba_notify.lib.ledger.webhook_store import rematch_unmatched
from nba_notify.lib.run_coordinator import braze_writer_tags

GROUP = "notifications"


@dg.asset(
    group_name=GROUP,
    kinds={"postgres"},
    deps=[dg.AssetKey("games")],
    description="Games whose tip-off reminder still matters: from (now - lookback) to the policy's scheduling "
    "horizon (3 days by default), including postponed and cancelled ones (they withdraw reminders).",
)
def upcoming_games(
    context: dg.AssetExecutionContext,
    database: PostgresResource,
    clock: ClockResource,
    braze: BrazeResource,
    notification_policy: NotificationPolicyResource,
) -> dg.MaterializeResult:
    policy = notification_policy.policy(braze.campaign_id)
    now = clock.now()
    with database.engine().connect() as conn:
        games = store.load_upcoming_games(conn, now, policy)
    by_status: dict[str, int] = {}
    for g in games:
        by_status[g.status] = by_status.get(g.status, 0) + 1
    context.log.info(f"{len(games)} upcoming games at {now.isoformat()}: {by_status}")
    preview = [{"game_id": g.game_id, "tipoff_utc": g.tipoff_utc, "status": g.status} for g in games[:20]]
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(games),
            "by_status": dg.MetadataValue.json(by_status),
            "as_of": now.isoformat(),
            "preview": dg.MetadataValue.md(markdown_table(preview)),
        }
    )


@dg.asset(
    group_name=GROUP,
    kinds={"postgres"},
    deps=[upcoming_games],
    description="One row per notification intent (game, kind, campaign, template version): send_at = tip-off "
    "minus the lead, normalised to the minute; inactive once the game is postponed or cancelled.",
)
def desired_notifications(
    context: dg.AssetExecutionContext,
    database: PostgresResource,
    clock: ClockResource,
    braze: BrazeResource,
    notification_policy: NotificationPolicyResource,
) -> dg.MaterializeResult:
    policy = notification_policy.policy(braze.campaign_id)
    refreshed = refresh_desired(database.engine(), policy, now=clock.now(), run_id=context.run.run_id)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(refreshed.desired),
            "active": refreshed.active,
            "withdrawn": refreshed.withdrawn,
            "changed": refreshed.changed,
            "lead_minutes": policy.lead_minutes,
        }
    )


@dg.asset(
    group_name=GROUP,
    kinds={"braze", "postgres"},
    deps=[desired_notifications],
    pool="braze",
    # a run that materializes this asset, from the UI too, queues as one per campaign
    tags=braze_writer_tags(),
    description="The Braze schedule sync: plans intents, creates each new intent's send id once, claims them "
    "under the campaign's fenced lease, calls Braze with no transaction open, writes back conditionally on the "
    "fence. Unchanged inputs cost zero Braze calls; ambiguous outcomes are never re-created (CRITICAL alert "
    "instead).",
)
def braze_schedules(
    context: dg.AssetExecutionContext,
    database: PostgresResource,
    clock: ClockResource,
    braze: BrazeResource,
    notification_policy: NotificationPolicyResource,
    alerts: AlertsResource,
) -> dg.MaterializeResult:
    policy = notification_policy.policy(braze.campaign_id)
    with braze.client() as client:
        try:
            report = run_sync(
                database.engine(),
                client,
                policy,
                clock=clock.now,
                run_id=context.run.run_id,
                alerts=alerts,
                lease_ttl_seconds=notification_policy.lease_ttl_seconds,
                lease_wait_seconds=notification_policy.lease_wait_seconds,
            )
        except Exception as exc:
            raise as_failure(exc) from exc
    context.log.info(f"sync {report.holder} fence {report.fence}: {dict(report.counts)}")
    error = first_error(report)
    if error is not None:
        # Everything that succeeded is committed; the failure says what did not.
        raise as_failure(error)
    with database.engine().connect() as conn:
        live = conn.execute(
            sa.text("SELECT count(*) FROM schedule_ledger WHERE state = 'scheduled' AND campaign_id = :c"),
            {"c": policy.campaign_id},
        ).scalar_one()
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": int(live),
            "created": report.counts["created"],
            "updated": report.counts["updated"],
            "cancelled": report.counts["cancelled"] + report.counts["discarded"],
            "adopted": report.counts["adopted"],
            "skipped_unchanged": report.counts["skipped_unchanged"],
            "skipped": dg.MetadataValue.json(dict(report.skip_reasons)),
            "unresolved": report.counts["unresolved_unknown"] + report.counts["unresolved_waiting"],
            "braze_write_calls": report.write_calls,
            "send_ids_created": report.counts["send_ids_created"],
            "braze_send_id_calls": report.send_id_calls,
            "fence": report.fence or 0,
            "lost_fence": report.lost_fence,
            "report": dg.MetadataValue.json(report.as_metadata()),
        }
    )


@dg.asset(
    group_name=GROUP,
    kinds={"postgres"},
    deps=[braze_schedules],
    description="Braze Currents events, written by the webhook receiver (`nba-notify webhook`) exactly once per "
    "event. Materializing re-correlates events that arrived before their ledger row knew them and "
    "reports the table.",
)
def notification_sends(context: dg.AssetExecutionContext, database: PostgresResource) -> dg.MaterializeResult:
    engine = database.engine()
    rematched = rematch_unmatched(engine)
    with engine.connect() as conn:
        row = (
            conn.execute(
                sa.text(
                    """
                SELECT count(*) AS events,
                       count(*) FILTER (WHERE NOT matched) AS unmatched,
                       count(DISTINCT game_id) AS games,
                       max(received_at) AS last_received
                  FROM notification_sends
                """
                )
            )
            .mappings()
            .one()
        )
    context.log.info(f"notification_sends: {dict(row)}; re-correlated {rematched}")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": int(row["events"]),
            "unmatched": int(row["unmatched"]),
            "games": int(row["games"]),
            "rematched": rematched,
            "last_received": str(row["last_received"]),
        }
    )
