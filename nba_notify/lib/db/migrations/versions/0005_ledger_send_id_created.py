"""notifications: the ledger records when an intent's Braze send id was created
(``POST /sends/id/create`` must precede a schedule create naming it), and the scheduler log
accepts the ``send_id_created`` action.

Revision ID: 0005
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0002"
branch_labels = None
depends_on = None

ACTIONS_BEFORE = (
    "'created', 'updated', 'skipped_unchanged', 'skipped', 'cancelled', 'adopted', "
    "'error', 'unknown', 'orphaned', 'expired', 'resolved', 'alerted'"
)
ACTIONS_AFTER = ACTIONS_BEFORE + ", 'send_id_created'"


def upgrade() -> None:
    # NULL for existing rows: whether Braze holds their send ids is unknown, so the next create
    # of such an intent creates it first (idempotent at Braze: an existing pair costs nothing).
    op.add_column(
        "schedule_ledger", sa.Column("send_id_created_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.drop_constraint(op.f("ck_scheduler_logs_action"), "scheduler_logs", type_="check")
    op.create_check_constraint(
        op.f("ck_scheduler_logs_action"), "scheduler_logs", f"action IN ({ACTIONS_AFTER})"
    )


def downgrade() -> None:
    # The old constraint cannot hold these rows.
    op.execute("DELETE FROM scheduler_logs WHERE action = 'send_id_created'")
    op.drop_constraint(op.f("ck_scheduler_logs_action"), "scheduler_logs", type_="check")
    op.create_check_constraint(
        op.f("ck_scheduler_logs_action"), "scheduler_logs", f"action IN ({ACTIONS_BEFORE})"
    )
    op.drop_column("schedule_ledger", "send_id_created_at")
