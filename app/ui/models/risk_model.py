"""Lending accounts with their liquidation risk, as a table. Money stays Decimal here."""

from __future__ import annotations

import enum
import html
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from app.domain.alerts import LENDING_PROTOCOLS
from app.domain.risk import AccountRisk, RiskInputs, RiskStatus
from app.ui.models.base import Index, ListTableModel
from app.ui.models.holdings_format import plain_money

SORT_ROLE = Qt.ItemDataRole.UserRole
ROW_ROLE = Qt.ItemDataRole.UserRole + 1
LEVEL_ROLE = Qt.ItemDataRole.UserRole + 2  # "danger" | "warning" | "safe" | "" (for tests)


class RiskColumn(enum.IntEnum):
    WALLET = 0
    PROTOCOL = 1
    CHAIN = 2
    COLLATERAL = 3
    DEBT = 4
    HEALTH = 5
    P_24H = 6
    P_7D = 7


HEADERS = {
    RiskColumn.WALLET: "Wallet",
    RiskColumn.PROTOCOL: "Protocol",
    RiskColumn.CHAIN: "Chain",
    RiskColumn.COLLATERAL: "Collateral",
    RiskColumn.DEBT: "Debt",
    RiskColumn.HEALTH: "Health factor",
    RiskColumn.P_24H: "Liquidation 24 h",
    RiskColumn.P_7D: "Liquidation 7 d",
}
NUMERIC = {
    RiskColumn.COLLATERAL, RiskColumn.DEBT, RiskColumn.HEALTH, RiskColumn.P_24H, RiskColumn.P_7D
}  # fmt: skip

# (danger at or beyond, warning at or beyond) for each coloured column.
HEALTH_LEVELS = (Decimal("1.1"), Decimal("1.5"))  # below these
P_24H_LEVELS = (0.01, 0.001)  # above these
P_7D_LEVELS = (0.10, 0.01)
# Translucent fills read on light and dark palettes alike.
COLOURS = {
    "danger": QColor(220, 38, 38, 90),
    "warning": QColor(217, 119, 6, 80),
    "safe": QColor(22, 163, 74, 60),
}


def format_units(value: Decimal) -> str:
    """The protocol's own number (base-currency units), grouped, two decimals at most."""
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def format_probability(p: float | None, volatile: bool = False) -> str:
    """``volatile``: the prices move, so a 0.0 is a tail too small for a float, not "never"."""
    if p is None:
        return "unknown"
    if p == 0 and not volatile:
        return "0 %"
    if p < 0.0001:
        return "< 0.01 %"
    if p >= 0.9999 and p < 1:
        return "> 99.99 %"
    return f"{p * 100:.2f} %" if p < 0.1 else f"{p * 100:.1f} %"


def rich_tooltip(text: str) -> str:
    """Tooltips may be read as rich text: escape everything (asset symbols are hostile)."""
    return "<qt>" + html.escape(text).replace("\n", "<br>") + "</qt>"


def describe_inputs(inputs: RiskInputs, symbols: Mapping[str, str]) -> str:
    def day(ts: int) -> str:
        return time.strftime("%Y-%m-%d", time.gmtime(ts))

    def basket(weights: Sequence[tuple[str, float]]) -> str:
        return ", ".join(
            f"{symbols.get(a, a)} {w * 100:.0f} %"
            + (" (taken as 1 USD: no price history)" if a in inputs.assumed_stable else "")
            for a, w in weights
        )

    return "\n".join(
        [
            f"Health factor now: {inputs.health_factor:.4f}",
            f"Volatility of collateral/debt prices: {inputs.sigma_daily * 100:.2f} % a day",
            f"Window: {inputs.window_days} days, {inputs.observations} daily moves"
            + (f" ({day(inputs.first_day)} to {day(inputs.last_day)})" if inputs.last_day else ""),
            f"Collateral: {basket(inputs.collateral_weights)}",
            f"Debt: {basket(inputs.debt_weights)}",
            f"Model: {inputs.model}, zero drift; P = 2·Φ(−ln HF / (σ·√T)).",
        ]
    )


@dataclass(frozen=True, slots=True)
class RiskRow:
    risk: AccountRisk
    wallet_name: str
    chain_name: str
    tooltip: str


