"""Data quality (issue 4): know sooner, retry later, prove recovery.

* :mod:`.discrepancies` — BDL vs NBA.com per game day, by game identity (pure);
* :mod:`.evaluate` — one day's comparison recorded: discrepancy rows, ``partial`` scrape
  events, retry items queued and decided, in one transaction;
* :mod:`.retry` / :mod:`.queue` — the retry queue's rules (backoff 4 h / 12 h / 24 h, states)
  and its PostgreSQL store (claims with ``FOR UPDATE SKIP LOCKED``);
* :mod:`.coverage` — the phase-2 coverage gate (< 90% of games or players blocks phase 3/4);
* :mod:`.audit` / :mod:`.reprocess` — the zero-record audit and the targeted backfill plan;
* :mod:`.cleanup` — superseded phase-2 rows;
* :mod:`.summary` — ``quality_summary(engine)`` for the demo.
"""

from nba_notify.lib.quality.summary import quality_summary

__all__ = ["quality_summary"]
