"""Each Solana endpoint's pace: published limits for the public endpoints only, any other URL
unpaced until it refuses, then paced from what it refused, and remembered for the session."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.chains.factory import ReaderContext
from app.chains.solana import create_reader
from app.chains.solana.pace import PUBLIC_LIMITS, PaceBook, is_public
from app.chains.solana.reader import SolanaReader
from app.config import Settings
from app.storage.database import open_database
from tests.support.chains import solana_spec
from tests.support.fakes import MemorySecrets
from tests.unit.solana.test_solana_units import FakeClock

PUBLIC = "https://api.mainnet-beta.solana.com"
OWN = "http://127.0.0.1:8899"
PROVIDER = "https://mainnet.helius-rpc.com/"


@pytest.mark.parametrize(
    ("url", "public"),
    [
        (PUBLIC, True),
        ("https://API.devnet.solana.com/", True),
        ("https://api.testnet.solana.com", True),
        (OWN, False),
        (PROVIDER, False),
        ("https://api.mainnet-beta.solana.com.evil.example", False),
    ],
)
def test_only_the_public_endpoints_have_published_limits(url: str, public: bool) -> None:
    book = PaceBook()
    limiter = book.limiter(url)
    assert is_public(url) is public
    if public:
        assert limiter is not None
        assert (limiter.total, limiter.per_method, limiter.window) == (100, 40, 10.0)
        assert book.batch_cap(url) == 40
        assert book.limiter(url) is limiter  # one window per endpoint for the session
    else:
        assert limiter is None and book.batch_cap(url) is None


def test_own_endpoint_is_never_held_back_until_it_refuses() -> None:
    """The public endpoint's 41st call of a method waits out its window; 5,000 calls to the own
    node at one instant wait for nothing. After a refusal, the own node is spaced out."""
    clock = FakeClock()
    book = PaceBook(clock=clock, sleep=clock.sleep)
    public = book.limiter(PUBLIC)
    assert public is not None and book.limiter(OWN) is None
    own = book.endpoints.pace(OWN)

    async def go() -> None:
        await public.acquire(["getTokenAccountsByOwner"] * 40)
        for _ in range(50):
            await own.wait(clock, clock.sleep)
        assert clock.sleeps == [] and not book.learned(OWN)
        own.refused()  # HTTP 429 or -32005 from the own node
        assert book.learned(OWN) and not book.learned(PROVIDER)
        await own.wait(clock, clock.sleep)
        await own.wait(clock, clock.sleep)
        assert clock.sleeps  # now spaced out
        await public.acquire(["getTokenAccountsByOwner"])  # the 41st call of the method

    asyncio.run(go())
    assert clock.now >= PUBLIC_LIMITS.window


def test_a_chunk_size_the_node_taught_caps_the_batch() -> None:
    book = PaceBook()
    book.endpoints.remember_calls(OWN, 25)
    book.endpoints.remember_calls(PUBLIC, 60)
    assert book.batch_cap(OWN) == 25
    assert book.batch_cap(PUBLIC) == 40  # the published limit is lower


def test_readers_of_one_context_share_what_was_learnt(tmp_path: Path) -> None:
    """The pace and the mint cache live in the reader context, not in a module global: two
    readers of one context share them, a new context (another session) starts afresh."""

    def context() -> ReaderContext:
        return ReaderContext(
            Settings(tmp_path / "settings.toml"),
            open_database(tmp_path / "db.sqlite", tmp_path / "backups"),
            MemorySecrets(),
        )

    ctx = context()
    first, second = create_reader(solana_spec(OWN), ctx), create_reader(solana_spec(OWN), ctx)
    assert isinstance(first, SolanaReader) and isinstance(second, SolanaReader)
    assert first._client.pace is second._client.pace
    assert first.mints.cache is second.mints.cache
    assert first._client.batch_size == 100  # own node: not capped to the public 40 per method
    first._client.pace.endpoints.pace(OWN).refused()
    assert second._client.pace.learned(OWN)
    other = create_reader(solana_spec(OWN), context())
    assert isinstance(other, SolanaReader)
    assert not other._client.pace.learned(OWN)
    assert other.mints.cache is not first.mints.cache
    public = create_reader(solana_spec(PUBLIC), ctx)
    assert isinstance(public, SolanaReader) and public._client.batch_size == 40
