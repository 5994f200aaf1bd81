{{ config(
    asset='stg_scrape_events',
    severity='WARN',
    description='A scrape marked success received every record it expected; "success" with records missing should have been "partial" and queued for retry.'
) }}
SELECT
    event_id,
    scraper_name,
    target_date,
    started_at,
    records_expected,
    records_received,
    records_missing
FROM {{ ref('stg_scrape_events') }}
WHERE status = 'success'
  AND COALESCE(records_missing, 0) > 0
ORDER BY target_date, scraper_name
