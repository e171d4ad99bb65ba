"""Bitcoin watch-only keys: single addresses, extended public keys and output descriptors.

What a person pastes is classified and checked here, and addresses are derived locally (the
extended key never leaves the machine: servers only ever see addresses or script hashes).
Derivation is embit's (BIP32 with libsecp256k1, descriptors, bech32/bech32m), imported on first
use so that starting the window never pays for it.

- ``xpub`` (BIP44, ``pkh``), ``ypub`` (BIP49, ``sh(wpkh)``), ``zpub`` (BIP84, ``wpkh``): the
  SLIP-132 version bytes say the script type; receive (``/0/*``) and change (``/1/*``) chains.
- Descriptors ``pkh``/``sh(wpkh)``/``wpkh``/``tr`` (BIP86) and others embit derives, with key
  origin, ``/<0;1>/*`` or ``/0/*`` (its change chain ``/1/*`` is scanned too) or two descriptors
  (``…/0/*`` and ``…/1/*``); a checksum after ``#`` is verified, and added when missing.
- Single addresses: legacy (``1…``), P2SH (``3…``), bech32 (``bc1q…``) and bech32m (``bc1p…``).

Secrets (an ``xprv``, a WIF key, a seed phrase, a descriptor holding a private key) are refused
before anything else, with a message that never repeats them. Only Bitcoin mainnet is watched.
"""

from __future__ import annotations

import enum
import hashlib
import re
from dataclasses import dataclass
from typing import Any

import base58

from app.domain.errors import InvalidAddressError
from app.domain.secret_text import refuse_secret

BITCOIN_CHAIN = "bip122:000000000019d6689c085ae165831e93"
BTC_ASSET = f"{BITCOIN_CHAIN}/slip44:0"
BTC_DECIMALS = 8

RECEIVE, CHANGE = 0, 1

# SLIP-132 version bytes of mainnet extended public keys, and the script each implies.
_XPUB_VERSIONS: dict[bytes, tuple[str, str]] = {
    bytes.fromhex("0488b21e"): ("xpub", "pkh"),  # BIP44
    bytes.fromhex("049d7cb2"): ("ypub", "sh-wpkh"),  # BIP49
    bytes.fromhex("04b24746"): ("zpub", "wpkh"),  # BIP84
}
_MULTISIG_VERSIONS = {bytes.fromhex("0295b43f"): "Ypub", bytes.fromhex("02aa7ed3"): "Zpub"}
_TESTNET_VERSIONS = {
    bytes.fromhex(v) for v in ("043587cf", "044a5262", "045f1cf6", "024289ef", "02575483")
}
_XPUB_PREFIXES = ("xpub", "ypub", "zpub", "Ypub", "Zpub", "tpub", "upub", "vpub", "Upub", "Vpub")
_DESCRIPTOR = re.compile(r"^[a-z_]+\(")
_BECH32_CHARS = re.compile(r"^(bc|BC)1[02-9ac-hj-np-zAC-HJ-NP-Z]{6,87}$")
_BASE58 = re.compile(r"^[1-9A-HJ-NP-Za-km-z]+$")
_CHECKSUM_CHARS = re.compile(r"^[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{8}$")


class WatchKind(enum.StrEnum):
    ADDRESS = "address"
    XPUB = "xpub"  # an xpub, ypub or zpub
    DESCRIPTOR = "descriptor"


@dataclass(frozen=True, slots=True)
class WatchKey:
    """A checked Bitcoin watch-only input.

    ``text`` is what is stored: the address, the extended key as given, or the descriptor with
    its checksum. ``descriptor`` is what addresses are derived from (empty for an address).
    ``first_address`` names the wallet everywhere an address is needed (CAIP-10 ids, the wallet
    list, ledger movements): the first receive address, or the address itself."""

    kind: WatchKind
    text: str
    descriptor: str
    first_address: str
    branches: int  # 1 (a receive chain only, or a single address) or 2 (receive and change)
    wildcard: bool  # False: one fixed address per branch

    @property
    def short(self) -> str:
        """The key as logs and messages may show it: never in full."""
        return shorten_key(self.text)


