{{ config(
    asset='stg_retry_queue',
    severity='WARN',
    description='Scrapes the upstream will never complete (a box score still unavailable days after the game, BDL rejecting the key): not retried, kept in sight. One open retry_permanent alert per root cause covers them.'
) }}
SELECT
    retry_item_id,
    scraper_name,
    target_date,
    root_cause,
    original_error,
    permanent_at
FROM {{ ref('stg_retry_queue') }}
WHERE status = 'permanent'
ORDER BY root_cause, target_date, scraper_name
