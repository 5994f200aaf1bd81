"""Test-only stand-ins for the real ingest / notification assets: same asset keys, same
metadata contract (``dagster/row_count``, ``api_*``, ``cache_hit_ratio``, ``peak_memory_mb``),
failures raised through ``as_failure`` — so monitoring is tested without waiting for them."""

import dagster as dg

from nba_notify.lib.errors import ErrorCategory, PipelineError
from nba_notify.lib.failures import as_failure

daily = dg.DailyPartitionsDefinition(start_date="2026-10-01", timezone="America/New_York")


class Behaviour(dg.Config):
    fail_box_scores: bool = False
    fail_games_check: bool = False
    crash_unclassified: bool = False
    games_rows: int = 12
    peak_memory_mb: float = 80.0


@dg.asset(partitions_def=daily)
def bdl_games_raw(config: Behaviour) -> dg.MaterializeResult:
    if config.crash_unclassified:
        raise KeyError("games")  # not classified by the asset: monitoring still records it
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": config.games_rows,
            "api_calls": 3,
            "api_retries": 1,
            "api_p50_ms": 40.0,
            "api_p95_ms": 120.0,
            "cache_hit_ratio": 0.5,
            "peak_memory_mb": config.peak_memory_mb,
        }
    )


@dg.asset(partitions_def=daily)
def nbac_schedule_raw() -> dg.MaterializeResult:
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": 10,
            "api_calls": 1,
            "api_retries": 0,
            "api_p50_ms": 80.0,
            "api_p95_ms": 90.0,
            "cache_hit_ratio": 1.0,
            "peak_memory_mb": 60.0,
        }
    )


@dg.asset(partitions_def=daily, deps=[bdl_games_raw, nbac_schedule_raw])
def games() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"dagster/row_count": 11})


@dg.asset_check(asset=games, blocking=False)
def games_have_two_sources(config: Behaviour) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=not config.fail_games_check,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"games_missing_from_nbac": 1 if config.fail_games_check else 0},
    )


@dg.asset(partitions_def=daily)
def bdl_box_scores_raw(config: Behaviour) -> dg.MaterializeResult:
    if config.fail_box_scores:
        raise as_failure(
            PipelineError(
                ErrorCategory.RATE_LIMIT,
                "GET /v1/box_scores rate limited (429)",
                {"url": "http://sim/bdl/v1/box_scores"},
                status_code=429,
            )
        )
    return dg.MaterializeResult(
        metadata={"dagster/row_count": 240, "api_calls": 2, "api_p50_ms": 30.0, "api_p95_ms": 50.0}
    )


@dg.asset(partitions_def=daily, deps=[bdl_box_scores_raw])
def player_box_scores() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"dagster/row_count": 240})


ASSETS = [bdl_games_raw, nbac_schedule_raw, games, bdl_box_scores_raw, player_box_scores]
CHECKS = [games_have_two_sources]


def run_ingest(
    instance: dg.DagsterInstance, partition: str = "2026-11-20", **behaviour
) -> dg.ExecuteInProcessResult:
    config = Behaviour(**behaviour)
    return dg.materialize(
        [*ASSETS, *CHECKS],
        instance=instance,
        partition_key=partition,
        run_config=dg.RunConfig(
            ops={
                "bdl_games_raw": config,
                "bdl_box_scores_raw": config,
                "games_games_have_two_sources": config,
            }
        ),
        raise_on_error=False,
        tags={"dagster/schedule_name": "ingest_schedule"},
    )
