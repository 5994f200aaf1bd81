{{ config(
    materialized='table',
    group='analytics',
    description='Phase 4 (precompute): every team after each of its games — record, points for and against and average margin over its last 10 games (fewer early in the season), from the phase-3 game summary.',
    tags=['phase4']
) }}
WITH team_games AS (
    SELECT game_date, game_id, season, home_team AS team, away_team AS opponent,
           home_score AS points_for, away_score AS points_against, TRUE AS is_home
    FROM {{ ref('game_summary') }}
    UNION ALL
    SELECT game_date, game_id, season, away_team, home_team, away_score, home_score, FALSE
    FROM {{ ref('game_summary') }}
),
windowed AS (
    SELECT
        t.*,
        COUNT(*) OVER last_10 AS games_in_window,
        SUM(CASE WHEN t.points_for > t.points_against THEN 1 ELSE 0 END) OVER last_10 AS wins_last_10,
        AVG(t.points_for) OVER last_10 AS avg_points_for_last_10,
        AVG(t.points_against) OVER last_10 AS avg_points_against_last_10,
        ROW_NUMBER() OVER (PARTITION BY t.team, t.season ORDER BY t.game_date, t.game_id) AS season_game_number
    FROM team_games AS t
    WINDOW last_10 AS (
        PARTITION BY t.team, t.season ORDER BY t.game_date, t.game_id
        ROWS BETWEEN 9 PRECEDING AND CURRENT ROW
    )
)
SELECT
    team,
    season,
    game_date,
    game_id,
    opponent,
    is_home,
    points_for,
    points_against,
    season_game_number,
    games_in_window,
    wins_last_10,
    games_in_window - wins_last_10 AS losses_last_10,
    ROUND(CAST(avg_points_for_last_10 AS numeric), 1) AS avg_points_for_last_10,
    ROUND(CAST(avg_points_against_last_10 AS numeric), 1) AS avg_points_against_last_10,
    ROUND(CAST(avg_points_for_last_10 - avg_points_against_last_10 AS numeric), 1) AS avg_margin_last_10
FROM windowed
