"""The Braze notification domain (seed 000's tracking points, DESIGN §3's invariants).

* ``desired_notifications`` — what *should* be scheduled: one row per intent, derived from the
  games table (``send_at = tip-off - lead``), ``active = false`` once a game is postponed or
  cancelled. Never deleted: a game missing from a source is not proof of anything.
* ``schedule_ledger`` — what we *did* at Braze: one row per intent (unique ``intent_key``),
  ``braze_schedule_id`` NULL until Braze told us, an explicit ``state``, the fencing token of
  the last writer. A partial unique index allows at most one live row per game and kind.
* ``schedule_attempts`` — the intent log: one row per Braze call, written *before* the call
  (``in_flight``) and completed with the outcome by whoever made it, fence or no fence. A later
  holder resolves an unresolved ledger row from its current attempt (adopt-or-cancel).
* ``schedule_orphans`` — Braze schedule ids proven not to be the live one (a fenced write-back
  that lost, an id superseded by an update that returned a new one). The only ids reconcile
  ever cancels; their ``status`` moves by compare-and-set so two cancellers never race.
* ``foreign_schedules`` — schedules Braze lists for our campaign that the ledger does not own
  (possible double pushes), until adopted by proof or decided by an operator.
* ``scheduler_leases`` — the lease rows handing out monotonically increasing fencing tokens.
* ``scheduler_logs`` — every decision of every run (created, updated, skipped_unchanged,
  skipped + reason, cancelled, adopted, error, send_id_created, ...), seed 000's audit trail.
* ``notification_sends`` — Braze Currents events, stored exactly once per ``event_id``.
"""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from nba_notify.lib.db.metadata import metadata

NOW = sa.text("now()")
TS = sa.DateTime(timezone=True)

LEDGER_STATES = (
    "planned",  # intent recorded, no Braze call made for the current attempt
    "creating",  # a create call is (or was) in flight under the row's fence
    "updating",  # an update call is (or was) in flight under the row's fence
    "scheduled",  # Braze holds braze_schedule_id at send_at_utc with this signature
    "unknown",  # a call's outcome is ambiguous (timeout/5xx after sending): never re-created blindly
    # Braze holds this intent's schedule at send_at (proven by the scheduled-broadcasts list),
    # but its id was never learned: it will send, but cannot be updated or deleted.
    "unidentified",
    "cancel_requested",  # the schedule must go (game postponed/cancelled); delete pending
    "cancelled",  # deleted at Braze (or never created)
    "sent",  # a Currents send event arrived for it
    "expired",  # send time long past with no send event (a miss, kept for the record)
)
# States in which a Braze schedule may exist for the row: at most one such row per game+kind.
LIVE_STATES = ("creating", "updating", "scheduled", "unknown", "unidentified", "cancel_requested")
UNRESOLVED_STATES = ("creating", "updating", "unknown")

ATTEMPT_OPERATIONS = ("create", "update", "delete")
ATTEMPT_STATUSES = ("in_flight", "succeeded", "failed", "ambiguous")
# "guarded": a schedule we cannot cancel (its id was never learned) that the send guard refuses
# when Braze asks at send time; kept so evidence accounts for it until its send time passes.
ORPHAN_STATUSES = ("pending", "cancel_claimed", "cancelled", "gone", "guarded")


def _state_in(values: tuple[str, ...]) -> sa.ColumnElement[bool]:
    """An index predicate over the state vocabulary (DDL renders the values as literals)."""
    return sa.column("state").in_(values)


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


