"""marginfi v2 positions read from a real SVM behind the local JSON-RPC server.

The marginfi program is not published as a binary we could load into LiteSVM, so its accounts
are written in the layout of marginfi's own Anchor IDL (marginfi_0.1.8.json, bytemuck/C layout)
at the program's mainnet id; the reader finds them with the same getProgramAccounts filter it
uses on mainnet. Amounts are checked against shares x share value computed independently with
Fraction (exact rationals), rounded down.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from solders.account import Account
from solders.pubkey import Pubkey

from app.chains.solana import marginfi
from app.domain.balances import AssetInfo
from tests.integration.solana.test_solana_reader import read, wallet
from tests.support.solana_rpc import SolanaRpcServer

pytestmark = pytest.mark.integration

USDC = Pubkey.from_string("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v")
PROGRAM = Pubkey.from_string(marginfi.PROGRAM)
ONE = 1 << 48  # I80F48 one


def i80f48(value: Fraction) -> bytes:
    return int(value * ONE).to_bytes(16, "little", signed=True)


def balance_record(bank: Pubkey, asset: Fraction, liability: Fraction, active: int = 1) -> bytes:
    record = bytes([active]) + bytes(bank) + bytes([0]) + (0).to_bytes(2, "little") + bytes(4)
    record += i80f48(asset) + i80f48(liability) + bytes(16) + bytes(8) + bytes(8)
    assert len(record) == 104
    return record


def account_data(authority: Pubkey, records: list[bytes]) -> bytes:
    data = marginfi.ACCOUNT_DISCRIMINATOR + bytes(Pubkey.new_unique()) + bytes(authority)
    records = records + [bytes(104)] * (16 - len(records))
    return data + b"".join(records) + bytes(2 + 6 + 56 + 512)


def bank_data(
    mint: Pubkey, decimals: int, asset_value: Fraction, liability_value: Fraction
) -> bytes:
    data = marginfi.BANK_DISCRIMINATOR + bytes(mint) + bytes([decimals]) + bytes(32) + bytes(7)
    assert len(data) == 80
    return data + i80f48(asset_value) + i80f48(liability_value) + bytes(1500)


def put(server: SolanaRpcServer, key: Pubkey, data: bytes, owner: Pubkey = PROGRAM) -> None:
    server._set(key, Account(10**9, data, owner, False, 0))


def expected(shares: Fraction, value: Fraction) -> int:
    # what the chain stores, multiplied exactly, rounded down
    s, v = int(shares * ONE), int(value * ONE)
    return int(Fraction(s, ONE) * Fraction(v, ONE))


def test_supplied_and_borrowed_per_bank_exactly(svm_server: SolanaRpcServer) -> None:
    me, other = Pubkey.new_unique(), Pubkey.new_unique()
    svm_server.fund(me, 10**9)
    svm_server.add_mint(USDC, 6)
    usdc_bank, sol_bank, gone_bank = Pubkey.new_unique(), Pubkey.new_unique(), Pubkey.new_unique()
    wsol = Pubkey.from_string("So11111111111111111111111111111111111111112")
    put(svm_server, usdc_bank, bank_data(USDC, 6, Fraction(1_003_217, 1_000_000), Fraction(1)))
    put(svm_server, sol_bank, bank_data(wsol, 9, Fraction(1), Fraction(10_441, 10_000)))
    shares_usdc = Fraction(123_456_789_012, 1)  # base units of shares
    shares_sol = Fraction(2_500_000_000, 3)
    put(svm_server, Pubkey.new_unique(), account_data(me, [
        balance_record(usdc_bank, shares_usdc, Fraction(0)),
        balance_record(sol_bank, Fraction(0), shares_sol),
        balance_record(usdc_bank, Fraction(10**12), Fraction(0), active=0),  # inactive: ignored
        balance_record(gone_bank, Fraction(5), Fraction(0)),  # bank missing: a failure, not 0
    ]))  # fmt: skip
    put(svm_server, Pubkey.new_unique(), account_data(other, [  # someone else's account
        balance_record(usdc_bank, Fraction(10**9), Fraction(0))]))  # fmt: skip
    # an account of the right shape owned by another program is not marginfi's
    put(svm_server, Pubkey.new_unique(), account_data(me, [
        balance_record(usdc_bank, Fraction(10**9), Fraction(0))]), owner=Pubkey.new_unique())  # fmt: skip
    result = read(svm_server, [wallet(me)])
    lending = {(b.asset.symbol, b.position): b.raw for b in result.balances if b.position}
    usdc_raw = expected(shares_usdc, Fraction(1_003_217, 1_000_000))
    assert lending[("USDC", "marginfi:supplied")] == usdc_raw
    sol_key = next(k for k in lending if k[1] == "marginfi:borrowed")
    assert lending[sol_key] == -expected(shares_sol, Fraction(10_441, 10_000))
    assert len(lending) == 2
    (failure,) = [f for f in result.failures if "marginfi bank" in f.reason]
    assert str(gone_bank) in failure.reason
    borrowed = next(b for b in result.balances if b.position == "marginfi:borrowed")
    assert isinstance(borrowed.asset, AssetInfo) and borrowed.asset.decimals == 9


def test_no_marginfi_account_costs_no_bank_request(svm_server: SolanaRpcServer) -> None:
    me = Pubkey.new_unique()
    svm_server.fund(me, 10**9)
    svm_server.stats(reset=True)
    result = read(svm_server, [wallet(me)])
    assert not [b for b in result.balances if b.position]
    assert result.http_requests == 1  # round 1 only: the marginfi lookup rode in it


def test_shares_and_values_are_checked() -> None:
    me = Pubkey.new_unique()
    bank = Pubkey.new_unique()
    good = account_data(me, [balance_record(bank, Fraction(7), Fraction(0))])
    assert marginfi.parse_account(str(me), good) == [marginfi.Shares(str(bank), 7 * ONE, 0)]
    assert marginfi.parse_account(str(Pubkey.new_unique()), good) is None  # other authority
    assert marginfi.parse_account(str(me), b"\x00" * 8 + good[8:]) is None  # discriminator
    assert marginfi.parse_account(str(me), good[:500]) is None  # too short
    negative = account_data(me, [balance_record(bank, Fraction(-1), Fraction(0))])
    assert marginfi.parse_account(str(me), negative) is None
    assert marginfi.parse_bank(bank_data(USDC, 6, Fraction(-1), Fraction(1))) is None
    assert marginfi.amount(3 * ONE, ONE // 2) == 1  # 1.5 rounded down