def shorten_key(text: str) -> str:
    """``zpub6rFR…tZYs``: enough to recognise a key, not enough to use it."""
    body = text.split("#", 1)[0]
    if len(body) <= 20:
        return body
    match = re.search(r"[xyzXYZ]pub[1-9A-HJ-NP-Za-km-z]{20,}", body)
    if match is not None:
        key = match.group()
        prefix = body[: match.start()]
        return f"{prefix}{key[:8]}…{key[-4:]}{')' * prefix.count('(')}"
    return f"{body[:8]}…{body[-4:]}"


def looks_like_bitcoin(text: str) -> bool:
    """Whether ``text`` is meant as a Bitcoin address, extended key or descriptor (so a broken
    one gets a Bitcoin message, not an EVM or Solana one)."""
    s = text.strip()
    if not s:
        return False
    if s.startswith(_XPUB_PREFIXES) or _DESCRIPTOR.match(s) or s.lower().startswith("bc1"):
        return True
    if s[0] in "13" and _BASE58.match(s) and 25 <= len(s) <= 35:
        try:
            return len(base58.b58decode(s)) == 25
        except ValueError:
            return False
    return False


def scripthash(script: bytes) -> str:
    """The Electrum protocol's name of an output script: sha256, byte-reversed, hex."""
    return hashlib.sha256(script).digest()[::-1].hex()


# ---------------------------------------------------------------- parsing


def parse_bitcoin(text: str) -> WatchKey:
    """Check a Bitcoin address, xpub/ypub/zpub or descriptor; raise InvalidAddressError (or
    SecretInputError, for a private key or seed phrase) with a message for the person."""
    refuse_secret(text, "wallet address")
    parts = text.split()
    if not parts:
        raise InvalidAddressError("Enter an address.")
    first = parts[0]
    if len(parts) == 2 and all(_DESCRIPTOR.match(p) for p in parts):
        return _parse_descriptor(_merge_pair(parts[0], parts[1]))
    if len(parts) != 1:
        raise InvalidAddressError(
            "Enter one Bitcoin address, extended public key or descriptor (or a receive and a "
            "change descriptor, separated by a space)."
        )
    if first.startswith(_XPUB_PREFIXES):
        return _parse_xpub(first)
    if _DESCRIPTOR.match(first):
        return _parse_descriptor(first)
    return _parse_address(first)


def _parse_address(text: str) -> WatchKey:
    if text.lower().startswith("bc1"):
        if not _BECH32_CHARS.match(text) or (text != text.lower() and text != text.upper()):
            raise InvalidAddressError(
                "This bc1 address has characters a Bitcoin address cannot have."
            )
        address = text.lower()
    elif text[:1] in ("1", "3"):
        try:
            raw = base58.b58decode_check(text)
        except ValueError:
            raise InvalidAddressError(
                "This Bitcoin address has a wrong checksum: a character may be mistyped. Copy it "
                "again from your wallet."
            ) from None
        if len(raw) != 21 or raw[0] not in (0x00, 0x05):
            raise InvalidAddressError("This is not a Bitcoin mainnet address.")
        address = text
    else:
        raise InvalidAddressError("This is not a Bitcoin mainnet address.")
    try:
        script_of(address)
    except InvalidAddressError:
        raise
    except Exception:
        raise InvalidAddressError(
            "This bc1 address has a wrong checksum (or a wrong version): a character may be "
            "mistyped. Copy it again from your wallet."
        ) from None
    return WatchKey(WatchKind.ADDRESS, address, "", address, 1, False)


def script_of(address: str) -> bytes:
    """The output script of a mainnet address (bech32/bech32m checked per BIP173/BIP350)."""
    from embit import bech32

    if address.lower().startswith("bc1"):
        version, program = bech32.decode("bc", address.lower())
        if version is None or program is None:
            raise InvalidAddressError("This bc1 address has a wrong checksum.")
        if version == 0 and len(program) not in (20, 32):
            raise InvalidAddressError("This bc1 address has a wrong length.")
        op = 0 if version == 0 else 0x50 + version
        return bytes([op, len(program), *program])
    raw = base58.b58decode_check(address)
    if raw[0] == 0x00:
        return b"\x76\xa9\x14" + raw[1:] + b"\x88\xac"
    return b"\xa9\x14" + raw[1:] + b"\x87"


