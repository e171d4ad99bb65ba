"""Alert rules checked after every refresh; each fires once per crossing (app.domain.alerts).

Wiring: build one ``AlertService`` and, when a refresh returns its snapshot, await
``after_refresh(snapshot)``: it runs the check in a worker thread (SQLite), records the fired
alerts, and hands each to the listeners (the tray notification) on the caller's loop.
Everything here is Qt-free; ``check`` is the synchronous core that tests and the CLI use.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from app.domain.alerts import (
    APY_KINDS,
    LENDING_PROTOCOLS,
    YIELD_PROTOCOLS,
    AlertEvent,
    AlertKind,
    AlertRule,
    AlertRuleError,
    FiredAlert,
    Verdict,
    asset_label,
    chain_of,
    format_level,
    judge_above,
    judge_below,
    make_target,
    next_state,
    parse_threshold,
    short_address,
)
from app.domain.balances import SourceState
from app.domain.ids import AssetId
from app.domain.positions import LendingAccount, position_protocol
from app.domain.rates import PositionRate, RateSide
from app.domain.risk import DAY, AccountRisk, RiskStatus
from app.domain.snapshot import Snapshot
from app.domain.text import clean_text
from app.domain.valuation import Quote

log = logging.getLogger(__name__)

RiskProvider = Callable[[Snapshot], Sequence[AccountRisk]]
PriceLookup = Callable[[str, str], Decimal | None]  # (asset id, currency) -> price
AssetCatalog = Callable[[], Iterable[tuple[str, str]]]  # (asset id, symbol) of known tokens
Listener = Callable[[FiredAlert], None]


class SnapshotHistory(Protocol):
    def latest(self) -> Snapshot | None: ...

    def at_or_before(self, when: int | None) -> Snapshot | None: ...


class AlertStore(Protocol):
    def add(self, kind: AlertKind, target: str, threshold: Decimal, now: int) -> AlertRule: ...

    def get(self, rule_id: int) -> AlertRule | None: ...

    def rules(self) -> list[AlertRule]: ...

    def remove(self, rule_id: int) -> bool: ...

    def set_enabled(self, rule_id: int, enabled: bool) -> bool: ...

    def apply(
        self, now: int, fire: Sequence[tuple[int, str]], rearm: Sequence[int]
    ) -> list[AlertEvent]: ...

    def events(self, limit: int = 100) -> list[AlertEvent]: ...


@dataclass(frozen=True, slots=True)
class AssetChoice:
    """One asset the alert picker offers: "ETH on Arbitrum One", and what of it is held."""

    asset_id: str
    symbol: str
    chain_name: str
    value: Decimal | None = None  # held, in the snapshot's currency; None when not held

    @property
    def chain(self) -> str:
        return chain_of(self.asset_id)

    @property
    def label(self) -> str:
        return f"{self.symbol} on {self.chain_name}"


def _match(query: str, *texts: str) -> int | None:
    """0 exact, 1 prefix, 2 contained, None: how well ``query`` (lower case) names the texts."""
    best: int | None = None
    for text in texts:
        t = text.lower()
        rank = 0 if t == query else 1 if t.startswith(query) else 2 if query in t else None
        if rank is not None and (best is None or rank < best):
            best = rank
    return best


@dataclass(frozen=True, slots=True)
class _Judgement:
    verdict: Verdict
    title: str = ""
    message: str = ""


def format_number(value: Decimal) -> str:
    """Readable, not exact: for notification text only."""
    if abs(value) >= 1:
        return f"{value:,.2f}"
    return f"{value:.4g}"


class AlertService:
    def __init__(
        self,
        store: AlertStore,
        snapshots: SnapshotHistory,
        risk: RiskProvider | None = None,
        *,
        prices: PriceLookup | None = None,
        catalog: AssetCatalog | None = None,
        chain_names: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._snapshots = snapshots
        self._risk = risk
        self._prices = prices
        self._catalog = catalog
        # Kept by reference: the app's chain names are one dict, updated in place on changes.
        self._chain_names: Mapping[str, str] = chain_names if chain_names is not None else {}
        self._clock = clock
        self._listeners: list[Listener] = []

    @property
    def chain_names(self) -> Mapping[str, str]:
        return self._chain_names

    # ---- rules ---------------------------------------------------------------------------------
    def rules(self) -> list[AlertRule]:
        return self._store.rules()

    def events(self, limit: int = 100) -> list[AlertEvent]:
        return self._store.events(limit)

    def add(
        self,
        kind: AlertKind,
        threshold: str | Decimal,
        *,
        asset: str | None = None,
        currency: str | None = None,
        wallet: str | None = None,
        protocol: str | None = None,
    ) -> AlertRule:
        """Validate and store a rule; every refusal is an :class:`AlertRuleError` saying why."""
        value = parse_threshold(kind, threshold)
        if kind in APY_KINDS:
            if currency:
                raise AlertRuleError("an APY alert has no currency")
            if protocol is not None and protocol not in YIELD_PROTOCOLS:
                known = ", ".join(YIELD_PROTOCOLS)
                raise AlertRuleError(f"unknown protocol {protocol!r}; known: {known}")
            asset_id = self.resolve_asset(asset)[0] if asset else None
            target = make_target(asset=asset_id, wallet=wallet, protocol=protocol)
            return self._store.add(kind, target, value, int(self._clock()))
        if kind in (AlertKind.PRICE_ABOVE, AlertKind.PRICE_BELOW):
            if wallet or protocol:
                raise AlertRuleError("a price alert watches an asset, not a wallet or protocol")
            if not asset:
                raise AlertRuleError("a price alert needs an asset (symbol or CAIP-19 id)")
            if not currency:
                latest = self._snapshots.latest()
                currency = latest.currency if latest else "USD"
            if not currency.isalpha() or not 2 <= len(currency) <= 8:
                raise AlertRuleError(f"not a currency code: {currency!r}")
            asset_id, _symbol = self.resolve_asset(asset)
            target = make_target(asset=asset_id, currency=currency.upper())
        else:
            if asset:
                raise AlertRuleError(f"an asset only goes with a price alert, not {kind.value}")
            if kind is AlertKind.DAILY_MOVE_ABOVE and (wallet or protocol):
                raise AlertRuleError("a daily-move alert watches the whole portfolio")
            if protocol is not None and protocol not in LENDING_PROTOCOLS:
                known = ", ".join(LENDING_PROTOCOLS)
                raise AlertRuleError(f"unknown lending protocol {protocol!r}; known: {known}")
            target = make_target(wallet=wallet, protocol=protocol)
        return self._store.add(kind, target, value, int(self._clock()))

    # ---- the asset picker -----------------------------------------------------------------------
    def held_assets(self, snapshot: Snapshot | None) -> list[AssetChoice]:
        """What the person holds (spam left out), one row per asset, largest value first."""
        if snapshot is None:
            return []
        values: dict[str, Decimal] = {}
        symbols: dict[str, str] = {}
        for h in snapshot.holdings:
            if h.is_spam:
                continue
            symbols.setdefault(h.asset_id, clean_text(h.symbol, 32))
            values[h.asset_id] = values.get(h.asset_id, Decimal(0)) + abs(h.value or Decimal(0))
        names = self._chain_names
        choices = [
            AssetChoice(a, symbols[a], names.get(chain_of(a), chain_of(a)), values[a])
            for a in symbols
        ]
        return sorted(choices, key=lambda c: (-(c.value or 0), c.symbol.lower(), c.chain_name))

    def search_assets(
        self, text: str, snapshot: Snapshot | None = None, limit: int = 40
    ) -> list[AssetChoice]:
        """Held assets whose symbol or chain matches ``text``, then other known assets (token
        lists, each network's coin) by symbol; best matches first. Reads the token catalog:
        call it off the GUI thread."""
        query = text.strip().lower()
        held = self.held_assets(snapshot)
        if not query:
            return held[:limit]
        ranked: list[tuple[int, int, AssetChoice]] = []
        for choice in held:
            rank = _match(query, choice.symbol)
            if rank is None:  # "base": what is held on Base, after the symbol matches
                chain_rank = _match(query, choice.chain_name)
                rank = None if chain_rank is None else 3 + chain_rank
            if rank is not None:
                ranked.append((0, rank, choice))
        seen = {c.asset_id for c in held}
        names = self._chain_names
        for asset_id, raw_symbol in (self._catalog or list)():
            if asset_id in seen:
                continue
            symbol = clean_text(raw_symbol, 32)
            rank = _match(query, symbol)
            if rank is None or (rank == 2 and len(query) < 3):
                continue
            seen.add(asset_id)
            chain = chain_of(asset_id)
            ranked.append((1, rank, AssetChoice(asset_id, symbol, names.get(chain, chain))))
        # Best match first; among equals what is held (largest value first), then by name.
        ranked.sort(
            key=lambda r: (r[1], r[0], -(r[2].value or 0), r[2].symbol.lower(), r[2].chain_name)
        )
        return [choice for _, _, choice in ranked[:limit]]

    def remove(self, rule_id: int) -> None:
        if not self._store.remove(rule_id):
            raise AlertRuleError(f"no alert rule with id {rule_id}")

    def set_enabled(self, rule_id: int, enabled: bool) -> None:
        if not self._store.set_enabled(rule_id, enabled):
            raise AlertRuleError(f"no alert rule with id {rule_id}")

    def resolve_asset(self, text: str) -> tuple[str, str]:
        """(CAIP-19 id, symbol) of an asset named by id or by a symbol that is not ambiguous.

        Known assets are those in the latest snapshot (spam left out), then the token catalog.
        """
        text = text.strip()
        latest = self._snapshots.latest()
        held = {
            h.asset_id: clean_text(h.symbol, 32)
            for h in (latest.holdings if latest else ())
            if not h.is_spam
        }
        catalog: dict[str, str] | None = None

        def known() -> dict[str, str]:
            nonlocal catalog
            if catalog is None:
                catalog = {a: clean_text(s, 32) for a, s in (self._catalog or list)()}
            return catalog

        try:
            wanted = str(AssetId.parse(text))
        except ValueError:
            wanted = ""
        if wanted:
            for pool in (held, known()):
                for asset_id, symbol in pool.items():
                    if asset_id.lower() == wanted.lower():
                        return asset_id, symbol
            raise AlertRuleError(
                f"unknown asset {wanted}: it is not in your holdings or the token lists"
            )
        if not text or len(text) > 32:
            raise AlertRuleError("give an asset as a symbol (ETH) or a CAIP-19 id")
        for pool in (held, known()):
            matches = sorted(a for a, s in pool.items() if s.lower() == text.lower())
            if len(matches) == 1:
                return matches[0], pool[matches[0]]
            if matches:
                listed = ", ".join(matches[:8]) + (" …" if len(matches) > 8 else "")
                raise AlertRuleError(
                    f"{text} names several assets ({listed}); give the one you mean by its id"
                )
        raise AlertRuleError(
            f"unknown asset {text!r}: use a symbol from your holdings or a CAIP-19 id "
            "such as eip155:1/slip44:60"
        )

    # ---- checking ------------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        """``listener(alert)`` is called for each alert that fires in :meth:`after_refresh`."""
        self._listeners.append(listener)

    async def after_refresh(self, snapshot: Snapshot) -> list[FiredAlert]:
        """Check the rules off the loop's thread, then tell the listeners on it.

        A failing check is logged and reported as "nothing fired": alerts must never break
        the refresh that triggered them.
        """
        try:
            fired = await asyncio.to_thread(self.check, snapshot)
        except Exception:
            log.exception("alert check failed")
            return []
        for alert in fired:
            for listener in list(self._listeners):
                try:
                    listener(alert)
                except Exception:
                    log.exception("alert listener failed")
        return fired

    def check(self, snapshot: Snapshot) -> list[FiredAlert]:
        """Judge every enabled rule against ``snapshot``; fire those that just crossed."""
        rules = [r for r in self._store.rules() if r.enabled]
        if not rules:
            return []
        risks: Sequence[AccountRisk] | None = None
        if self._risk is not None and any(
            r.kind is AlertKind.LIQUIDATION_PROBABILITY_ABOVE for r in rules
        ):
            risks = self._risk(snapshot)
        fire: list[tuple[int, str]] = []
        rearm: list[int] = []
        titles: dict[int, tuple[AlertKind, str]] = {}
        for rule in rules:
            judged = self._judge(rule, snapshot, risks)
            fired_after, fires_now = next_state(rule.fired, judged.verdict)
            if fires_now:
                fire.append((rule.id, judged.message))
                titles[rule.id] = (rule.kind, judged.title)
            elif rule.fired and not fired_after:
                rearm.append(rule.id)
        events = self._store.apply(int(self._clock()), fire, rearm)
        return [
            FiredAlert(e.rule_id, titles[e.rule_id][0], titles[e.rule_id][1], e.message, e.fired_at)
            for e in events
        ]

    def _judge(
        self, rule: AlertRule, snapshot: Snapshot, risks: Sequence[AccountRisk] | None
    ) -> _Judgement:
        match rule.kind:
            case AlertKind.HEALTH_FACTOR_BELOW:
                return self._health_factor(rule, snapshot)
            case AlertKind.LIQUIDATION_PROBABILITY_ABOVE:
                return self._probability(rule, risks)
            case AlertKind.PRICE_ABOVE | AlertKind.PRICE_BELOW:
                return self._price(rule, snapshot)
            case AlertKind.DAILY_MOVE_ABOVE:
                return self._daily_move(rule, snapshot)
            case AlertKind.APY_BELOW:
                return self._apy_below(rule, snapshot)
            case AlertKind.APY_MOVE_ABOVE:
                return self._apy_move(rule, snapshot)

    def _where(self, account: LendingAccount) -> str:
        protocol = LENDING_PROTOCOLS.get(account.protocol, account.protocol)
        chain = self._chain_names.get(account.chain, account.chain)
        return f"{protocol} on {chain}, wallet {short_address(account.wallet)}"

    @staticmethod
    def _matches(rule: AlertRule, account: LendingAccount) -> bool:
        f = rule.filters
        if "protocol" in f and account.protocol != f["protocol"]:
            return False
        if "wallet" in f:
            want = f["wallet"].rsplit(":", 1)[-1].lower()
            return account.wallet.rsplit(":", 1)[-1].lower() == want
        return True

    def _health_factor(self, rule: AlertRule, snapshot: Snapshot) -> _Judgement:
        hfs = [
            (a.health_factor, a)
            for a in snapshot.accounts
            if a.health_factor is not None and a.debt > 0 and self._matches(rule, a)
        ]
        if not hfs:
            return _Judgement(Verdict.CLEAR)  # nothing borrowed: nothing to liquidate
        hf, worst = min(hfs, key=lambda pair: pair[0])
        others = sum(1 for h, _ in hfs if h < rule.threshold) - 1
        more = (
            f" ({others} more account{'s' if others > 1 else ''} below too)" if others > 0 else ""
        )
        return _Judgement(
            judge_below(hf, rule.threshold),
            f"Health factor {hf:.2f} is below {rule.threshold}",
            f"{self._where(worst)}: health factor {hf:.3f}, below your alert level "
            f"{rule.threshold}{more}. Below 1 the position can be liquidated.",
        )

    def _probability(self, rule: AlertRule, risks: Sequence[AccountRisk] | None) -> _Judgement:
        if risks is None:
            return _Judgement(Verdict.UNKNOWN)
        mine = [
            r
            for r in risks
            if r.status is not RiskStatus.NO_DEBT and self._matches(rule, r.account)
        ]
        if not mine:
            return _Judgement(Verdict.CLEAR)
        known = [(Decimal(repr(r.p_24h * 100)), r) for r in mine if r.p_24h is not None]
        if not known:
            return _Judgement(Verdict.UNKNOWN)
        percent, worst = max(known, key=lambda pair: pair[0])
        verdict = judge_above(percent, rule.threshold)
        if verdict is not Verdict.BREACH and len(known) < len(mine):
            verdict = Verdict.UNKNOWN  # an account without a forecast might be the risky one
        hf = worst.account.health_factor
        return _Judgement(
            verdict,
            f"Liquidation risk {percent:.1f} % within 24 h",
            f"{self._where(worst.account)}: estimated {percent:.1f} % chance of liquidation "
            f"within 24 h (health factor {hf:.3f}), above your alert level {rule.threshold} %.",
        )

    def _price(self, rule: AlertRule, snapshot: Snapshot) -> _Judgement:
        f = rule.filters
        asset, currency = f.get("asset", ""), f.get("currency", snapshot.currency)
        price: Decimal | None = None
        symbol = asset
        for h in snapshot.holdings:
            if h.asset_id == asset and not h.is_spam:
                symbol = clean_text(h.symbol, 32)
                if h.price is not None and snapshot.currency == currency:
                    price = h.price
                    break
        if symbol == asset and self._catalog is not None:  # not held: the catalog's symbol
            symbol = next((clean_text(s, 32) for a, s in self._catalog() if a == asset), asset)
        if price is None and self._prices is not None:
            price = self._prices(asset, currency)
        if price is None:
            return _Judgement(Verdict.UNKNOWN)
        above = rule.kind is AlertKind.PRICE_ABOVE
        verdict = (judge_above if above else judge_below)(price, rule.threshold)
        word = "above" if above else "below"
        named = asset_label(asset, symbol, self._chain_names) if symbol != asset else asset
        level = format_level(rule.threshold)
        return _Judgement(
            verdict,
            f"{named} {word} {level} {currency}",
            f"{named} is at {format_number(price)} {currency}, {word} your alert level "
            f"{level} {currency}.",
        )

    def _daily_move(self, rule: AlertRule, snapshot: Snapshot) -> _Judgement:
        if any(s.state is SourceState.FAILED for s in snapshot.sources):
            return _Judgement(Verdict.UNKNOWN)  # a chain missing entirely would look like a crash
        before = self._snapshots.at_or_before(snapshot.taken_at - DAY)
        if (
            before is None
            or before.taken_at < snapshot.taken_at - 2 * DAY  # a week-old total is not "a day"
            or before.currency != snapshot.currency
            or before.total == 0
        ):
            return _Judgement(Verdict.UNKNOWN)
        move = (snapshot.total - before.total) / abs(before.total) * 100
        word = "rose" if move > 0 else "fell"
        hours = (snapshot.taken_at - before.taken_at) / 3600
        return _Judgement(
            judge_above(abs(move), rule.threshold),
            f"Portfolio {word} {abs(move):.1f} % in {hours:.0f} h",
            f"Total value {word} {abs(move):.1f} % in {hours:.0f} h: "
            f"{format_number(before.total)} → {format_number(snapshot.total)} "
            f"{snapshot.currency} (alert level {rule.threshold} %).",
        )

    # ---- APY ------------------------------------------------------------------------------------
    def _held_rates(
        self, rule: AlertRule, snapshot: Snapshot
    ) -> list[tuple[PositionRate, str, str]]:
        """(rate, wallet, symbol) of every held, non-spam position with a rate that the rule's
        filters (asset, wallet, protocol) select."""
        f = rule.filters
        rates = {r.key: r for r in snapshot.rates}
        want_wallet = f["wallet"].rsplit(":", 1)[-1].lower() if "wallet" in f else None
        found: list[tuple[PositionRate, str, str]] = []
        for h in snapshot.holdings:
            rate = rates.get((h.asset_id, h.position))
            if rate is None or h.is_spam or not h.raw:
                continue
            if "asset" in f and h.asset_id != f["asset"]:
                continue
            if "protocol" in f and position_protocol(h.position) != f["protocol"]:
                continue
            if want_wallet and h.wallet.rsplit(":", 1)[-1].lower() != want_wallet:
                continue
            found.append((rate, h.wallet, clean_text(h.symbol, 32)))
        return found

    def _rate_where(self, rate: PositionRate, wallet: str, symbol: str) -> str:
        protocol = YIELD_PROTOCOLS.get(rate.protocol, rate.protocol or "a protocol")
        chain = self._chain_names.get(rate.chain, rate.chain)
        side = {RateSide.BORROW: "borrowed", RateSide.SUPPLY: "supplied"}.get(rate.side, "held")
        return f"{symbol} {side} on {protocol} ({chain}), wallet {short_address(wallet)}"

    def _apy_below(self, rule: AlertRule, snapshot: Snapshot) -> _Judgement:
        earning = [
            (rate.apy * 100, rate, w, s)
            for rate, w, s in self._held_rates(rule, snapshot)
            if rate.side is not RateSide.BORROW  # a debt's rate falling is good news
        ]
        if not earning:
            return _Judgement(Verdict.UNKNOWN)  # no rate read: the last state holds
        apy, rate, wallet, symbol = min(earning, key=lambda row: row[0])
        return _Judgement(
            judge_below(apy, rule.threshold),
            f"APY {apy:.2f} % is below {format_level(rule.threshold)} %",
            f"{self._rate_where(rate, wallet, symbol)}: earning {apy:.2f} % a year, below "
            f"your alert level {format_level(rule.threshold)} %.",
        )

    def _apy_move(self, rule: AlertRule, snapshot: Snapshot) -> _Judgement:
        before = self._snapshots.at_or_before(snapshot.taken_at - DAY)
        if before is None or before.taken_at < snapshot.taken_at - 2 * DAY:
            return _Judgement(Verdict.UNKNOWN)  # no rate from about a day ago to compare with
        then = {r.key: r for r in before.rates}
        moves = [
            (abs(rate.apy - then[rate.key].apy) * 100, rate, then[rate.key], w, s)
            for rate, w, s in self._held_rates(rule, snapshot)
            if rate.key in then
        ]
        if not moves:
            return _Judgement(Verdict.UNKNOWN)
        points, rate, old, wallet, symbol = max(moves, key=lambda row: row[0])
        word = "rose" if rate.apy > old.apy else "fell"
        hours = (snapshot.taken_at - before.taken_at) / 3600
        return _Judgement(
            judge_above(points, rule.threshold),
            f"APY {word} {points:.2f} points in {hours:.0f} h",
            f"{self._rate_where(rate, wallet, symbol)}: APY {word} from {old.apy * 100:.2f} % to "
            f"{rate.apy * 100:.2f} % in {hours:.0f} h, more than your alert level "
            f"{format_level(rule.threshold)} points.",
        )


class PriceCache(Protocol):
    """``SqlPriceStore``: cached USD quotes and FX rates (units of a currency per dollar)."""

    def cached(self, asset_ids: Iterable[str], currency: str = "USD") -> dict[str, Quote]: ...

    def rate(self, code: str) -> Quote | None: ...


def cached_price_lookup(store: PriceCache) -> PriceLookup:
    """Prices of assets not in the snapshot, from the price cache, converted with its FX rate."""

    def lookup(asset_id: str, currency: str) -> Decimal | None:
        quote = store.cached([asset_id]).get(asset_id)
        if quote is None:
            return None
        if currency.upper() == "USD":
            return quote.price
        rate = store.rate(currency)
        return None if rate is None else quote.price * rate.price

    return lookup
