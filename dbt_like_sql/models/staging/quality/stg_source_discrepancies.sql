{{ config(
    group='quality',
    description='The current BDL vs NBA.com comparison per game day: one row per game and kind of disagreement, with the scraper held responsible.',
    tags=['quality']
) }}
SELECT
    d.game_date,
    d.game_id,
    d.kind,
    d.scraper_name,
    d.kind LIKE '%missing%' AS is_missing_data,
    d.details,
    d.detected_at,
    d.run_id
FROM {{ source('public', 'source_discrepancies') }} AS d
