"""Liquid staking tokens valued at their pools' own exchange rates (SOL per token).

A liquid staking token is a claim on its pool's staked SOL: its worth is the pool's SOL per
token times the price of SOL, whatever a thin market quotes. The pools' accounts are read in the
balance read's first round (one more ``getMultipleAccounts`` in the same batch, usually no extra
HTTP request) and each token held is valued through :attr:`AssetInfo.via`.

Layouts, from the programs' own published definitions:

- SPL stake pool (``StakePool`` in ``@solana/spl-stake-pool``'s ``layouts.ts``): account type
  (1 byte, 1 = stake pool), manager, staker, stake deposit authority (32 bytes each), withdraw
  bump seed (1), validator list, reserve stake, **pool mint** (offset 162), manager fee account,
  token program (32 each), **total lamports** (u64 LE at 258), **pool token supply** (u64 LE at
  266). Rate = total lamports / pool token supply (both 9 decimals).
- Marinade ``State`` (Anchor IDL in ``@marinade.finance/marinade-ts-sdk``): 8-byte
  discriminator, **mSOL mint** (offset 8), …, **msol_price** (u64 LE at 512) = SOL per mSOL
  x 2^32 (the SDK divides by 4294967296).

Addresses (pool account, token mint, owning program), with where they are published:
JitoSOL — Jito's deployed-programs page (jito-foundation/jito-omnidocs); bSOL — BlazeStake's
pool as configured in Marinade's and Sanctum's pricing tables; JupSOL — Sanctum's
spl-stake-pool tests and DefiLlama's jupiter-staked-sol adapter; mSOL — Marinade's SDK config
(``marinadeStateAddress``). A test checks each is a valid public key and that the reader refuses
an account owned by any other program or naming another mint.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.domain.valuation import DIVISION

SPL_STAKE_POOL = "SPoo1Ku8WFXoNDMHPsrGSTSG1Y47rzgn41SLUNakuHy"
SANCTUM_SPL_MULTI = "SPMBzsVUuoHA4Jm6KunbsotaahvVikZs1JyTW6iJvbn"
MARINADE = "MarBmsSgKXdrN1egZf5sqe1TMai9K1rChYNDJgjq7aD"
MSOL_PRICE_DENOMINATOR = 2**32
_POOL_MINT, _TOTAL, _SUPPLY = 162, 258, 266
_MSOL_MINT, _MSOL_PRICE = 8, 512


@dataclass(frozen=True, slots=True)
class Pool:
    symbol: str
    mint: str
    account: str  # the pool (or Marinade state) account
    program: str  # the program that must own ``account``
    kind: str  # "spl" | "marinade"


POOLS: tuple[Pool, ...] = (
    Pool("JitoSOL", "J1toso1uCk3RLmjorhTtrVwY9HJ7X8V9yYac6Y7kGCPn",
         "Jito4APyf642JPZPx3hGc6WWJ8zPKtRbRs4P815Awbb", SPL_STAKE_POOL, "spl"),
    Pool("bSOL", "bSo13r4TkiE4KumL71LsHTPpL2euBYLFx6h9HP3piy1",
         "stk9ApL5HeVAwPLr3TLhDXdZS8ptVu7zp6ov8HFDuMi", SPL_STAKE_POOL, "spl"),
    Pool("JupSOL", "jupSoLaHXQiZZTSfEWMTRRgpnyFm8f6sZdosWBjx93v",
         "8VpRhuxa7sUUepdY3kQiTmX9rS5vx4WgaXiAnXq4KCtr", SANCTUM_SPL_MULTI, "spl"),
    Pool("mSOL", "mSoLzYCxHdYgdzU16g5QSh3i5K3z3KZK7ytfqcJm7So",
         "8szGkuLTAux9XMgZ2vtY39jVSowEcpBfFfD8hXSEqdGC", MARINADE, "marinade"),
)  # fmt: skip


def _u64(data: bytes, offset: int) -> int:
    return int.from_bytes(data[offset : offset + 8], "little")


def pool_rate(pool: Pool, owner: str, data: bytes) -> Decimal | None:
    """SOL per token of ``pool`` from its account, or None when the account is not what it must
    be (another owner, another mint, too short, an empty pool)."""
    from solders.pubkey import Pubkey

    if owner != pool.program:
        return None
    if pool.kind == "spl":
        if len(data) < _SUPPLY + 8 or data[0] != 1:
            return None
        if str(Pubkey.from_bytes(data[_POOL_MINT : _POOL_MINT + 32])) != pool.mint:
            return None
        total, supply = _u64(data, _TOTAL), _u64(data, _SUPPLY)
        if supply == 0:
            return None
        return DIVISION.divide(Decimal(total), Decimal(supply))
    if len(data) < _MSOL_PRICE + 8:
        return None
    if str(Pubkey.from_bytes(data[_MSOL_MINT : _MSOL_MINT + 32])) != pool.mint:
        return None
    price = _u64(data, _MSOL_PRICE)
    if price == 0:
        return None
    return DIVISION.divide(Decimal(price), Decimal(MSOL_PRICE_DENOMINATOR))  # exact, 50 digits


def pool_accounts() -> list[str]:
    return [p.account for p in POOLS]


def by_account() -> dict[str, Pool]:
    return {p.account: p for p in POOLS}
