"""One error taxonomy for the whole product.

Every failure that crosses a boundary (HTTP, database, payload parsing) is raised as a
:class:`PipelineError` carrying a :class:`ErrorCategory`, a :class:`Severity` and a recovery
suggestion, so the scrape log, the sync error log and the alerting all speak the same language
(seed 001's classification, seed 003's ``error_type``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class ErrorCategory(enum.StrEnum):
    NETWORK = "NETWORK"
    AUTH = "AUTH"
    API = "API"
    RATE_LIMIT = "RATE_LIMIT"
    TIMEOUT = "TIMEOUT"
    VALIDATION = "VALIDATION"
    DATABASE = "DATABASE"


class Severity(enum.StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


@dataclass(frozen=True)
class CategoryPolicy:
    severity: Severity
    retryable: bool
    recovery: str
    # seed 003 vocabulary for scrape_events.error_type
    scrape_error_type: str


POLICIES: dict[ErrorCategory, CategoryPolicy] = {
    ErrorCategory.NETWORK: CategoryPolicy(
        Severity.MEDIUM,
        True,
        "Transient connectivity problem: retried with backoff; if it persists check DNS, "
        "egress and the upstream status page.",
        "network_error",
    ),
    ErrorCategory.AUTH: CategoryPolicy(
        Severity.CRITICAL,
        False,
        "Credentials rejected: rotate or re-issue the API key (BDL_API_KEY / BRAZE_API_KEY) "
        "and re-run; retrying cannot fix this.",
        "auth_error",
    ),
    ErrorCategory.API: CategoryPolicy(
        Severity.HIGH,
        True,
        "Upstream returned an error: retried with backoff; if persistent, compare with the "
        "upstream status page and the request in error_details.",
        "api_error",
    ),
    ErrorCategory.RATE_LIMIT: CategoryPolicy(
        Severity.MEDIUM,
        True,
        "Upstream rate limit hit: retried after the advertised reset; lower concurrency or "
        "request a higher quota if it recurs.",
        "rate_limit",
    ),
    ErrorCategory.TIMEOUT: CategoryPolicy(
        Severity.MEDIUM,
        True,
        "Upstream too slow: retried with backoff; raise the read timeout only if the "
        "upstream is known to be slow for this endpoint.",
        "timeout",
    ),
    ErrorCategory.VALIDATION: CategoryPolicy(
        Severity.HIGH,
        False,
        "Payload did not match the expected shape: inspect the stored raw payload and the "
        "named field; the upstream API may have changed.",
        "validation_error",
    ),
    ErrorCategory.DATABASE: CategoryPolicy(
        Severity.CRITICAL,
        True,
        "Database write or read failed: check connectivity and migrations "
        "(`nba-notify migrate`); the transaction was rolled back, nothing was half-written.",
        "database_error",
    ),
}


@dataclass
class PipelineError(Exception):
    """A classified failure. ``details`` holds the context (URL, status, field path...)."""

    category: ErrorCategory
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    status_code: int | None = None
    severity: Severity | None = None
    recovery: str | None = None

    def __post_init__(self) -> None:
        policy = POLICIES[self.category]
        if self.severity is None:
            self.severity = policy.severity
        if self.recovery is None:
            self.recovery = policy.recovery
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"[{self.category}] {self.message}"

    @property
    def retryable(self) -> bool:
        return POLICIES[self.category].retryable

    @property
    def scrape_error_type(self) -> str:
        return POLICIES[self.category].scrape_error_type

    def as_dict(self) -> dict[str, Any]:
        return {
            "category": str(self.category),
            "severity": str(self.severity),
            "message": self.message,
            "recovery": self.recovery,
            "status_code": self.status_code,
            "details": self.details,
        }


def classify_exception(exc: BaseException) -> PipelineError:
    """Map any exception to the taxonomy; unknown exceptions are API errors of our own code
    only if nothing better is known, so that nothing escapes unclassified."""
    if isinstance(exc, PipelineError):
        return exc
    import sqlalchemy.exc as sa_exc

    if isinstance(exc, sa_exc.SQLAlchemyError):
        return PipelineError(
            ErrorCategory.DATABASE,
            f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
            details={"exception": type(exc).__name__},
        )
    try:
        import pydantic

        if isinstance(exc, pydantic.ValidationError):
            return validation_error_from_pydantic(exc, source="payload")
    except ImportError:  # pragma: no cover - pydantic ships with dagster
        pass
    if isinstance(exc, TimeoutError):
        return PipelineError(ErrorCategory.TIMEOUT, str(exc) or "timed out")
    if isinstance(exc, (ConnectionError, OSError)):
        return PipelineError(ErrorCategory.NETWORK, f"{type(exc).__name__}: {exc}")
    return PipelineError(
        ErrorCategory.API,
        f"unexpected {type(exc).__name__}: {exc}",
        details={"exception": type(exc).__name__},
        severity=Severity.HIGH,
    )


def validation_error_from_pydantic(exc: Any, *, source: str) -> PipelineError:
    """Turn a pydantic ValidationError into a VALIDATION error naming every bad field."""
    problems = []
    for err in exc.errors()[:20]:
        path = ".".join(str(p) for p in err.get("loc", ()))
        problems.append({"field": path, "problem": err.get("msg"), "type": err.get("type")})
    first = problems[0] if problems else {"field": "?", "problem": str(exc)}
    more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
    return PipelineError(
        ErrorCategory.VALIDATION,
        f"{source}: field '{first['field']}' {first['problem']}{more}",
        details={"source": source, "fields": problems},
    )
