{{ config(
    group='quality',
    description='Seed 003 component 5, daily health report: per game day and scraper, attempts by outcome, discrepancy detections, records missing, events recovered, average duration, and the retry queue\'s view of the same (scraper, day).',
    tags=['quality', 'seed003']
) }}
WITH events AS (
    SELECT
        e.target_date,
        e.scraper_name,
        COUNT(*) FILTER (WHERE NOT e.is_detection) AS total_scrapes,
        COUNT(*) FILTER (WHERE NOT e.is_detection AND e.status = 'success') AS successful,
        COUNT(*) FILTER (WHERE NOT e.is_detection AND e.status = 'partial') AS partial,
        COUNT(*) FILTER (WHERE NOT e.is_detection AND e.status = 'failed') AS failed,
        COUNT(*) FILTER (WHERE e.is_detection) AS discrepancy_detections,
        COALESCE(SUM(e.records_missing), 0) AS total_missing_records,
        COUNT(*) FILTER (WHERE e.is_recovered) AS recovered,
        AVG(e.duration_seconds) FILTER (WHERE NOT e.is_detection) AS avg_duration_seconds,
        MAX(e.started_at) AS last_attempt_at
    FROM (
        SELECT s.*, COALESCE(s.error_details ->> 'detected_by', '') = 'source_discrepancies' AS is_detection
        FROM {{ source('public', 'scrape_events') }} AS s
    ) AS e
    GROUP BY e.target_date, e.scraper_name
),
retries AS (
    SELECT
        target_date,
        scraper_name,
        COUNT(*) FILTER (WHERE is_open) AS retry_items_open,
        COUNT(*) FILTER (WHERE status = 'recovered') AS retry_items_recovered,
        COUNT(*) FILTER (WHERE status = 'exhausted') AS retry_items_exhausted,
        SUM(attempts) AS retry_attempts
    FROM {{ ref('stg_retry_queue') }}
    GROUP BY target_date, scraper_name
)
SELECT
    e.target_date,
    e.scraper_name,
    e.total_scrapes,
    e.successful,
    e.partial,
    e.failed,
    e.discrepancy_detections,
    e.total_missing_records,
    e.recovered,
    ROUND(CAST(e.avg_duration_seconds AS numeric), 3) AS avg_duration_seconds,
    e.last_attempt_at,
    COALESCE(r.retry_items_open, 0) AS retry_items_open,
    COALESCE(r.retry_items_recovered, 0) AS retry_items_recovered,
    COALESCE(r.retry_items_exhausted, 0) AS retry_items_exhausted,
    COALESCE(r.retry_attempts, 0) AS retry_attempts,
    CASE
        WHEN COALESCE(r.retry_items_exhausted, 0) > 0 THEN 'needs_manual_action'
        WHEN COALESCE(r.retry_items_open, 0) > 0 THEN 'retrying'
        WHEN e.failed + e.partial + e.discrepancy_detections > 0 THEN 'recovered'
        ELSE 'healthy'
    END AS health
FROM events AS e
LEFT JOIN retries AS r USING (target_date, scraper_name)
