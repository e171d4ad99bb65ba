"""Raw TCP (and TLS) streams through the one way out, for protocols that are not HTTP (the
Electrum protocol: JSON lines over TCP).

The same policy as HTTP: own-nodes-only refuses before connecting; a SOCKS5 proxy gets the host
name (DNS through the proxy) and, with isolation, the host's own credentials; an HTTP proxy is
asked to ``CONNECT``; TLS starts inside the tunnel. A proxy that does not answer is one
sentence and nothing goes out directly. Every write is one record for the privacy ledger.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ssl as _ssl
import struct
from urllib.parse import urlsplit

from app import net


class StreamRefused(ConnectionRefusedError):
    """Nothing was sent; ``strerror`` is a sentence for the person."""

    def __init__(self, sentence: str) -> None:
        super().__init__(errno.ECONNREFUSED, sentence)


async def open_connection(
    purpose: str,
    host: str,
    port: int,
    *,
    ssl: _ssl.SSLContext | None = None,
    limit: int = 2**16,
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Like ``asyncio.open_connection`` (raises OSError), through the installed egress."""
    from app.net.transport import proxy_sentence, refusal_sentence

    egress = net.current()
    policy = egress.policy
    key = f"{host.lower()}:{port}"
    if not policy.allows(key):
        if egress.recorder is not None:
            egress.recorder.refused(key, purpose)
        raise StreamRefused(refusal_sentence(key))
    if not policy.proxy:
        reader, writer = await asyncio.open_connection(host, port, ssl=ssl, limit=limit)
    else:
        parts = urlsplit(policy.proxy)
        try:
            reader, writer = await asyncio.open_connection(parts.hostname, parts.port, limit=limit)
        except OSError:
            raise StreamRefused(proxy_sentence(policy)) from None
        try:
            if parts.scheme.startswith("socks"):
                auth = egress.credentials(key, net.isolation.get()) if policy.isolate else None
                await _socks5(reader, writer, host, port, auth)
            else:
                await _http_connect(reader, writer, host, port)
            if ssl is not None:
                await writer.start_tls(ssl, server_hostname=host)
        except BaseException:
            writer.close()
            raise
    _record(writer, egress, key, purpose)
    return reader, writer


def _record(writer: asyncio.StreamWriter, egress: net.Egress, key: str, purpose: str) -> None:
    recorder = egress.recorder
    if recorder is None:
        return
    write = writer.write

    def recording(data: bytes | bytearray | memoryview) -> None:
        recorder.sent(key, purpose, "", bytes(data))
        write(data)

    writer.write = recording  # type: ignore[method-assign]


async def _socks5(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    host: str,
    port: int,
    auth: tuple[str, str] | None,
) -> None:
    method = 2 if auth else 0
    writer.write(bytes([5, 1, method]))
    await writer.drain()
    version, chosen = await reader.readexactly(2)
    if version != 5 or chosen != method:
        raise ConnectionError("the proxy refused the authentication method")
    if auth:
        user, password = (part.encode() for part in auth)
        writer.write(bytes([1, len(user)]) + user + bytes([len(password)]) + password)
        await writer.drain()
        if (await reader.readexactly(2))[1] != 0:
            raise ConnectionError("the proxy refused the credentials")
    name = host.encode("idna")
    writer.write(bytes([5, 1, 0, 3, len(name)]) + name + struct.pack("!H", port))
    await writer.drain()
    _v, status, _r, atyp = await reader.readexactly(4)
    size = {1: 4, 4: 16}.get(atyp)
    await reader.readexactly((size if size else (await reader.readexactly(1))[0]) + 2)
    if status != 0:
        raise ConnectionError(f"the proxy could not reach {host}:{port} (SOCKS error {status})")


async def _http_connect(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, port: int
) -> None:
    writer.write(f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
    await writer.drain()
    status = await reader.readline()
    while (await reader.readline()) not in (b"\r\n", b"\n", b""):
        pass
    parts = status.split()
    if len(parts) < 2 or parts[1] != b"200":
        with contextlib.suppress(Exception):
            writer.close()
        raise ConnectionError(f"the proxy could not reach {host}:{port}")
