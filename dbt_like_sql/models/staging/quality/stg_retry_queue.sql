{{ config(
    group='quality',
    description='The scrape retry queue (seed 003): one row per (scraper, game day) incident with its attempts, status (permanent: never retried, the upstream will not have it), root cause and recovery time in hours (queue clock).',
    tags=['quality']
) }}
SELECT
    r.id AS retry_item_id,
    r.scraper_name,
    r.target_date,
    r.reason,
    r.original_error,
    r.original_event_id,
    r.attempts,
    r.max_retries,
    r.next_retry_at,
    r.last_attempt_at,
    r.status,
    r.status IN ('pending', 'retrying') AS is_open,
    JSONB_ARRAY_LENGTH(r.retry_history) AS history_entries,
    r.retry_history,
    r.created_at,
    r.recovered_at,
    r.recovery_event_id,
    r.exhausted_at,
    r.permanent_at,
    r.root_cause,
    CASE
        WHEN r.recovered_at IS NOT NULL
        THEN EXTRACT(EPOCH FROM r.recovered_at - r.created_at) / 3600.0
    END AS recovery_hours,
    r.correlation_id
FROM {{ source('public', 'scrape_retry_queue') }} AS r
