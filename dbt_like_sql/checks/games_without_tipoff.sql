{{ config(
    asset='stg_games',
    severity='ERROR',
    description='Every scheduled game has a tip-off time; without one no notification can be scheduled for it.'
) }}
SELECT
    game_id,
    game_date,
    home_team,
    away_team,
    status,
    in_bdl,
    in_nbac
FROM {{ ref('stg_games') }}
WHERE status = 'scheduled'
  AND tipoff_utc IS NULL
ORDER BY game_date, game_id
