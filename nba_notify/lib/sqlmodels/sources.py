"""Which Dagster asset writes each table a model reads through ``source(schema, table)``.

The mapping lives in ``dbt_like_sql/sources.yml`` so the SQL project never imports the Python
assets' modules; a dict with the same shape can be passed to ``load_project(sources=...)``::

    public:
      games:                       # source('public', 'games')
        asset_key: games           # the Python asset writing it (default: the table name)
      raw_payloads:
        asset_key: [bdl_games_raw, nbac_schedule_raw]   # several writers -> several deps
      scrape_events:
        external: true             # no Python asset: declared here as an external AssetSpec
        description: One row per scrape attempt.

An asset key is a string, ``/`` separating the parts of a multi-part key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from nba_notify.lib.sqlmodels.sqltext import IDENTIFIER_RE, qualified

SOURCES_FILE = "sources.yml"
_ALLOWED_KEYS = {"asset_key", "external", "description"}

AssetKeyPath = tuple[str, ...]


@dataclass(frozen=True)
class SourceTable:
    schema: str
    table: str
    asset_keys: tuple[AssetKeyPath, ...]
    external: bool = False
    description: str | None = None

    @property
    def relation(self) -> str:
        return qualified(self.schema, self.table)

    @property
    def label(self) -> str:
        return f"source('{self.schema}', '{self.table}')"


def parse_asset_key(text: str) -> AssetKeyPath:
    parts = tuple(part for part in str(text).strip().split("/"))
    if not parts or any(not part for part in parts):
        raise ValueError(f"invalid asset key {text!r}")
    return parts


def parse_sources(raw: Any, *, origin: str = SOURCES_FILE) -> dict[tuple[str, str], SourceTable]:
    """Validate the mapping; every problem names the offending ``schema.table``."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ValueError(f"{origin}: expected a mapping of schema -> table -> options")
    sources: dict[tuple[str, str], SourceTable] = {}
    for schema, tables in raw.items():
        if not isinstance(schema, str) or not IDENTIFIER_RE.match(schema):
            raise ValueError(f"{origin}: invalid schema name {schema!r}")
        if not isinstance(tables, Mapping):
            raise ValueError(f"{origin}: {schema}: expected a mapping of table -> options")
        for table, options in tables.items():
            where = f"{origin}: {schema}.{table}"
            if not isinstance(table, str) or not IDENTIFIER_RE.match(table):
                raise ValueError(f"{origin}: {schema}: invalid table name {table!r}")
            options = {} if options is None else options
            if not isinstance(options, Mapping):
                raise ValueError(f"{where}: expected a mapping of options")
            unknown = set(options) - _ALLOWED_KEYS
            if unknown:
                raise ValueError(
                    f"{where}: unknown option(s) {sorted(unknown)}; allowed {sorted(_ALLOWED_KEYS)}"
                )
            declared = options.get("asset_key", table)
            declared_list = declared if isinstance(declared, list) else [declared]
            try:
                keys = tuple(parse_asset_key(key) for key in declared_list)
            except ValueError as exc:
                raise ValueError(f"{where}: {exc}") from None
            if not keys:
                raise ValueError(f"{where}: asset_key must name at least one asset")
            external = options.get("external", False)
            if not isinstance(external, bool):
                raise ValueError(f"{where}: external must be true or false")
            if external and len(keys) != 1:
                raise ValueError(f"{where}: an external source declares exactly one asset key")
            description = options.get("description")
            sources[(schema, table)] = SourceTable(
                schema=schema,
                table=table,
                asset_keys=keys,
                external=external,
                description=None if description is None else str(description),
            )
    return sources


def read_sources_file(project_dir: Path) -> dict[tuple[str, str], SourceTable]:
    path = project_dir / SOURCES_FILE
    if not path.exists():
        return {}
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ValueError(f"{SOURCES_FILE}{line}: invalid YAML: {exc}") from None
    return parse_sources(raw)
