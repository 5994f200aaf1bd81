"""notifications: evidence for ambiguous Braze outcomes.

* ledger state ``unidentified`` (Braze holds the intent's schedule, proven by the
  scheduled-broadcasts list, id never learned) counts as live: the one-live-schedule-per-game
  index and the live-by-send-time index include it;
* ``schedule_ledger.confirmed_at``: when Braze confirmed creating the schedule held now;
* ``schedule_attempts.prior_send_at`` and ``purpose`` (``sync`` | ``probe``);
* scheduler log action ``evidence``.

Revision ID: 0009
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0006"
branch_labels = None
depends_on = None

STATES_BEFORE = (
    "planned",
    "creating",
    "updating",
    "scheduled",
    "unknown",
    "cancel_requested",
    "cancelled",
    "sent",
    "expired",
)
STATES_AFTER = (
    "planned",
    "creating",
    "updating",
    "scheduled",
    "unknown",
    "unidentified",
    "cancel_requested",
    "cancelled",
    "sent",
    "expired",
)
LIVE_BEFORE = ("creating", "updating", "scheduled", "unknown", "cancel_requested")
LIVE_AFTER = ("creating", "updating", "scheduled", "unknown", "unidentified", "cancel_requested")
ACTIONS_BEFORE = (
    "created",
    "updated",
    "skipped_unchanged",
    "skipped",
    "cancelled",
    "adopted",
    "error",
    "unknown",
    "orphaned",
    "expired",
    "resolved",
    "alerted",
    "send_id_created",
)
ACTIONS_AFTER = (*ACTIONS_BEFORE, "evidence")


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def _live_indexes(live: tuple[str, ...]) -> None:
    op.drop_index("uq_schedule_ledger_live_game_kind", table_name="schedule_ledger")
    op.drop_index("ix_schedule_ledger_live_send_at", table_name="schedule_ledger")
    op.drop_index("ix_schedule_ledger_scheduled_send_at", table_name="schedule_ledger")
    sending = "('scheduled', 'unidentified')" if "unidentified" in live else "('scheduled')"
    op.create_index(
        "ix_schedule_ledger_scheduled_send_at",
        "schedule_ledger",
        ["send_at_utc", "id"],
        unique=False,
        postgresql_where=sa.text(f"state IN {sending}"),
    )
    op.create_index(
        "uq_schedule_ledger_live_game_kind",
        "schedule_ledger",
        ["game_id", "kind"],
        unique=True,
        postgresql_where=sa.text(f"state IN {_in(live)}"),
    )
    op.create_index(
        "ix_schedule_ledger_live_send_at",
        "schedule_ledger",
        ["send_at_utc"],
        unique=False,
        postgresql_where=sa.text(f"state IN {_in(live)}"),
    )


def _checks(states: tuple[str, ...], actions: tuple[str, ...]) -> None:
    op.drop_constraint(op.f("ck_schedule_ledger_state"), "schedule_ledger", type_="check")
    op.create_check_constraint(op.f("ck_schedule_ledger_state"), "schedule_ledger", f"state IN {_in(states)}")
    op.drop_constraint(op.f("ck_scheduler_logs_action"), "scheduler_logs", type_="check")
    op.create_check_constraint(
        op.f("ck_scheduler_logs_action"), "scheduler_logs", f"action IN {_in(actions)}"
    )


def upgrade() -> None:
    op.add_column("schedule_ledger", sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("schedule_attempts", sa.Column("prior_send_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "schedule_attempts", sa.Column("purpose", sa.String(length=16), server_default="sync", nullable=False)
    )
    _checks(STATES_AFTER, ACTIONS_AFTER)
    _live_indexes(LIVE_AFTER)


def downgrade() -> None:
    # The old vocabulary cannot hold these: an unidentified schedule is, for the old code, unknown.
    op.execute("UPDATE schedule_ledger SET state = 'unknown' WHERE state = 'unidentified'")
    op.execute("DELETE FROM scheduler_logs WHERE action = 'evidence'")
    _live_indexes(LIVE_BEFORE)
    _checks(STATES_BEFORE, ACTIONS_BEFORE)
    op.drop_column("schedule_attempts", "purpose")
    op.drop_column("schedule_attempts", "prior_send_at")
    op.drop_column("schedule_ledger", "confirmed_at")
