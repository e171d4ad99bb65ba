"""A small Solana history executed for real in LiteSVM (through :class:`SolanaRpcServer.send`),
with what each transaction did written down as the test expects to read it back.

The world: wallets A and B are tracked, X is a stranger. X funds A; A pays X; A sends SOL to B
(two tracked wallets); X creates A's associated token account for a mint and sends tokens to it
(checked transfer); A sends tokens to B's new associated account (A pays its rent); X sends
tokens to A's existing account (a transaction that names neither A nor B); A sends more SOL than
it has (fails, pays its fee); A creates and delegates a stake account (staker and withdrawer A)
and creates an undelegated one it then withdraws from; a versioned transaction whose
destination B comes from an address lookup table.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from solders.account import Account
from solders.address_lookup_table_account import AddressLookupTableAccount
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import Message, MessageV0
from solders.pubkey import Pubkey
from solders.system_program import (
    CreateAccountParams,
    TransferParams,
    create_account,
    transfer,
)
from solders.sysvar import CLOCK, RENT, STAKE_HISTORY
from solders.token.associated import get_associated_token_address
from solders.transaction import Transaction, VersionedTransaction
from spl.token.instructions import create_associated_token_account, mint_to, transfer_checked
from spl.token.instructions import transfer as token_transfer
from spl.token.models import MintToParams, TransferCheckedParams
from spl.token.models import TransferParams as TokenTransferParams

from tests.support.solana_ledger import ALT, lookup_table_bytes
from tests.support.solana_rpc import (
    RENT_MINT,
    STAKE_PROGRAM,
    TOKEN_2022_PROGRAM,
    TOKEN_PROGRAM,
    SolanaRpcServer,
    mint_bytes,
)

VOTE_PROGRAM = Pubkey.from_string("Vote111111111111111111111111111111111111111")
STAKE_CONFIG = Pubkey.from_string("StakeConfig11111111111111111111111111111111")
STAKE_SPACE = 200
VOTE_SPACE = 3762
SOL = 10**9
DECIMALS = 6


@dataclass
class Expected:
    """What the world did, per wallet: (signature, asset kind, delta) rows and fees."""

    sol: dict[tuple[str, str], int] = field(default_factory=dict)  # (sig, wallet): transfer part
    stake: dict[tuple[str, str], int] = field(default_factory=dict)
    tokens: dict[tuple[str, str], int] = field(default_factory=dict)
    fees: dict[tuple[str, str], int] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)
    stake_supported: bool = True


@dataclass
class World:
    server: SolanaRpcServer
    a: Keypair
    b: Keypair
    x: Keypair
    mint: Pubkey
    mint_2022: Pubkey
    expected: Expected
    signatures: list[str]  # in execution order


def _send(
    server: SolanaRpcServer,
    signers: list[Keypair],
    ixs: list[Instruction],
    ex: Expected,
    sigs: list[str],
) -> str:
    payer = signers[0].pubkey()
    tx = Transaction(signers, Message(ixs, payer), server.svm.latest_blockhash())
    rec = server.send(tx)
    sigs.append(rec.signature)
    return rec.signature


def _fee(ex: Expected, sig: str, payer: Pubkey, server: SolanaRpcServer) -> None:
    ex.fees[(sig, str(payer))] = server.ledger.txs[sig].result["meta"]["fee"]


def build(server: SolanaRpcServer) -> World:
    a, b, x, mint_auth = Keypair(), Keypair(), Keypair(), Keypair()
    ex = Expected()
    sigs: list[str] = []
    server.fund(x.pubkey(), 100 * SOL)
    server.fund(mint_auth.pubkey(), 10 * SOL)
    mint = Pubkey.new_unique()
    server._set(
        mint,
        Account(
            RENT_MINT, mint_bytes(DECIMALS, authority=mint_auth.pubkey()), TOKEN_PROGRAM, False, 0
        ),
    )
    A, B, X = a.pubkey(), b.pubkey(), x.pubkey()
    sa, sb = str(A), str(B)

    def sol_transfer(src: Keypair, dst: Pubkey, lamports: int) -> str:
        ix = transfer(TransferParams(from_pubkey=src.pubkey(), to_pubkey=dst, lamports=lamports))
        return _send(server, [src], [ix], ex, sigs)

    # 1. X funds A (A did not exist before: its first transaction)
    s = sol_transfer(x, A, 20 * SOL)
    ex.sol[(s, sa)] = 20 * SOL
    # 2. A pays X
    s = sol_transfer(a, X, 1 * SOL)
    ex.sol[(s, sa)] = -1 * SOL
    _fee(ex, s, A, server)
    # 3. A pays B: two tracked wallets
    s = sol_transfer(a, B, 3 * SOL)
    ex.sol[(s, sa)] = -3 * SOL
    ex.sol[(s, sb)] = 3 * SOL
    _fee(ex, s, A, server)
    # 4. X creates A's ATA and sends it tokens (transferChecked) from X's ATA, minted first
    x_ata = get_associated_token_address(X, mint)
    a_ata = get_associated_token_address(A, mint)
    b_ata = get_associated_token_address(B, mint)
    _send(
        server,
        [x, mint_auth],
        [
            create_associated_token_account(X, X, mint),
            mint_to(
                MintToParams(
                    program_id=TOKEN_PROGRAM,
                    mint=mint,
                    dest=x_ata,
                    mint_authority=mint_auth.pubkey(),
                    amount=1_000_000_000,
                )
            ),
        ],
        ex,
        sigs,
    )
    s = _send(
        server,
        [x],
        [
            create_associated_token_account(X, A, mint),
            transfer_checked(
                TransferCheckedParams(
                    program_id=TOKEN_PROGRAM,
                    source=x_ata,
                    mint=mint,
                    dest=a_ata,
                    owner=X,
                    amount=250_000_000,
                    decimals=DECIMALS,
                )
            ),
        ],
        ex,
        sigs,
    )
    ex.tokens[(s, sa)] = 250_000_000
    # 5. A sends tokens to B, creating B's ATA (A pays the rent: SOL out of A)
    before = server.svm.get_balance(A)
    s = _send(
        server,
        [a],
        [
            create_associated_token_account(A, B, mint),
            transfer_checked(
                TransferCheckedParams(
                    program_id=TOKEN_PROGRAM,
                    source=a_ata,
                    mint=mint,
                    dest=b_ata,
                    owner=A,
                    amount=100_000_000,
                    decimals=DECIMALS,
                )
            ),
        ],
        ex,
        sigs,
    )
    _fee(ex, s, A, server)
    ex.sol[(s, sa)] = server.svm.get_balance(A) - before + ex.fees[(s, sa)]  # the ATA's rent
    ex.tokens[(s, sa)] = -100_000_000
    ex.tokens[(s, sb)] = 100_000_000
    # 6. X sends tokens to A's existing ATA: plain transfer, names neither A nor B
    s = _send(
        server,
        [x],
        [
            token_transfer(
                TokenTransferParams(
                    program_id=TOKEN_PROGRAM, source=x_ata, dest=a_ata, owner=X, amount=7_000_000
                )
            )
        ],
        ex,
        sigs,
    )
    ex.tokens[(s, sa)] = 7_000_000
    # 7. A sends more SOL than it has: fails, still pays its fee
    s = sol_transfer(a, X, 1_000 * SOL)
    ex.failed.add(s)
    _fee(ex, s, A, server)
    # 8. stake: A creates a vote-delegated stake account, and an undelegated one it withdraws from
    try:
        _stake(server, a, ex, sigs)
    except AssertionError:
        ex.stake_supported = False
    # 9. Token-2022: X mints to its own account, creates B's and sends to it (checked transfer)
    mint_2022 = Pubkey.new_unique()
    data = mint_bytes(9, authority=mint_auth.pubkey())
    server._set(mint_2022, Account(RENT_MINT, data, TOKEN_2022_PROGRAM, False, 0))
    x_2022 = get_associated_token_address(X, mint_2022, TOKEN_2022_PROGRAM)
    b_2022 = get_associated_token_address(B, mint_2022, TOKEN_2022_PROGRAM)
    _send(
        server,
        [x, mint_auth],
        [
            create_associated_token_account(X, X, mint_2022, TOKEN_2022_PROGRAM),
            mint_to(
                MintToParams(
                    program_id=TOKEN_2022_PROGRAM,
                    mint=mint_2022,
                    dest=x_2022,
                    mint_authority=mint_auth.pubkey(),
                    amount=10**12,
                )
            ),
        ],
        ex,
        sigs,
    )
    s = _send(
        server,
        [x],
        [
            create_associated_token_account(X, B, mint_2022, TOKEN_2022_PROGRAM),
            transfer_checked(
                TransferCheckedParams(
                    program_id=TOKEN_2022_PROGRAM,
                    source=x_2022,
                    mint=mint_2022,
                    dest=b_2022,
                    owner=X,
                    amount=123_456_789,
                    decimals=9,
                )
            ),
        ],
        ex,
        sigs,
    )
    assert server.ledger.txs[s].err is None, server.ledger.txs[s].err
    ex.tokens[(s, sb)] = 123_456_789
    # 10. versioned transaction: B comes from an address lookup table
    table = Pubkey.new_unique()
    server._set(
        table, Account(10 * SOL, lookup_table_bytes([X, B]), Pubkey.from_string(ALT), False, 0)
    )
    ix = transfer(TransferParams(from_pubkey=A, to_pubkey=B, lamports=2 * SOL))
    msg = MessageV0.try_compile(
        A, [ix], [AddressLookupTableAccount(table, [X, B])], server.svm.latest_blockhash()
    )
    assert msg.address_table_lookups, "B should be loaded from the table"
    rec = server.send(VersionedTransaction(msg, [a]))
    sigs.append(rec.signature)
    s = rec.signature
    ex.sol[(s, sa)] = -2 * SOL
    ex.sol[(s, sb)] = 2 * SOL
    _fee(ex, s, A, server)
    return World(server, a, b, x, mint, mint_2022, ex, sigs)


def _stake(server: SolanaRpcServer, a: Keypair, ex: Expected, sigs: list[str]) -> None:
    A, sa = a.pubkey(), str(a.pubkey())
    node, vote = Keypair(), Keypair()
    server.fund(node.pubkey(), 10 * SOL)
    rent_vote = server.svm.minimum_balance_for_rent_exemption(VOTE_SPACE)
    init_vote = struct.pack("<I", 0) + bytes(node.pubkey()) * 3 + bytes([5])
    _send(
        server,
        [node, vote],
        [
            create_account(
                CreateAccountParams(
                    from_pubkey=node.pubkey(),
                    to_pubkey=vote.pubkey(),
                    lamports=rent_vote,
                    space=VOTE_SPACE,
                    owner=VOTE_PROGRAM,
                )
            ),
            Instruction(
                VOTE_PROGRAM,
                init_vote,
                [
                    AccountMeta(vote.pubkey(), False, True),
                    AccountMeta(RENT, False, False),
                    AccountMeta(CLOCK, False, False),
                    AccountMeta(node.pubkey(), True, False),
                ],
            ),
        ],
        ex,
        sigs,
    )
    authorized = bytes(A) + bytes(A) + struct.pack("<qQ", 0, 0) + bytes(32)

    def init(stake: Pubkey) -> Instruction:
        return Instruction(
            STAKE_PROGRAM,
            struct.pack("<I", 0) + authorized,
            [AccountMeta(stake, False, True), AccountMeta(RENT, False, False)],
        )

    s1 = Keypair()
    s = _send(
        server,
        [a, s1],
        [
            create_account(
                CreateAccountParams(
                    from_pubkey=A,
                    to_pubkey=s1.pubkey(),
                    lamports=5 * SOL,
                    space=STAKE_SPACE,
                    owner=STAKE_PROGRAM,
                )
            ),
            init(s1.pubkey()),
            Instruction(
                STAKE_PROGRAM,
                struct.pack("<I", 2),
                [
                    AccountMeta(s1.pubkey(), False, True),
                    AccountMeta(vote.pubkey(), False, False),
                    AccountMeta(CLOCK, False, False),
                    AccountMeta(STAKE_HISTORY, False, False),
                    AccountMeta(STAKE_CONFIG, False, False),
                    AccountMeta(A, True, False),
                ],
            ),
        ],
        ex,
        sigs,
    )
    assert server.ledger.txs[s].err is None, f"stake delegation failed: {server.ledger.txs[s].err}"
    _fee(ex, s, A, server)
    ex.stake[(s, sa)] = -5 * SOL
    s2 = Keypair()
    s = _send(
        server,
        [a, s2],
        [
            create_account(
                CreateAccountParams(
                    from_pubkey=A,
                    to_pubkey=s2.pubkey(),
                    lamports=3 * SOL,
                    space=STAKE_SPACE,
                    owner=STAKE_PROGRAM,
                )
            ),
            init(s2.pubkey()),
        ],
        ex,
        sigs,
    )
    assert server.ledger.txs[s].err is None, f"stake initialize failed: {server.ledger.txs[s].err}"
    _fee(ex, s, A, server)
    ex.stake[(s, sa)] = -3 * SOL
    withdraw = Instruction(
        STAKE_PROGRAM,
        struct.pack("<IQ", 4, 1 * SOL),
        [
            AccountMeta(s2.pubkey(), False, True),
            AccountMeta(A, False, True),
            AccountMeta(CLOCK, False, False),
            AccountMeta(STAKE_HISTORY, False, False),
            AccountMeta(A, True, False),
        ],
    )
    s = _send(server, [a], [withdraw], ex, sigs)
    assert server.ledger.txs[s].err is None, f"stake withdraw failed: {server.ledger.txs[s].err}"
    _fee(ex, s, A, server)
    ex.stake[(s, sa)] = 1 * SOL
