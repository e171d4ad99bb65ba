"""Bitcoin key parsing and local derivation against the published test vectors (BIP32, BIP44,
BIP49, BIP84, BIP86, SLIP-132) and descriptor checksums (BIP380)."""

from __future__ import annotations

import pytest
from embit import bip32

from app.domain.addresses import AddressFamily, parse_address
from app.domain.bitcoin import (
    CHANGE,
    RECEIVE,
    Deriver,
    WatchKind,
    parse_bitcoin,
    scripthash,
    shorten_key,
)
from app.domain.errors import InvalidAddressError, SecretInputError

# BIP32 test vector 1, chain m/0H/1/2H (public derivation below it needs no private key).
BIP32_M_0H_1_2H = (
    "xpub6D4BDPcP2GT577Vvch3R8wDkScZWzQzMMUm3PWbmWvVJrZwQY4VUNgqFJPMM3No2dFDFGTsxxpG5uJh7n7epu4"
    "trkrX7x7DogT5Uv6fcLW5"
)
BIP32_M_0H_1_2H_2 = (
    "xpub6FHa3pjLCk84BayeJxFW2SP4XRrFd1JYnxeLeU8EqN3vDfZmbqBqaGJAyiLjTAwm6ZLRQUMv1ZACTj37sR62cf"
    "N7fe5JnJ7dh8zL4fiyLHV"
)
BIP32_M_0H_1_2H_2_1000000000 = (
    "xpub6H1LXWLaKsWFhvm6RVpEL9P4KfRZSW7abD2ttkWP3SSQvnyA8FSVqNTEcYFgJS2UaFcxupHiYkro49S8yGasTv"
    "XEYBVPamhGW6cFJodrTHy"
)
# The account keys of the mnemonic "abandon abandon … about" (BIP44/49/84 mainnet, SLIP-132).
XPUB_44 = (
    "xpub6BosfCnifzxcFwrSzQiqu2DBVTshkCXacvNsWGYJVVhhawA7d4R5WSWGFNbi8Aw6ZRc1brxMyWMzG3DSSSSoek"
    "kudhUd9yLb6qx39T9nMdj"
)
YPUB_49 = (
    "ypub6Ww3ibxVfGzLrAH1PNcjyAWenMTbbAosGNB6VvmSEgytSER9azLDWCxoJwW7Ke7icmizBMXrzBx9979FfaHxHc"
    "rArf3zbeJJJUZPf663zsP"
)
ZPUB_84 = (
    "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf3"
    "1mGDtKsAYz2oz2AGutZYs"
)
XPUB_84 = (  # the BIP84 account key with plain xpub version bytes (as descriptors carry it)
    "xpub6CatWdiZiodmUeTDp8LT5or8nmbKNcuyvz7WyksVFkKB4RHwCD3XyuvPEbvqAQY3rAPshWcMLoP2fMFMKHPJ4Z"
    "eZXYVUhLv1VMrjPC7PW6V"
)
XPUB_86 = (
    "xpub6BgBgsespWvERF3LHQu6CnqdvfEvtMcQjYrcRzx53QJjSxarj2afYWcLteoGVky7D3UKDP9QyrLprQ3VCECoY4"
    "9yfdDEHGCtMMj92pReUsQ"
)
XPRV = (
    "xprv9s21ZrQH143K3GJpoapnV8SFfukcVBSfeCficPSGfubmSFDxo1kuHnLisriDvSnRRuL2Qrg5ggqHKNVpxR86QE"
    "C8w35uxmGoggxtQTPvfUu"
)


def test_bip32_public_derivation_vector_1() -> None:
    key = bip32.HDKey.from_string(BIP32_M_0H_1_2H)
    assert key.derive([2]).to_string() == BIP32_M_0H_1_2H_2
    assert key.derive([2, 1_000_000_000]).to_string() == BIP32_M_0H_1_2H_2_1000000000


