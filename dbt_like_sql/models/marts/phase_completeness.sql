{{ config(
    group='quality',
    description='Self-heal\'s view (seed 003): per game day, whether phases 1 (all four scrapes), 2 (games and box scores, coverage >= 90%, not stale), 3 (game summary) and 4 (team form) are complete, the retry queue\'s open and exhausted items, and the next action.',
    tags=['quality', 'seed003']
) }}
WITH scrapes AS (
    SELECT
        target_date,
        COUNT(*) AS scrapers_attempted,
        COUNT(*) FILTER (WHERE latest_status = 'success') AS scrapers_succeeded
    FROM {{ ref('stg_scrape_coverage') }}
    GROUP BY target_date
),
phase3 AS (
    SELECT game_date, COUNT(*) AS summarized_games
    FROM {{ ref('game_summary') }}
    GROUP BY game_date
),
phase4 AS (
    SELECT game_date, COUNT(*) AS team_form_rows
    FROM {{ ref('team_form_last_10') }}
    GROUP BY game_date
),
retries AS (
    SELECT
        target_date,
        COUNT(*) FILTER (WHERE is_open) AS open_retry_items,
        COUNT(*) FILTER (WHERE status = 'exhausted') AS exhausted_retry_items,
        COUNT(*) FILTER (WHERE status = 'permanent') AS permanent_retry_items
    FROM {{ ref('stg_retry_queue') }}
    GROUP BY target_date
),
phases AS (
    SELECT
        c.game_date,
        c.expected_games,
        COALESCE(s.scrapers_succeeded, 0) AS scrapers_succeeded,
        COALESCE(s.scrapers_succeeded, 0) = 4 AS phase1_complete,
        c.is_complete AS phase2_complete,
        c.lowest_coverage AS phase2_lowest_coverage,
        COALESCE(p3.summarized_games, 0) AS summarized_games,
        COALESCE(p3.summarized_games, 0) >= c.expected_games AS phase3_complete,
        COALESCE(p4.team_form_rows, 0) AS team_form_rows,
        COALESCE(p3.summarized_games, 0) >= c.expected_games
            AND COALESCE(p4.team_form_rows, 0) = 2 * COALESCE(p3.summarized_games, 0) AS phase4_complete,
        COALESCE(r.open_retry_items, 0) AS open_retry_items,
        COALESCE(r.exhausted_retry_items, 0) AS exhausted_retry_items,
        COALESCE(r.permanent_retry_items, 0) AS permanent_retry_items,
        c.games_stale OR c.box_stale AS phase2_stale
    FROM {{ ref('stg_phase2_coverage') }} AS c
    LEFT JOIN scrapes AS s ON s.target_date = c.game_date
    LEFT JOIN phase3 AS p3 ON p3.game_date = c.game_date
    LEFT JOIN phase4 AS p4 ON p4.game_date = c.game_date
    LEFT JOIN retries AS r ON r.target_date = c.game_date
)
SELECT
    p.*,
    CASE
        WHEN p.exhausted_retry_items > 0 THEN 'manual_investigation'
        WHEN p.open_retry_items > 0 THEN 'await_retry'
        WHEN p.permanent_retry_items > 0 THEN 'upstream_unavailable'
        WHEN NOT p.phase1_complete THEN 'rescrape'
        WHEN NOT p.phase2_complete THEN 'reprocess'
        WHEN NOT (p.phase3_complete AND p.phase4_complete) THEN 'build_sql_models'
        ELSE 'complete'
    END AS next_action
FROM phases AS p
