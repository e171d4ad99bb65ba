"""Reading a list of wallets for ``wallets import``: one address per line, or CSV rows
``address,label[,group]``; blank lines and ``#`` comments are skipped, and so is a header row
whose first cell is ``address``. ``-`` reads standard input."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from app.domain.errors import ChainfolioError, InvalidAddressError
from app.services.wallets import WalletEntry


def read_wallet_list(name: str) -> list[WalletEntry]:
    if name == "-":
        text = sys.stdin.read()
    else:
        try:
            text = Path(name).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
            raise ChainfolioError(f"The file {name} cannot be read ({why}).") from None
    return parse_wallet_list(text)


def parse_wallet_list(text: str) -> list[WalletEntry]:
    entries: list[WalletEntry] = []
    for number, row in enumerate(csv.reader(text.splitlines()), start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if not entries and cells[0].lower() == "address":
            continue  # a header row
        where = f"line {number}"
        if len(cells) > 3:
            entries.append(
                WalletEntry(where, "", problem="more than three columns (address,label,group)")
            )
            continue
        address, label, group = (*cells, "", "")[:3]
        entries.append(WalletEntry(where, address, label, group))
    if not entries:
        raise InvalidAddressError("The list holds no address: nothing was added.")
    return entries
