"""The fixed-layout aggregate3 encoder/decoder agree byte for byte with eth-abi."""

from __future__ import annotations

import random

import pytest
from eth_abi.abi import encode

from app.chains.evm import calls

MC = "0xcA11bde05977b3631167028862bE2a173976CA11"


def _random_calls(rng: random.Random, n: int) -> list[tuple[str, bytes]]:
    out = []
    for _ in range(n):
        target = "0x" + rng.randbytes(20).hex()
        data = rng.choice([calls.balance_of(target), rng.randbytes(rng.randrange(0, 100)), b""])
        out.append((target, data))
    return out


@pytest.mark.parametrize("n", [0, 1, 2, 7, 300])
def test_encoder_matches_eth_abi(n: int) -> None:
    rng = random.Random(n)
    plan = _random_calls(rng, n)
    assert calls.encode_aggregate3(plan) == calls.encode_aggregate3_reference(plan)
    plan = [(MC, calls.get_eth_balance(MC))] * n
    assert calls.encode_aggregate3(plan) == calls.encode_aggregate3_reference(plan)


@pytest.mark.parametrize("n", [0, 1, 3, 50, 500])
def test_decoder_matches_eth_abi(n: int) -> None:
    rng = random.Random(1000 + n)
    results = [
        (rng.random() < 0.8, rng.choice([rng.randbytes(32), b"", rng.randbytes(rng.randrange(90))]))
        for _ in range(n)
    ]
    data = encode(["(bool,bytes)[]"], [results])
    assert calls.decode_aggregate3(data) == calls.decode_aggregate3_reference(data) == results


def test_bad_target_is_refused() -> None:
    with pytest.raises(ValueError):
        calls.encode_aggregate3([("0x1234", b"")])


def test_malformed_replies_raise_value_error() -> None:
    good = encode(["(bool,bytes)[]"], [[(True, bytes(32)), (False, b"\x01")]])
    bad = [
        b"",
        good[:-40],  # truncated return data
        good[:31],
        (2**255).to_bytes(32, "big") + good[32:],  # array offset far out of range
        good[:32] + (10**9).to_bytes(32, "big") + good[64:],  # more results than bytes
        good[:128] + (2).to_bytes(32, "big") + good[160:],  # success flag neither 0 nor 1
    ]
    for data in bad:
        with pytest.raises(ValueError):
            calls.decode_aggregate3(data)


@pytest.mark.parametrize("n", [0, 1, 15, 16, 5000])
def test_one_word_results_take_the_column_check(n: int) -> None:
    """A chunk of balances (every result one word) is decoded by checking its layout column by
    column; the same as eth-abi and as the word-by-word decoder."""
    rng = random.Random(n)
    results = [(rng.random() < 0.9, rng.randbytes(32)) for _ in range(n)]
    data = encode(["(bool,bytes)[]"], [results])
    assert (calls._decode_uniform(data) is None) == (n < 16)  # few: read word by word
    assert calls.decode_aggregate3(data) == calls.decode_aggregate3_reference(data) == results


def test_every_damaged_byte_of_a_balance_reply_decodes_as_word_by_word() -> None:
    """Each byte of a uniform reply changed in turn: the column check either hands the reply to
    the word-by-word decoder or decodes it exactly as that one does; it accepts a change only
    in a result's word or its success flag."""
    rng = random.Random(7)
    n = 16
    results = [(rng.random() < 0.7, rng.randbytes(32)) for _ in range(n)]
    good = encode(["(bool,bytes)[]"], [results])
    first_item = 64 + 32 * n
    for at in range(len(good)):
        for value in {good[at] ^ 1, 2, 0xFF, 0} - {good[at]}:
            data = good[:at] + bytes((value,)) + good[at + 1 :]
            try:
                expected: object = calls._decode_words(data)
            except ValueError:
                expected = ValueError
            try:
                got: object = calls.decode_aggregate3(data)
            except ValueError:
                got = ValueError
            assert got == expected, (at, value)
            if calls._decode_uniform(data) is not None:
                rel = at - first_item
                assert rel >= 0 and (rel % 128 >= 96 or (rel % 128 == 31 and value < 2)), at
    assert calls._decode_uniform(good + bytes(32)) is None  # trailing bytes: not this shape
