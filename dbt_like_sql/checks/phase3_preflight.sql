{{ config(
    asset='stg_phase2_coverage',
    severity='ERROR',
    blocking=true,
    description='Pre-flight before phase 3/4 (seed 004 C2, P1-1): the phase-2 inputs of every game day with games are in place — its latest games and box score processing succeeded and nothing was scraped after it (stale). Fails listing the days to re-process (nba-notify reprocess --plan); the game summary and team form are not rebuilt until they are.'
) }}
SELECT
    game_date,
    expected_games,
    games_run_status,
    box_run_status,
    games_stale,
    box_stale
FROM {{ ref('stg_phase2_coverage') }}
WHERE games_run_status = 'failed'
   OR games_stale
   OR (expected_games > 0 AND (box_run_status IS DISTINCT FROM 'success' OR box_stale))
ORDER BY game_date
