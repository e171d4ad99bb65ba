"""A small SOCKS5 server for tests (RFC 1928 CONNECT, RFC 1929 user/password), run as its own
process: ``python -m tests.support.socks_server --port P --log FILE [--map NAME=IP ...]``.

Unlike microsocks it accepts any user name and password and writes one JSON line per CONNECT
(user, host as the client sent it, port), so a test can see the credentials each destination
got (stream isolation) and that host names, not addresses, came through (DNS via the proxy).
``--map`` resolves test-only names (``node.privacy.test``) that the test process cannot.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import struct
from pathlib import Path


class Socks:
    def __init__(self, log: Path, names: dict[str, str]) -> None:
        self.log = log
        self.names = names

    def note(self, entry: dict[str, object]) -> None:
        with self.log.open("a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._handle(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        version, count = await reader.readexactly(2)
        methods = await reader.readexactly(count)
        if version != 5:
            return
        user = None
        if 2 in methods:
            writer.write(b"\x05\x02")
            await writer.drain()
            _v, ulen = await reader.readexactly(2)
            user = (await reader.readexactly(ulen)).decode()
            (plen,) = await reader.readexactly(1)
            password = (await reader.readexactly(plen)).decode()
            writer.write(b"\x01\x00")
            user = f"{user}:{password}"
        elif 0 in methods:
            writer.write(b"\x05\x00")
        else:
            writer.write(b"\x05\xff")
            return
        await writer.drain()
        _v, _cmd, _r, atyp = await reader.readexactly(4)
        if atyp == 1:
            host = socket.inet_ntoa(await reader.readexactly(4))
        elif atyp == 3:
            (n,) = await reader.readexactly(1)
            host = (await reader.readexactly(n)).decode()
        else:
            host = socket.inet_ntop(socket.AF_INET6, await reader.readexactly(16))
        (port,) = struct.unpack("!H", await reader.readexactly(2))
        self.note({"user": user, "host": host, "port": port, "atyp": atyp})
        target = self.names.get(host, host)
        try:
            up_r, up_w = await asyncio.open_connection(target, port)
        except OSError:
            writer.write(b"\x05\x05\x00\x01" + b"\x00" * 6)
            return
        writer.write(b"\x05\x00\x00\x01" + b"\x00" * 6)
        await writer.drain()

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            with contextlib.suppress(OSError):
                dst.close()

        await asyncio.gather(pipe(reader, up_w), pipe(up_r, writer))


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--map", action="append", default=[])
    args = parser.parse_args()
    names = dict(item.split("=", 1) for item in args.map)
    socks = Socks(args.log, names)
    server = await asyncio.start_server(socks.handle, "127.0.0.1", args.port, backlog=256)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
