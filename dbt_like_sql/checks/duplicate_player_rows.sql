{{ config(
    asset='stg_player_box_scores',
    severity='ERROR',
    description='A player appears once per game and source. The same name on the same team under several player ids means an id format changed and totals would double-count.'
) }}
SELECT
    game_id,
    source,
    team,
    MIN(player_name) AS player_name,
    COUNT(*) AS row_count,
    STRING_AGG(player_id, ', ' ORDER BY player_id) AS player_ids
FROM {{ ref('stg_player_box_scores') }}
GROUP BY game_id, source, team, LOWER(player_name)
HAVING COUNT(*) > 1
ORDER BY game_id, source, team
