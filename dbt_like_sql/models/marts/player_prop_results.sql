{{ config(
    materialized='table',
    group='analytics',
    description='What the platform exists for: every closing player prop line of a final game against what the player did (NBA.com box score, the league\'s player id). result: over (actual > line), under (actual < line), push (equal); a player who did not play is left out (books void those bets). Per player and market, in game order, the over and under hit rates of the last 10 games (fewer early on). Columns: game_id, game_date, season, player_id, player_name, team, market, closing_line, books, actual, result, player_game_number, games_in_window, overs_last_10, unders_last_10, pushes_last_10, over_rate_last_10, under_rate_last_10.',
    tags=['props']
) }}
WITH box AS (
    SELECT game_id, player_id, player_name, team, minutes, points, rebounds, assists
    FROM {{ ref('stg_player_box_scores') }}
    WHERE source = 'nbac' AND COALESCE(minutes, 0) > 0
),
graded AS (
    SELECT
        l.game_id,
        g.game_date,
        g.season,
        l.player_id,
        COALESCE(b.player_name, l.player_name) AS player_name,
        COALESCE(b.team, l.team) AS team,
        l.market,
        l.closing_line,
        l.books,
        CASE l.market
            WHEN 'player_points' THEN b.points
            WHEN 'player_rebounds' THEN b.rebounds
            WHEN 'player_assists' THEN b.assists
        END AS actual
    FROM {{ ref('stg_player_prop_closing_lines') }} AS l
    -- the games table itself: a grade needs only the final status, not the tip-off checks on stg_games
    JOIN {{ source('public', 'games') }} AS g ON g.game_id = l.game_id AND g.status = 'final'
    JOIN box AS b ON b.game_id = l.game_id AND b.player_id = l.player_id
),
results AS (
    SELECT
        graded.*,
        CASE
            WHEN actual > closing_line THEN 'over'
            WHEN actual < closing_line THEN 'under'
            ELSE 'push'
        END AS result
    FROM graded
    WHERE actual IS NOT NULL
),
windowed AS (
    SELECT
        r.*,
        ROW_NUMBER() OVER (PARTITION BY r.player_id, r.market ORDER BY r.game_date, r.game_id) AS player_game_number,
        COUNT(*) OVER last_10 AS games_in_window,
        COUNT(*) FILTER (WHERE r.result = 'over') OVER last_10 AS overs_last_10,
        COUNT(*) FILTER (WHERE r.result = 'under') OVER last_10 AS unders_last_10,
        COUNT(*) FILTER (WHERE r.result = 'push') OVER last_10 AS pushes_last_10
    FROM results AS r
    WINDOW last_10 AS (
        PARTITION BY r.player_id, r.market ORDER BY r.game_date, r.game_id
        ROWS BETWEEN 9 PRECEDING AND CURRENT ROW
    )
)
SELECT
    game_id,
    game_date,
    season,
    player_id,
    player_name,
    team,
    market,
    closing_line,
    books,
    actual,
    result,
    player_game_number,
    games_in_window,
    overs_last_10,
    unders_last_10,
    pushes_last_10,
    ROUND(CAST(overs_last_10 AS numeric) / games_in_window, 3) AS over_rate_last_10,
    ROUND(CAST(unders_last_10 AS numeric) / games_in_window, 3) AS under_rate_last_10
FROM windowed
