"""The mart's arithmetic on a constructed history: one player, twelve final games with known
closing lines and results — the last-10 window, pushes, a DNP left out, and the median of the
books' last quotes before tip-off as the closing line."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from nba_notify.lib.db.tables.ingest import games, player_box_scores
from nba_notify.lib.db.tables.props import player_props
from nba_notify.lib.quality.audit import build_models
from nba_notify.lib.sqlmodels import load_project

PLAYER = "1629029"
#            points scored vs a 20.5 line (game 6: 20 on a 20.0 line = push; game 12: DNP)
POINTS = [25, 18, 30, 10, 22, 20, 21, 19, 24, 23, 15, None]


def seed(db) -> None:
    first = date(2026, 1, 1)
    with db.begin() as conn:
        for n, points in enumerate(POINTS, start=1):
            day = first + timedelta(days=2 * n)
            game_id = f"00225{n:05d}"
            tip = datetime(day.year, day.month, day.day, 0, 30, tzinfo=UTC) + timedelta(days=1)
            conn.execute(
                games.insert().values(
                    game_id=game_id,
                    game_date=day,
                    season=2025,
                    home_team="DAL",
                    away_team="BOS",
                    tipoff_utc=tip,
                    status="final",
                    in_bdl=True,
                    in_nbac=True,
                )  # fmt: skip
            )
            conn.execute(
                player_box_scores.insert().values(
                    game_id=game_id,
                    source="nbac",
                    player_id=PLAYER,
                    game_date=day,
                    team="DAL",
                    player_name="Luka Doncic",
                    minutes=0 if points is None else 36.0,
                    points=points or 0,
                    rebounds=8,
                    assists=9,
                )  # fmt: skip
            )
            line = 20.0 if n == 6 else 20.5
            quotes = [
                # two books at the line, one a point higher; and a stale pre-move quote of one book
                ("draftkings", line, tip - timedelta(hours=2)),
                ("fanduel", line, tip - timedelta(hours=1)),
                ("betmgm", line + 1.0, tip - timedelta(hours=1)),
                ("draftkings", line - 3.0, tip - timedelta(hours=20)),
                ("fanduel", line + 9.0, tip + timedelta(minutes=20)),  # in-game: not a closing line
            ]
            for book, point, observed in quotes:
                conn.execute(
                    player_props.insert().values(
                        source="odds_api",
                        source_event_id=f"ev{n}",
                        game_id=game_id,
                        game_date=day,
                        market="player_points",
                        book=book,
                        player_name="Luka Doncic",
                        player_id=PLAYER,
                        team="DAL",
                        player_match="box_score",
                        line=point,
                        over_price=-110,
                        under_price=-110,
                        observed_at=observed,
                        seen_at=observed,
                    )  # fmt: skip
                )


def test_last_ten_window_pushes_and_dnp_on_a_constructed_history(db):
    seed(db)
    project = load_project()
    build_models(db, project, ["player_prop_hit_rates"])
    with db.connect() as conn:
        results = conn.execute(
            sa.text(f"SELECT * FROM {project.schema}.player_prop_results ORDER BY game_date")
        ).all()
        [rates] = conn.execute(sa.text(f"SELECT * FROM {project.schema}.player_prop_hit_rates")).all()
    played = [p for p in POINTS if p is not None]
    assert len(results) == len(played) == 11  # the DNP is void, not an under
    assert [r.closing_line for r in results] == [
        Decimal("20.0") if i == 5 else Decimal("20.5") for i in range(11)
    ]
    expected = ["over" if p > 20.5 else "under" for p in played]
    expected[5] = "push"
    assert [r.result for r in results] == expected
    last_ten = expected[-10:]
    assert results[-1].games_in_window == 10
    assert results[-1].over_rate_last_10 == round(Decimal(last_ten.count("over")) / 10, 3)
    assert (rates.games, rates.overs, rates.unders, rates.pushes) == (11, 6, 4, 1)
    assert rates.last_10_games == 10 and rates.over_rate_last_10 == results[-1].over_rate_last_10
    assert rates.over_rate == round(Decimal(6) / 11, 3)
