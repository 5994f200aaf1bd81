"""Placeholder: routes are being built."""

from starlette.routing import Route


def routes(**kwargs) -> list[Route]:  # noqa: ARG001
    return []