def _decode_xpub(text: str) -> bytes:
    try:
        raw = base58.b58decode_check(text)
    except ValueError:
        raise InvalidAddressError(
            "This extended public key has a wrong checksum: a character may be mistyped. Copy it "
            "again from your wallet."
        ) from None
    if len(raw) != 78:
        raise InvalidAddressError("This extended public key has a wrong length.")
    version = raw[:4]
    if version in _MULTISIG_VERSIONS:
        raise InvalidAddressError(
            f"A {_MULTISIG_VERSIONS[version]} is one key of a multisig wallet: watch the wallet "
            "with its output descriptor (wsh(sortedmulti(…))) instead."
        )
    if version in _TESTNET_VERSIONS:
        raise InvalidAddressError("This is a testnet key: Chainfolio watches Bitcoin mainnet.")
    if version not in _XPUB_VERSIONS:
        raise InvalidAddressError("This is not a Bitcoin extended public key.")
    return raw


def _as_xpub(raw: bytes) -> str:
    """The same key with the plain ``xpub`` version bytes (what descriptors carry)."""
    return str(base58.b58encode_check(bytes.fromhex("0488b21e") + raw[4:]).decode("ascii"))


def _parse_xpub(text: str) -> WatchKey:
    raw = _decode_xpub(text)
    _name, script = _XPUB_VERSIONS[raw[:4]]
    key = f"{_as_xpub(raw)}/<0;1>/*"
    body = {"pkh": f"pkh({key})", "sh-wpkh": f"sh(wpkh({key}))", "wpkh": f"wpkh({key})"}[script]
    descriptor = _with_checksum(body)
    parsed = _embit_descriptor(descriptor)
    first = _derive_address(parsed, RECEIVE, 0)
    return WatchKey(WatchKind.XPUB, text, descriptor, first, 2, True)


def _merge_pair(receive: str, change: str) -> str:
    """``…/0/*`` and ``…/1/*`` (each checked on its own first) as one ``…/<0;1>/*``."""
    bodies = []
    for part in (receive, change):
        body, _, given = part.partition("#")
        if given:
            _check_checksum(body, given)
        bodies.append(body)
    if bodies[0].count("/0/*") != 1 or bodies[0].replace("/0/*", "/1/*") != bodies[1]:
        raise InvalidAddressError(
            "Two descriptors must be the receive (…/0/*) and change (…/1/*) chains of one wallet."
        )
    return bodies[0].replace("/0/*", "/<0;1>/*")


def _check_checksum(body: str, given: str) -> None:
    from embit.descriptor.checksum import checksum

    try:
        expected = checksum(body)
    except Exception:
        raise InvalidAddressError(
            "This descriptor has characters a descriptor cannot have."
        ) from None
    if not _CHECKSUM_CHARS.match(given) or given != expected:
        raise InvalidAddressError(
            "This descriptor's checksum (after #) does not match it: a character may be "
            "mistyped. Copy it again from your wallet."
        )


def _with_checksum(body: str) -> str:
    from embit.descriptor.checksum import checksum

    return f"{body}#{checksum(body)}"


