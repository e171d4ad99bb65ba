"""The recorder: cheap on the request path, exact in the batch, summed by the store."""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import Engine

from app.domain.privacy import Contact
from app.net.recorder import Recorder
from app.storage.privacy_store import SqlPrivacyStore

A = "0x1CBd3b2770909D4e10f157cABC84C7264073C9Ec"
B = "0xdF3e18d64BC6A983f673Ab319CCaE4f1a57C7097"


class Sink:
    def __init__(self) -> None:
        self.batches: list[list[Contact]] = []

    def add_contacts(self, contacts: Sequence[Contact]) -> None:
        self.batches.append(list(contacts))


def body(address: str) -> bytes:
    return json.dumps({"method": "eth_getBalance", "params": [address]}).encode()


def test_nothing_is_searched_or_written_until_the_batch() -> None:
    sink = Sink()
    asked = []
    rec = Recorder(sink, lambda: asked.append(1) or [A, B])
    rec.sent("node.lan", "rpc", "http://node.lan/", body(A))
    rec.sent("node.lan", "rpc", "http://node.lan/", body(A))  # the same body: found once
    rec.sent("prices.lan", "prices", "http://prices.lan/p?ids=ethereum", b"")
    rec.refused("api.coingecko.com", "prices")
    assert sink.batches == [] and asked == [] and rec.pending == 4
    written = rec.flush()
    assert asked == [1] and rec.pending == 0 and sink.batches == [written]
    assert [(c.host, c.purpose, c.refused, c.addresses) for c in written] == [
        ("node.lan", "rpc", False, (A,)),
        ("node.lan", "rpc", False, (A,)),
        ("prices.lan", "prices", False, ()),
        ("api.coingecko.com", "prices", True, ()),
    ]
    assert rec.flush() == []


def test_addresses_in_the_url_count_too() -> None:
    rec = Recorder(Sink(), lambda: [B])
    rec.sent("explorer.lan", "explorer", f"https://explorer.lan/api?address={B.lower()}", b"")
    assert rec.flush()[0].addresses == (B,)


def test_a_sink_that_fails_is_logged_not_raised() -> None:
    class Broken:
        def add_contacts(self, contacts: Sequence[Contact]) -> None:
            raise OSError("disk full")

    rec = Recorder(Broken(), lambda: [A])
    rec.sent("h", "rpc", "http://h/", body(A))
    assert len(rec.flush()) == 1 and rec.failed_writes == 1


def test_store_sums_per_host(storage_engine: Engine) -> None:
    """On SQLite and on PostgreSQL (tests/support/postgres.py)."""
    engine = storage_engine
    store = SqlPrivacyStore(engine)
    store.add_contacts([
        Contact("node.lan", "rpc", 100, False, (A, B)),
        Contact("node.lan", "rpc", 200, False, (A,)),
        Contact("node.lan", "activity", 50, False, (B,)),
        Contact("api.coingecko.com", "prices", 300, True),
    ])  # fmt: skip
    store.add_contacts([Contact("node.lan", "rpc", 400, False, (A,))])
    node, refused = store.report()
    assert (node.host, node.requests, node.refused, node.first_at, node.last_at) == (
        "node.lan", 4, 0, 50, 400,
    )  # fmt: skip
    assert node.purposes == ("activity", "rpc")
    assert [(a.address, a.requests, a.first_at, a.last_at) for a in node.addresses] == [
        (A, 3, 100, 400),
        (B, 2, 50, 100),
    ]
    assert (refused.host, refused.requests, refused.refused, refused.first_at) == (
        "api.coingecko.com", 0, 1, None,
    )  # fmt: skip
    assert refused.last_refused_at == 300 and refused.addresses == ()
    assert node.as_json()["addresses_seen"] == 2
    store.clear()
    assert store.report() == []
    engine.dispose()


def test_a_declared_request_is_not_searched_only_its_rest() -> None:
    """A sender that built the body names what it put in it: the declared addresses (any
    letter case) and a search of ``rest``; the body itself is not read."""
    from app.net.recorder import Reveals

    rec = Recorder(Sink(), lambda: [A, B])
    big = body(B) * 3  # holds B, but the declaration says what counts
    on, Recorder.check_reveals = Recorder.check_reveals, False  # (which the suite checks)
    try:
        rec.sent("node.lan", "rpc", "http://node.lan/", big, Reveals((A.lower(), "0x" + "1" * 40)))
        rec.sent("node.lan", "rpc", "http://node.lan/", b"", Reveals((), f"0x{B[2:]}".encode()))
    finally:
        Recorder.check_reveals = on
    first, second = rec.flush()
    assert first.addresses == (A,) and second.addresses == (B,)


def test_checking_declarations_keeps_any_difference() -> None:
    """With ``check_reveals`` the whole body is searched too: an address it holds that the
    declaration missed, or one declared that it does not hold, is kept (the suite fails on it)."""
    from app.net.recorder import Reveals

    before, on = list(Recorder.undeclared), Recorder.check_reveals
    Recorder.undeclared.clear()
    Recorder.check_reveals = True
    try:
        rec = Recorder(Sink(), lambda: [A, B])
        rec.sent("n", "rpc", "http://n/", body(A), Reveals((A,)))  # right
        rec.sent("n", "rpc", "http://n/", body(A) + body(B), Reveals((A,)))  # B missed
        rec.sent("n", "tokens", "http://n/", body(A), Reveals((A, B)))  # B invented
        rec.flush()
        assert Recorder.undeclared == [("rpc", (B,)), ("tokens", (B,))]
    finally:
        Recorder.undeclared[:] = before
        Recorder.check_reveals = on
