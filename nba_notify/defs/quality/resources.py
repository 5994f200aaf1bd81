"""The retry queue's policy as a resource, so an operator changes backoff and retry count in
configuration, never in code (seed 003: 3 attempts, 4 h / 12 h / 24 h)."""

import dagster as dg

from nba_notify.lib.quality.retry import (
    DEFAULT_BACKOFF_HOURS,
    DEFAULT_BOX_SCORE_PERMANENT_AFTER_HOURS,
    DEFAULT_MAX_RETRIES,
    BackoffSchedule,
)


class RetryQueueResource(dg.ConfigurableResource):
    """``backoff_hours[n]``: the wait before retry n+1 (the last value repeats);
    ``max_retries``: attempts before an item is exhausted and alerts for manual action;
    ``claims_per_tick``: how many due items one sensor tick launches at most;
    ``box_score_permanent_after_hours``: a box score still unavailable this long after its
    game day ended is permanent — queued as such, never retried, one alert per cause."""

    backoff_hours: list[float] = list(DEFAULT_BACKOFF_HOURS)
    max_retries: int = DEFAULT_MAX_RETRIES
    claims_per_tick: int = 10
    box_score_permanent_after_hours: float = DEFAULT_BOX_SCORE_PERMANENT_AFTER_HOURS

    def schedule(self) -> BackoffSchedule:
        return BackoffSchedule.from_hours(
            self.backoff_hours, self.max_retries, self.box_score_permanent_after_hours
        )


@dg.definitions
def quality_resources() -> dg.Definitions:
    return dg.Definitions(resources={"retry_queue": RetryQueueResource()})
