{{ config(
    group='props',
    description='The closing line of every proven player prop: per league game (game_id), league player (player_id), market and book, the last quote the book showed before tip-off; then per game, player and market the median across books (closing_line) and how many books quoted it. Props whose event or player is not proven (NULL ids) are left out: the identity checks list them. Columns: game_id, player_id, player_name, team, market, closing_line, books, last_observed_at.',
    tags=['props']
) }}
WITH latest_per_book AS (
    SELECT DISTINCT ON (p.game_id, p.player_id, p.market, p.source, p.book)
        p.game_id,
        p.player_id,
        p.player_name,
        p.team,
        p.market,
        p.source,
        p.book,
        p.line,
        p.observed_at
    FROM {{ source('public', 'player_props') }} AS p
    JOIN {{ source('public', 'games') }} AS g ON g.game_id = p.game_id
    WHERE p.game_id IS NOT NULL
      AND p.player_id IS NOT NULL
      AND (g.tipoff_utc IS NULL OR p.observed_at <= g.tipoff_utc)
    ORDER BY p.game_id, p.player_id, p.market, p.source, p.book, p.observed_at DESC
)
SELECT
    game_id,
    player_id,
    MAX(player_name) AS player_name,
    MAX(team) AS team,
    market,
    CAST(PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY line) AS numeric) AS closing_line,
    COUNT(*) AS books,
    MAX(observed_at) AS last_observed_at
FROM latest_per_book
GROUP BY game_id, player_id, market
