"""Phase 1-2 ingest logic: validated payload shapes, parsers to canonical rows, merging."""
