"""Carry a classified :class:`PipelineError` through Dagster's failure events.

Assets raise ``as_failure(err)``; the step-failure event then holds the category, severity and
recovery suggestion as structured metadata, which the monitoring sensor reads back with
:func:`error_fields_from_metadata` — so errors are classified once, where they happen."""

from __future__ import annotations

import json
from typing import Any

import dagster as dg

from nba_notify.lib.errors import PipelineError, classify_exception

ERROR_METADATA_KEYS = (
    "error_category",
    "error_severity",
    "error_recovery",
    "error_status_code",
    "error_details",
)


def as_failure(exc: BaseException, *, allow_retries: bool | None = None) -> dg.Failure:
    err = classify_exception(exc)
    metadata: dict[str, Any] = {
        "error_category": str(err.category),
        "error_severity": str(err.severity),
        "error_recovery": err.recovery or "",
        "error_details": dg.MetadataValue.json(_jsonable(err.details)),
    }
    if err.status_code is not None:
        metadata["error_status_code"] = err.status_code
    return dg.Failure(
        description=str(err),
        metadata=metadata,
        allow_retries=err.retryable if allow_retries is None else allow_retries,
    )


def error_fields_from_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """Inverse of :func:`as_failure` for readers of the event log (plain values)."""
    out: dict[str, Any] = {}
    for key in ERROR_METADATA_KEYS:
        if key in metadata:
            value = metadata[key]
            out[key] = getattr(value, "value", value)
    return out


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


__all__ = ["PipelineError", "as_failure", "error_fields_from_metadata", "ERROR_METADATA_KEYS"]
