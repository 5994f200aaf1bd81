"""A lease with a fencing token: true mutual exclusion for schedulers and reconcilers.

Acquisition is ONE atomic statement (insert-or-take-over-if-expired, ``fence = fence + 1``,
``RETURNING fence``) — unlike seed 002's select-then-update, two racers cannot both win.
Expiry is judged on the database clock (``clock_timestamp()``), the one clock every holder
shares. Every ledger write of a holder runs in :func:`fenced`: a transaction that first locks
the lease row ``FOR SHARE`` and checks the fence is still the holder's. So a holder that
paused past its lease (GC, network, a slow Braze call) can never overwrite a newer holder's
writes: its transaction either commits before the new holder's acquisition (which waits for
the share lock) or sees the new fence and aborts.

Plain row locks inside short transactions, no session advisory locks: those break behind
transaction-pooling proxies (DESIGN §3).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import sqlalchemy as sa

from nba_notify.lib.errors import ErrorCategory, PipelineError

# How long a lease lives without renewal, and how long a second scheduler waits for it before
# giving up its run (the Dagster resource, the CLI and the repair jobs all use these).
LEASE_TTL_SECONDS = 120.0
LEASE_WAIT_SECONDS = 60.0

ACQUIRE_SQL = sa.text(
    """
    INSERT INTO scheduler_leases (name, holder, fence, acquired_at, expires_at, released_at)
    VALUES (:name, :holder, 1, clock_timestamp(), clock_timestamp() + make_interval(secs => :ttl), NULL)
    ON CONFLICT (name) DO UPDATE
       SET holder = EXCLUDED.holder,
           fence = scheduler_leases.fence + 1,
           acquired_at = EXCLUDED.acquired_at,
           expires_at = EXCLUDED.expires_at,
           released_at = NULL
     WHERE scheduler_leases.expires_at < clock_timestamp()
        OR scheduler_leases.holder = EXCLUDED.holder
    RETURNING fence
    """
)

RENEW_SQL = sa.text(
    """
    UPDATE scheduler_leases
       SET expires_at = clock_timestamp() + make_interval(secs => :ttl)
     WHERE name = :name AND fence = :fence AND holder = :holder
    RETURNING fence
    """
)

RELEASE_SQL = sa.text(
    """
    UPDATE scheduler_leases
       SET expires_at = clock_timestamp(), released_at = clock_timestamp()
     WHERE name = :name AND fence = :fence AND holder = :holder
    """
)

CURRENT_FENCE_SQL = sa.text("SELECT fence FROM scheduler_leases WHERE name = :name FOR SHARE")


class FenceLost(Exception):
    """Control flow, not a failure: a newer holder took the lease. The caller records what it
    learned (unfenced intent log / orphans) and stops making decisions."""

    def __init__(self, name: str, fence: int, current: int | None):
        super().__init__(f"lease {name!r}: fence {fence} superseded by {current}")
        self.name, self.fence, self.current = name, fence, current


def lease_name(campaign_id: str) -> str:
    """One lease per campaign: schedulers and reconcilers of a campaign share one fence
    sequence, so every ledger write of that campaign is totally ordered."""
    return f"braze:{campaign_id}"


def new_holder_id(prefix: str = "sync") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@dataclass
class Lease:
    engine: sa.Engine
    name: str
    holder: str
    fence: int
    ttl_seconds: float
    _renewed_at: float = field(default_factory=time.monotonic)

    @classmethod
    def try_acquire(cls, engine: sa.Engine, name: str, holder: str, ttl_seconds: float) -> Lease | None:
        with engine.begin() as conn:
            fence = conn.execute(
                ACQUIRE_SQL, {"name": name, "holder": holder, "ttl": float(ttl_seconds)}
            ).scalar()
        if fence is None:
            return None
        return cls(engine, name, holder, int(fence), float(ttl_seconds))

    @classmethod
    def acquire(
        cls,
        engine: sa.Engine,
        name: str,
        holder: str,
        *,
        ttl_seconds: float = 120.0,
        wait_seconds: float = 0.0,
        poll_seconds: float = 0.05,
    ) -> Lease:
        """Take the lease, waiting up to ``wait_seconds`` for the current holder to release
        it or let it expire. Raises a TIMEOUT :class:`PipelineError` otherwise."""
        deadline = time.monotonic() + wait_seconds
        while True:
            lease = cls.try_acquire(engine, name, holder, ttl_seconds)
            if lease is not None:
                return lease
            if time.monotonic() >= deadline:
                raise PipelineError(
                    ErrorCategory.TIMEOUT,
                    f"lease {name!r} is held by another run",
                    details={
                        "lease": name,
                        "holder": holder,
                        "waited_seconds": wait_seconds,
                        **holder_of(engine, name),
                    },
                    recovery="Another scheduler or reconcile run holds the lease; this run is retried "
                    "later. If the holder died, the lease expires after its TTL on its own.",
                )
            time.sleep(poll_seconds)

    def renew(self) -> None:
        """Extend the lease; raises :class:`FenceLost` if it was taken over meanwhile."""
        with self.engine.begin() as conn:
            ok = conn.execute(
                RENEW_SQL,
                {"name": self.name, "fence": self.fence, "holder": self.holder, "ttl": self.ttl_seconds},
            ).scalar()
        if ok is None:
            raise FenceLost(self.name, self.fence, current_fence(self.engine, self.name))
        self._renewed_at = time.monotonic()

    def renew_if_due(self) -> None:
        if time.monotonic() - self._renewed_at > self.ttl_seconds / 3:
            self.renew()

    def release(self) -> None:
        """Let the next holder in at once. A no-op if the lease was already taken over."""
        with self.engine.begin() as conn:
            conn.execute(RELEASE_SQL, {"name": self.name, "fence": self.fence, "holder": self.holder})

    def check(self, conn: sa.Connection) -> None:
        """Inside a transaction: lock the lease row (share) and verify the fence."""
        current = conn.execute(CURRENT_FENCE_SQL, {"name": self.name}).scalar()
        if current != self.fence:
            raise FenceLost(self.name, self.fence, current)

    @contextmanager
    def fenced(self) -> Iterator[sa.Connection]:
        """A transaction that commits only while this holder's fence is current."""
        with self.engine.begin() as conn:
            self.check(conn)
            yield conn


def current_fence(engine: sa.Engine, name: str) -> int | None:
    with engine.connect() as conn:
        value = conn.execute(
            sa.text("SELECT fence FROM scheduler_leases WHERE name = :n"), {"n": name}
        ).scalar()
    return int(value) if value is not None else None


def holder_of(engine: sa.Engine, name: str) -> dict[str, object]:
    with engine.connect() as conn:
        row = (
            conn.execute(
                sa.text("SELECT holder, fence, expires_at FROM scheduler_leases WHERE name = :n"), {"n": name}
            )
            .mappings()
            .first()
        )
    return (
        {"current_holder": row["holder"], "current_fence": row["fence"], "expires_at": str(row["expires_at"])}
        if row
        else {}
    )
