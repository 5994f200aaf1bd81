"""Where alerts go: a generic webhook (Slack-compatible JSON), email over SMTP, and the
dashboard (the ``alerts`` table itself). A channel either returns or raises a classified
:class:`PipelineError`; the delivery loop records it and moves on to the next channel."""

from __future__ import annotations

import json
import os
import smtplib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import Any, Protocol

import httpx

from nba_notify.lib.clients.http import classify_status
from nba_notify.lib.errors import ErrorCategory, PipelineError

SEVERITY_COLOURS = {"LOW": "#439FE0", "MEDIUM": "#ECB22E", "HIGH": "#E8912D", "CRITICAL": "#E01E5A"}


@dataclass(frozen=True)
class AlertMessage:
    alert_id: int
    event: str  # RAISED | ESCALATED | RESOLVED
    rule_key: str
    rule_name: str
    entity: str
    dedupe_key: str
    severity: str
    status: str
    title: str
    details: Mapping[str, Any]
    occurrences: int
    first_seen_at: datetime
    last_seen_at: datetime
    escalation_level: int
    resolution_note: str | None = None

    @property
    def headline(self) -> str:
        scope = f"{self.entity}/{self.dedupe_key}" if self.dedupe_key else self.entity
        return f"[{self.severity}] {self.event}: {self.title} ({scope})"

    def as_dict(self) -> dict[str, Any]:
        return {
            "alert_id": self.alert_id,
            "event": self.event,
            "rule_key": self.rule_key,
            "rule_name": self.rule_name,
            "entity": self.entity,
            "dedupe_key": self.dedupe_key,
            "severity": self.severity,
            "status": self.status,
            "title": self.title,
            "details": dict(self.details),
            "occurrences": self.occurrences,
            "first_seen_at": self.first_seen_at.isoformat(),
            "last_seen_at": self.last_seen_at.isoformat(),
            "escalation_level": self.escalation_level,
            "resolution_note": self.resolution_note,
        }

    def text_body(self) -> str:
        lines = [
            self.headline,
            "",
            f"Rule: {self.rule_name} ({self.rule_key})",
            f"Entity: {self.entity}",
            f"Status: {self.status}   Occurrences: {self.occurrences}   Escalation level: {self.escalation_level}",
            f"First seen: {self.first_seen_at.isoformat()}   Last seen: {self.last_seen_at.isoformat()}",
        ]
        if self.resolution_note:
            lines.append(f"Resolution: {self.resolution_note}")
        lines += ["", "Details:", json.dumps(dict(self.details), indent=2, default=str, sort_keys=True)]
        return "\n".join(lines)


class Channel(Protocol):
    name: str

    def send(self, message: AlertMessage) -> None: ...


def slack_payload(message: AlertMessage) -> dict[str, Any]:
    """Slack incoming-webhook JSON (``text`` + ``attachments``); receivers that are not Slack
    read the structured copy under ``alert``."""
    fields = [
        {"title": "Rule", "value": message.rule_key, "short": True},
        {"title": "Entity", "value": message.entity, "short": True},
        {"title": "Severity", "value": message.severity, "short": True},
        {"title": "Occurrences", "value": str(message.occurrences), "short": True},
    ]
    if message.dedupe_key:
        fields.append({"title": "Key", "value": message.dedupe_key, "short": True})
    return {
        "text": message.headline,
        "attachments": [
            {
                "color": "#2EB67D"
                if message.event == "RESOLVED"
                else SEVERITY_COLOURS.get(message.severity, "#999999"),
                "title": message.title,
                "fields": fields,
                "text": "```" + json.dumps(dict(message.details), default=str, sort_keys=True)[:2500] + "```",
                "ts": int(message.last_seen_at.timestamp()),
            }
        ],
        "alert": message.as_dict(),
    }


