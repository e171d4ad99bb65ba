"""The header over the holdings: net worth, its 24 h change, debt, refresh time, stale warning."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.domain.balances import SourceState
from app.domain.outcome import plain_reason, summarize_failures
from app.domain.snapshot import SourceStatus
from app.domain.text import clean_text
from app.ui.models.holdings_data import Portfolio
from app.ui.models.holdings_format import describe_age, format_percent, money_text
from app.ui.theme import Role, paint_text, themed_style

DAY = 86400
MUTED = Role.MUTED  # colours are theme roles (app/ui/theme.py): they follow a theme switch


def unreadable_sentence(portfolio: Portfolio) -> str:
    """The banner's words for tokens that could not be read: "✖ 1 token could not be read
    (BRK on Local Anvil A: the token contract reverted); the rest was read. …"."""
    rows = portfolio.failures
    count = len(rows)
    noun = "token" if count == 1 else "tokens"
    named = "; ".join(
        f"{clean_text(r.holding.symbol, 24)} on {r.chain_name}: "
        f"{plain_reason(r.failure).rstrip('.')}"
        for r in rows[:3]
    ) + ("; …" if count > 3 else "")
    verb = "is" if count == 1 else "are"
    return (
        f"✖ {count} {noun} could not be read ({named}); the rest was read. "
        f"{'It' if count == 1 else 'They'} {verb} marked in the table and missing from the total."
    )


def _label(text: str = "", scale: float = 1.0, bold: bool = False) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)  # token and chain names are never markup
    if scale != 1.0 or bold:
        font = label.font()
        font.setPointSizeF(font.pointSizeF() * scale)
        font.setBold(bold)
        label.setFont(font)
    return label


