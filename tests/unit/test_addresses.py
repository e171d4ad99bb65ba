from __future__ import annotations

import json

import base58
import pytest

from app.domain.addresses import (
    AddressFamily,
    check_not_secret,
    parse_address,
    parse_evm_address,
    to_checksum_address,
)
from app.domain.errors import InvalidAddressError, SecretInputError

# The test vectors of EIP-55 itself.
EIP55_VECTORS = [
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    "0x52908400098527886E0F7030069857D2E4169EE7",
    "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
    "0xde709f2102306220921060314715629080e2fb77",
    "0x27b1fdb04752bbc536007a920d24acb045561c26",
]


@pytest.mark.parametrize("address", EIP55_VECTORS)
def test_eip55_vectors_round_trip(address: str) -> None:
    assert to_checksum_address(address.lower()) == address
    assert parse_evm_address(address) == address


def test_lowercase_is_accepted_and_checksummed() -> None:
    assert parse_evm_address(EIP55_VECTORS[0].lower()) == EIP55_VECTORS[0]


def test_all_uppercase_body_is_accepted() -> None:
    upper = "0x" + EIP55_VECTORS[0][2:].upper()
    assert parse_evm_address(upper) == EIP55_VECTORS[0]


def test_mixed_case_with_wrong_checksum_is_rejected_with_reason() -> None:
    bad = EIP55_VECTORS[0][:-1] + "D"  # flip the case of the last letter
    with pytest.raises(InvalidAddressError, match="EIP-55 checksum"):
        parse_evm_address(bad)


@pytest.mark.parametrize(
    "text",
    ["0x1234", "0x" + "g" * 40, "0x" + "a" * 41, "hello", "", "   "],
)
def test_garbage_is_rejected(text: str) -> None:
    with pytest.raises(InvalidAddressError):
        parse_address(text)


def test_solana_public_key() -> None:
    parsed = parse_address("  So11111111111111111111111111111111111111112 ")
    assert parsed.family is AddressFamily.SOLANA
    assert parsed.address == "So11111111111111111111111111111111111111112"


def test_solana_wrong_length_is_rejected() -> None:
    short = base58.b58encode(bytes(31)).decode()
    with pytest.raises(InvalidAddressError):
        parse_address(short + "1" * 0 if len(short) >= 32 else "1" * 33 + "z")


def test_family_detection() -> None:
    assert parse_address(EIP55_VECTORS[1]).family is AddressFamily.EVM
    assert parse_address("4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T").family is (
        AddressFamily.SOLANA
    )


PRIVATE_KEY = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
MNEMONIC_12 = "abandon " * 11 + "about"
MNEMONIC_24 = " ".join(["zoo"] * 23 + ["wrong"])


@pytest.mark.parametrize(
    ("secret", "kind"),
    [
        (PRIVATE_KEY, "private key"),
        ("0x" + PRIVATE_KEY, "private key"),
        (MNEMONIC_12, "seed phrase"),
        (MNEMONIC_24, "seed phrase"),
        ("  " + MNEMONIC_12.upper() + "\n", "seed phrase"),
        (json.dumps(list(range(64))), "Solana secret key"),
        (base58.b58encode(bytes(range(1, 65))).decode(), "Solana secret key"),
    ],
)
def test_secrets_are_refused_without_echoing(secret: str, kind: str) -> None:
    with pytest.raises(SecretInputError) as info:
        parse_address(secret)
    message = str(info.value)
    assert kind in message
    assert "not saved" in message
    assert secret.strip() not in message
    for word in secret.split()[:3]:
        if len(word) > 4:
            assert word not in message


def test_an_address_is_not_mistaken_for_a_secret() -> None:
    check_not_secret(EIP55_VECTORS[0])
    check_not_secret("So11111111111111111111111111111111111111112")
