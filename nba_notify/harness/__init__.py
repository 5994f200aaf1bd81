"""Drive the product's Dagster jobs and sensors in-process, without a daemon: for the demo,
the benchmarks and the tests. Outside ``nba_notify/defs`` on purpose, so Dagster's defs loader
never mistakes these helpers for definitions."""
