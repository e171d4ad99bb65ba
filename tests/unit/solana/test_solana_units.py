"""Parts of the Solana reader: mint extension parsing, curated list, rate limiter, and how the\nbatch client reads each item of a reply."""

from __future__ import annotations

import asyncio
import struct

import pytest
from solders.pubkey import Pubkey

from app.chains.solana.rpc import BatchClient, Call, CallResult, RateLimiter, RpcError
from app.chains.solana.tokens import curated_tokens, parse_mint
from tests.support.net import CannedHttpServer
from tests.support.solana_rpc import metadata_extension, mint_bytes, tlv, token2022_mint_bytes


def test_plain_mint_has_decimals_and_no_extensions() -> None:
    info = parse_mint(mint_bytes(7))
    assert (info.decimals, info.name, info.symbol, info.unsupported) == (7, None, None, None)


def test_token2022_metadata_extension_is_read() -> None:
    mint = Pubkey.new_unique()
    data = token2022_mint_bytes(3, tlv(18, bytes(64)) + metadata_extension(mint, "Name", "SYM"))
    info = parse_mint(data)
    assert (info.decimals, info.name, info.symbol) == (3, "Name", "SYM")


def test_amount_changing_extensions_are_flagged() -> None:
    assert parse_mint(token2022_mint_bytes(2, tlv(10, bytes(52)))).unsupported == "interest-bearing"
    assert parse_mint(token2022_mint_bytes(2, tlv(25, bytes(56)))).unsupported == "scaled UI amount"


def test_truncated_metadata_is_ignored_not_fatal() -> None:
    bad = tlv(19, bytes(64) + struct.pack("<I", 1000) + b"x")
    info = parse_mint(token2022_mint_bytes(6, bad))
    assert info.decimals == 6 and info.name is None


def test_curated_list_is_valid() -> None:
    tokens = curated_tokens()
    assert tokens["EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"].decimals == 6
    for mint, t in tokens.items():
        Pubkey.from_string(mint)
        assert 0 <= t.decimals <= 18 and t.symbol and t.name
        assert t.price_id is None or t.price_id.startswith("coingecko:")


class FakeClock:
    """Time that only moves when the limiter sleeps: pacing checked without wall time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_rate_limiter_paces_per_method() -> None:
    clock = FakeClock()
    limiter = RateLimiter(100, 2, 10.0, clock=clock, sleep=clock.sleep)

    async def go() -> None:
        await limiter.acquire(["a", "a"])
        await limiter.acquire(["b"])  # another method is not held back
        assert clock.now == 0.0
        await limiter.acquire(["a"])  # waits until the first two leave the window

    asyncio.run(go())
    assert clock.now >= 10.0


def test_rate_limiter_paces_total() -> None:
    clock = FakeClock()
    limiter = RateLimiter(3, 3, 10.0, clock=clock, sleep=clock.sleep)

    async def go() -> list[float]:
        stamps = []
        for m in "abcdefg":
            await limiter.acquire([m])
            stamps.append(clock.now)
        return stamps

    stamps = asyncio.run(go())
    assert stamps[:3] == [0.0, 0.0, 0.0]
    # never more than 3 calls in any 10 s window
    for i in range(len(stamps) - 3):
        assert stamps[i + 3] - stamps[i] >= 10.0


def _call(body: bytes) -> list[CallResult] | str:
    """The results of one call sent as a batch to a server answering ``body``, or the
    RpcError's text."""

    async def go(url: str) -> list[CallResult] | str:
        client = BatchClient([url], retries=0, backoff=0.0)
        try:
            return await client.call_all([Call("getSlot", [])])
        except RpcError as exc:
            return str(exc)
        finally:
            await client.aclose()

    with CannedHttpServer(body) as server:
        return asyncio.run(go(server.url))


LONG_ERROR = b'[{"id":1,"error":{"code":-32602,"message":"' + b"x" * 500 + b'"}}]'


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'[{"jsonrpc":"2.0","id":1,"result":{"a":[1]}}]', b'{"a":[1]}'),
        (b'[{"id":1,"error":null,"result":7}]', b"7"),
        (b'[{"id":1,"error":"boom"}]', "RPC error: boom"),
        (LONG_ERROR, "RPC error: " + "x" * 200),
        (b'[{"id":1,"error":{"code":"-1"}}]', "RPC error: None"),
        (b'[{"id":1,"error":1e400}]', "RPC error: unreadable error"),
        (b'[{"id":1}]', "malformed RPC reply"),
        (b'{"id":1,"result":3}', b"3"),  # a lone object for a batch of one
    ],
)
def test_each_reply_item_is_a_result_or_a_clear_error(body: bytes, expected: bytes | str) -> None:
    results = _call(body)
    assert not isinstance(results, str), results
    (only,) = results
    if isinstance(expected, bytes):
        assert only.result is not None and bytes(only.result) == expected and only.error is None
    else:
        assert only.result is None and only.error == expected


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"5", "not JSON"),
        (b"[1, 2]", "not JSON"),  # items that are not objects: not a JSON-RPC reply
        (b'[{"id":{"x":1},"result":1}]', "not JSON"),
        (b'[{"id":"1","result":1}]', "no reply"),  # an id this client never sent
        (
            b'{"jsonrpc":"2.0","error":{"code":-32005,"message":"Too many requests"}}',
            "rate limited",
        ),
        (b'[{"id":1,"error":{"code":-32005,"message":"Too many requests"}}]', "rate limited"),
    ],
)
def test_a_reply_that_answers_nothing_fails_the_batch(body: bytes, reason: str) -> None:
    error = _call(body)
    assert isinstance(error, str) and reason in error, error
