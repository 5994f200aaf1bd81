{{ config(
    description='One row per player, game and source, with a did-not-play flag.',
    tags=['box_scores']
) }}
SELECT
    p.game_id,
    p.source,
    p.player_id,
    p.game_date,
    p.team,
    p.player_name,
    p.minutes,
    p.points,
    p.rebounds,
    p.assists,
    COALESCE(p.minutes, 0) = 0 AS did_not_play
FROM {{ source('public', 'player_box_scores') }} AS p
