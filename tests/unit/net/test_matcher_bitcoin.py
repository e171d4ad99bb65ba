"""The privacy ledger sees what a Bitcoin server learns: an Electrum server is sent script
hashes, never addresses, and an Esplora server every address derived from a watched key, not
only the first one; both count as the person's addresses, named by the wallet they belong to."""

from __future__ import annotations

import json

from app.domain.addresses import AddressFamily
from app.domain.bitcoin import script_of, scripthash
from app.domain.model import Wallet
from app.domain.privacy_watch import watched_addresses
from app.net.recorder import Matcher, Recorder
from tests.support.bitcoin_fakes import DEMO_ZPUB

FIRST = "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu"  # DEMO_ZPUB's r0
R1 = "bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g"  # DEMO_ZPUB's r1
SINGLE = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
EVM = "0x1CBd3b2770909D4e10f157cABC84C7264073C9Ec"


def electrum(sh: str) -> bytes:
    body = {"id": 1, "method": "blockchain.scripthash.get_history", "params": [sh]}
    return json.dumps(body).encode() + b"\n"


def wallets() -> list[Wallet]:
    return [
        Wallet(SINGLE, AddressFamily.BITCOIN, label="Cold", id=1),
        Wallet(FIRST, AddressFamily.BITCOIN, label="Savings", id=2, watch=DEMO_ZPUB),
        Wallet(EVM, AddressFamily.EVM, label="Main", id=3),
    ]


def derived(wallet_id: int) -> list[str]:
    return [FIRST, R1] if wallet_id == 2 else []


def test_script_hashes_and_derived_addresses_are_the_persons() -> None:
    values, names = watched_addresses(wallets(), derived)
    m = Matcher(values)
    assert m.find(electrum(scripthash(script_of(SINGLE)))) == {SINGLE}
    assert m.find(electrum(scripthash(script_of(R1)))) == {R1}
    assert m.find(b"GET /api/address/" + R1.encode() + b"/txs") == {R1}
    assert m.find(json.dumps({"params": [EVM.lower()]}).encode()) == {EVM}
    assert names == {SINGLE: "Cold", FIRST: "Savings", R1: "Savings", EVM: "Main"}


def test_a_derived_address_that_cannot_be_read_is_skipped() -> None:
    values, names = watched_addresses(wallets(), lambda _id: ["not-an-address", R1])
    assert Matcher(values).find(electrum(scripthash(script_of(R1)))) == {R1}
    assert "not-an-address" not in names


def test_the_recorder_writes_the_address_behind_a_script_hash() -> None:
    got: list[tuple[str, ...]] = []

    class Sink:
        def add_contacts(self, contacts: object) -> None:
            got.extend(c.addresses for c in contacts)  # type: ignore[attr-defined]

    rec = Recorder(Sink(), lambda: watched_addresses(wallets(), derived)[0])
    rec.sent("127.0.0.1:50001", "bitcoin", "", electrum(scripthash(script_of(R1))))
    rec.flush()
    assert got == [(R1,)]
