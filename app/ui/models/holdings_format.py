"""Text for numbers in the portfolio view. Rounding happens only here, for display; copies and
exports use :func:`exact`, which never rounds and never switches to exponent notation."""

from __future__ import annotations

from decimal import Decimal

MINUS = "\u2212"  # a real minus sign: the same width as "+", easier to read than a hyphen


def exact(value: Decimal | None) -> str:
    """The full value as plain digits (``1E+3`` -> ``1000``, ``1.5E-7`` -> ``0.00000015``)."""
    if value is None:
        return ""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _signed(text: str, value: Decimal, plus: bool) -> str:
    if text.startswith("-"):
        return MINUS + text[1:]
    return "+" + text if plus and value > 0 else text


def plain_money(value: Decimal, currency: str, plus: bool = False) -> str:
    """Two decimals, thousands grouped, hyphen minus; ``plus`` marks gains with "+" (the tray's
    tooltip and the Risk tab, where values are whole amounts of money)."""
    text = f"{value:,.2f}"
    if plus and value > 0:
        text = "+" + text
    return f"{text} {currency}"


_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_BIG = ((Decimal(10) ** 12, "T"), (Decimal(10) ** 9, "B"))
_COMPACT_FROM = Decimal(10) ** 9
_SCIENTIFIC_FROM = Decimal(10) ** 15
_DIGITS = 10  # significant digits an amount cell shows at most (the tooltip has them all)


def _compact(value: Decimal) -> str:
    """A huge amount in a dozen characters: ``1.16 B``, ``42.5 T``, ``1.16 × 10⁷⁷``."""
    magnitude = abs(value)
    if magnitude >= _SCIENTIFIC_FROM:
        exponent = magnitude.adjusted()
        mantissa = magnitude.scaleb(-exponent)
        text = f"{mantissa:.2f} × 10{str(exponent).translate(_SUPERSCRIPT)}"
    else:
        scale, suffix = next((s, n) for s, n in _BIG if magnitude >= s)
        short = f"{magnitude / scale:.3g}"
        text = f"{short} {suffix}"
    return MINUS + text if value < 0 else text


def amount_text(value: Decimal, places: int = 6) -> str:
    """An amount readable at a glance and never in exponent notation: grouped thousands,
    trailing zeros trimmed, at most ~10 significant digits, a real minus sign.

    Amounts from a billion up are compact (``1.16 B``, ``1.16 × 10⁷⁷``: a 78-digit balance
    must not widen the column); small ones keep four significant digits down to ``places``
    (at least 8) decimals, below which they read ``<0.00000001``. ``places`` above 8 (exact
    tooltips elsewhere) turns the compact form off. The exact figure is :func:`exact`.
    """
    if value == 0:
        return "0"
    magnitude = abs(value)
    if places <= 8 and magnitude >= _COMPACT_FROM:
        return _compact(value)
    if magnitude < 1:
        limit = max(places, 8)
        shown = min(limit, -magnitude.adjusted() + 3)
        if magnitude < Decimal(1).scaleb(-limit) / 2:  # rounds to zero at the last place
            floor = "0." + "0" * (limit - 1) + "1"
            return f"<{floor}" if value > 0 else f">{MINUS}{floor}"
        text = f"{value:.{shown}f}".rstrip("0").rstrip(".")
        return _signed(text, value, False)
    digits = max(_DIGITS, places + 1)
    decimals = min(places, max(0, digits - (magnitude.adjusted() + 1)))
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return _signed(text, value, False)


def format_number(value: Decimal | None, plus: bool = False) -> str:
    """Money without the currency: two decimals from 1 up, four significant digits below."""
    if value is None:
        return "—"
    if value == 0:
        return "0.00"
    magnitude = abs(value)
    if magnitude >= 1:
        text = f"{value:,.2f}"
    else:
        # digits after the point up to the 4th significant one (0.0001234 -> 0.0001234)
        places = max(2, -magnitude.adjusted() + 3)
        text = f"{value:.{min(places, 12)}f}"
        if "." in text and places > 2:
            text = text.rstrip("0")
            if len(text.partition(".")[2]) < 2:
                text += "0" * (2 - len(text.partition(".")[2]))
    return _signed(text, value, plus)


def money_text(value: Decimal | None, currency: str, plus: bool = False) -> str:
    """Money for the holdings view: :func:`format_number` and the currency."""
    if value is None:
        return "—"
    return f"{format_number(value, plus)} {currency}"


def format_percent(value: Decimal | None, plus: bool = True) -> str:
    if value is None:
        return "—"
    text = f"{value:,.1f}"
    if text in ("-0.0", "0.0"):
        return "0.0 %"
    return _signed(text, value, plus) + " %"


def describe_age(seconds: float) -> str:
    if seconds < 90:
        return "just now"
    if seconds < 90 * 60:
        return f"{int(seconds // 60)} min ago"
    if seconds < 36 * 3600:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86400)} days ago"
