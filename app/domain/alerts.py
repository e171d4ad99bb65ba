"""Alert rules and how one is judged against a snapshot.

A rule fires once per crossing: when its condition becomes true it fires and is marked
``fired``; it stays quiet while the condition holds and re-arms only once the value is back on
the safe side by a small margin (:data:`REARM_MARGIN`, 2 % of the threshold), so a value
wobbling around the threshold does not fire on every refresh. When the data needed is missing
(an unpriced asset, a probability without enough history, a chain that failed), the rule keeps
its state: missing data neither fires nor re-arms.

A rule's ``target`` is a few ``key=value`` words: ``wallet=0x… protocol=aave-v3`` narrow the
lending rules, ``asset=<CAIP-19> currency=USD`` name the asset and the currency of a price level.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from app.domain.errors import ChainfolioError

REARM_MARGIN = Decimal("0.02")
LENDING_PROTOCOLS = {
    "aave-v3": "Aave v3", "compound-v3": "Compound v3", "morpho-blue": "Morpho Blue",
    "spark": "Spark",
}  # fmt: skip
# Protocols whose positions carry a rate (app.domain.rates), for the APY rules' protocol filter.
YIELD_PROTOCOLS = {**LENDING_PROTOCOLS, "sky": "Sky Savings", "pendle": "Pendle"}


class AlertKind(enum.StrEnum):
    HEALTH_FACTOR_BELOW = "health_factor_below"
    LIQUIDATION_PROBABILITY_ABOVE = "liquidation_probability_above"  # threshold in percent
    PRICE_ABOVE = "price_above"
    PRICE_BELOW = "price_below"
    DAILY_MOVE_ABOVE = "daily_move_above"  # threshold in percent
    APY_BELOW = "apy_below"  # an earning position's APY, threshold in percent
    APY_MOVE_ABOVE = "apy_move_above"  # a held position's APY change in a day, in points


APY_KINDS = frozenset({AlertKind.APY_BELOW, AlertKind.APY_MOVE_ABOVE})


class AlertRuleError(ChainfolioError, ValueError):
    """A rule that cannot be checked: bad threshold, unknown asset or wallet."""


class Verdict(enum.Enum):
    BREACH = "breach"  # condition true: fires if armed
    CLEAR = "clear"  # safely false: re-arms if fired
    NEAR = "near"  # false, but within the re-arm margin: state kept
    UNKNOWN = "unknown"  # data missing: state kept


@dataclass(frozen=True, slots=True)
class AlertRule:
    id: int
    kind: AlertKind
    target: str
    threshold: Decimal
    enabled: bool
    fired: bool
    created_at: int
    last_fired_at: int | None

    @property
    def filters(self) -> dict[str, str]:
        return parse_target(self.target)

    def describe(
        self,
        symbols: Mapping[str, str] | None = None,
        chain_names: Mapping[str, str] | None = None,
    ) -> str:
        """One line for lists: what the rule watches. An asset is named by its symbol and its
        chain ("ETH on Arbitrum One") when ``symbols`` knows it, else by its CAIP-19 id."""
        f = self.filters
        asset_id = f.get("asset", "?")
        symbol = (symbols or {}).get(asset_id)
        asset = asset_label(asset_id, symbol, chain_names) if symbol else asset_id
        scope = " ".join(
            part
            for part in (
                YIELD_PROTOCOLS.get(f["protocol"], f["protocol"]) if "protocol" in f else "",
                asset if "asset" in f and self.kind in APY_KINDS else "",
                f"wallet {short_address(f['wallet'])}" if "wallet" in f else "",
            )
            if part
        )
        scope = f" ({scope})" if scope else ""
        t = self.threshold
        match self.kind:
            case AlertKind.HEALTH_FACTOR_BELOW:
                return f"Health factor below {t}{scope}"
            case AlertKind.LIQUIDATION_PROBABILITY_ABOVE:
                return f"Liquidation probability (24 h) above {t} %{scope}"
            case AlertKind.PRICE_ABOVE:
                return f"{asset} above {format_level(t)} {f.get('currency', '')}".rstrip()
            case AlertKind.PRICE_BELOW:
                return f"{asset} below {format_level(t)} {f.get('currency', '')}".rstrip()
            case AlertKind.DAILY_MOVE_ABOVE:
                return f"Total value moves more than {t} % in a day"
            case AlertKind.APY_BELOW:
                return f"APY of a position below {t} %{scope}"
            case AlertKind.APY_MOVE_ABOVE:
                return f"APY of a position moves more than {t} points in a day{scope}"


@dataclass(frozen=True, slots=True)
class AlertEvent:
    id: int
    rule_id: int
    fired_at: int
    message: str


@dataclass(frozen=True, slots=True)
class FiredAlert:
    """What a notification shows: ``title`` is short, ``message`` says what crossed and where."""

    rule_id: int
    kind: AlertKind
    title: str
    message: str
    fired_at: int


def chain_of(asset_id: str) -> str:
    """The CAIP-2 chain of a CAIP-19 asset id ("eip155:1/slip44:60" -> "eip155:1")."""
    return asset_id.split("/", 1)[0]


def asset_label(asset_id: str, symbol: str, chain_names: Mapping[str, str] | None = None) -> str:
    """ "ETH on Ethereum": a symbol alone is ambiguous (ETH is on a dozen chains)."""
    chain = chain_of(asset_id)
    return f"{symbol} on {(chain_names or {}).get(chain, chain)}"


def format_level(value: Decimal) -> str:
    """An alert level as the person gave it, with thousands separators: 2,000 / 1.25 / 0.0004."""
    if not value.is_finite():
        return str(value)
    normal = value.normalize()
    if normal == normal.to_integral_value():
        return f"{int(normal):,}"
    return f"{normal:,f}"


def parse_target(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for word in text.split():
        key, sep, value = word.partition("=")
        if sep and value:
            out[key] = value
    return out


def make_target(**parts: str | None) -> str:
    for key, value in parts.items():
        if value is not None and (not value or any(c.isspace() or c == "=" for c in value)):
            raise AlertRuleError(f"{key} cannot be empty or contain spaces: {value!r}")
    return " ".join(f"{k}={v}" for k, v in parts.items() if v is not None)


def short_address(address: str) -> str:
    address = address.rsplit(":", 1)[-1]
    return address if len(address) <= 12 else f"{address[:6]}…{address[-4:]}"


def parse_threshold(kind: AlertKind, text: str | Decimal) -> Decimal:
    """The threshold as an exact Decimal, or a message saying what a sensible one looks like."""
    try:
        value = Decimal(str(text).strip().rstrip("%").strip())
    except InvalidOperation:
        raise AlertRuleError(f"not a number: {str(text)!r}") from None
    if not value.is_finite():
        raise AlertRuleError(f"not a usable number: {str(text)!r}")
    match kind:
        case AlertKind.HEALTH_FACTOR_BELOW:
            if value <= 0 or value > 100:
                raise AlertRuleError(
                    f"a health factor threshold is a positive number such as 1.2, not {value}"
                )
        case AlertKind.LIQUIDATION_PROBABILITY_ABOVE:
            if value <= 0 or value >= 100:
                raise AlertRuleError(
                    f"a probability threshold is a percentage between 0 and 100 (e.g. 5), "
                    f"not {value}"
                )
        case AlertKind.PRICE_ABOVE | AlertKind.PRICE_BELOW:
            if value <= 0:
                raise AlertRuleError(f"a price level must be above zero, not {value}")
        case AlertKind.DAILY_MOVE_ABOVE:
            if value <= 0 or value > 1000:
                raise AlertRuleError(f"a daily move is a percentage above 0 (e.g. 10), not {value}")
        case AlertKind.APY_BELOW:
            if value <= -100 or value > 10_000:
                raise AlertRuleError(f"an APY level is a percentage such as 3.5, not {value}")
        case AlertKind.APY_MOVE_ABOVE:
            if value <= 0 or value > 10_000:
                raise AlertRuleError(
                    f"an APY move is a number of percentage points above 0 (e.g. 2), not {value}"
                )
    return value


def judge_below(value: Decimal, threshold: Decimal) -> Verdict:
    """For "X below threshold" rules: fires under it, re-arms above threshold * (1 + margin)."""
    if value < threshold:
        return Verdict.BREACH
    return Verdict.CLEAR if value >= threshold * (1 + REARM_MARGIN) else Verdict.NEAR


def judge_above(value: Decimal, threshold: Decimal) -> Verdict:
    """For "X above threshold" rules: fires over it, re-arms below threshold * (1 - margin)."""
    if value > threshold:
        return Verdict.BREACH
    return Verdict.CLEAR if value <= threshold * (1 - REARM_MARGIN) else Verdict.NEAR


def next_state(fired: bool, verdict: Verdict) -> tuple[bool, bool]:
    """(fired after this check, whether it fires now): the once-per-crossing rule."""
    if verdict is Verdict.BREACH:
        return True, not fired
    if verdict is Verdict.CLEAR:
        return False, False
    return fired, False
