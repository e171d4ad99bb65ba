"""Spam heuristics and the hot-path call encoding, checked against eth-abi."""

from __future__ import annotations

import pytest
from eth_abi.abi import decode, encode

from app.chains.evm import calls
from app.domain.spam import spam_reason

W = "0x52908400098527886E0F7030069857D2E4169EE7"


@pytest.mark.parametrize(
    ("symbol", "name"),
    [
        ("USDC", "Visit usdc-bonus.com to claim"),
        ("ETH", "https://eth-gift.xyz"),
        ("AIRDROP", "Token"),
        ("X", "$5000 reward"),
        ("CLAIM", "Claim your tokens"),
        ("OK", "www.example"),
    ],
)
def test_spam_is_detected(symbol: str, name: str) -> None:
    assert spam_reason(symbol, name)


@pytest.mark.parametrize(
    ("symbol", "name"),
    [
        ("USDC", "USD Coin"),
        ("MKR", "Maker"),
        ("WETH", "Wrapped Ether"),
        ("stETH", "Liquid staked Ether 2.0"),
    ],
)
def test_real_tokens_are_not_spam(symbol: str, name: str) -> None:
    assert spam_reason(symbol, name) is None


def test_call_encoding_matches_eth_abi() -> None:
    assert calls.balance_of(W) == bytes.fromhex("70a08231") + encode(["address"], [W])
    assert calls.get_eth_balance(W) == bytes.fromhex("4d2301cc") + encode(["address"], [W])
    data = calls.encode_aggregate3([(W, b"\x01\x02")])
    (decoded,) = decode(["(address,bool,bytes)[]"], data[4:])
    assert (
        decoded[0][0].lower() == W.lower()
        and decoded[0][1] is True
        and decoded[0][2] == b"\x01\x02"
    )


def test_uint256_decoding_is_strict() -> None:
    assert calls.decode_uint256((2**256 - 1).to_bytes(32, "big")) == 2**256 - 1
    assert calls.decode_uint256(b"\x01\x02\x03") is None
    assert calls.decode_uint256(b"") is None
    assert calls.decode_uint256(bytes(64)) is None
    ok = encode(["(bool,bytes)[]"], [[(True, b"\x00" * 32), (False, b"")]])
    assert calls.decode_aggregate3(ok) == [(True, bytes(32)), (False, b"")]