def _parse_descriptor(text: str) -> WatchKey:
    body, _, given = text.partition("#")
    if given:
        _check_checksum(body, given)
    original = body
    if re.search(r"[tuvUV]pub", body):
        raise InvalidAddressError(
            "This descriptor holds a testnet key: Chainfolio watches mainnet."
        )
    # A single receive chain (/0/*) implies its change chain, as every wallet uses both.
    if "<" not in body and body.count("/0/*") == 1:
        body = body.replace("/0/*", "/<0;1>/*")
    parsed = _embit_descriptor(body)
    branches = int(parsed.num_branches)
    if branches > 2:
        raise InvalidAddressError(
            "A descriptor may have at most two chains (receive and change: /<0;1>/*)."
        )
    if any(getattr(k, "is_private", False) for k in parsed.keys):
        raise InvalidAddressError(  # refuse_secret saw none, but a key parsed as private
            "This descriptor holds a private key. Chainfolio never needs it: it was not saved."
        )
    descriptor = _with_checksum(body)
    first = _derive_address(parsed, RECEIVE, 0)
    stored = _with_checksum(original)
    return WatchKey(
        WatchKind.DESCRIPTOR, stored, descriptor, first, branches, bool(parsed.is_wildcard)
    )


def _embit_descriptor(body: str) -> Any:
    from embit.descriptor import Descriptor

    try:
        parsed = Descriptor.from_string(body.split("#")[0])
        _derive_address(parsed, RECEIVE, 0)  # a descriptor that cannot make an address is no use
    except InvalidAddressError:
        raise
    except Exception:
        raise InvalidAddressError(
            "This descriptor cannot be read. Chainfolio understands pkh(), sh(wpkh()), wpkh(), "
            "tr() and other descriptors with a public key and /<0;1>/* or /0/*."
        ) from None
    return parsed


def _derive_address(parsed: Any, branch: int, index: int) -> str:
    from embit.networks import NETWORKS

    branch_index = branch if int(parsed.num_branches) > 1 else None
    if parsed.is_wildcard:
        derived = parsed.derive(index, branch_index=branch_index)
    else:
        derived = parsed.branch(branch_index) if branch_index is not None else parsed
    return str(derived.address(NETWORKS["main"]))


# ---------------------------------------------------------------- derivation


@dataclass(frozen=True, slots=True)
class Derived:
    branch: int
    index: int
    address: str
    script: bytes

    @property
    def scripthash(self) -> str:
        return scripthash(self.script)


class Deriver:
    """Addresses of one watch-only key, derived locally and remembered."""

    def __init__(self, key: WatchKey) -> None:
        self.key = key
        self._parsed: Any = None
        self._cache: dict[tuple[int, int], Derived] = {}

    @property
    def branches(self) -> int:
        return self.key.branches

    @property
    def unbounded(self) -> bool:
        """Whether a branch has more than one address (a gap limit applies)."""
        return self.key.kind is not WatchKind.ADDRESS and self.key.wildcard

    def remember(self, branch: int, index: int, address: str) -> None:
        """An address derived earlier (the stored cache): its script is rebuilt, no EC maths."""
        if (branch, index) not in self._cache:
            self._cache[branch, index] = Derived(branch, index, address, script_of(address))

    def derive(self, branch: int, index: int) -> Derived:
        found = self._cache.get((branch, index))
        if found is not None:
            return found
        if self.key.kind is WatchKind.ADDRESS:
            if (branch, index) != (RECEIVE, 0):
                raise IndexError("a single address has one index")
            address = self.key.text
            derived = Derived(branch, index, address, script_of(address))
        else:
            if self._parsed is None:
                self._parsed = _embit_descriptor(self.key.descriptor)
            from embit.networks import NETWORKS

            parsed = self._parsed
            branch_index = branch if int(parsed.num_branches) > 1 else None
            if parsed.is_wildcard:
                item = parsed.derive(index, branch_index=branch_index)
            else:
                item = parsed.branch(branch_index) if branch_index is not None else parsed
            spk = item.script_pubkey()
            derived = Derived(branch, index, str(spk.address(NETWORKS["main"])), bytes(spk.data))
        self._cache[branch, index] = derived
        return derived


def describe_watch(watch: str | None, address: str) -> str:
    """How a checked Bitcoin input is confirmed to the person (the key shortened)."""
    if watch is None:
        return f"Bitcoin address: {address}"
    what = "descriptor" if _DESCRIPTOR.match(watch) else "extended public key"
    return f"Bitcoin {what} {shorten_key(watch)}, first address {address}"
