{{ config(
    group='quality',
    description='Seed 003 component 5, recovery time analysis: per scraper and error type, how many incidents (retry items), how many recovered or were exhausted, and how long recovery took (hours from queueing to recovery, queue clock) and how many re-scrapes it needed.',
    tags=['quality', 'seed003']
) }}
SELECT
    scraper_name,
    reason AS error_type,
    COUNT(*) AS incidents,
    COUNT(*) FILTER (WHERE status = 'recovered') AS recovered,
    COUNT(*) FILTER (WHERE status = 'exhausted') AS exhausted,
    COUNT(*) FILTER (WHERE is_open) AS still_open,
    ROUND(CAST(AVG(recovery_hours) AS numeric), 2) AS avg_recovery_hours,
    ROUND(CAST(MIN(recovery_hours) AS numeric), 2) AS min_recovery_hours,
    ROUND(CAST(MAX(recovery_hours) AS numeric), 2) AS max_recovery_hours,
    ROUND(CAST(AVG(attempts) FILTER (WHERE status = 'recovered') AS numeric), 2) AS avg_attempts_to_recover,
    ROUND(100.0 * COUNT(*) FILTER (WHERE status = 'recovered') / NULLIF(COUNT(*), 0), 1) AS recovery_rate_pct
FROM {{ ref('stg_retry_queue') }}
GROUP BY scraper_name, reason
