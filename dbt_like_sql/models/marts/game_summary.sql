{{ config(
    materialized='table',
    group='analytics',
    description='Phase 3: one row per final game with its box score summary (top scorer, box-score points per side), built from the source whose box score covers at least 90% of the players the other source lists (NBA.com preferred). A game without such a box score is left out rather than summarised from partial data; the pre-flight check on stg_phase2_coverage stops the build while phase 2 is stale or failed.',
    tags=['phase3']
) }}
WITH lines AS (
    SELECT game_id, source, player_id, player_name, team, points
    FROM {{ ref('stg_player_box_scores') }}
    WHERE NOT did_not_play
),
counts AS (
    SELECT
        game_id,
        COUNT(*) FILTER (WHERE source = 'bdl') AS bdl_players,
        COUNT(*) FILTER (WHERE source = 'nbac') AS nbac_players
    FROM lines
    GROUP BY game_id
),
chosen AS (
    SELECT
        g.game_id,
        g.game_date,
        g.season,
        g.home_team,
        g.away_team,
        g.home_score,
        g.away_score,
        g.tipoff_utc,
        CASE
            WHEN c.nbac_players >= 0.9 * GREATEST(c.bdl_players, c.nbac_players) THEN 'nbac'
            WHEN c.bdl_players >= 0.9 * GREATEST(c.bdl_players, c.nbac_players) THEN 'bdl'
        END AS box_source
    FROM {{ ref('stg_games') }} AS g
    JOIN counts AS c USING (game_id)
    WHERE g.status = 'final' AND g.home_score IS NOT NULL AND g.away_score IS NOT NULL
),
box AS (
    SELECT
        c.game_id,
        COUNT(*) AS players,
        SUM(l.points) FILTER (WHERE l.team = c.home_team) AS home_box_points,
        SUM(l.points) FILTER (WHERE l.team = c.away_team) AS away_box_points
    FROM chosen AS c
    JOIN lines AS l ON l.game_id = c.game_id AND l.source = c.box_source
    GROUP BY c.game_id
),
top_scorer AS (
    SELECT DISTINCT ON (c.game_id)
        c.game_id,
        l.player_name,
        l.team,
        l.points
    FROM chosen AS c
    JOIN lines AS l ON l.game_id = c.game_id AND l.source = c.box_source
    ORDER BY c.game_id, l.points DESC NULLS LAST, l.player_name
)
SELECT
    c.game_id,
    c.game_date,
    c.season,
    c.home_team,
    c.away_team,
    c.home_score,
    c.away_score,
    CASE WHEN c.home_score > c.away_score THEN c.home_team ELSE c.away_team END AS winner,
    ABS(c.home_score - c.away_score) AS margin,
    c.home_score + c.away_score AS total_points,
    c.tipoff_utc,
    c.box_source,
    b.players,
    b.home_box_points,
    b.away_box_points,
    t.player_name AS top_scorer,
    t.team AS top_scorer_team,
    t.points AS top_scorer_points,
    COALESCE(cov.is_complete, FALSE) AS phase2_complete
FROM chosen AS c
JOIN box AS b USING (game_id)
LEFT JOIN top_scorer AS t USING (game_id)
LEFT JOIN {{ ref('stg_phase2_coverage') }} AS cov ON cov.game_date = c.game_date
WHERE c.box_source IS NOT NULL
