{{ config(
    group='quality',
    description='Seed 004 B2-B4: every zero-record run of a phase-2 processor (props and game lines included), classified. Class: false_positive (it reported 0 but the rows it wrote are there: a tracking bug), data_from_other_run (another run wrote the date), future_date (the date had not happened when it ran), legitimate_zero (no games: off-season, All-Star break, off day) or real_loss. Root cause per the seed\'s matrix, evaluated as of the run (raw payload stored x games scheduled): processor_failed, scraper_failed, legitimate_zero, off_day. The recovery action uses today\'s raw store: reprocess_from_raw where a payload with records exists now, rescrape otherwise.',
    tags=['quality', 'seed004']
) }}
WITH phase2 AS (
    SELECT *
    FROM (VALUES
        ('games', 'bdl_games', 'nbac_schedule'),
        ('player_box_scores', 'bdl_box_scores', 'nbac_box_scores'),
        -- props and lines: one source each (The Odds API); a scrape says why it had nothing
        -- to fetch (scrape_events.error_details.zero_reason), and that is not a loss
        ('player_props', 'odds_api_props', CAST(NULL AS text)),
        ('game_lines', 'odds_api_lines', CAST(NULL AS text))
    ) AS t (processor_name, input_a, input_b)
),
zero_runs AS (
    SELECT r.*, p.input_a, p.input_b,
        CAST(r.started_at AT TIME ZONE 'America/New_York' AS date) AS run_day
    FROM {{ ref('stg_processor_runs') }} AS r
    JOIN phase2 AS p USING (processor_name)
    WHERE r.records_processed = 0 AND r.data_date IS NOT NULL
),
outputs AS (
    SELECT 'games' AS processor_name, game_date AS data_date, run_id, COUNT(*) AS n
    FROM {{ source('public', 'games') }}
    GROUP BY game_date, run_id
    UNION ALL
    SELECT 'player_box_scores', game_date, run_id, COUNT(*)
    FROM {{ source('public', 'player_box_scores') }}
    GROUP BY game_date, run_id
    UNION ALL
    SELECT 'player_props', game_date, run_id, COUNT(*)
    FROM {{ source('public', 'player_props') }}
    WHERE source = 'odds_api'
    GROUP BY game_date, run_id
    UNION ALL
    SELECT 'game_lines', game_date, run_id, COUNT(*)
    FROM {{ source('public', 'game_lines') }}
    GROUP BY game_date, run_id
),
props_scrapes AS (
    -- the props/lines scrapes that stored something, with their reason for having nothing
    SELECT scraper_name, target_date, started_at, records_expected,
        error_details ->> 'zero_reason' AS zero_reason
    FROM {{ source('public', 'scrape_events') }}
    WHERE scraper_name IN ('odds_api_props', 'odds_api_lines') AND status IN ('success', 'partial')
),
facts AS (
    SELECT
        z.*,
        COALESCE((SELECT SUM(o.n) FROM outputs AS o
                  WHERE o.processor_name = z.processor_name AND o.data_date = z.data_date), 0) AS rows_now,
        COALESCE((SELECT SUM(o.n) FROM outputs AS o
                  WHERE o.processor_name = z.processor_name AND o.data_date = z.data_date
                    AND o.run_id = z.run_id), 0) AS own_rows,
        EXISTS (
            SELECT 1 FROM {{ ref('stg_processor_runs') }} AS later
            WHERE later.processor_name = z.processor_name AND later.data_date = z.data_date
              AND later.status = 'success' AND later.started_at > z.started_at
        ) AS later_success,
        -- as of the run: the payloads it could read, and how many games they said there were
        EXISTS (
            SELECT 1 FROM {{ ref('stg_scrape_attempts') }} AS a
            WHERE a.scraper_name IN (z.input_a, z.input_b) AND a.target_date = z.data_date
              AND a.is_stored AND a.started_at <= z.started_at
        ) AS had_raw_payload,
        (
            SELECT p.zero_reason FROM props_scrapes AS p
            WHERE p.scraper_name = z.input_a AND p.target_date = z.data_date AND p.started_at <= z.started_at
            ORDER BY p.started_at DESC
            LIMIT 1
        ) AS props_zero_reason,
        CASE z.processor_name
            -- props/lines: nothing to fetch (zero_reason) expects nothing; otherwise the calls
            -- the latest stored scrape made; no stored scrape at all: unknown (NULL) = a loss
            WHEN 'player_props' THEN (
                SELECT CASE WHEN p.zero_reason IS NOT NULL THEN 0 ELSE COALESCE(p.records_expected, 0) END
                FROM props_scrapes AS p
                WHERE p.scraper_name = z.input_a AND p.target_date = z.data_date AND p.started_at <= z.started_at
                ORDER BY p.started_at DESC
                LIMIT 1
            )
            WHEN 'game_lines' THEN (
                SELECT CASE WHEN p.zero_reason IS NOT NULL THEN 0 ELSE COALESCE(p.records_expected, 0) END
                FROM props_scrapes AS p
                WHERE p.scraper_name = z.input_a AND p.target_date = z.data_date AND p.started_at <= z.started_at
                ORDER BY p.started_at DESC
                LIMIT 1
            )
            WHEN 'games' THEN (
                SELECT a.records_received FROM {{ ref('stg_scrape_attempts') }} AS a
                WHERE a.scraper_name IN ('nbac_schedule', 'bdl_games') AND a.target_date = z.data_date
                  AND a.is_stored AND a.started_at <= z.started_at
                ORDER BY (a.scraper_name = 'nbac_schedule') DESC, a.started_at DESC
                LIMIT 1
            )
            -- box scores: final games, per the latest box score attempts before the run
            -- (NBA.com counts the finals it expected, BDL the games it returned); a day no
            -- box score was attempted for falls back to the finals known now
            ELSE COALESCE((
                SELECT MAX(CASE WHEN a.scraper_name = 'nbac_box_scores' THEN a.records_expected
                                ELSE a.records_received END)
                FROM {{ ref('stg_scrape_attempts') }} AS a
                WHERE a.scraper_name IN ('nbac_box_scores', 'bdl_box_scores') AND a.target_date = z.data_date
                  AND a.started_at = (
                      SELECT MAX(b.started_at) FROM {{ ref('stg_scrape_attempts') }} AS b
                      WHERE b.scraper_name = a.scraper_name AND b.target_date = a.target_date
                        AND b.started_at <= z.started_at
                  )
            ), (
                SELECT COUNT(*) FROM {{ source('public', 'games') }} AS g
                WHERE g.game_date = z.data_date AND g.status = 'final'
            ))
        END AS games_expected,
        -- now: what a recovery can start from
        ARRAY_REMOVE(ARRAY[
            CASE WHEN NOT COALESCE(ca.has_raw_records, FALSE) THEN z.input_a END,
            CASE WHEN NOT COALESCE(cb.has_raw_records, FALSE) THEN z.input_b END
        ], NULL) AS scrapers_without_raw,
        COALESCE(ca.has_raw_records, FALSE) OR COALESCE(cb.has_raw_records, FALSE) AS has_raw_payload_now
    FROM zero_runs AS z
    LEFT JOIN {{ ref('stg_scrape_coverage') }} AS ca
        ON ca.scraper_name = z.input_a AND ca.target_date = z.data_date
    LEFT JOIN {{ ref('stg_scrape_coverage') }} AS cb
        ON cb.scraper_name = z.input_b AND cb.target_date = z.data_date
),
classified AS (
    SELECT
        f.*,
        CASE
            WHEN f.rows_now > 0 AND f.status = 'success' AND (f.own_rows > 0 OR NOT f.later_success)
                THEN 'false_positive'
            WHEN f.rows_now > 0 THEN 'data_from_other_run'
            -- props are fetched ahead of their day by design: a future day is judged like any other
            WHEN f.data_date > f.run_day AND f.processor_name IN ('games', 'player_box_scores') THEN 'future_date'
            WHEN f.games_expected = 0 THEN 'legitimate_zero'
            ELSE 'real_loss'
        END AS audit_class
    FROM facts AS f
)
SELECT
    c.run_history_id,
    c.processor_name,
    c.data_date,
    c.run_id,
    c.status AS run_status,
    c.started_at AS run_started_at,
    c.run_day,
    c.rows_now,
    c.own_rows,
    c.games_expected,
    c.had_raw_payload,
    c.has_raw_payload_now,
    c.scrapers_without_raw,
    c.audit_class,
    CASE
        WHEN c.audit_class = 'false_positive' THEN 'tracking_error'
        WHEN c.audit_class = 'data_from_other_run' THEN 'superseded'
        WHEN c.audit_class = 'future_date' THEN 'not_yet_played'
        WHEN c.audit_class = 'legitimate_zero' AND c.had_raw_payload THEN 'legitimate_zero'
        WHEN c.audit_class = 'legitimate_zero' THEN 'off_day'
        WHEN c.had_raw_payload THEN 'processor_failed'
        ELSE 'scraper_failed'
    END AS root_cause,
    CASE
        WHEN c.audit_class <> 'real_loss' THEN 'none'
        WHEN c.has_raw_payload_now THEN 'reprocess_from_raw'
        ELSE 'rescrape'
    END AS recovery_action,
    CASE
        -- props: no_games, not_offered_yet, games_started, markets_not_posted, historical_disabled
        WHEN c.audit_class = 'legitimate_zero' AND c.props_zero_reason IS NOT NULL THEN c.props_zero_reason
        WHEN c.audit_class = 'legitimate_zero' AND EXTRACT(MONTH FROM c.data_date) IN (7, 8, 9) THEN 'off_season'
        WHEN c.audit_class = 'legitimate_zero' AND EXTRACT(MONTH FROM c.data_date) = 2
             AND EXTRACT(DAY FROM c.data_date) BETWEEN 12 AND 20 THEN 'all_star_break'
        WHEN c.audit_class = 'legitimate_zero' THEN 'no_games'
    END AS zero_context
FROM classified AS c
