"""A sync in its own process that dies (``os._exit``) at a named checkpoint: no cleanup, no
write-back, no lease release - what a killed process leaves behind.

    python -m nba_notify_tests.notifications.crashing_sync <database_url> <sim_url> <checkpoint>
"""

from __future__ import annotations

import os
import sys
from typing import Any

from nba_notify.lib.clients.braze import BrazeClient
from nba_notify.lib.clients.http import RetryPolicy, Timeouts
from nba_notify.lib.clock import RemoteSimClock
from nba_notify.lib.db.engine import get_engine
from nba_notify.lib.ledger.planning import NotificationPolicy
from nba_notify.lib.ledger.sync import run_sync

KILLED_EXIT_CODE = 137
CAMPAIGN = "sim-campaign-tipoff"


def main(database_url: str, sim_url: str, crash_at: str) -> int:
    engine = get_engine(database_url)
    client = BrazeClient(
        f"{sim_url}/braze", "sim-braze-key", timeouts=Timeouts(read=2.0), retry=RetryPolicy(max_attempts=1)
    )
    policy = NotificationPolicy(campaign_id=CAMPAIGN)

    def checkpoint(name: str, **context: Any) -> None:
        if name == crash_at:
            os._exit(KILLED_EXIT_CODE)

    run_sync(
        engine,
        client,
        policy,
        clock=RemoteSimClock(f"{sim_url}/_sim/clock").now,
        checkpoint=checkpoint,
        lease_ttl_seconds=1.0,
        lease_wait_seconds=10,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
