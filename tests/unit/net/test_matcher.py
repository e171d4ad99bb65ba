"""The privacy ledger finds watched addresses in request bytes by value."""

from __future__ import annotations

import json

from app.chains.evm import calls
from app.net.recorder import Matcher

A = "0x1CBd3b2770909D4e10f157cABC84C7264073C9Ec"
B = "0xdF3e18d64BC6A983f673Ab319CCaE4f1a57C7097"
ZEROS = "0x0000000000000000000000000000FFee00000001"  # leading zeros and a short tail
TOKEN = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
SOL = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin"


def multicall_body(*owners: str) -> bytes:
    pairs = [(TOKEN, calls.balance_of(o)) for o in owners]
    pairs += [(TOKEN, calls.get_eth_balance(o)) for o in owners]
    data = "0x" + calls.encode_aggregate3(pairs).hex()
    return json.dumps({"method": "eth_call", "params": [{"to": TOKEN, "data": data}]}).encode()


def test_addresses_inside_aggregate3_calldata_are_found() -> None:
    m = Matcher([A, B, ZEROS])
    assert m.find(multicall_body(A)) == {A}
    assert m.find(multicall_body(A, B, ZEROS)) == {A, B, ZEROS}


def test_plain_json_params_and_urls_any_case() -> None:
    m = Matcher([A, B])
    body = json.dumps({"method": "eth_getBalance", "params": [A.lower(), "latest"]}).encode()
    assert m.find(body) == {A}
    assert m.find(f"https://x/api?module=account&address=0x{B[2:].upper()}".encode()) == {B}


def test_similar_values_are_not_taken_for_an_address() -> None:
    m = Matcher([A])
    longer = json.dumps({"data": "0x" + A[2:].lower() + "00"}).encode()  # 42 hex digits
    assert m.find(longer) == set()
    assert m.find(multicall_body(B)) == set()
    assert m.find(b"") == set()


def test_other_families_match_exact_tokens_only() -> None:
    m = Matcher([SOL])
    body = json.dumps({"method": "getBalance", "params": [SOL]}).encode()
    assert m.find(body) == {SOL}
    assert m.find(body.lower()) == set()  # base58 is case-sensitive
    assert m.find(json.dumps({"params": [SOL + "x"]}).encode()) == set()


def test_no_watched_addresses() -> None:
    assert not Matcher([])
