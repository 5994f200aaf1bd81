"""Metrics every API-calling asset reports, under the names the monitoring sensor reads."""

from __future__ import annotations

import resource
import sys

from nba_notify.lib.clients.http import CallRecorder


def peak_memory_mb() -> float:
    """Peak resident set size of this process (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024, 1)


def api_metrics(recorder: CallRecorder, since: int = 0, *, cached: bool = False) -> dict[str, float | int]:
    summary = recorder.summary(since=since)
    metrics: dict[str, float | int] = {
        "api_calls": summary["api_calls"],
        "api_retries": summary["api_retries"],
        "api_errors": summary["api_errors"],
        "api_p50_ms": summary["api_p50_ms"],
        "api_p95_ms": summary["api_p95_ms"],
        "peak_memory_mb": peak_memory_mb(),
    }
    if cached:
        metrics["cache_hit_ratio"] = summary["cache_hit_ratio"]
    return metrics
