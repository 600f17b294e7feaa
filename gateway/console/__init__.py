"""The operator console (placeholder until the console module lands)."""

from aiohttp import web


def setup(app: web.Application) -> None:
    return None
