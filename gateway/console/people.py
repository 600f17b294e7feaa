"""The desk's operators, read once per console request.

A page needs them several times (the rows' assignees, the bulk form, the transfer form, the
ticket's owner); each read was a statement of its own (three per list page). The first read
of a request keeps them on the request; operators change rarely, and a request is short.
"""

from __future__ import annotations

from aiohttp import web

from gateway.console.queries import OperatorStatus, operators_with_status
from gateway.keys import STORE
from gateway.models import Operator

OPERATORS: web.RequestKey[list[Operator]] = web.RequestKey("console_operators", list)
STATUSES: web.RequestKey[dict[int, OperatorStatus]] = web.RequestKey("console_statuses", dict)


async def operators(request: web.Request) -> list[Operator]:
    """Every operator (active or not), by username, as read at the request's first call
    (with their presence and capacity, `statuses`: the same statement)."""
    found = request.get(OPERATORS)
    if found is None:
        found, request[STATUSES] = await operators_with_status(request.app[STORE])
        request[OPERATORS] = found
    return found


async def statuses(request: web.Request) -> dict[int, OperatorStatus]:
    """Presence and capacity by operator id as operators set them (`operator_status`),
    read with `operators`."""
    await operators(request)
    return request[STATUSES]
