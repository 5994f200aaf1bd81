"""Player props and game lines: The Odds API and BettingPros as sources (issue 13).

``parse`` turns stored payloads into observations, ``identity`` proves which league game an
event is and which league player a name is, ``budget`` plans Odds API credits before any call,
``pipeline`` is phase 1 (scrape, raw kept) and phase 2 (process from the raw store), and
``checks`` holds the queries behind the asset checks."""
