{{ config(
    group='quality',
    description='Per scraper and game day: the latest attempt (what happened last) and the latest stored payload (what phase 2 reads, and what a re-process would read).',
    tags=['quality']
) }}
WITH latest_attempt AS (
    SELECT DISTINCT ON (scraper_name, target_date)
        scraper_name,
        target_date,
        event_id AS latest_event_id,
        status AS latest_status,
        started_at AS latest_started_at,
        error_type AS latest_error_type,
        records_expected AS latest_records_expected
    FROM {{ ref('stg_scrape_attempts') }}
    ORDER BY scraper_name, target_date, started_at DESC
),
latest_stored AS (
    SELECT DISTINCT ON (scraper_name, target_date)
        scraper_name,
        target_date,
        event_id AS stored_event_id,
        started_at AS stored_at,
        records_expected AS stored_records_expected,
        records_received AS stored_records_received,
        raw_pages,
        has_raw_records
    FROM {{ ref('stg_scrape_attempts') }}
    WHERE is_stored
    ORDER BY scraper_name, target_date, started_at DESC
)
SELECT
    a.scraper_name,
    a.target_date,
    a.latest_event_id,
    a.latest_status,
    a.latest_started_at,
    a.latest_error_type,
    a.latest_records_expected,
    s.stored_event_id,
    s.stored_at,
    s.stored_records_expected,
    s.stored_records_received,
    COALESCE(s.raw_pages, 0) AS raw_pages,
    COALESCE(s.has_raw_records, FALSE) AS has_raw_records
FROM latest_attempt AS a
LEFT JOIN latest_stored AS s USING (scraper_name, target_date)
