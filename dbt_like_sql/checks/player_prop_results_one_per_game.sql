{{ config(
    asset='player_prop_results',
    severity='ERROR',
    blocking=false,
    description='One graded line per game, player and market (unique key), with a result that agrees with the numbers (over above the line, under below, push on it).'
) }}
SELECT game_id, player_id, market, COUNT(*) AS rows_found,
       MIN(result) AS result, MIN(actual) AS actual, MIN(closing_line) AS closing_line
FROM {{ ref('player_prop_results') }}
GROUP BY game_id, player_id, market
HAVING COUNT(*) > 1
    OR (MIN(result) = 'over' AND MIN(actual) <= MIN(closing_line))
    OR (MIN(result) = 'under' AND MIN(actual) >= MIN(closing_line))
    OR (MIN(result) = 'push' AND MIN(actual) <> MIN(closing_line))
    OR MIN(result) NOT IN ('over', 'under', 'push')
