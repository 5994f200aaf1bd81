"""Operator commands behind ``nba-notify``: the persistent instance, ingest backfills, the
database, and ``doctor``. Thin over the library and Dagster's own instance API."""