desired_notifications = sa.Table(
    "desired_notifications",
    metadata,
    sa.Column("intent_key", sa.String(200), primary_key=True),
    sa.Column("game_id", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("campaign_id", sa.String(100), nullable=False),
    sa.Column("template_version", sa.String(16), nullable=False),
    sa.Column("home_team", sa.String(3), nullable=False),
    sa.Column("away_team", sa.String(3), nullable=False),
    sa.Column("tipoff_utc", TS),
    sa.Column("send_at_utc", TS),
    sa.Column("signature", sa.String(200)),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("game_status", sa.String(16), nullable=False),
    sa.Column("computed_at", TS, nullable=False),
    sa.Column("run_id", sa.String(64)),
    sa.Column("updated_at", TS, nullable=False, server_default=NOW),
    sa.Index("ix_desired_notifications_active_send_at", "send_at_utc", postgresql_where=sa.text("active")),
    sa.Index("ix_desired_notifications_game_id", "game_id"),
)

schedule_ledger = sa.Table(
    "schedule_ledger",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("intent_key", sa.String(200), nullable=False, unique=True),
    sa.Column("game_id", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("campaign_id", sa.String(100), nullable=False),
    sa.Column("template_version", sa.String(16), nullable=False),
    # Deterministic per intent and passed on every create: Currents send events carry it, so a
    # send correlates to its intent even when an ambiguous create never told us the schedule id.
    sa.Column("send_id", sa.String(64), nullable=False, unique=True),
    # When Braze confirmed the send id exists (POST /sends/id/create): a create may name it only
    # after that, and it is created once per intent (Braze allows 100 new send ids a day).
    sa.Column("send_id_created_at", TS),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("braze_schedule_id", sa.String(64), unique=True),
    sa.Column("dispatch_id", sa.String(64)),
    # What Braze holds (as far as we know): the last confirmed signature and send time.
    sa.Column("signature", sa.String(200)),
    sa.Column("send_at_utc", TS),
    sa.Column("fence", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("current_attempt_id", sa.BigInteger),
    sa.Column("last_error_category", sa.String(16)),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", TS, nullable=False, server_default=NOW),
    sa.Column("updated_at", TS, nullable=False, server_default=NOW),
    sa.Column("sent_at", TS),
    sa.Column("cancelled_at", TS),
    # When Braze confirmed creating the schedule held now (wall clock, like attempt times); the
    # scheduled-broadcasts list showing it proves the list is current up to that moment.
    sa.Column("confirmed_at", TS),
    sa.CheckConstraint(f"state IN {_in(LEDGER_STATES)}", name="state"),
    # Impossible states are unrepresentable: a scheduled row always knows its schedule id.
    sa.CheckConstraint(
        "state NOT IN ('scheduled', 'updating', 'cancel_requested') OR braze_schedule_id IS NOT NULL",
        name="live_has_schedule_id",
    ),
    # At most one live schedule per game and kind, whatever the campaign or template version.
    sa.Index(
        "uq_schedule_ledger_live_game_kind",
        "game_id",
        "kind",
        unique=True,
        postgresql_where=_state_in(LIVE_STATES),
    ),
    # Sensor/check queries on a big ledger: "live rows by send time", "dispatch lookups".
    sa.Index(
        "ix_schedule_ledger_scheduled_send_at",
        "send_at_utc",
        "id",
        postgresql_where=sa.text("state IN ('scheduled', 'unidentified')"),
    ),
    sa.Index(
        "ix_schedule_ledger_live_send_at",
        "send_at_utc",
        postgresql_where=_state_in(LIVE_STATES),
    ),
    sa.Index(
        "ix_schedule_ledger_unresolved",
        "id",
        postgresql_where=_state_in(UNRESOLVED_STATES),
    ),
    sa.Index("ix_schedule_ledger_dispatch_id", "dispatch_id"),
    sa.Index("ix_schedule_ledger_game_id", "game_id"),
)

schedule_attempts = sa.Table(
    "schedule_attempts",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column(
        "ledger_id", sa.BigInteger, sa.ForeignKey("schedule_ledger.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("intent_key", sa.String(200), nullable=False),
    sa.Column("game_id", sa.String(32), nullable=False),
    sa.Column("operation", sa.String(16), nullable=False),
    sa.Column("fence", sa.BigInteger, nullable=False),
    sa.Column("holder", sa.String(100), nullable=False),
    sa.Column("run_id", sa.String(64)),
    sa.Column("prior_schedule_id", sa.String(64)),
    sa.Column("target_send_at", TS),
    sa.Column("target_signature", sa.String(200)),
    # Where the schedule being updated was before the call (an ambiguous update may leave it there).
    sa.Column("prior_send_at", TS),
    # Why the call was made: "sync" (a planned change) or "probe" (an identical update that tells
    # whether an ambiguous update moved the old schedule or replaced it).
    sa.Column("purpose", sa.String(16), nullable=False, server_default="sync"),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("schedule_id", sa.String(64)),
    sa.Column("dispatch_id", sa.String(64)),
    sa.Column("http_status", sa.Integer),
    sa.Column("error_category", sa.String(16)),
    sa.Column("error_message", sa.Text),
    # How a later holder used the outcome: applied (own write-back), adopted, orphaned, ...
    sa.Column("resolution", sa.String(16)),
    sa.Column("started_at", TS, nullable=False, server_default=NOW),
    sa.Column("finished_at", TS),
    sa.CheckConstraint(f"operation IN {_in(ATTEMPT_OPERATIONS)}", name="operation"),
    sa.CheckConstraint(f"status IN {_in(ATTEMPT_STATUSES)}", name="status"),
    sa.Index("ix_schedule_attempts_ledger", "ledger_id", "id"),
)

schedule_orphans = sa.Table(
    "schedule_orphans",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("braze_schedule_id", sa.String(64), nullable=False, unique=True),
    sa.Column("campaign_id", sa.String(100), nullable=False),
    sa.Column("intent_key", sa.String(200)),
    sa.Column("game_id", sa.String(32)),
    sa.Column("reason", sa.String(32), nullable=False),  # lost_fence | superseded | not_adoptable
    sa.Column("source_attempt_id", sa.BigInteger),
    sa.Column("send_at_utc", TS),
    sa.Column("dispatch_id", sa.String(64)),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("recorded_fence", sa.BigInteger),
    sa.Column("recorded_at", TS, nullable=False, server_default=NOW),
    sa.Column("resolved_at", TS),
    sa.Column("note", sa.Text),
    sa.CheckConstraint(f"status IN {_in(ORPHAN_STATUSES)}", name="status"),
    sa.Index(
        "ix_schedule_orphans_open", "id", postgresql_where=sa.text("status IN ('pending', 'cancel_claimed')")
    ),
    sa.Index("ix_schedule_orphans_dispatch_id", "dispatch_id"),
)

# A send minute at which Braze lists more schedules of our campaign than the ledger accounts for:
# a schedule the ledger does not own (created behind its back), i.e. a possible double push.
# Braze's list names the campaign and the send time, never the schedule, so the row carries the
# games whose intents send then; ``braze_schedule_id`` is filled only when an operator names it.
FOREIGN_STATUSES = (
    "open",  # still listed, nobody decided
    "adopted",  # the ledger took it as an intent's live schedule (by proof, or an operator)
    "deleted",  # an operator had it cancelled at Braze (by its id, never the ledger's own)
    "gone",  # no longer listed (cancelled in the dashboard, or moved)
    "passed",  # its send time passed while open
)

foreign_schedules = sa.Table(
    "foreign_schedules",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("campaign_id", sa.String(100), nullable=False),
    sa.Column("send_at_utc", TS, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("listed", sa.Integer, nullable=False),
    sa.Column("accounted", sa.Integer, nullable=False),
    # [{game_id, matchup, intent_key, ledger_state}] of the active intents sending at that minute
    sa.Column("games", JSONB, nullable=False),
    sa.Column("braze_schedule_id", sa.String(64)),
    sa.Column("intent_key", sa.String(200)),
    sa.Column("first_seen_at", TS, nullable=False),
    sa.Column("last_seen_at", TS, nullable=False),
    sa.Column("resolved_at", TS),
    sa.Column("resolved_by", sa.String(100)),
    sa.Column("resolution", sa.String(40)),
    sa.Column("note", sa.Text),
    sa.CheckConstraint(f"status IN {_in(FOREIGN_STATUSES)}", name="status"),
    sa.Index(
        "uq_foreign_schedules_open_minute",
        "campaign_id",
        "send_at_utc",
        unique=True,
        postgresql_where=sa.text("status = 'open'"),
    ),
)

scheduler_leases = sa.Table(
    "scheduler_leases",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("holder", sa.String(100)),
    sa.Column("fence", sa.BigInteger, nullable=False),
    sa.Column("acquired_at", TS),
    sa.Column("expires_at", TS),
    sa.Column("released_at", TS),
)

scheduler_logs = sa.Table(
    "scheduler_logs",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("run_id", sa.String(64)),
    sa.Column("holder", sa.String(100)),
    sa.Column("fence", sa.BigInteger),
    sa.Column("intent_key", sa.String(200)),
    sa.Column("game_id", sa.String(32)),
    sa.Column("action", sa.String(24), nullable=False),
    sa.Column("reason", sa.String(64)),
    sa.Column("braze_schedule_id", sa.String(64)),
    sa.Column("send_at_utc", TS),
    sa.Column("details", JSONB),
    sa.Column("logged_at", TS, nullable=False, server_default=NOW),
    sa.CheckConstraint(
        "action IN ('created', 'updated', 'skipped_unchanged', 'skipped', 'cancelled', 'adopted', "
        "'error', 'unknown', 'orphaned', 'expired', 'resolved', 'alerted', 'send_id_created', 'evidence')",
        name="action",
    ),
    sa.Index("ix_scheduler_logs_logged_at", "logged_at"),
    sa.Index("ix_scheduler_logs_game_id", "game_id", "logged_at"),
)

notification_sends = sa.Table(
    "notification_sends",
    metadata,
    sa.Column("event_id", sa.String(64), primary_key=True),
    sa.Column("event_type", sa.String(100), nullable=False),
    sa.Column("event_time", TS, nullable=False),
    sa.Column("external_user_id", sa.String(100)),
    sa.Column("campaign_id", sa.String(100)),
    sa.Column("dispatch_id", sa.String(64)),
    sa.Column("send_id", sa.String(64)),
    # Correlation resolved at receipt (by dispatch_id, else send_id); NULL = unmatched, kept
    # and surfaced by the ``unmatched_sends`` check, never dropped.
    sa.Column("ledger_id", sa.BigInteger),
    sa.Column("intent_key", sa.String(200)),
    sa.Column("game_id", sa.String(32)),
    sa.Column("matched", sa.Boolean, nullable=False),
    sa.Column("raw", JSONB, nullable=False),
    sa.Column("received_at", TS, nullable=False, server_default=NOW),
    sa.Index("ix_notification_sends_game_id", "game_id"),
    sa.Index("ix_notification_sends_dispatch_id", "dispatch_id"),
    sa.Index("ix_notification_sends_send_id", "send_id"),
    sa.Index("ix_notification_sends_unmatched", "received_at", postgresql_where=sa.text("NOT matched")),
)


# The send guard (Braze Connected Content at send time, ``abort_message`` when refused): the
# first dispatch of an intent that asks is the one allowed to send; every decision is logged.
send_guard_claims = sa.Table(
    "send_guard_claims",
    metadata,
    sa.Column("intent_key", sa.String(200), primary_key=True),
    sa.Column("dispatch_id", sa.String(64), nullable=False),
    sa.Column("send_at_utc", TS),
    sa.Column("claimed_at", TS, nullable=False, server_default=NOW),
)

send_guard_decisions = sa.Table(
    "send_guard_decisions",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("campaign_id", sa.String(100)),
    sa.Column("send_id", sa.String(64)),
    sa.Column("dispatch_id", sa.String(64)),
    sa.Column("intent_key", sa.String(200)),
    sa.Column("game_id", sa.String(32)),
    sa.Column("send_at_utc", TS),
    sa.Column("send", sa.Boolean, nullable=False),
    sa.Column("reason", sa.String(64), nullable=False),
    sa.Column("decided_at", TS, nullable=False, server_default=NOW),
    sa.Index("ix_send_guard_decisions_decided_at", "decided_at"),
    sa.Index("ix_send_guard_decisions_intent", "intent_key"),
)