@dataclass
class WebhookChannel:
    url: str
    timeout_seconds: float = 5.0
    name: str = "webhook"

    def send(self, message: AlertMessage) -> None:
        try:
            response = httpx.post(self.url, json=slack_payload(message), timeout=self.timeout_seconds)
        except httpx.TimeoutException as exc:
            raise PipelineError(
                ErrorCategory.TIMEOUT, f"alert webhook timed out: {type(exc).__name__}", {"url": self.url}
            ) from exc
        except httpx.HTTPError as exc:
            raise PipelineError(
                ErrorCategory.NETWORK,
                f"alert webhook unreachable: {type(exc).__name__}: {exc}",
                {"url": self.url},
            ) from exc
        if response.status_code >= 300:
            raise classify_status(
                response.status_code, response.headers, response.content, url=self.url, method="POST"
            )


@dataclass
class SmtpChannel:
    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    timeout_seconds: float = 5.0
    starttls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    name: str = "email"

    def send(self, message: AlertMessage) -> None:
        email = EmailMessage()
        email["Subject"] = f"[nba_notify] {message.headline}"
        email["From"] = self.sender
        email["To"] = ", ".join(self.recipients)
        email.set_content(message.text_body())
        where = {"host": self.host, "port": self.port}
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_seconds) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(email)
        except smtplib.SMTPAuthenticationError as exc:
            raise PipelineError(
                ErrorCategory.AUTH, f"SMTP login rejected: {exc.smtp_code}", where, exc.smtp_code
            ) from exc
        except smtplib.SMTPResponseException as exc:
            raise PipelineError(
                ErrorCategory.API,
                f"SMTP server answered {exc.smtp_code}: {exc.smtp_error!r}",
                where,
                exc.smtp_code,
            ) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            raise PipelineError(
                ErrorCategory.VALIDATION, f"SMTP refused recipients {sorted(exc.recipients)}", where
            ) from exc
        except TimeoutError as exc:
            raise PipelineError(
                ErrorCategory.TIMEOUT, f"SMTP {self.host}:{self.port} timed out", where
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise PipelineError(
                ErrorCategory.NETWORK,
                f"SMTP {self.host}:{self.port} failed: {type(exc).__name__}: {exc}",
                where,
            ) from exc


@dataclass
class DashboardChannel:
    """The ``alerts`` table is the dashboard; nothing to send."""

    name: str = "dashboard"

    def send(self, message: AlertMessage) -> None:
        return None


@dataclass(frozen=True)
class ChannelSettings:
    webhook_url: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str | None = None
    smtp_to: tuple[str, ...] = ()
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    timeout_seconds: float = 5.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ChannelSettings:
        env = os.environ if env is None else env
        to = tuple(a.strip() for a in (env.get("NBA_NOTIFY_SMTP_TO") or "").split(",") if a.strip())
        return cls(
            webhook_url=env.get("NBA_NOTIFY_ALERT_WEBHOOK_URL") or None,
            smtp_host=env.get("NBA_NOTIFY_SMTP_HOST") or None,
            smtp_port=int(env.get("NBA_NOTIFY_SMTP_PORT") or 25),
            smtp_from=env.get("NBA_NOTIFY_SMTP_FROM") or None,
            smtp_to=to,
            smtp_starttls=(env.get("NBA_NOTIFY_SMTP_STARTTLS") or "").lower() in ("1", "true", "yes"),
            smtp_username=env.get("NBA_NOTIFY_SMTP_USERNAME") or None,
            smtp_password=env.get("NBA_NOTIFY_SMTP_PASSWORD") or None,
        )


def build_channels(settings: ChannelSettings) -> dict[str, Channel]:
    """Configured channels by name; the dashboard is always on. Email needs a host, a sender
    and at least one recipient."""
    channels: dict[str, Channel] = {"dashboard": DashboardChannel()}
    if settings.webhook_url:
        channels["webhook"] = WebhookChannel(settings.webhook_url, settings.timeout_seconds)
    if settings.smtp_host and settings.smtp_from and settings.smtp_to:
        channels["email"] = SmtpChannel(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_from,
            settings.smtp_to,
            settings.timeout_seconds,
            settings.smtp_starttls,
            settings.smtp_username,
            settings.smtp_password,
        )
    return channels
