{{ config(
    materialized='table',
    group='analytics',
    description='Per player and market: how the closing line has fared against the box score — games graded, overs, unders, pushes and the over/under hit rates over all of them and over the last 10 games, the average line and the average result, and the latest game. Built on player_prop_results. Columns: player_id, player_name, team, market, games, overs, unders, pushes, over_rate, under_rate, last_10_games, over_rate_last_10, under_rate_last_10, avg_line, avg_actual, last_game_date.',
    tags=['props']
) }}
WITH latest AS (
    SELECT DISTINCT ON (player_id, market)
        player_id, market, player_name, team, game_date AS last_game_date,
        games_in_window AS last_10_games, over_rate_last_10, under_rate_last_10
    FROM {{ ref('player_prop_results') }}
    ORDER BY player_id, market, game_date DESC, game_id DESC
),
totals AS (
    SELECT
        player_id,
        market,
        COUNT(*) AS games,
        COUNT(*) FILTER (WHERE result = 'over') AS overs,
        COUNT(*) FILTER (WHERE result = 'under') AS unders,
        COUNT(*) FILTER (WHERE result = 'push') AS pushes,
        ROUND(AVG(closing_line), 2) AS avg_line,
        ROUND(AVG(actual), 2) AS avg_actual
    FROM {{ ref('player_prop_results') }}
    GROUP BY player_id, market
)
SELECT
    t.player_id,
    l.player_name,
    l.team,
    t.market,
    t.games,
    t.overs,
    t.unders,
    t.pushes,
    ROUND(CAST(t.overs AS numeric) / t.games, 3) AS over_rate,
    ROUND(CAST(t.unders AS numeric) / t.games, 3) AS under_rate,
    l.last_10_games,
    l.over_rate_last_10,
    l.under_rate_last_10,
    t.avg_line,
    t.avg_actual,
    l.last_game_date
FROM totals AS t
JOIN latest AS l USING (player_id, market)
