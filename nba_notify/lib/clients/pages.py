"""One fetched page of an upstream API, as the ingest layer stores it.

A :class:`Page` keeps the raw bytes next to the decoded payload so phase 1 can store exactly
what the source sent (for replay and audits) while phase 2 parses the payload.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nba_notify.lib.clients.http import ApiResponse


@dataclass(frozen=True)
class Page:
    source: str  # "bdl" | "nbac"
    endpoint: str  # e.g. "games", "box_scores", "schedule", "box_score"
    params: Mapping[str, Any]  # what identified the request (query params, game id, season)
    page_number: int  # 1-based within one logical fetch (cursor paging)
    response: ApiResponse
    payload: Any

    @property
    def url(self) -> str:
        return self.response.url

    @property
    def content(self) -> bytes:
        return self.response.content

    @property
    def from_cache(self) -> bool:
        return self.response.from_cache