@pytest.mark.parametrize(
    ("key", "receive", "change"),
    [
        # BIP44 (legacy P2PKH)
        (
            XPUB_44,
            ["1LqBGSKuX5yYUonjxT5qGfpUsXKYYWeabA", "1Ak8PffB2meyfYnbXZR9EGfLfFZVpzJvQP"],
            ["1J3J6EvPrv8q6AC3VCjWV45Uf3nssNMRtH"],
        ),
        # BIP49 (P2SH-P2WPKH), ypub
        (YPUB_49, ["37VucYSaXLCAsxYyAPfbSi9eh4iEcbShgf"], ["34K56kSjgUCUSD8GTtuF7c9Zzwokbs6uZ7"]),
        # BIP84 (P2WPKH), zpub: the BIP's own vectors
        (
            ZPUB_84,
            [
                "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu",
                "bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g",
            ],
            ["bc1q8c6fshw2dlwun7ekn9qwf37cu2rn755upcp6el"],
        ),
    ],
)
def test_slip132_extended_keys_derive_the_bip_vectors(
    key: str, receive: list[str], change: list[str]
) -> None:
    watch = parse_bitcoin(key)
    assert watch.kind is WatchKind.XPUB and watch.branches == 2
    assert watch.first_address == receive[0]
    deriver = Deriver(watch)
    assert [deriver.derive(RECEIVE, i).address for i in range(len(receive))] == receive
    assert [deriver.derive(CHANGE, i).address for i in range(len(change))] == change


def test_slip132_zpub_is_the_bip84_xpub_in_the_descriptor() -> None:
    watch = parse_bitcoin(ZPUB_84)
    assert f"wpkh({XPUB_84}/<0;1>/*)" == watch.descriptor.split("#")[0]


def test_bip86_taproot_descriptor_vectors() -> None:
    text = f"tr([73c5da0a/86'/0'/0']{XPUB_86}/0/*)"
    watch = parse_bitcoin(text)
    assert watch.kind is WatchKind.DESCRIPTOR and watch.branches == 2
    deriver = Deriver(watch)
    assert deriver.derive(RECEIVE, 0).address == (
        "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr"
    )
    assert deriver.derive(RECEIVE, 1).address == (
        "bc1p4qhjn9zdvkux4e44uhx8tc55attvtyu358kutcqkudyccelu0was9fqzwh"
    )
    assert deriver.derive(CHANGE, 0).address == (
        "bc1p3qkhfews2uk44qtvauqyr2ttdsw7svhkl9nkm9s9c3x4ax5h60wqwruhk7"
    )


def test_descriptor_forms_agree() -> None:
    origin = f"[73c5da0a/84'/0'/0']{XPUB_84}"
    multipath = parse_bitcoin(f"wpkh({origin}/<0;1>/*)")
    pair = parse_bitcoin(f"wpkh({origin}/0/*) wpkh({origin}/1/*)")
    single = parse_bitcoin(f"wpkh({origin}/0/*)")
    for watch in (multipath, pair, single):
        d = Deriver(watch)
        assert d.derive(RECEIVE, 1).address == "bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g"
        assert d.derive(CHANGE, 0).address == "bc1q8c6fshw2dlwun7ekn9qwf37cu2rn755upcp6el"
    # BIP49 through a descriptor
    sh = Deriver(parse_bitcoin(f"sh(wpkh({_as_xpub(YPUB_49)}/<0;1>/*))"))
    assert sh.derive(RECEIVE, 0).address == "37VucYSaXLCAsxYyAPfbSi9eh4iEcbShgf"


def _as_xpub(key: str) -> str:
    import base58

    raw = base58.b58decode_check(key)
    return base58.b58encode_check(bytes.fromhex("0488b21e") + raw[4:]).decode()


