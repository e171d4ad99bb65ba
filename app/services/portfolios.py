"""Portfolios: named sets of wallets and ledger accounts, with their own total, timeline, P&L
and returns; and the comparison of linked wallets with the ledger ("unexplained change").

Depends on the domain, the wallet and ledger services, and the ports below (SQL adapters in
``app.storage.portfolio_store``, wired by ``app.bootstrap``). Every method is synchronous and
may run SQL: the window calls them off its thread, the CLI directly.

**What a portfolio's figures count** (all in the display currency):

- *Total* = its wallets' value in the latest snapshot (the stored per-wallet sums: spam and
  unpriced tokens left out, debts negative, as in the app's total) + its ledger accounts'
  holdings valued as ``chainfolio pnl`` values them (the newest of the market price and the
  last transaction price). A ledger account linked to a wallet of the same portfolio adds only
  its off-chain holdings (cash, stocks): its coins are already in the wallet's observed value.
  A part that cannot be valued (no snapshot yet, a holding without any price, no exchange rate
  for the snapshot's currency) makes the total unknown; the parts known are still given.
- *Day change* = the change of the wallets' value since the snapshot a day before (at most two
  days old, else none). The ledger accounts' daily values are in ``returns``.
- *Timeline* = per stored snapshot, the sum of its wallets' stored values (converted to the
  display currency at the exchange rate of the snapshot's day, as ``chainfolio history``).
- *Returns*: the ledger accounts as one account (transfers between them move nothing; see
  :func:`app.domain.portfolios.merged_accounts`), through ``LedgerService.returns`` (TWR and
  IRR); and the wallets' TWR linked over the snapshots with the linked accounts' cash flows
  (:func:`app.domain.portfolios.wallet_twr`). The two are separate figures: they are measured
  on different grids (days of the ledger, times of the snapshots), and no single number is
  made of them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Context, Decimal, localcontext
from typing import Protocol

from app.domain.balances import to_decimal_amount
from app.domain.cost_basis import BasisScope, CostBasisMethod, PnlReport
from app.domain.history import ShownTotal, StoredTotal, in_currency
from app.domain.ledger import Account, AccountKind, LedgerError, Transaction
from app.domain.model import Wallet
from app.domain.portfolios import (
    MERGED_ACCOUNT,
    Observed,
    Portfolio,
    PortfolioError,
    UnexplainedChange,
    ValuePoint,
    WalletLink,
    WalletReturns,
    ledger_quantities,
    merged_accounts,
    portfolio_name,
    same_wallet,
    sum_totals,
    unexplained_changes,
    wallet_flows,
    wallet_twr,
)
from app.domain.secret_text import refuse_secret
from app.domain.text import clean_text
from app.domain.valuation import CONVERSION_PREC, USD, money_context
from app.services.ledger import (
    FX_NOTE,
    LedgerConfig,
    LedgerService,
    LedgerStore,
    MarketData,
    ReturnsReport,
)
from app.services.wallets import WalletService

log = logging.getLogger(__name__)
DAY = 86_400
MAX_DAY_CHANGE_AGE = 2 * DAY
_DIV = Context(prec=CONVERSION_PREC)
SnapshotHead = tuple[int, int, str]


class PortfolioStore(Protocol):
    """Portfolios, members and links (``SqlPortfolioStore``)."""

    def portfolios(self) -> list[Portfolio]: ...

    def add(self, name: str, now: int) -> Portfolio: ...

    def remove(self, portfolio_id: int) -> bool: ...

    def set_wallet(self, portfolio_id: int, wallet_id: int, member: bool) -> bool: ...

    def set_account(self, portfolio_id: int, account_id: int, member: bool) -> bool: ...

    def links(self) -> list[WalletLink]: ...

    def link(self, account_id: int, wallet_id: int) -> None: ...

    def unlink(self, account_id: int) -> bool: ...


class PortfolioHistory(Protocol):
    """What a portfolio reads of the snapshots (``SqlPortfolioHistory``)."""

    def heads(self, start: int | None, end: int | None) -> list[SnapshotHead]: ...

    def head(self, when: int | None = None) -> SnapshotHead | None: ...

    def wallet_values(
        self, snapshot_ids: Sequence[int], addresses: Sequence[str]
    ) -> dict[int, dict[str, Decimal]]: ...

    def balances(self, snapshot_id: int, address: str) -> list[tuple[str, str, int, int, bool]]:
        """(asset id, symbol, decimals, raw, spam) of one wallet's balances."""
        ...

    def read_chains(self, snapshot_id: int) -> dict[str, str]: ...


