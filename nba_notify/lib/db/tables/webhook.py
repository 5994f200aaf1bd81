"""The Currents receiver's dead letters.

``currents_dead_letters`` keeps what Braze posted that we could not store as a send event:
one row per bad event (or per whole body when not even the ``{"events": [...]}`` envelope
could be read), with the exact bytes received and the reason. Braze stops redelivering what we
answered 2xx for, so anything refused must be kept here, never dropped: an operator reads the
reason, fixes the cause and can replay ``raw``. Redeliveries of the same bytes bump
``deliveries`` instead of adding rows (unique ``raw_sha256``).
"""

import sqlalchemy as sa

from nba_notify.lib.db.metadata import metadata

NOW = sa.text("now()")
TS = sa.DateTime(timezone=True)

currents_dead_letters = sa.Table(
    "currents_dead_letters",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("raw", sa.LargeBinary, nullable=False),
    sa.Column("raw_sha256", sa.String(64), nullable=False, unique=True),
    # invalid_json | invalid_utf8 | too_deep | non_finite_number | number_too_large |
    # unstorable_text | invalid_event | not_an_object | bad_envelope | too_many_events | database_refused
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    # What could be read of the event's own id (NULL when it had none we could trust).
    sa.Column("event_id", sa.String(64)),
    # Position in the delivered batch; NULL when the whole body was refused.
    sa.Column("batch_position", sa.Integer),
    sa.Column("batch_sha256", sa.String(64), nullable=False),
    sa.Column("deliveries", sa.Integer, nullable=False, server_default="1"),
    sa.Column("first_received_at", TS, nullable=False, server_default=NOW),
    sa.Column("last_received_at", TS, nullable=False, server_default=NOW),
    sa.Index("ix_currents_dead_letters_received", "first_received_at"),
)
