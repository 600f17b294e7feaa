"""A TCP proxy of the test's own between the gateway and the shared Dovecot: it can cut
every connection, or say `* BYE` like a server shutting down, without touching Dovecot
(other tests use it at the same time)."""

from __future__ import annotations

import asyncio
import contextlib

from tests.email_live.servers import IMAP_HOST, IMAP_PORT


class ImapProxy:
    def __init__(self) -> None:
        self.port = 0
        self.server: asyncio.Server | None = None
        self.clients: list[asyncio.StreamWriter] = []
        self.upstreams: list[asyncio.StreamWriter] = []
        #: When a client command contains these bytes, cut every connection (once).
        self.cut_on: bytes | None = None
        self.cut = asyncio.Event()
        self.connections = 0

    async def start(self) -> ImapProxy:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        self.drop()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    def drop(self) -> None:
        """Cut every open connection (RST-free close of both sides)."""
        for writer in (*self.clients, *self.upstreams):
            writer.close()
        self.clients.clear()
        self.upstreams.clear()

    async def bye(self) -> None:
        """`* BYE` to every client, as Dovecot says on shutdown; the sockets stay open, so
        only the BYE tells the client to go."""
        for writer in self.clients:
            writer.write(b"* BYE Server shutting down.\r\n")
            with contextlib.suppress(ConnectionError):
                await writer.drain()
        for writer in self.upstreams:  # the server side is gone, the client side lingers
            writer.close()
        self.upstreams.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        up_reader, up_writer = await asyncio.open_connection(IMAP_HOST, IMAP_PORT)
        self.clients.append(writer)
        self.upstreams.append(up_writer)
        await asyncio.gather(self._pipe(reader, up_writer, client_side=True),
                             self._pipe(up_reader, writer, client_side=False),
                             return_exceptions=True)

    async def _pipe(self, source: asyncio.StreamReader, target: asyncio.StreamWriter,
                    client_side: bool) -> None:
        try:
            while data := await source.read(65536):
                if client_side and self.cut_on is not None and self.cut_on in data:
                    self.cut_on = None
                    self.cut.set()
                    self.drop()
                    return
                target.write(data)
                await target.drain()
        except (ConnectionError, OSError):
            pass  # the other side went away: drop() or bye() deals with the rest
