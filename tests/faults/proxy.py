"""A TCP proxy between the gateway and a mail server that fails on command.

The gateway is pointed at the proxy instead of Dovecot or the SMTP sink, so the faults
are real network faults for its IMAP and SMTP clients: `cut()` resets every open
connection, `cut_one()` a random one, `bye()` closes them as a
server shutting down does, `cut_during_transfer()` the next connection that
carries a large server answer (a FETCH of a backlog) half-way through it, and
`outage()` stops listening (connection refused) until `restore()`. The injectors arm
transfer cuts one at a time at random moments of a run, so they are spread over it.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import time
from dataclasses import dataclass, field


@dataclass(eq=False)
class _Link:
    """One proxied connection: the gateway's side and the server's side."""

    client: asyncio.StreamWriter
    server: asyncio.StreamWriter
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def abort(self) -> None:
        for writer in (self.client, self.server):
            writer.transport.abort()


class TcpProxy:
    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1",
                 rng: random.Random | None = None) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.rng = rng or random.Random()
        self.port = 0
        self.connections = 0
        self.peak_open = 0  # the most connections open at the same time
        self.cuts = 0
        self.transfer_cuts = 0  # of `cuts`, those half-way through a transfer
        self.transfer_cut_at: list[float] = []  # when each happened (time.time())
        self._links: set[_Link] = set()
        self._server: asyncio.Server | None = None
        self._cut_on_transfer = 0
        self._transfer_bytes = 4096
        self._cut_upstream = False

    async def start(self) -> TcpProxy:
        await self._listen()
        return self

    async def _listen(self) -> None:
        if self.port == 0:
            with socket.socket() as probe:  # a free port that stays ours across outages
                probe.bind(("127.0.0.1", 0))
                self.port = probe.getsockname()[1]
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port,
                                                  reuse_address=True)

    async def stop(self) -> None:
        await self._close_listener()
        self.cut()

    async def _close_listener(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    @property
    def down(self) -> bool:
        return self._server is None

    def cut(self) -> int:
        """Reset every open connection; return how many."""
        links = list(self._links)
        for link in links:
            link.abort()
        self.cuts += len(links)
        return len(links)

    def bye(self, text: bytes = b"* BYE Server shutting down.\r\n") -> int:
        """A graceful server stop: an untagged BYE to every client, then the close."""
        links = list(self._links)
        for link in links:
            link.client.write(text)
            link.client.close()
            link.server.close()
        self.cuts += len(links)
        return len(links)

    def cut_one(self) -> bool:
        """Reset one random open connection (False when none is open)."""
        if not self._links:
            return False
        self.rng.choice(sorted(self._links, key=id)).abort()
        self.cuts += 1
        return True

    def cut_during_transfer(self, times: int = 1, min_bytes: int = 4096,
                            upstream: bool = False) -> None:
        """Cut the next `times` transfers of at least `min_bytes` half-way: server answers
        (an IMAP FETCH), or with `upstream` what the gateway sends (an SMTP DATA)."""
        self._cut_on_transfer += times
        self._transfer_bytes = min_bytes
        self._cut_upstream = upstream

    async def outage(self) -> None:
        """The server goes away: open connections reset, new ones refused."""
        await self._close_listener()
        self.cut()

    async def restore(self) -> None:
        if self._server is None:
            await self._listen()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        self.connections += 1
        link = _Link(writer, up_writer)
        self._links.add(link)
        self.peak_open = max(self.peak_open, len(self._links))
        link.tasks = [asyncio.create_task(self._pump(reader, up_writer, link, False)),
                      asyncio.create_task(self._pump(up_reader, writer, link, True))]
        try:
            await asyncio.gather(*link.tasks, return_exceptions=True)
        finally:
            self._links.discard(link)
            link.abort()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    link: _Link, downstream: bool) -> None:
        try:
            while data := await reader.read(65536):
                if downstream != self._cut_upstream and self._cut_on_transfer \
                        and len(data) >= self._transfer_bytes:
                    self._cut_on_transfer -= 1
                    writer.write(data[: len(data) // 2])
                    with contextlib.suppress(OSError):
                        await writer.drain()
                    self.cuts += 1
                    self.transfer_cuts += 1
                    self.transfer_cut_at.append(time.time())
                    link.abort()
                    return
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            link.abort()  # one side closed or failed: the other must see it too