class PortfolioSummary(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.portfolio = Portfolio()
        self.caption = _label("Net worth", 0.9)
        paint_text(self.caption, MUTED)
        self.total_label = _label("—", 2.2, bold=True)
        self.total_label.setObjectName("totalValue")
        # Selectable by keyboard too: Tab reaches the total, and a screen reader reads it.
        self.total_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.total_label.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.total_label.setAccessibleName("Net worth")
        self.change_label = _label("", 1.25, bold=True)
        self.change_label.setObjectName("totalChange")
        self.change_caption = _label("", 0.9)
        paint_text(self.change_caption, MUTED)
        self.updated_label = _label("No refresh yet: press Refresh (Ctrl+R).")
        self.updated_label.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.debt_label = _label()
        self.debt_label.setObjectName("debtValue")
        self.debt_label.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.debt_label.hide()
        self.stale_label = _label()
        self.stale_label.setWordWrap(True)
        self.stale_banner = QFrame()
        self.stale_banner.setObjectName("staleBanner")
        themed_style(
            self.stale_banner,
            "#staleBanner { background: rgba(217, 119, 6, 0.14);"
            " border: 1px solid rgba(217, 119, 6, 0.55); border-radius: 4px; }"
            "#staleBanner QLabel { color: $warning; }",
        )
        banner = QHBoxLayout(self.stale_banner)
        banner.setContentsMargins(8, 4, 8, 4)
        banner.addWidget(self.stale_label)
        self.stale_banner.hide()

        # "3 holdings have no price…": a link-like button that filters the table to them.
        self.unpriced_button = QPushButton()
        self.unpriced_button.setObjectName("unpricedLink")
        self.unpriced_button.setFlat(True)
        self.unpriced_button.setCursor(Qt.CursorShape.PointingHandCursor)
        themed_style(  # re-applied on a theme switch, so palette(link) follows it
            self.unpriced_button,
            "#unpricedLink { color: palette(link); text-decoration: underline; border: none;"
            " padding: 0px; text-align: left; }",
        )
        self.unpriced_button.hide()
        total = QVBoxLayout()
        total.setSpacing(0)
        total.addWidget(self.caption)
        total.addWidget(self.total_label)
        total.addWidget(self.unpriced_button, 0, Qt.AlignmentFlag.AlignLeft)
        change = QVBoxLayout()
        change.setSpacing(0)
        change.addStretch(1)
        change.addWidget(self.change_caption)
        change.addWidget(self.change_label)
        side = QVBoxLayout()
        side.setSpacing(2)
        side.addStretch(1)
        side.addWidget(self.updated_label)
        side.addWidget(self.debt_label)
        top = QHBoxLayout()
        top.setSpacing(28)
        top.addLayout(total)
        top.addLayout(change)
        top.addStretch(1)
        top.addLayout(side)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(top)
        layout.addWidget(self.stale_banner)

        self._age_timer = QTimer(self)
        self._age_timer.setInterval(30_000)
        self._age_timer.timeout.connect(lambda: self._show_age(time.time()))

    def show_unpriced(self, count: int, filtering: bool) -> None:
        """Say how many holdings have no price (left out of the total); while the table shows
        only those, the same link brings every holding back."""
        if count == 0 and not filtering:
            self.unpriced_button.hide()
            return
        if filtering:
            text = "Showing only holdings without a price: show all holdings"
            tip = "Show every holding again."
        else:
            noun = "holding has" if count == 1 else "holdings have"
            text = (
                f"{count} {noun} no price and {'is' if count == 1 else 'are'} left out of the total"
            )
            tip = (
                "Show only these holdings. Give one a price source from its menu "
                "(Set price source…), or a manual price with: chainfolio prices override"
            )
        self.unpriced_button.setText(text)
        self.unpriced_button.setToolTip(tip)
        self.unpriced_button.setAccessibleName(text)
        self.unpriced_button.show()

    @property
    def stale_warning(self) -> str:
        return self.stale_label.text() if not self.stale_banner.isHidden() else ""

    def show_portfolio(
        self, portfolio: Portfolio, chain_names: dict[str, str], now: float | None = None
    ) -> None:
        self.portfolio = portfolio
        now = time.time() if now is None else now
        if portfolio.taken_at is None:
            self.total_label.setText("—")
            self.change_label.clear()
            self.change_caption.clear()
            self.debt_label.hide()
            self.updated_label.setText("No refresh yet: press Refresh (Ctrl+R).")
            self.stale_banner.hide()
            self._age_timer.stop()
            return
        currency = portfolio.currency
        self.total_label.setText(money_text(portfolio.total, currency))
        self._show_change(portfolio, now)
        if portfolio.debt:
            self.debt_label.setText(f"of which debt {money_text(portfolio.debt, currency)}")
            paint_text(self.debt_label, Role.LOSS)
            self.debt_label.show()
        else:
            self.debt_label.hide()
        self._show_age(now)
        self._age_timer.start()
        self._show_stale(portfolio, chain_names, now)

    def _show_change(self, portfolio: Portfolio, now: float) -> None:
        change, at = portfolio.change, portfolio.baseline_at
        if change is None or at is None or portfolio.taken_at is None:
            self.change_caption.setText("24 h change")
            self.change_label.setText("—")
            paint_text(self.change_label, None)
            self.change_label.setToolTip("No snapshot from 24 h ago yet.")
            return
        span = portfolio.taken_at - at
        if abs(span - DAY) <= 3 * 3600:
            self.change_caption.setText("24 h change")
        else:
            self.change_caption.setText(
                f"Change since {time.strftime('%b %d, %H:%M', time.localtime(at))}"
            )
        arrow = "▲ " if change > 0 else "▼ " if change < 0 else ""
        pct = "" if portfolio.change_pct is None else f"  ({format_percent(portfolio.change_pct)})"
        self.change_label.setText(arrow + money_text(change, portfolio.currency, plus=True) + pct)
        paint_text(
            self.change_label, Role.GAIN if change > 0 else Role.LOSS if change < 0 else None
        )
        self.change_label.setToolTip(
            "Net total now minus the net total of the snapshot taken "
            + time.strftime("%Y-%m-%d %H:%M", time.localtime(at))
        )

    def _show_age(self, now: float) -> None:
        taken = self.portfolio.taken_at
        if taken is None:
            return
        stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(taken))
        self.updated_label.setText(f"Last refresh {stamp} ({describe_age(now - taken)})")

    def show_refresh_problem(self, text: str) -> None:
        """A refresh that stored nothing (nothing could be read): say why, keep what is shown."""
        self.stale_label.setText(f"✖ The last refresh could not read anything. {text}")
        self.stale_banner.show()
        if self.portfolio.taken_at is None:
            self.updated_label.setText("No data yet: the first refresh could not read anything.")

    def _show_stale(self, portfolio: Portfolio, chain_names: dict[str, str], now: float) -> None:
        stale = [s for s in portfolio.sources.values() if s.state is SourceState.STALE]
        failed = [s for s in portfolio.sources.values() if s.state is SourceState.FAILED]

        def why(sources: list[SourceStatus]) -> str:
            return summarize_failures(
                [(chain_names.get(s.source, s.source), s.reason) for s in sources]
            )

        parts = []
        if stale:
            oldest = min(s.as_of for s in stale)
            parts.append(
                f"⚠ Not read in the last refresh: {why(stale)}. "
                f"{money_text(portfolio.stale_total, portfolio.currency)} of the total is "
                f"from earlier data (read {describe_age(now - oldest)})."
            )
        if failed:
            parts.append(
                f"✖ Could not be read, and no earlier data exists: {why(failed)}. "
                "Missing from the total."
            )
        if portfolio.failures:
            parts.append(unreadable_sentence(portfolio))
        if parts:
            self.stale_label.setText("  ".join(parts))
            self.stale_banner.show()
        else:
            self.stale_banner.hide()
