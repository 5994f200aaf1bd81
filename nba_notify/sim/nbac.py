"""Placeholder: routes are being built."""

from starlette.routing import Route


def routes(sim) -> list[Route]:
    return []
