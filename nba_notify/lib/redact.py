"""Secrets never printed: URLs lose their password and secret-looking query parameters."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
_SECRET_PARAMS = ("password", "passwd", "pwd", "secret", "token", "key", "signature", "sig")


def mask_url(url: str | None) -> str:
    """``postgresql://app:s3cret@db/x?sslpassword=y`` -> ``postgresql://app:***@db/x?sslpassword=***``.
    Anything that does not parse as a URL is masked whole rather than risked."""
    if not url:
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user, _, password = userinfo.partition(":")
        netloc = f"{user}:{MASK}@{hostport}" if password else netloc
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode(
            [(k, MASK if any(s in k.lower() for s in _SECRET_PARAMS) else v) for k, v in pairs],
            safe="/:*",
        )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def mask_secret(value: str | None) -> str:
    """A secret's presence, never its value: ``set (12 chars)`` or ``unset``."""
    return f"set ({len(value)} chars)" if value else "unset"
