"""Sync monitoring: execution tracking from Dagster run events, alert rule evaluation, health
dashboard queries, manual sync requests."""