class RiskModel(ListTableModel[RiskRow]):
    HEADERS = tuple(HEADERS[c] for c in RiskColumn)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.currency = "USD"

    def set_risks(
        self,
        risks: Sequence[AccountRisk],
        currency: str,
        chain_names: Mapping[str, str],
        wallet_names: Mapping[str, str],
        symbols: Mapping[str, str],
    ) -> None:
        self.beginResetModel()
        self.currency = currency
        self._rows = []
        for risk in risks:
            address = risk.account.wallet.rsplit(":", 1)[-1]
            if risk.inputs is not None:
                tooltip = describe_inputs(risk.inputs, symbols)
                if risk.reason:
                    tooltip = f"Not estimated: {risk.reason}.\n\n{tooltip}"
                hf = risk.account.health_factor
                if hf is not None and hf <= 1:
                    tooltip = (
                        f"The health factor is below 1: it can be liquidated now.\n\n{tooltip}"
                    )
            elif risk.status is RiskStatus.NO_DEBT:
                tooltip = "Nothing borrowed: this account cannot be liquidated."
            else:
                tooltip = f"Not estimated: {risk.reason or 'not enough data'}."
            self._rows.append(
                RiskRow(
                    risk,
                    wallet_names.get(address, address[:6] + "…" + address[-4:]),
                    chain_names.get(risk.account.chain, risk.account.chain),
                    tooltip,
                )
            )
        self.endResetModel()

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.valid_row(index)
        if row is None:
            return None
        column = RiskColumn(index.column())
        if role == ROW_ROLE:
            return row
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, column)
        if role == SORT_ROLE:
            return self._sort_key(row, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == LEVEL_ROLE:
            return self._level(row, column)
        if role == Qt.ItemDataRole.BackgroundRole:
            level = self._level(row, column)
            return COLOURS.get(level) if level else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, column)
        return None

    def _display(self, row: RiskRow, column: RiskColumn) -> str:
        risk, a = row.risk, row.risk.account
        match column:
            case RiskColumn.WALLET:
                return row.wallet_name
            case RiskColumn.PROTOCOL:
                return LENDING_PROTOCOLS.get(a.protocol, a.protocol)
            case RiskColumn.CHAIN:
                return row.chain_name
            case RiskColumn.COLLATERAL:
                if risk.collateral_value is not None:
                    return plain_money(risk.collateral_value, self.currency)
                return format_units(a.collateral)
            case RiskColumn.DEBT:
                if risk.debt_value is not None:
                    return plain_money(risk.debt_value, self.currency)
                if a.debt == 0:
                    return plain_money(Decimal(0), self.currency)
                return format_units(a.debt)
            case RiskColumn.HEALTH:
                return "—" if a.health_factor is None else f"{a.health_factor:.2f}"
            case RiskColumn.P_24H | RiskColumn.P_7D:
                if risk.status is RiskStatus.NO_DEBT:
                    return "—"
                volatile = risk.inputs is not None and risk.inputs.sigma_daily > 0
                p = risk.p_24h if column == RiskColumn.P_24H else risk.p_7d
                return format_probability(p, volatile)

    def _sort_key(self, row: RiskRow, column: RiskColumn) -> Any:
        risk, a = row.risk, row.risk.account
        match column:
            case RiskColumn.COLLATERAL:
                return float(risk.collateral_value or a.collateral)  # sort keys only
            case RiskColumn.DEBT:
                return float(risk.debt_value or a.debt)
            case RiskColumn.HEALTH:
                return float(a.health_factor) if a.health_factor is not None else 1e18
            case RiskColumn.P_24H:
                return -1.0 if risk.p_24h is None else risk.p_24h
            case RiskColumn.P_7D:
                return -1.0 if risk.p_7d is None else risk.p_7d
            case _:
                return self._display(row, column).lower()

    @staticmethod
    def _level(row: RiskRow, column: RiskColumn) -> str:
        risk, hf = row.risk, row.risk.account.health_factor
        if column == RiskColumn.HEALTH and hf is not None:
            danger, warning = HEALTH_LEVELS
            return "danger" if hf < danger else "warning" if hf < warning else "safe"
        if column in (RiskColumn.P_24H, RiskColumn.P_7D):
            p = risk.p_24h if column == RiskColumn.P_24H else risk.p_7d
            if p is None:
                return ""
            danger_p, warning_p = P_24H_LEVELS if column == RiskColumn.P_24H else P_7D_LEVELS
            return "danger" if p >= danger_p else "warning" if p >= warning_p else "safe"
        return ""

    def _tooltip(self, row: RiskRow, column: RiskColumn) -> str | None:
        a = row.risk.account
        if column in (RiskColumn.P_24H, RiskColumn.P_7D, RiskColumn.HEALTH):
            return rich_tooltip(row.tooltip)
        if column == RiskColumn.WALLET:
            return a.wallet
        if column in (RiskColumn.COLLATERAL, RiskColumn.DEBT):
            raw = a.collateral if column == RiskColumn.COLLATERAL else a.debt
            return (
                f"As the protocol reports it: {format(raw, 'f')} in its base currency "
                "(USD for Aave v3, the market's base token for Compound v3)"
            )
        if column == RiskColumn.PROTOCOL and a.market:
            return f"Market {a.market}"
        return None
