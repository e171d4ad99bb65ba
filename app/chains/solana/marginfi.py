"""marginfi v2 lending positions of Solana wallets: supplied and borrowed per bank, exact.

Layouts from marginfi's Anchor IDL (``marginfi_0.1.8.json`` in ``@mrgnlabs/marginfi-client-v2``
6.4.2; both accounts are ``bytemuck`` / C layout):

- ``MarginfiAccount`` (discriminator ``[67,178,130,109,126,114,28,42]``): group (32 bytes at 8),
  **authority** (32 at 40), then ``lending_account.balances``: 16 ``Balance`` records of 104 bytes
  from offset 72. A ``Balance``: active (u8 at +0), **bank_pk** (32 at +1), bank_asset_tag (u8),
  tag (u16), 4 bytes padding, **asset_shares** (I80F48 at +40), **liability_shares** (I80F48 at
  +56), emissions_outstanding (I80F48), last_update (u64), padding (u64).
- ``Bank`` (discriminator ``[142,49,166,242,50,66,97,188]``): **mint** (32 at 8),
  **mint_decimals** (u8 at 40), group (32), 7 bytes padding, **asset_share_value** (I80F48 at
  80), **liability_share_value** (I80F48 at 96).

An I80F48 is a signed 128-bit little-endian integer with 48 fractional bits. The amount of a
balance in the mint's base units is shares x share value (both I80F48), computed on the raw
integers and rounded down: exact, no float.

Cost: the accounts of each wallet are looked up in the balance read's first round
(``getProgramAccounts`` with a memcmp on the authority: one call per wallet in the same batches).
A wallet found without an account is not asked again for :data:`RECHECK_SECONDS` in the same
process (:class:`AccountMemory`); wallets that have one are read every refresh and cost one
more request, for their banks.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from solders.pubkey import Pubkey

PROGRAM = "MFv2hWf31Z9kbCa1snEPYctwafyhdvnV7FZnsebVacA"
ACCOUNT_DISCRIMINATOR = bytes([67, 178, 130, 109, 126, 114, 28, 42])
BANK_DISCRIMINATOR = bytes([142, 49, 166, 242, 50, 66, 97, 188])
AUTHORITY_OFFSET = 40
_BALANCES, _BALANCE_SIZE, _SLOTS = 72, 104, 16
_ASSET_SHARES, _LIABILITY_SHARES = 40, 56
_BANK_MINT, _BANK_DECIMALS, _ASSET_VALUE, _LIABILITY_VALUE = 8, 40, 80, 96
PROTOCOL = "marginfi"
RECHECK_SECONDS = 6 * 3600


@dataclass
class AccountMemory:
    """Wallets seen without a marginfi account in this process, and when."""

    clock: Callable[[], float] = time.monotonic
    _without: dict[str, float] = field(default_factory=dict)

    def wanted(self, owners: Iterable[str]) -> list[str]:
        now = self.clock()
        return [
            o for o in owners if now - self._without.get(o, -RECHECK_SECONDS) >= RECHECK_SECONDS
        ]

    def saw(self, owner: str, has_account: bool) -> None:
        if has_account:
            self._without.pop(owner, None)
        else:
            self._without[owner] = self.clock()


@dataclass(frozen=True, slots=True)
class Shares:
    bank: str
    asset: int  # raw I80F48
    liability: int  # raw I80F48


@dataclass(frozen=True, slots=True)
class Bank:
    mint: str
    decimals: int
    asset_value: int  # raw I80F48
    liability_value: int  # raw I80F48


def _i80f48(data: bytes, offset: int) -> int:
    return int.from_bytes(data[offset : offset + 16], "little", signed=True)


def account_filters(owner: str) -> list[dict[str, object]]:
    """``getProgramAccounts`` filters for the marginfi accounts ``owner`` is the authority of
    (the discriminator is checked on what comes back)."""
    return [{"memcmp": {"offset": AUTHORITY_OFFSET, "bytes": owner}}]


def parse_account(owner: str, data: bytes) -> list[Shares] | None:
    """The active balances of one marginfi account of ``owner``, or None when the data is not
    one (wrong discriminator, too short, another authority)."""
    if len(data) < _BALANCES + _BALANCE_SIZE * _SLOTS or data[:8] != ACCOUNT_DISCRIMINATOR:
        return None
    if str(Pubkey.from_bytes(data[AUTHORITY_OFFSET : AUTHORITY_OFFSET + 32])) != owner:
        return None
    out = []
    for i in range(_SLOTS):
        b = _BALANCES + i * _BALANCE_SIZE
        if data[b] == 0:
            continue
        bank = str(Pubkey.from_bytes(data[b + 1 : b + 33]))
        asset = _i80f48(data, b + _ASSET_SHARES)
        liability = _i80f48(data, b + _LIABILITY_SHARES)
        if asset < 0 or liability < 0:
            return None  # shares are never negative: not an account we can read
        if asset or liability:
            out.append(Shares(bank, asset, liability))
    return out


def parse_bank(data: bytes) -> Bank | None:
    if len(data) < _LIABILITY_VALUE + 16 or data[:8] != BANK_DISCRIMINATOR:
        return None
    asset_value, liability_value = _i80f48(data, _ASSET_VALUE), _i80f48(data, _LIABILITY_VALUE)
    if asset_value < 0 or liability_value < 0:
        return None
    mint = str(Pubkey.from_bytes(data[_BANK_MINT : _BANK_MINT + 32]))
    return Bank(mint, data[_BANK_DECIMALS], asset_value, liability_value)


def amount(shares: int, value: int) -> int:
    """Base units of ``shares`` at ``value`` per share (both raw I80F48), rounded down."""
    return (shares * value) >> 96
