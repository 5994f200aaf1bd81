"""Quality policies as resources, so an operator changes them in configuration, never in code:
the retry queue's backoff and retry count (seed 003: 3 attempts, 4 h / 12 h / 24 h), and the
deadline after which a box score not yet published is an error rather than lag."""

from datetime import timedelta

import dagster as dg

from nba_notify.lib.quality.discrepancies import BoxScoreDeadline
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


class BoxScoreDeadlineResource(dg.ConfigurableResource):
    """How long a source may take to publish a final game's box score before the gap is an
    error (``box_scores_published_within_deadline`` fails, ERROR) rather than lag.

    ``hours_after_final``: the deadline, counted from when the game went final — estimated as
    tip-off + ``game_length_hours``, a bound a real game (overtimes included) rarely exceeds,
    because the feeds do not say when the buzzer went. Real box scores appear during the game
    or within a few hours of it."""

    hours_after_final: float = 4.0
    game_length_hours: float = 3.0

    def deadline(self) -> BoxScoreDeadline:
        return BoxScoreDeadline(self.hours_after_final, timedelta(hours=self.game_length_hours))


@dg.definitions
def quality_resources() -> dg.Definitions:
    return dg.Definitions(
        resources={"retry_queue": RetryQueueResource(), "box_score_deadline": BoxScoreDeadlineResource()}
    )