@dataclass(frozen=True, slots=True)
class DayChangeFigure:
    amount: Decimal
    percent: Decimal | None  # None when the earlier value was zero
    since: int


@dataclass(frozen=True, slots=True)
class PortfolioSummary:
    portfolio: Portfolio
    currency: str
    total: Decimal | None  # None: some part is unknown (see notes)
    wallets_value: Decimal | None
    accounts_value: Decimal | None
    snapshot_time: int | None
    day_change: DayChangeFigure | None
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PortfolioReturns:
    portfolio: Portfolio
    currency: str
    accounts: ReturnsReport | None  # None: no ledger account in the portfolio
    wallets: WalletReturns | None  # None: no wallet in the portfolio
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UnexplainedReport:
    currency: str
    snapshot_time: int | None  # None: no snapshot yet (nothing compared)
    changes: tuple[UnexplainedChange, ...]
    links: tuple[WalletLink, ...]
    notes: tuple[str, ...]


class PortfolioService:
    def __init__(
        self,
        store: PortfolioStore,
        history: PortfolioHistory,
        wallets: WalletService,
        ledger: LedgerService,
        ledger_store: LedgerStore,
        market: MarketData | None,
        config: Callable[[], LedgerConfig],
        usd_rates: Callable[[str], Mapping[int, Decimal]],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._history = history
        self._wallets = wallets
        self._ledger = ledger
        self._ledger_store = ledger_store
        self._market = market
        self._config = config
        self._usd_rates = usd_rates
        self._clock = clock

    # ---- portfolios and members ---------------------------------------------------------------
    def portfolios(self) -> list[Portfolio]:
        return self._store.portfolios()

    def get(self, name: str) -> Portfolio:
        """By name: exactly, else ignoring case."""
        refuse_secret(name, "portfolio name")  # never echoed back in an error
        wanted = clean_text(name, 200)
        found = self._store.portfolios()
        for p in found:
            if p.name == wanted:
                return p
        for p in found:
            if p.name.casefold() == wanted.casefold():
                return p
        shown = clean_text(name, 40)
        raise PortfolioError(
            f"No portfolio named {shown!r}: `chainfolio portfolios list` shows them."
        )

    def add(self, name: str) -> Portfolio:
        clean = portfolio_name(name)
        if any(p.name.casefold() == clean.casefold() for p in self._store.portfolios()):
            raise PortfolioError(f"There is already a portfolio named {clean!r}.")
        return self._store.add(clean, int(self._clock()))

    def remove(self, name: str) -> Portfolio:
        p = self.get(name)
        self._store.remove(p.id)
        return p

    def include(
        self, name: str, *, wallet: str | None = None, account: str | None = None
    ) -> tuple[Portfolio, bool]:
        """Add a wallet (address or ENS name) or a ledger account; (portfolio, changed)."""
        return self._member(name, wallet, account, True)

    def exclude(
        self, name: str, *, wallet: str | None = None, account: str | None = None
    ) -> tuple[Portfolio, bool]:
        return self._member(name, wallet, account, False)

    def _member(
        self, name: str, wallet: str | None, account: str | None, member: bool
    ) -> tuple[Portfolio, bool]:
        if (wallet is None) == (account is None):
            raise PortfolioError("Name one wallet (--wallet) or one ledger account (--account).")
        p = self.get(name)
        if wallet is not None:
            w = self._wallets.find(wallet)
            assert w.id is not None
            changed = self._store.set_wallet(p.id, w.id, member)
        else:
            assert account is not None
            changed = self._store.set_account(p.id, self._account(account).id, member)
        return self.get(p.name), changed

    def _account(self, name: str) -> Account:
        refuse_secret(name, "account name")
        for a in self._ledger.accounts():
            if a.name == name.strip():
                return a
        raise LedgerError(
            f"No ledger account named {clean_text(name, 40)!r}: `chainfolio accounts list` "
            "shows them."
        )

    # ---- links --------------------------------------------------------------------------------
    def links(self) -> list[WalletLink]:
        return self._store.links()

    def link(self, account: str, wallet: str) -> WalletLink:
        """The ledger account records the coins of ``wallet`` (an account links one wallet; a
        wallet may be recorded by several accounts)."""
        a = self._account(account)
        w = self._wallets.find(wallet)
        assert w.id is not None
        self._store.link(a.id, w.id)
        return WalletLink(a.name, w.address)

    def unlink(self, account: str) -> bool:
        return self._store.unlink(self._account(account).id)

    # ---- figures ------------------------------------------------------------------------------
    def _currency(self) -> str:
        return self._config().currency.upper()

    def _shown(
        self, values: Sequence[tuple[int, str, Decimal]], currency: str
    ) -> tuple[list[ShownTotal], list[str]]:
        return in_currency([StoredTotal(t, c, v) for t, c, v in values], currency, self._usd_rates)

    def summary(self, name: str) -> PortfolioSummary:
        p = self.get(name)
        currency = self._currency()
        notes: list[str] = []
        wallets_value: Decimal | None = Decimal(0)
        snapshot_time: int | None = None
        change: DayChangeFigure | None = None
        if p.wallets:
            head = self._history.head()
            if head is None:
                wallets_value = None
                notes.append("No snapshot yet: the wallets' value is unknown until a refresh.")
            else:
                snapshot_time = head[1]
                wallets_value, note = self._wallet_value(p, head, currency)
                notes.extend(note)
                change = self._day_change(p, head, wallets_value, currency)
                newer = [w for w in self._wallets_of(p) if w.created_at.timestamp() > head[1]]
                if newer:  # not read yet: its value is not known, not zero
                    wallets_value = None
                    change = None
                    notes.append(
                        f"{len(newer)} wallet(s) were added after the latest snapshot ("
                        + ", ".join(w.display_name for w in newer[:3])
                        + "): the wallets' value is unknown until the next refresh."
                    )
        accounts_value, acc_notes = self._accounts_value(p, currency)
        notes.extend(acc_notes)
        total = None
        if wallets_value is not None and accounts_value is not None:
            with money_context():
                total = wallets_value + accounts_value
        return PortfolioSummary(
            p, currency, total, wallets_value, accounts_value, snapshot_time, change, tuple(notes)
        )

    def _wallet_value(
        self, p: Portfolio, head: SnapshotHead, currency: str
    ) -> tuple[Decimal | None, list[str]]:
        sums = self._history.wallet_values([head[0]], p.wallets).get(head[0], {})
        with money_context():
            stored = sum(sums.values(), Decimal(0))
        (shown,), notes = self._shown([(head[1], head[2], stored)], currency)
        if shown.currency != currency:
            return None, [
                f"The latest snapshot is in {head[2]} and no exchange rate to {currency} is "
                "stored for its day: the wallets' value is unknown in "
                f"{currency} (it is {stored} {head[2]})."
            ]
        return shown.total, notes if shown.stored_currency != currency else []

    def _day_change(
        self, p: Portfolio, head: SnapshotHead, now_value: Decimal | None, currency: str
    ) -> DayChangeFigure | None:
        if now_value is None:
            return None
        before = self._history.head(head[1] - DAY)
        if before is None or before[0] == head[0] or head[1] - before[1] > MAX_DAY_CHANGE_AGE:
            return None
        if any(w.created_at.timestamp() > before[1] for w in self._wallets_of(p)):
            return None  # a wallet added since then: its whole value is no day's change
        was, _notes = self._wallet_value(p, before, currency)
        if was is None:
            return None
        with money_context():
            amount = now_value - was
        with localcontext(_DIV):
            percent = None if was == 0 else amount / abs(was) * 100
        return DayChangeFigure(amount, percent, before[1])

    def _accounts_value(self, p: Portfolio, currency: str) -> tuple[Decimal | None, list[str]]:
        if not p.accounts:
            return Decimal(0), []
        try:
            report = self._ledger.pnl(currency=currency)
        except LedgerError as exc:
            return None, [f"The ledger accounts cannot be valued: {exc}"]
        covered = self._covered_accounts(p)
        total = Decimal(0)
        unpriced: list[str] = []
        members = set(p.accounts)
        with money_context():
            for h in report.holdings:
                if h.account not in members or not h.quantity:
                    continue
                if h.account in covered and "/" in h.asset:
                    continue  # the coins are in the linked wallet's observed value
                if h.market_value is None:
                    unpriced.append(f"{h.account}: {h.asset}")
                    continue
                total += h.market_value
        notes = list(report.notes)
        if covered:
            notes.append(
                "Ledger accounts linked to a wallet of this portfolio add only their off-chain "
                "holdings: their coins are counted once, as the wallet's observed balance ("
                + ", ".join(sorted(covered))
                + ")."
            )
        if unpriced:
            notes.append(
                "No price at all for "
                + ", ".join(unpriced[:5])
                + (" and more" if len(unpriced) > 5 else "")
                + ": the ledger accounts' value is unknown."
            )
            return None, notes
        return total, notes

    def _covered_accounts(self, p: Portfolio) -> set[str]:
        return {
            link.account
            for link in self._store.links()
            if link.account in p.accounts and any(same_wallet(link.wallet, w) for w in p.wallets)
        }

    def timeline(
        self, name: str, start: int | None = None, end: int | None = None
    ) -> tuple[list[ShownTotal], list[str]]:
        """The wallets' summed value at every snapshot in [start, end], in the display
        currency where the snapshot's day has an exchange rate (else as stored, with a note)."""
        p = self.get(name)
        notes: list[str] = []
        if p.accounts:
            notes.append(
                "The timeline counts the portfolio's wallets (the stored snapshots); its ledger "
                "accounts' daily values are in `chainfolio returns --portfolio NAME --json "
                "--series`."
            )
        if not p.wallets:
            return [], [*notes, "This portfolio has no wallet: there is no snapshot history."]
        heads = self._history.heads(start, end)
        values = self._history.wallet_values([h[0] for h in heads], p.wallets)
        rows = _summed(heads, values)
        points, conv = self._shown(rows, self._currency())
        return points, [*notes, *conv]

    def pnl(
        self,
        name: str,
        method: CostBasisMethod | str | None = None,
        scope: BasisScope | str | None = None,
    ) -> PnlReport:
        """The ledger's P&L report kept to the portfolio's accounts (the basis is computed over
        the whole ledger, as ``chainfolio pnl --account`` does)."""
        p = self.get(name)
        report = self._ledger.pnl(method=method, scope=scope)
        members = set(p.accounts)
        accounts = {k: v for k, v in report.accounts.items() if k in members}
        notes = list(report.notes)
        if p.wallets:
            notes.append(
                "Wallets have no cost basis of their own: record their buys in a ledger account "
                "linked to the wallet (`chainfolio links add`) to see their P&L here."
            )
        return replace(
            report,
            holdings=tuple(h for h in report.holdings if h.account in members),
            accounts=accounts,
            total=sum_totals(accounts.values()),
            notes=tuple(notes),
        )

    def returns(
        self,
        name: str,
        start: date | None = None,
        end: date | None = None,
        *,
        with_series: bool = False,
    ) -> PortfolioReturns:
        """The accounts' returns as one set (``with_series``: their daily values too) and the
        wallets' return from the snapshots; see the module text for what each counts."""
        p = self.get(name)
        currency = self._currency()
        notes: list[str] = []
        accounts: ReturnsReport | None = None
        if p.accounts:
            view = LedgerService(
                _MergedLedger(self._ledger_store, p.accounts),
                self._market,
                self._config,
                self._clock,
            )
            accounts = replace(
                view.returns(account=MERGED_ACCOUNT, start=start, end=end, with_series=with_series),
                account=p.name,
            )
        wallets = None
        if p.wallets:
            wallets, wallet_notes = self._wallet_returns(p, start, end, currency)
            notes.extend(wallet_notes)
        return PortfolioReturns(p, currency, accounts, wallets, tuple(notes))

    def _wallet_returns(
        self, p: Portfolio, start: date | None, end: date | None, currency: str
    ) -> tuple[WalletReturns, list[str]]:
        lo = None if start is None else _epoch(start)
        hi = None if end is None else _epoch(end) + DAY - 1
        heads = self._history.heads(lo, hi)
        values = self._history.wallet_values([h[0] for h in heads], p.wallets)
        rows = _summed(heads, values)
        shown, _conv = self._shown(rows, currency)
        points: list[ValuePoint] = []
        skipped = 0
        for (sid, _t, _c), s in zip(heads, shown, strict=True):
            if s.currency != currency:
                skipped += 1
                continue
            factor = Decimal(1)
            if s.stored_total and s.stored_currency != currency:
                with localcontext(_DIV):
                    factor = s.total / s.stored_total
            per = values.get(sid, {})
            with localcontext(_DIV):
                wallet_values = {w: v * factor for w, v in per.items()}
            points.append(ValuePoint(s.taken_at, s.total, frozenset(per), wallet_values))
        linked = sorted(
            {
                lk.account
                for lk in self._store.links()
                if any(same_wallet(lk.wallet, w) for w in p.wallets)
            }
        )
        txs = self._ledger.transactions() if linked else []
        rates, fx_used = self._rates(txs, currency)
        flows, unknown = wallet_flows(txs, linked, rates)
        added = {w.address: int(w.created_at.timestamp()) for w in self._wallets_of(p)}
        figures = wallet_twr(points, flows, unknown, added)
        notes = [
            "The wallets' return links the snapshots' values; the cash flows counted are the "
            "transactions of ledger accounts linked to them"
            + (f" ({', '.join(linked)})" if linked else " (none is linked)")
            + " and a wallet's value when it was added. Any other change of a wallet's value "
            "(coins sent in or out and not recorded) counts as gain or loss."
        ]
        if figures.twr is None:
            notes.append("Fewer than two snapshots in the range: no wallet return yet.")
        if unknown:
            notes.append(
                f"{unknown} linked transaction(s) moved value of unknown worth (no price or no "
                "exchange rate): counted as gain or loss."
            )
        if skipped:
            notes.append(
                f"{skipped} snapshot(s) stored in another currency without an exchange rate for "
                "their day are left out."
            )
        if fx_used:
            notes.append(FX_NOTE)
        return figures, notes

    def _wallets_of(self, p: Portfolio) -> list[Wallet]:
        return [
            w for w in self._wallets.list() if any(same_wallet(w.address, a) for a in p.wallets)
        ]

    def _rates(self, txs: Iterable[Transaction], currency: str) -> tuple[dict[str, Decimal], bool]:
        """Report-currency units per unit of every price and fee currency (today's stored
        rates, as the ledger's P&L uses); a currency without a rate is left out."""
        codes = {c for t in txs for c in (t.price_currency, t.fee_currency) if c and "/" not in c}
        codes.discard("")
        out: dict[str, Decimal] = {}
        used = False
        target = self._usd_rate(currency)
        for code in codes:
            if code == currency:
                out[code] = Decimal(1)
                continue
            rate = self._usd_rate(code)
            if rate is not None and target is not None:
                with localcontext(_DIV):
                    out[code] = target / rate
                used = True
        return out, used

    def _usd_rate(self, code: str) -> Decimal | None:
        if code == USD:
            return Decimal(1)
        try:
            rate = None if self._market is None else self._market.usd_rate(code)
        except Exception:  # an unreadable price store: the figure is said unknown instead
            log.warning("exchange rates unreadable", exc_info=True)
            return None
        return rate if rate is not None and rate > 0 else None

    # ---- wallets and the ledger ---------------------------------------------------------------
    def unexplained(self, portfolio: str | None = None) -> UnexplainedReport:
        """Per linked wallet and asset, where the observed balance in the latest snapshot and
        the linked accounts' ledger quantity at that time disagree (``portfolio``: only its
        wallets). Nothing is adjusted: the two sides are reported as they are."""
        currency = self._currency()
        links = self._store.links()
        if portfolio is not None:
            p = self.get(portfolio)
            links = [lk for lk in links if any(same_wallet(lk.wallet, w) for w in p.wallets)]
        if not links:
            return UnexplainedReport(currency, None, (), (), ())
        head = self._history.head()
        if head is None:
            return UnexplainedReport(
                currency, None, (), tuple(links),
                ("No snapshot yet: linked wallets are compared with the ledger after a refresh.",),
            )  # fmt: skip
        sid, taken_at, _cur = head
        chains = {c for c, state in self._history.read_chains(sid).items() if state == "ok"}
        txs = self._ledger.transactions()
        by_wallet: dict[str, list[str]] = {}
        for lk in links:
            by_wallet.setdefault(lk.wallet, []).append(lk.account)
        found: list[tuple[str, list[str], dict[str, Decimal], list[Observed]]] = []
        assets: set[str] = set()
        for wallet, accounts in sorted(by_wallet.items()):
            held = ledger_quantities(txs, accounts, taken_at)
            observed = [
                Observed(asset, clean_text(symbol, 16), _amount(raw, decimals), spam)
                for asset, symbol, decimals, raw, spam in self._history.balances(sid, wallet)
            ]
            found.append((wallet, accounts, held, observed))
            assets |= {a for a in held if "/" in a} | {o.asset for o in observed}
        prices = self._prices(sorted(assets), currency)
        changes: list[UnexplainedChange] = []
        for wallet, accounts, held, observed in found:
            changes.extend(
                unexplained_changes(
                    wallet, sorted(accounts), held, _merged(observed), chains, prices,
                    taken_at, currency,
                )
            )  # fmt: skip
        notes = [
            f"Compared at the latest snapshot ({_iso(taken_at)}): observed balances minus the "
            "linked accounts' ledger quantities then. Chains that were not read in full then "
            "are not compared; DeFi positions are not counted as holding their asset."
        ]
        if any(c.value is None for c in changes):
            notes.append("Some differences have no price: their value is unknown.")
        return UnexplainedReport(currency, taken_at, tuple(changes), tuple(links), tuple(notes))

    def _prices(self, assets: Sequence[str], currency: str) -> dict[str, Decimal]:
        """Today's price per unit in ``currency`` (the price cache, else the newest daily
        price), as the ledger values holdings; an asset without one is left out."""
        if self._market is None or not assets:
            return {}
        factor = self._usd_rate(currency)
        if factor is None:
            return {}
        try:
            latest = {a: p for a, (p, _ts) in self._market.latest_usd(assets).items()}
            missing = [a for a in assets if a not in latest]
            last = self._market.last_daily_usd(missing) if missing else {}
        except Exception:  # the price store is optional: the value is said unknown instead
            log.warning("price store unreadable", exc_info=True)
            return {}
        latest.update({a: p for a, (_ts, p) in last.items()})
        with localcontext(_DIV):
            return {a: p * factor for a, p in latest.items()}


def _summed(
    heads: Sequence[SnapshotHead], values: Mapping[int, Mapping[str, Decimal]]
) -> list[tuple[int, str, Decimal]]:
    """(time, currency, the wallets' summed value) per snapshot, exact."""
    zero = Decimal(0)
    with money_context():
        return [(t, cur, sum(values.get(sid, {}).values(), zero)) for sid, t, cur in heads]


def _merged(observed: Sequence[Observed]) -> list[Observed]:
    """One entry per asset (a coin held on one chain is one holding; summed to be safe)."""
    out: dict[str, Observed] = {}
    for o in observed:
        have = out.get(o.asset)
        if have is None:
            out[o.asset] = o
        else:
            with money_context():
                out[o.asset] = replace(have, quantity=have.quantity + o.quantity)
    return list(out.values())


def _amount(raw: int, decimals: int) -> Decimal:
    return to_decimal_amount(raw, decimals)


def _epoch(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


class _MergedLedger:
    """A read-only view of the ledger in which a portfolio's accounts are one account,
    :data:`MERGED_ACCOUNT` (so ``LedgerService.returns`` measures the set as a whole)."""

    def __init__(self, store: LedgerStore, accounts: Sequence[str]) -> None:
        self._store = store
        self._members = tuple(accounts)

    def accounts(self) -> list[Account]:
        return [Account(0, MERGED_ACCOUNT, AccountKind.OTHER), *self._store.accounts()]

    def transactions(self, account: str | None = None) -> list[Transaction]:
        txs = merged_accounts(self._store.transactions(), self._members)
        if account is None:
            return txs
        return [t for t in txs if account in (t.account, t.to_account)]

    def revision(self) -> int:
        return self._store.revision()

    def transaction_count(self, account: str) -> int:
        return len(self.transactions(account))

    def get(self, tx_id: int) -> Transaction | None:
        return self._store.get(tx_id)

    def known_fingerprints(self, fingerprints: Iterable[str]) -> set[str]:
        return self._store.known_fingerprints(fingerprints)

    def add_account(self, name: str, kind: AccountKind, note: str, now: int) -> Account:
        raise LedgerError(_READ_ONLY)

    def remove_account(self, name: str) -> int:
        raise LedgerError(_READ_ONLY)

    def add(self, txs: Sequence[Transaction], now: int) -> list[int]:
        raise LedgerError(_READ_ONLY)

    def update(self, tx: Transaction) -> None:
        raise LedgerError(_READ_ONLY)

    def remove(self, tx_id: int) -> bool:
        raise LedgerError(_READ_ONLY)


_READ_ONLY = "A portfolio's view of the ledger is read-only: change the accounts themselves."
