"""Table definitions (SQLAlchemy Core). Migrations under ``migrations/`` create them."""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, UniqueConstraint

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
