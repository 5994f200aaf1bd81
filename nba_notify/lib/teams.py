"""The 30 NBA teams with the identifiers each source uses for them.

NBA.com identifies a team by a ten-digit ``teamId`` (1610612737...) and a tricode; BallDontLie
(BDL) by a small integer id (1..30, in the order of its abbreviations) and an ``abbreviation``
equal to the NBA tricode. City and name follow both sources' spelling ("LA" Clippers,
"Indiana" Pacers, "Golden State" Warriors), so ``full_name == f"{city} {name}"``.

Shared by the simulator and the parsers: one table, no network.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Team:
    tricode: str
    city: str
    name: str
    conference: str  # "East" | "West"
    division: str
    nba_id: int
    bdl_id: int
    timezone: str  # IANA zone of the home arena
    arena_name: str
    arena_city: str
    arena_state: str

    @property
    def full_name(self) -> str:
        return f"{self.city} {self.name}"

    @property
    def slug(self) -> str:
        """NBA.com's ``teamSlug`` ("trail-blazers", "76ers")."""
        return self.name.lower().replace(" ", "-")


_E, _W = "East", "West"
_NY, _CHI, _DEN, _PHX, _LA = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
)

TEAMS: tuple[Team, ...] = (
    Team("ATL", "Atlanta", "Hawks", _E, "Southeast", 1610612737, 1, _NY, "State Farm Arena", "Atlanta", "GA"),
    Team("BOS", "Boston", "Celtics", _E, "Atlantic", 1610612738, 2, _NY, "TD Garden", "Boston", "MA"),
    Team("BKN", "Brooklyn", "Nets", _E, "Atlantic", 1610612751, 3, _NY, "Barclays Center", "Brooklyn", "NY"),
    Team(
        "CHA",
        "Charlotte",
        "Hornets",
        _E,
        "Southeast",
        1610612766,
        4,
        _NY,
        "Spectrum Center",
        "Charlotte",
        "NC",
    ),
    Team("CHI", "Chicago", "Bulls", _E, "Central", 1610612741, 5, _CHI, "United Center", "Chicago", "IL"),
    Team(
        "CLE", "Cleveland", "Cavaliers", _E, "Central", 1610612739, 6, _NY, "Rocket Arena", "Cleveland", "OH"
    ),
    Team(
        "DAL",
        "Dallas",
        "Mavericks",
        _W,
        "Southwest",
        1610612742,
        7,
        _CHI,
        "American Airlines Center",
        "Dallas",
        "TX",
    ),
    Team("DEN", "Denver", "Nuggets", _W, "Northwest", 1610612743, 8, _DEN, "Ball Arena", "Denver", "CO"),
    Team(
        "DET",
        "Detroit",
        "Pistons",
        _E,
        "Central",
        1610612765,
        9,
        _NY,
        "Little Caesars Arena",
        "Detroit",
        "MI",
    ),
    Team(
        "GSW",
        "Golden State",
        "Warriors",
        _W,
        "Pacific",
        1610612744,
        10,
        _LA,
        "Chase Center",
        "San Francisco",
        "CA",
    ),
    Team(
        "HOU", "Houston", "Rockets", _W, "Southwest", 1610612745, 11, _CHI, "Toyota Center", "Houston", "TX"
    ),
    Team(
        "IND",
        "Indiana",
        "Pacers",
        _E,
        "Central",
        1610612754,
        12,
        _NY,
        "Gainbridge Fieldhouse",
        "Indianapolis",
        "IN",
    ),
    Team("LAC", "LA", "Clippers", _W, "Pacific", 1610612746, 13, _LA, "Intuit Dome", "Inglewood", "CA"),
    Team(
        "LAL",
        "Los Angeles",
        "Lakers",
        _W,
        "Pacific",
        1610612747,
        14,
        _LA,
        "Crypto.com Arena",
        "Los Angeles",
        "CA",
    ),
    Team("MEM", "Memphis", "Grizzlies", _W, "Southwest", 1610612763, 15, _CHI, "FedExForum", "Memphis", "TN"),
    Team("MIA", "Miami", "Heat", _E, "Southeast", 1610612748, 16, _NY, "Kaseya Center", "Miami", "FL"),
    Team("MIL", "Milwaukee", "Bucks", _E, "Central", 1610612749, 17, _CHI, "Fiserv Forum", "Milwaukee", "WI"),
    Team(
        "MIN",
        "Minnesota",
        "Timberwolves",
        _W,
        "Northwest",
        1610612750,
        18,
        _CHI,
        "Target Center",
        "Minneapolis",
        "MN",
    ),
    Team(
        "NOP",
        "New Orleans",
        "Pelicans",
        _W,
        "Southwest",
        1610612740,
        19,
        _CHI,
        "Smoothie King Center",
        "New Orleans",
        "LA",
    ),
    Team(
        "NYK",
        "New York",
        "Knicks",
        _E,
        "Atlantic",
        1610612752,
        20,
        _NY,
        "Madison Square Garden",
        "New York",
        "NY",
    ),
    Team(
        "OKC",
        "Oklahoma City",
        "Thunder",
        _W,
        "Northwest",
        1610612760,
        21,
        _CHI,
        "Paycom Center",
        "Oklahoma City",
        "OK",
    ),
    Team("ORL", "Orlando", "Magic", _E, "Southeast", 1610612753, 22, _NY, "Kia Center", "Orlando", "FL"),
    Team(
        "PHI",
        "Philadelphia",
        "76ers",
        _E,
        "Atlantic",
        1610612755,
        23,
        _NY,
        "Xfinity Mobile Arena",
        "Philadelphia",
        "PA",
    ),
    Team(
        "PHX",
        "Phoenix",
        "Suns",
        _W,
        "Pacific",
        1610612756,
        24,
        _PHX,
        "Mortgage Matchup Center",
        "Phoenix",
        "AZ",
    ),
    Team(
        "POR",
        "Portland",
        "Trail Blazers",
        _W,
        "Northwest",
        1610612757,
        25,
        _LA,
        "Moda Center",
        "Portland",
        "OR",
    ),
    Team(
        "SAC",
        "Sacramento",
        "Kings",
        _W,
        "Pacific",
        1610612758,
        26,
        _LA,
        "Golden 1 Center",
        "Sacramento",
        "CA",
    ),
    Team(
        "SAS",
        "San Antonio",
        "Spurs",
        _W,
        "Southwest",
        1610612759,
        27,
        _CHI,
        "Frost Bank Center",
        "San Antonio",
        "TX",
    ),
    Team(
        "TOR",
        "Toronto",
        "Raptors",
        _E,
        "Atlantic",
        1610612761,
        28,
        "America/Toronto",
        "Scotiabank Arena",
        "Toronto",
        "ON",
    ),
    Team(
        "UTA", "Utah", "Jazz", _W, "Northwest", 1610612762, 29, _DEN, "Delta Center", "Salt Lake City", "UT"
    ),
    Team(
        "WAS",
        "Washington",
        "Wizards",
        _E,
        "Southeast",
        1610612764,
        30,
        _NY,
        "Capital One Arena",
        "Washington",
        "DC",
    ),
)

_BY_TRICODE = {team.tricode: team for team in TEAMS}
_BY_NBA_ID = {team.nba_id: team for team in TEAMS}
_BY_BDL_ID = {team.bdl_id: team for team in TEAMS}


def team_by_tricode(tricode: str) -> Team:
    """Raises KeyError for an unknown tricode (case-insensitive)."""
    return _BY_TRICODE[tricode.strip().upper()]


def team_by_nba_id(nba_id: int | str) -> Team:
    return _BY_NBA_ID[int(nba_id)]


def team_by_bdl_id(bdl_id: int | str) -> Team:
    return _BY_BDL_ID[int(bdl_id)]
