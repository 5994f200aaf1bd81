{{ config(
    asset='player_prop_hit_rates',
    severity='ERROR',
    blocking=false,
    description='Hit rates add up: overs + unders + pushes = games, every rate within [0, 1], the last-10 window at most 10 games and never more than all games. Not null: player_id, market, games.'
) }}
SELECT player_id, market, games, overs, unders, pushes, over_rate, under_rate, last_10_games
FROM {{ ref('player_prop_hit_rates') }}
WHERE player_id IS NULL OR market IS NULL OR games IS NULL
   OR overs + unders + pushes <> games
   OR over_rate NOT BETWEEN 0 AND 1 OR under_rate NOT BETWEEN 0 AND 1
   OR over_rate_last_10 NOT BETWEEN 0 AND 1 OR under_rate_last_10 NOT BETWEEN 0 AND 1
   OR last_10_games > 10 OR last_10_games > games
