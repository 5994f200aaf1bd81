{{ config(
    materialized='view',
    description='One row per league game (NBA.com gameId; both sources merged): the day it is on now, tip-off in UTC and US Eastern, which source lists it, and whether the sources disagree.',
    tags=['games']
) }}
SELECT
    g.game_id,
    g.game_date,
    g.season,
    g.home_team,
    g.away_team,
    g.bdl_game_id,
    g.tipoff_utc,
    g.tipoff_utc AT TIME ZONE 'America/New_York' AS tipoff_et,
    g.status,
    g.home_score,
    g.away_score,
    g.in_bdl,
    g.in_nbac,
    g.listed,
    CASE
        WHEN g.in_bdl AND g.in_nbac THEN 'both'
        WHEN g.in_bdl THEN 'bdl_only'
        WHEN g.in_nbac THEN 'nbac_only'
        ELSE 'none'
    END AS source_coverage,
    COALESCE(g.source_disagreements, 'null'::jsonb)
        NOT IN ('null'::jsonb, '{}'::jsonb, '[]'::jsonb) AS has_source_disagreement,
    g.updated_at
FROM {{ source('public', 'games') }} AS g
