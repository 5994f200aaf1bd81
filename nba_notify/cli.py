"""``nba-notify``: the operator's command line.

    nba-notify migrate            apply database migrations
    nba-notify sim                run the BDL / NBA.com / Braze simulator
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from datetime import datetime

from nba_notify.lib.config import DEFAULT_SIM_PORT

Command = Callable[[argparse.Namespace], int]


def cmd_migrate(args: argparse.Namespace) -> int:  # noqa: ARG001
    from nba_notify.lib.db.engine import resolve_database_url
    from nba_notify.lib.db.migrate import upgrade

    url = resolve_database_url()
    heads = upgrade(url)
    print(f"database migrated to {', '.join(heads)}")
    return 0


def cmd_sim(args: argparse.Namespace) -> int:
    from nba_notify.sim.app import SimConfig
    from nba_notify.sim.server import SimServer

    config = SimConfig(seed=args.seed, rate=args.rate, currents_url=args.currents_url)
    if args.start:
        config.start = datetime.fromisoformat(args.start)
    server = SimServer(config, port=args.port)
    print(f"simulator on {server.url} (clock {config.start.isoformat()}, rate {config.rate})")
    server.serve_forever()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nba-notify", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)

    sim = sub.add_parser("sim", help="run the upstream simulator (BDL, NBA.com, Braze)")
    sim.add_argument("--port", type=int, default=DEFAULT_SIM_PORT)
    sim.add_argument("--seed", type=int, default=2026)
    sim.add_argument("--rate", type=float, default=1.0, help="clock speed; 0 freezes it")
    sim.add_argument("--start", help="initial simulated time (ISO 8601, with offset)")
    sim.add_argument("--currents-url", default=None, help="where Braze Currents are POSTed")
    sim.set_defaults(func=cmd_sim)

    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO)
    func: Command = args.func
    return func(args)


if __name__ == "__main__":
    sys.exit(main())
