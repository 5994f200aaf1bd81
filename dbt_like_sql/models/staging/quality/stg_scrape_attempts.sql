{{ config(
    group='quality',
    description='Real scrape attempts (the discrepancy detector\'s own partial events left out) with the raw pages each stored: the phase-1 facts the zero-record audit and the completeness views reason from.',
    tags=['quality']
) }}
SELECT
    e.event_id,
    e.scraper_name,
    e.target_date,
    e.started_at,
    e.status,
    e.records_expected,
    e.records_received,
    e.error_type,
    e.error_message,
    e.is_recovered,
    COALESCE(p.pages, 0) AS raw_pages,
    e.status IN ('success', 'partial') AND COALESCE(p.pages, 0) > 0 AS is_stored,
    e.status IN ('success', 'partial') AND COALESCE(p.pages, 0) > 0
        AND COALESCE(e.records_received, 0) > 0 AS has_raw_records
FROM {{ source('public', 'scrape_events') }} AS e
LEFT JOIN (
    SELECT scrape_event_id, COUNT(*) AS pages
    FROM {{ source('public', 'raw_payloads') }}
    GROUP BY scrape_event_id
) AS p ON p.scrape_event_id = e.event_id
WHERE COALESCE(e.error_details ->> 'detected_by', '') <> 'source_discrepancies'
