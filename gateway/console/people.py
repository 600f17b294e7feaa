"""The desk's operators, read once per console request.

A page needs them several times (the rows' assignees, the bulk form, the transfer form, the
ticket's owner); each read was a statement of its own (three per list page). The first read
of a request keeps them on the request; operators change rarely, and a request is short.
"""

from __future__ import annotations

from aiohttp import web

from gateway.keys import STORE
from gateway.models import Operator

OPERATORS: web.RequestKey[list[Operator]] = web.RequestKey("console_operators", list)


async def operators(request: web.Request) -> list[Operator]:
    """Every operator (active or not), by username, as read at the request's first call."""
    found = request.get(OPERATORS)
    if found is None:
        found = request[OPERATORS] = await request.app[STORE].operators()
    return found
