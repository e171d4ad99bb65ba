"""Text for numbers in the portfolio view. Rounding happens only here, for display; copies and
exports use :func:`exact`, which never rounds and never switches to exponent notation."""

from __future__ import annotations

from decimal import Decimal

MINUS = "\u2212"  # a real minus sign: the same width as "+", easier to read than a hyphen
_TINY = Decimal("0.000001")


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


def amount_text(value: Decimal, places: int = 6) -> str:
    """Grouped thousands, trailing zeros trimmed, small amounts readable, a real minus sign."""
    if value == 0:
        return "0"
    if abs(value) < _TINY:
        return _signed(f"{value:.2E}", value, False)
    text = f"{value:,.{places}f}".rstrip("0").rstrip(".")
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
