{{ config(
    description='Scrape attempts with derived recovery time (hours from the failed attempt to its recovery) and a zero-record flag: the base of the daily health and recovery-time reports.',
    tags=['monitoring']
) }}
SELECT
    e.event_id,
    e.scraper_name,
    e.target_date,
    e.started_at,
    e.completed_at,
    e.duration_seconds,
    e.status,
    e.records_expected,
    e.records_received,
    e.records_missing,
    e.error_type,
    e.error_category,
    e.error_severity,
    e.error_message,
    e.api_response_code,
    e.api_response_time_ms,
    e.api_calls,
    e.retries,
    e.pages_fetched,
    e.is_recovered,
    e.recovered_at,
    e.recovery_event_id,
    CASE
        WHEN e.is_recovered AND e.recovered_at IS NOT NULL
        THEN EXTRACT(EPOCH FROM e.recovered_at - e.started_at) / 3600.0
    END AS recovery_hours,
    e.status = 'success' AND COALESCE(e.records_received, 0) = 0 AS is_zero_record,
    e.correlation_id,
    e.run_id
FROM {{ source('public', 'scrape_events') }} AS e
