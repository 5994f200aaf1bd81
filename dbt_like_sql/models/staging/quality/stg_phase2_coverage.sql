{{ config(
    group='quality',
    description='Phase-2 coverage per game day (seed 004 C2): final games and players processed per source against what the other source has (the same rule as the coverage gate in nba_notify.lib.quality.coverage), the latest processor runs and whether phase 2 is stale (raw stored after its last successful processing). Phase 3/4 build on it; its pre-flight check blocks them.',
    tags=['quality', 'phase2']
) }}
WITH per_game AS (
    SELECT
        g.game_date,
        g.game_id,
        COUNT(p.player_id) FILTER (WHERE p.source = 'bdl') AS bdl_players,
        COUNT(p.player_id) FILTER (WHERE p.source = 'nbac') AS nbac_players
    FROM {{ source('public', 'games') }} AS g
    LEFT JOIN {{ source('public', 'player_box_scores') }} AS p ON p.game_id = g.game_id
    WHERE g.status = 'final'
    GROUP BY g.game_date, g.game_id
),
per_day AS (
    SELECT
        game_date,
        COUNT(*) AS expected_games,
        COUNT(*) FILTER (WHERE bdl_players > 0) AS bdl_games,
        COUNT(*) FILTER (WHERE nbac_players > 0) AS nbac_games,
        SUM(GREATEST(bdl_players, nbac_players)) AS expected_players,
        SUM(bdl_players) AS bdl_players,
        SUM(nbac_players) AS nbac_players
    FROM per_game
    GROUP BY game_date
),
latest_runs AS (
    SELECT DISTINCT ON (processor_name, data_date)
        processor_name,
        data_date,
        status,
        started_at
    FROM {{ source('public', 'processor_run_history') }}
    WHERE processor_name IN ('games', 'player_box_scores') AND data_date IS NOT NULL
    ORDER BY processor_name, data_date, started_at DESC
),
last_success AS (
    SELECT processor_name, data_date, MAX(started_at) AS succeeded_at
    FROM {{ source('public', 'processor_run_history') }}
    WHERE processor_name IN ('games', 'player_box_scores') AND status = 'success'
    GROUP BY processor_name, data_date
),
inputs AS (
    SELECT
        target_date,
        MAX(stored_at) FILTER (WHERE scraper_name IN ('bdl_games', 'nbac_schedule')) AS games_inputs_at,
        MAX(stored_at) FILTER (WHERE scraper_name IN ('bdl_box_scores', 'nbac_box_scores')) AS box_inputs_at
    FROM {{ ref('stg_scrape_coverage') }}
    GROUP BY target_date
),
days AS (
    SELECT game_date FROM per_day
    UNION
    SELECT target_date FROM inputs
    UNION
    SELECT data_date FROM latest_runs
),
ratios AS (
    SELECT
        d.game_date,
        COALESCE(c.expected_games, 0) AS expected_games,
        COALESCE(c.bdl_games, 0) AS bdl_games,
        COALESCE(c.nbac_games, 0) AS nbac_games,
        COALESCE(c.expected_players, 0) AS expected_players,
        COALESCE(c.bdl_players, 0) AS bdl_players,
        COALESCE(c.nbac_players, 0) AS nbac_players,
        CASE WHEN COALESCE(c.expected_games, 0) = 0 THEN 1.0
             ELSE c.bdl_games::double precision / c.expected_games END AS bdl_game_coverage,
        CASE WHEN COALESCE(c.expected_games, 0) = 0 THEN 1.0
             ELSE c.nbac_games::double precision / c.expected_games END AS nbac_game_coverage,
        CASE WHEN COALESCE(c.expected_players, 0) = 0 THEN 1.0
             ELSE c.bdl_players::double precision / c.expected_players END AS bdl_player_coverage,
        CASE WHEN COALESCE(c.expected_players, 0) = 0 THEN 1.0
             ELSE c.nbac_players::double precision / c.expected_players END AS nbac_player_coverage,
        gr.status AS games_run_status,
        br.status AS box_run_status,
        i.games_inputs_at IS NOT NULL
            AND (gs.succeeded_at IS NULL OR i.games_inputs_at > gs.succeeded_at) AS games_stale,
        i.box_inputs_at IS NOT NULL
            AND (bs.succeeded_at IS NULL OR i.box_inputs_at > bs.succeeded_at) AS box_stale
    FROM days AS d
    LEFT JOIN per_day AS c ON c.game_date = d.game_date
    LEFT JOIN latest_runs AS gr ON gr.processor_name = 'games' AND gr.data_date = d.game_date
    LEFT JOIN latest_runs AS br ON br.processor_name = 'player_box_scores' AND br.data_date = d.game_date
    LEFT JOIN last_success AS gs ON gs.processor_name = 'games' AND gs.data_date = d.game_date
    LEFT JOIN last_success AS bs ON bs.processor_name = 'player_box_scores' AND bs.data_date = d.game_date
    LEFT JOIN inputs AS i ON i.target_date = d.game_date
)
SELECT
    r.*,
    LEAST(r.bdl_game_coverage, r.nbac_game_coverage, r.bdl_player_coverage, r.nbac_player_coverage)
        AS lowest_coverage,
    LEAST(r.bdl_game_coverage, r.nbac_game_coverage, r.bdl_player_coverage, r.nbac_player_coverage) >= 0.9
        AS coverage_ok,
    LEAST(r.bdl_game_coverage, r.nbac_game_coverage, r.bdl_player_coverage, r.nbac_player_coverage) >= 0.9
        AND r.games_run_status = 'success'
        AND (r.expected_games = 0 OR r.box_run_status = 'success')
        AND NOT r.games_stale
        AND NOT (r.expected_games > 0 AND r.box_stale) AS is_complete
FROM ratios AS r
