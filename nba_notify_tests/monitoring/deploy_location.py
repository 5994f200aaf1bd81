"""A tiny code location for the deployment test: a job that holds its run slot for a few
seconds, so the daemon's queue decisions (priority, per-campaign limit) can be observed."""

import time

import dagster as dg


class Hold(dg.Config):
    seconds: float = 4.0


@dg.op
def hold(config: Hold) -> None:
    time.sleep(config.seconds)


@dg.job(executor_def=dg.in_process_executor)
def campaign_sync_job() -> None:
    hold()


defs = dg.Definitions(jobs=[campaign_sync_job])
