"""How long the IMAP loop waits before it reconnects (issue 11).

The steps double from `Tuning.reconnect_min` to `reconnect_max` (15 s), and each wait is
drawn from the upper half of its step: replicas, or gateways sharing one server, do not
reconnect in lockstep. After a refused connection (nothing listening: a restart, an
outage) the wait ends early once the port accepts a TCP connection again, so mail does
not wait out the backoff after the server is back.
"""

from __future__ import annotations

import asyncio
import random

import structlog

log = structlog.get_logger(__name__)


def backoff_wait(delay: float) -> float:
    """The wait before a reconnect at backoff step `delay`: uniform in its upper half, so
    never more than the cap and never in lockstep with another replica."""
    return random.uniform(delay / 2, delay)


async def back_off(seconds: float, *, host: str, port: int, probe_every: float) -> None:
    """Sleep `seconds`; with `probe_every` > 0 (the last attempt was refused), try a bare
    TCP connect that often and end early once one is accepted. A server that accepts and
    then fails (LOGIN refused, SELECT failing) is not refused, so it gets the whole wait."""
    if probe_every <= 0:
        await asyncio.sleep(seconds)
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (left := deadline - loop.time()) > 0:
        await asyncio.sleep(min(probe_every, left))
        if deadline - loop.time() <= 0:
            return
        if await port_open(host, port, within=probe_every):
            log.info("email.imap.server_back", host=host, port=port)
            return


async def port_open(host: str, port: int, within: float) -> bool:
    """Whether `host:port` accepts a TCP connection (closed again at once)."""
    try:
        async with asyncio.timeout(within):
            _, writer = await asyncio.open_connection(host, port)
    except (OSError, TimeoutError):
        return False
    writer.transport.abort()
    return True
