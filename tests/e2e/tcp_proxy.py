"""A local TCP proxy to put between the bot and its database, to take the database away and give it back without
touching the server (which other tests share).

    proxy = TcpProxy(5432)
    await proxy.start()            # proxy.port: point the bot's database URL here
    proxy.cut()                    # every live connection closed, new ones closed as soon as they arrive
    proxy.restore()                # connections pass again
    await proxy.close()
"""

from __future__ import annotations

import asyncio
import contextlib

__all__ = ["TcpProxy"]


class TcpProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.cut_off = False
        self.refused = 0
        """Connections closed on arrival while cut off."""
        self._server: asyncio.Server | None = None
        self._live: set[asyncio.StreamWriter] = set()

    async def start(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def cut(self) -> None:
        """As if the network to the database had gone: live connections are reset, new ones refused."""
        self.cut_off = True
        for writer in list(self._live):
            self._abort(writer)

    def restore(self) -> None:
        self.cut_off = False

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        if self.cut_off:
            self.refused += 1
            self._abort(client_writer)
            return
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            self._abort(client_writer)
            return
        self._live |= {client_writer, server_writer}
        try:
            await asyncio.gather(self._pipe(client_reader, server_writer), self._pipe(server_reader, client_writer))
        finally:
            for writer in (client_writer, server_writer):
                self._live.discard(writer)
                self._abort(writer)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(65536):
                if self.cut_off:
                    break
                writer.write(data)
                await writer.drain()
        self._abort(writer)

    @staticmethod
    def _abort(writer: asyncio.StreamWriter) -> None:
        """Close at once (a reset, not a polite goodbye), so that both sides notice now."""
        transport = writer.transport
        if not transport.is_closing():
            transport.abort()
