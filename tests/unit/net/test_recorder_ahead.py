"""Searching large request bodies ahead (``refresh --once``) records exactly what the batch
alone would: same contacts, same addresses, and a change of wallets in between still counts."""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections.abc import Sequence

import pytest

from app.chains.evm import calls
from app.domain.privacy import Contact
from app.net.recorder import SEARCH_AHEAD_BYTES, Matcher, Recorder

TOKEN = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"


def wallet(i: int) -> str:
    return "0x" + f"{i * 7919 + 1:x}".rjust(8, "0") + "ab" * 16


WALLETS = [wallet(i) for i in range(30)]


def big_body(owners: Sequence[str]) -> bytes:
    pairs = [(TOKEN, calls.balance_of(o)) for o in owners for _ in range(200)]
    data = "0x" + calls.encode_aggregate3(pairs).hex()
    body = json.dumps({"method": "eth_call", "params": [{"to": TOKEN, "data": data}]}).encode()
    assert len(body) >= SEARCH_AHEAD_BYTES
    return body


class Sink:
    def __init__(self) -> None:
        self.contacts: list[Contact] = []

    def add_contacts(self, contacts: Sequence[Contact]) -> None:
        self.contacts += contacts


def addresses(contacts: Sequence[Contact]) -> list[tuple[str, ...]]:
    return [c.addresses for c in contacts]


async def send_all(rec: Recorder, bodies: list[bytes]) -> None:
    for b in bodies:
        rec.sent("node.lan", "rpc", "http://node.lan/", b)
        await asyncio.sleep(0)
    task = rec._ahead_task
    assert task is not None
    await task


def test_ahead_records_what_the_batch_alone_records() -> None:
    bodies = [big_body(WALLETS[i : i + 5]) for i in range(0, 30, 5)]
    plain = Recorder(Sink(), lambda: WALLETS[:20])
    for b in bodies:
        plain.sent("node.lan", "rpc", "http://node.lan/", b)
    expected = addresses(plain.flush())
    asked: list[int] = []
    ahead = Recorder(Sink(), lambda: asked.append(1) or WALLETS[:20])
    ahead.search_ahead = True
    asyncio.run(send_all(ahead, bodies))
    searched = len(ahead._seen)
    assert asked and searched == len(bodies)  # searched before the batch
    assert addresses(ahead.flush()) == expected
    assert expected[0] == tuple(sorted(WALLETS[:5])) and expected[-1] == ()


def test_wallets_changed_after_the_search_ahead_are_searched_again() -> None:
    watched = [WALLETS[0]]
    rec = Recorder(Sink(), lambda: list(watched))
    rec.search_ahead = True
    asyncio.run(send_all(rec, [big_body(WALLETS[:2])]))
    watched.append(WALLETS[1])  # a wallet added before the batch is written
    assert addresses(rec.flush()) == [tuple(sorted(WALLETS[:2]))]


def test_without_a_loop_the_batch_searches_and_nothing_is_held() -> None:
    rec = Recorder(Sink(), lambda: WALLETS)
    rec.search_ahead = True
    rec.sent("node.lan", "rpc", "http://node.lan/", big_body(WALLETS[:1]))
    assert addresses(rec.flush()) == [(WALLETS[0],)]
    assert rec._ahead == []  # the bodies are not kept past the batch


def test_small_bodies_and_the_default_are_left_to_the_batch() -> None:
    async def go(rec: Recorder) -> None:
        rec.sent("node.lan", "rpc", "http://node.lan/", b'{"params": ["%s"]}' % WALLETS[0].encode())
        rec.sent("node.lan", "rpc", "http://node.lan/", big_body(WALLETS[:1]))
        await asyncio.sleep(0)

    small_only = Recorder(Sink(), lambda: WALLETS)
    small_only.search_ahead = True
    default = Recorder(Sink(), lambda: WALLETS)
    for rec in (small_only, default):
        asyncio.run(go(rec))
    assert default._ahead_task is None and small_only._ahead_task is not None
    assert addresses(small_only.flush()) == addresses(default.flush()) == [(WALLETS[0],)] * 2


def test_a_wallet_list_that_cannot_be_read_ahead_still_gets_the_batch(
    caplog: pytest.LogCaptureFixture,
) -> None:
    state = {"fail": True}

    def watched() -> list[str]:
        if state["fail"]:
            raise OSError("database is locked")
        return WALLETS[:1]

    rec = Recorder(Sink(), watched)
    rec.search_ahead = True
    asyncio.run(send_all(rec, [big_body(WALLETS[:1])]))
    state["fail"] = False
    assert addresses(rec.flush()) == [(WALLETS[0],)]
    assert "could not read the wallet list" in caplog.text


# --- the matcher's word search against the regular expression it replaced ------------------

_REFERENCE = re.compile(rb"0x([0-9a-f]{40})(?![0-9a-f])|0{24,}(?=([1-9a-f][0-9a-f]{15}))")


def reference_find(addresses: Sequence[str], data: bytes) -> set[str]:
    """The matcher as it was (one finditer, a Python step per match): the exact meaning."""
    evm = {a[2:].lower().encode(): a for a in addresses}
    keyed: dict[bytes, list[tuple[bytes, str]]] = {}
    short = []
    for low, a in evm.items():
        stripped = low.lstrip(b"0")
        if len(stripped) >= 16:
            keyed.setdefault(stripped[:16], []).append((low, a))
        else:
            short.append((b"0" * 24 + low, a))
    found: set[str] = set()
    low_data = data.lower()
    for m in _REFERENCE.finditer(low_data):
        if m.group(1) is not None:
            if m.group(1) in evm:
                found.add(evm[m.group(1)])
            continue
        for addr, shown in keyed.get(m.group(2), []):
            zeros = len(addr) - len(addr.lstrip(b"0"))
            if low_data[m.end() - zeros : m.end() - zeros + 40] == addr:
                found.add(shown)
    found.update(a for word, a in short if word in low_data)
    return found


def test_the_word_search_finds_exactly_what_the_old_expression_found() -> None:
    rnd = random.Random(20261207)

    def address(zeros: int) -> str:
        digits = "0" * zeros + "".join(rnd.choice("0123456789abcdef") for _ in range(40 - zeros))
        if zeros < 40 and digits[zeros] == "0":
            digits = digits[:zeros] + "7" + digits[zeros + 1 :]
        return "0x" + "".join(c.upper() if rnd.random() < 0.5 else c for c in digits)

    hits = 0
    for _ in range(1500):
        watched = [address(rnd.choice([0, 0, 1, 3, 8, 20, 23, 24, 25, 30])) for _ in range(4)]
        pool = watched + [address(rnd.choice([0, 24])) for _ in range(3)]
        parts: list[str] = []
        for a in rnd.sample(pool, rnd.randint(0, len(pool))):
            kind = rnd.random()
            if kind < 0.3:
                parts.append(calls.balance_of(a).hex())
            elif kind < 0.5:
                parts.append("0x" + a[2:].lower())
            elif kind < 0.7:
                parts.append("0" * rnd.randint(0, 30) + a[2:].lower() + rnd.choice(["", "0", '"']))
            else:
                parts.append(calls.encode_aggregate3([(a, calls.get_eth_balance(pool[0]))]).hex())
            parts.append(rnd.choice(["", "0" * rnd.randint(0, 70), "x", '","', "0x"]))
        data = "".join(parts).encode()
        found = Matcher(watched).find(data)
        assert found == reference_find(watched, data), data
        hits += bool(found)
    assert hits > 500
