"""The Braze schedule ledger: exactly one push per game, never two, never none (DESIGN §3).

What holds which invariant:

1. Never two
   * :mod:`.lease` - one atomic statement hands out the lease with a monotonically increasing
     fence; every holder write runs in a transaction that share-locks the lease row and checks
     the fence (a holder that paused past its lease changes nothing).
   * ``schedule_ledger`` - one row per intent (unique ``intent_key``), at most one live row per
     game and kind (partial unique index), unique ``braze_schedule_id``; no placeholder ids.
   * :mod:`.store` claims - a compare-and-set into ``creating``/``updating`` plus an in-flight
     ``schedule_attempts`` row (the intent log) in one fenced transaction, before the call.
   * :mod:`.planning` ``resolve_intent`` - an intent whose call has no known outcome is never
     re-created: adopt a recorded success, revert a proven failure, otherwise ``unknown`` and a
     CRITICAL alert (:mod:`.alerting`) naming the game before its send.
2. Never none - :func:`.sync.run_sync` creates every schedulable intent; a run that lost its
   lease settles (re-takes the lease, adopts its own outcome); pre-send verification
   (:mod:`.reconcile`) recreates what Braze proves gone (404), within limits.
3. Never the wrong one - only ``schedule_orphans`` are ever cancelled, through a guarded
   compare-and-set that refuses any id a ledger row holds or could still adopt; no post-run
   dedupe exists. Cancels of live schedules happen only for withdrawn games (proof).
4. Minimal calls - pure planning over normalised signatures (UTC, minute, tricodes, template
   version); unchanged = zero calls; an in-flight claim by another holder is waited on, never
   repeated. Each intent's send id is created once, right before its first schedule create
   (:mod:`.sync`, ``schedule_ledger.send_id_created_at``); those calls are counted apart from
   schedule writes, and a short horizon (:class:`.planning.NotificationPolicy`) keeps them far
   below Braze's 100 new send ids a day.
5. Every send accounted for - :mod:`.webhook_store` (one transaction per batch, exactly once per
   event, a bad event quarantined with its bytes instead of failing its batch, first send ->
   ``sent`` at the earliest send time), :mod:`.monitor` + :mod:`.verification` (stale pending).

Entry points without Dagster: :func:`.service.refresh_desired`, :func:`.service.sync_once`,
:func:`.sync.run_sync`, :func:`.reconcile.reconcile`, :func:`.reconcile.pre_send_verification`,
:func:`.reconcile.count_reconcile`, :func:`.service.resolve_unknown`,
:func:`.report.notification_report`.
"""