def test_descriptor_checksums_are_verified_and_added() -> None:
    # BIP380's example: this descriptor's checksum is #ujrs6sq8 … computed, then checked.
    body = f"wpkh([73c5da0a/84'/0'/0']{XPUB_84}/<0;1>/*)"
    watch = parse_bitcoin(body)
    checksum = watch.text.split("#")[1]
    assert len(checksum) == 8
    assert parse_bitcoin(f"{body}#{checksum}").text == watch.text
    wrong = checksum[:-1] + ("q" if checksum[-1] != "q" else "p")
    with pytest.raises(InvalidAddressError, match="checksum"):
        parse_bitcoin(f"{body}#{wrong}")
    # The published checksum of a BIP380 test descriptor.
    from embit.descriptor.checksum import checksum as bip380

    assert bip380("raw(deadbeef)") == "89f8spxm"


@pytest.mark.parametrize(
    "address",
    [
        "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",  # P2PKH
        "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",  # P2SH
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",  # BIP173 P2WPKH
        "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3",  # BIP173 P2WSH
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",  # BIP350 bech32m
    ],
)
def test_single_addresses(address: str) -> None:
    parsed = parse_address(address)
    assert parsed.family is AddressFamily.BITCOIN
    assert parsed.address == address.lower() if address.startswith("bc1") else address
    assert parsed.watch is None
    assert len(scripthash(Deriver(parse_bitcoin(address)).derive(0, 0).script)) == 64


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3", "checksum"),
        ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", "checksum"),
        # a version-1 program with the bech32 (not bech32m) checksum: BIP350 invalid
        ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd", "checksum"),
        ("tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", "Not a recognised address"),
        (ZPUB_84[:-1] + ("a" if ZPUB_84[-1] != "a" else "b"), "checksum"),
        (
            "tpubD6NzVbkrYhZ4XgiXtGrdW5XDAPFCL9h7we1vwNCpn8tGbBcgfVYjXyhWo4E1xkh56hjod1RhGjxbaTLV3X4"
            "FyWuejifB9jusQ46QzG87VKp",
            "testnet",
        ),
        ("wpkh(xpub/0/*)", "cannot be read"),
    ],
)
def test_bad_bitcoin_input_is_explained(text: str, reason: str) -> None:
    with pytest.raises(InvalidAddressError, match=reason):
        parse_address(text)


@pytest.mark.parametrize(
    "secret",
    [
        XPRV,
        f"wpkh({XPRV}/84'/0'/0'/0/*)",
        "L4rK1yDtCWekvXuE6oXD9jCYfFNV2cWRpVuPLBcCU2z8TrisoyY1",  # WIF
        "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
        "abandon about",
    ],
)
def test_private_keys_and_seeds_are_refused_without_repeating_them(secret: str) -> None:
    with pytest.raises(SecretInputError) as info:
        parse_address(secret)
    assert "not saved" in str(info.value)
    assert secret[:12] not in str(info.value)


def test_keys_are_shortened_for_logs() -> None:
    assert shorten_key(ZPUB_84) == "zpub6rFR…tZYs"
    short = shorten_key(f"wpkh([73c5da0a/84'/0'/0']{XPUB_84}/<0;1>/*)#abcdefgh")
    assert XPUB_84 not in short and "xpub6Cat" in short


def test_multisig_descriptor_and_multisig_keys() -> None:
    text = f"wsh(sortedmulti(2,{XPUB_84}/<0;1>/*,{XPUB_86}/<0;1>/*))"
    watch = parse_bitcoin(text)
    assert watch.branches == 2 and watch.first_address.startswith("bc1q")
    assert len(watch.first_address) == 62  # P2WSH
    zpub_multisig = _with_version(ZPUB_84, "02aa7ed3")  # a Zpub: one key of a multisig wallet
    with pytest.raises(InvalidAddressError, match="multisig"):
        parse_bitcoin(zpub_multisig)


def test_a_descriptor_pair_must_be_one_wallet() -> None:
    with pytest.raises(InvalidAddressError, match="receive"):
        parse_bitcoin(f"wpkh({XPUB_84}/0/*) wpkh({XPUB_86}/1/*)")


def _with_version(key: str, version: str) -> str:
    import base58

    raw = base58.b58decode_check(key)
    return base58.b58encode_check(bytes.fromhex(version) + raw[4:]).decode()
