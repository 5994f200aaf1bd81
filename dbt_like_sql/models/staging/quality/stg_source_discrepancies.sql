{{ config(
    group='quality',
    description='The current BDL vs NBA.com comparison per game day: one row per game and kind of disagreement, with the scraper held responsible. family: missing_game (a source does not list the game), field (status/score/tip-off disagree), box_score (a final game\'s box score not yet complete: lag until its deadline_at).',
    tags=['quality']
) }}
SELECT
    d.game_date,
    d.game_id,
    d.kind,
    d.scraper_name,
    CASE
        WHEN d.kind IN ('missing_in_bdl', 'missing_in_nbac') THEN 'missing_game'
        WHEN d.kind IN ('status_mismatch', 'score_mismatch', 'tipoff_mismatch') THEN 'field'
        ELSE 'box_score'
    END AS family,
    (d.details ->> 'deadline_at')::timestamptz AS deadline_at,
    d.details,
    d.detected_at,
    d.run_id
FROM {{ source('public', 'source_discrepancies') }} AS d
