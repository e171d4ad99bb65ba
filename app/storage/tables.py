"""Table definitions (SQLAlchemy Core). Migrations under ``migrations/`` create them."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    true,
)

metadata = MetaData()

wallets = Table(
    "wallets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("family", String(16), nullable=False),
    Column("address", String(64), nullable=False),
    Column("label", Text, nullable=False, server_default=""),
    Column("wallet_group", Text, nullable=False, server_default=""),
    Column("ens_name", Text, nullable=True),
    Column("created_at", String(32), nullable=False),
    UniqueConstraint("address", name="uq_wallets_address"),
)

app_meta = Table(
    "app_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# ---- tokens (revision 0003) -------------------------------------------------------------------
tokens = Table(
    "tokens",
    metadata,
    Column("asset_id", String(200), primary_key=True),
    Column("chain_id", String(64), nullable=False, index=True),
    Column("address", String(64), nullable=False),
    Column("symbol", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("decimals", Integer, nullable=False),
    Column("source", String(16), nullable=False),
    Column("price_id", Text, nullable=True),
    Column("is_spam", Boolean, nullable=False, server_default=false()),
    Column("spam_reason", Text, nullable=True),
    Column("added_at", String(32), nullable=False),
)

# ---- prices (revision 0004) -------------------------------------------------------------------
prices = Table(
    "prices",
    metadata,
    Column("asset_id", String(200), primary_key=True),
    Column("currency", String(8), primary_key=True),
    Column("price", Text, nullable=False),
    Column("source", String(32), nullable=False),
    Column("fetched_at", Integer, nullable=False),
    Column("change_24h", Text, nullable=True),
)

price_history = Table(
    "price_history",
    metadata,
    Column("asset_id", String(200), primary_key=True),
    Column("currency", String(8), primary_key=True),
    Column("ts", Integer, primary_key=True),
    Column("price", Text, nullable=False),
    Column("source", String(32), nullable=False),
)

price_overrides = Table(
    "price_overrides",
    metadata,
    Column("asset_id", String(200), primary_key=True),
    Column("currency", String(8), nullable=False),
    Column("price", Text, nullable=False),
    Column("set_at", Integer, nullable=False),
)

backfill_jobs = Table(
    "backfill_jobs",
    metadata,
    Column("asset_id", String(200), primary_key=True),
    Column("currency", String(8), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("done_until", Integer, nullable=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("updated_at", Integer, nullable=False),
)

# ---- snapshots (revision 0005) ----------------------------------------------------------------
snapshots = Table(
    "snapshots",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("taken_at", Integer, nullable=False, index=True),
    Column("currency", String(8), nullable=False),
    Column("total", Text, nullable=False),
    Column("stale_total", Text, nullable=False),
    Column("sources", Text, nullable=False),
)
# revision 0007: the net-worth timeline reads only this index, not the rows' source JSON
Index("ix_snapshots_timeline", snapshots.c.taken_at, snapshots.c.id, snapshots.c.total)


def _holding_values() -> list[Column[object]]:
    """A holding's own values, after its key and symbol (``is_spam``: revision 0006,
    ``manual_price``: 0009)."""
    return [
        Column("decimals", Integer, nullable=False),
        Column("raw", Text, nullable=False),
        Column("price", Text, nullable=True),
        Column("value", Text, nullable=True),
        Column("state", String(8), nullable=False),
        Column("as_of", Integer, nullable=False),
        Column("is_spam", Boolean, nullable=False, server_default=false()),
        Column("manual_price", Boolean, nullable=False, server_default=false()),
    ]


# revision 0018: each wallet, asset id, position and symbol text once, holdings point at it
holding_texts = Table(
    "holding_texts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("text", Text, nullable=False, unique=True),
)

snapshot_rows = Table(
    "snapshot_rows",
    metadata,
    Column(
        "snapshot_id", Integer, ForeignKey("snapshots.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("wallet_ref", Integer, primary_key=True, autoincrement=False),  # holding_texts.id
    Column("asset_ref", Integer, primary_key=True, autoincrement=False),
    Column("position_ref", Integer, primary_key=True, autoincrement=False),
    Column("symbol_ref", Integer, nullable=False),
    *_holding_values(),
    sqlite_with_rowid=False,
)

# Since revision 0018 a VIEW over snapshot_rows + holding_texts with the columns below (every
# reader's queries unchanged); only SqlSnapshotStore writes, into the two tables above. Kept
# out of ``metadata``, which holds tables only.
views = MetaData()
snapshot_holdings = Table(
    "snapshot_holdings",
    views,
    Column("snapshot_id", Integer, primary_key=True),
    Column("wallet", String(200), primary_key=True),
    Column("asset_id", String(200), primary_key=True),
    Column("position", String(200), primary_key=True, server_default=""),  # revision 0006
    Column("symbol", Text, nullable=False),
    *_holding_values(),
)

# ---- timeline breakdown sums (revision 0007) --------------------------------------------------
snapshot_breakdown = Table(
    "snapshot_breakdown",
    metadata,
    Column(
        "snapshot_id", Integer, ForeignKey("snapshots.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("kind", String(8), primary_key=True),  # chain | asset | wallet
    Column("key", String(200), primary_key=True),  # CAIP-2 / CAIP-19 / wallet address
    Column("value", Text, nullable=False),  # exact Decimal sum, debts negative, spam excluded
    sqlite_with_rowid=False,
)

# ---- DeFi accounts and alerts (revision 0006) -------------------------------------------------
snapshot_accounts = Table(
    "snapshot_accounts",
    metadata,
    Column(
        "snapshot_id", Integer, ForeignKey("snapshots.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("wallet", String(200), primary_key=True),
    Column("protocol", String(64), primary_key=True),
    Column("chain", String(100), primary_key=True),
    Column("market", String(100), primary_key=True, server_default=""),
    Column("collateral", Text, nullable=False),
    Column("debt", Text, nullable=False),
    Column("liquidation_threshold", Text, nullable=False),
    Column("health_factor", Text, nullable=True),
    Column("collateral_assets", Text, nullable=False),
    Column("debt_assets", Text, nullable=False),
)

alert_rules = Table(
    "alert_rules",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("target", Text, nullable=False, server_default=""),
    Column("threshold", Text, nullable=False),
    Column("enabled", Boolean, nullable=False, server_default=true()),
    Column("fired", Boolean, nullable=False, server_default=false()),
    Column("created_at", Integer, nullable=False),
    Column("last_fired_at", Integer, nullable=True),
)

alert_events = Table(
    "alert_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("rule_id", Integer, ForeignKey("alert_rules.id", ondelete="CASCADE"), nullable=False),
    Column("fired_at", Integer, nullable=False, index=True),
    Column("message", Text, nullable=False),
)

# ---- ledger: manual accounts and transactions (revision 0010) --------------------------------
ledger_accounts = Table(
    "ledger_accounts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    Column("created_at", Integer, nullable=False),
    UniqueConstraint("name", name="uq_ledger_accounts_name"),
)

ledger_transactions = Table(
    "ledger_transactions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "account_id", Integer, ForeignKey("ledger_accounts.id", ondelete="CASCADE"), nullable=False
    ),
    Column("kind", String(16), nullable=False),
    Column("ts", Integer, nullable=False),
    Column("asset", String(200), nullable=False, index=True),
    Column("amount", Text, nullable=False),  # exact Decimal as text, like every amount here
    Column("price", Text, nullable=True),
    Column("price_currency", String(8), nullable=True),
    Column("fee", Text, nullable=False, server_default="0"),
    Column("fee_currency", String(200), nullable=True),
    Column(
        "to_account_id",
        Integer,
        ForeignKey("ledger_accounts.id", ondelete="CASCADE"),
        nullable=True,
    ),
    Column("income_kind", String(16), nullable=True),
    Column("note", Text, nullable=False, server_default=""),
    Column("fingerprint", String(80), nullable=True),  # CSV rows: re-importing adds nothing
    Column("created_at", Integer, nullable=False),
    UniqueConstraint("fingerprint", name="uq_ledger_transactions_fingerprint"),
)
Index(
    "ix_ledger_transactions_account_ts", ledger_transactions.c.account_id, ledger_transactions.c.ts
)

# ---- market symbols of the ledger's stocks, ETFs and metals (revision 0011) ------------------
market_symbols = Table(
    "market_symbols",
    metadata,
    Column("asset_id", String(200), primary_key=True),
    Column("symbol", String(200), nullable=True),  # a price id given by the person
    Column("status", String(16), nullable=True),  # ok | unknown | failed (last fetch)
    Column("message", Text, nullable=False, server_default=""),
    Column("checked_at", Integer, nullable=True),
    Column("updated_at", Integer, nullable=False),
)

# ---- portfolios and wallets recorded by ledger accounts (revision 0012) ----------------------
portfolios = Table(
    "portfolios",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("created_at", Integer, nullable=False),
    UniqueConstraint("name", name="uq_portfolios_name"),
)

portfolio_wallets = Table(
    "portfolio_wallets",
    metadata,
    Column("portfolio_id", Integer, ForeignKey("portfolios.id", ondelete="CASCADE"),
           primary_key=True),
    Column("wallet_id", Integer, ForeignKey("wallets.id", ondelete="CASCADE"), primary_key=True),
)  # fmt: skip

portfolio_accounts = Table(
    "portfolio_accounts",
    metadata,
    Column("portfolio_id", Integer, ForeignKey("portfolios.id", ondelete="CASCADE"),
           primary_key=True),
    Column("account_id", Integer, ForeignKey("ledger_accounts.id", ondelete="CASCADE"),
           primary_key=True),
)  # fmt: skip

ledger_wallet_links = Table(
    "ledger_wallet_links",
    metadata,
    Column("account_id", Integer, ForeignKey("ledger_accounts.id", ondelete="CASCADE"),
           primary_key=True),
    Column("wallet_id", Integer, ForeignKey("wallets.id", ondelete="CASCADE"), nullable=False,
           index=True),
)  # fmt: skip

# ---- on-chain history: scan cursors, movements, fees, ledger accounts (revision 0013) --------
onchain_cursors = Table(
    "onchain_cursors",
    metadata,
    Column("chain", String(64), primary_key=True),
    Column("wallet", String(64), primary_key=True),
    Column("cursor", Text, nullable=False),
    Column("updated_at", Integer, nullable=False),
)

onchain_movements = Table(
    "onchain_movements",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("chain", String(64), nullable=False),
    Column("tx", String(128), nullable=False),
    Column("block", Integer, nullable=False),
    Column("ts", Integer, nullable=False),
    Column("wallet", String(64), nullable=False),
    Column("asset", String(200), nullable=False),
    Column("delta", Text, nullable=False),  # raw signed integer as text (uint256)
    Column("kind", String(16), nullable=False),
    Column("counterparty", String(64), nullable=True),
    Column("idx", Integer, nullable=False),
    UniqueConstraint("chain", "tx", "wallet", "asset", "kind", "idx",
                     name="uq_onchain_movements_key"),
)  # fmt: skip
Index(
    "ix_onchain_movements_chain_wallet_block",
    onchain_movements.c.chain,
    onchain_movements.c.wallet,
    onchain_movements.c.block,
)

onchain_fees = Table(
    "onchain_fees",
    metadata,
    Column("chain", String(64), primary_key=True),
    Column("tx", String(128), primary_key=True),
    Column("wallet", String(64), primary_key=True),
    Column("block", Integer, nullable=False),
    Column("ts", Integer, nullable=False),
    Column("asset", String(200), nullable=False),
    Column("amount", Text, nullable=False),  # raw integer as text
)

onchain_accounts = Table(
    "onchain_accounts",
    metadata,
    Column("wallet", String(64), primary_key=True),
    Column("account_id", Integer, ForeignKey("ledger_accounts.id", ondelete="CASCADE"),
           nullable=False),
)  # fmt: skip

# --- position rates (revision 0015): the protocols' supply/borrow rates read with a snapshot ---
snapshot_rates = Table(
    "snapshot_rates",
    metadata,
    Column(
        "snapshot_id", Integer, ForeignKey("snapshots.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("asset_id", String(200), primary_key=True),
    Column("position", String(200), primary_key=True),
    Column("chain", String(100), nullable=False),
    Column("side", String(16), nullable=False),
    Column("apy", Text, nullable=False),  # exact Decimal as text (a fraction: 0.0345)
    Column("apr", Text, nullable=True),
    Column("protocol", String(64), nullable=False, server_default=""),
)

# --- Bitcoin watch-only wallets (revision 0016): keys/descriptors, derived-address cache ---
bitcoin_wallets = Table(
    "bitcoin_wallets",
    metadata,
    Column("wallet_id", Integer, ForeignKey("wallets.id", ondelete="CASCADE"), primary_key=True),
    Column("watch", Text, nullable=False),  # xpub/ypub/zpub or descriptor: private, not secret
)

bitcoin_addresses = Table(
    "bitcoin_addresses",
    metadata,
    Column("wallet_id", Integer, ForeignKey("wallets.id", ondelete="CASCADE"), primary_key=True),
    Column("branch", Integer, primary_key=True),  # 0 receive, 1 change
    Column("idx", Integer, primary_key=True),
    Column("address", String(90), nullable=False),
    Column("used", Boolean, nullable=False, server_default=false()),
)

# ---- exchange accounts read through ccxt (revision 0017) -------------------------------------
exchange_accounts = Table(
    "exchange_accounts",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("exchange", String(16), nullable=False),
    Column("api_url", Text, nullable=True),
    Column("created_at", Integer, nullable=False),
)

# exchange history (revision 0017): records as read, cursors per account and stream, the ledger
# account of each exchange account, and deposits/withdrawals matched with on-chain entries
exchange_records = Table(
    "exchange_records",
    metadata,
    Column("account", String(32), ForeignKey("exchange_accounts.name", ondelete="CASCADE"),
           primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("record_id", String(160), primary_key=True),
    Column("ts", Integer, nullable=False),  # UTC milliseconds
    Column("data", Text, nullable=False),  # the normalised record as JSON (amounts as text)
)  # fmt: skip
exchange_cursors = Table(
    "exchange_cursors",
    metadata,
    Column("account", String(32), ForeignKey("exchange_accounts.name", ondelete="CASCADE"),
           primary_key=True),
    Column("stream", String(64), primary_key=True),
    Column("cursor", Text, nullable=False),
)  # fmt: skip
exchange_ledger_accounts = Table(
    "exchange_ledger_accounts",
    metadata,
    Column("account", String(32), primary_key=True),
    Column("account_id", Integer, ForeignKey("ledger_accounts.id", ondelete="CASCADE"),
           nullable=False),
)  # fmt: skip
exchange_matches = Table(
    "exchange_matches",
    metadata,
    Column("fingerprint", String(200), primary_key=True),  # the exchange record's
    Column("account", String(32), nullable=False),
    Column("onchain_fingerprint", String(200), nullable=False, unique=True),
    Column("original", Text, nullable=False),  # the on-chain entry before it became a transfer
)  # fmt: skip

# --- privacy ledger (revision 0014): what each host learnt, summed per host -----------------
privacy_contacts = Table(
    "privacy_contacts",
    metadata,
    Column("host", String(255), primary_key=True),
    Column("purpose", String(32), primary_key=True),
    Column("requests", Integer, nullable=False, server_default="0"),
    Column("refused", Integer, nullable=False, server_default="0"),
    Column("first_at", Integer, nullable=True),  # first request that left (epoch s)
    Column("last_at", Integer, nullable=True),
    Column("last_refused_at", Integer, nullable=True),
)

privacy_revealed = Table(
    "privacy_revealed",
    metadata,
    Column("host", String(255), primary_key=True),
    Column("address", String(128), primary_key=True),
    Column("requests", Integer, nullable=False),
    Column("first_at", Integer, nullable=False),
    Column("last_at", Integer, nullable=False),
)
