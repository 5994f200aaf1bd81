{{ config(
    asset='stg_games',
    severity='WARN',
    description='The game day equals the tip-off date in US Eastern time. A mismatch usually means an Eastern wall-clock time was read as UTC (NBA.com gameDateEst / gameEt end in a misleading Z).'
) }}
SELECT
    game_id,
    game_date,
    tipoff_utc,
    tipoff_et,
    in_bdl,
    in_nbac
FROM {{ ref('stg_games') }}
WHERE tipoff_utc IS NOT NULL
  AND game_date <> CAST(tipoff_et AS date)
ORDER BY game_date, game_id
