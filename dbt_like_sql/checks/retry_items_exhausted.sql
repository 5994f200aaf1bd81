{{ config(
    asset='stg_retry_queue',
    severity='WARN',
    description='Scrapes still incomplete after every retry (seed 003: alert for manual intervention). Each row is also an open retry_exhausted alert.'
) }}
SELECT
    retry_item_id,
    scraper_name,
    target_date,
    reason,
    attempts,
    original_error,
    exhausted_at
FROM {{ ref('stg_retry_queue') }}
WHERE status = 'exhausted'
ORDER BY target_date, scraper_name
