"""What counts as one of the person's addresses in the privacy ledger, and whose it is.

A Bitcoin server learns more than a wallet's listed address: an Esplora server is asked about
every address derived from a watched key (receive and change chains, up to the gap limit), and
an Electrum server is sent each address's script hash instead of the address. Both are the
person's addresses, so both are looked for in requests: a script hash stands for its address.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from app.domain.addresses import AddressFamily
from app.domain.model import Wallet

log = logging.getLogger(__name__)

# a value to look for in requests: an address, or (a value standing for it, the address)
Watched = str | tuple[str, str]


def watched_addresses(
    wallets: Iterable[Wallet], derived: Callable[[int], Iterable[str]]
) -> tuple[list[Watched], dict[str, str]]:
    """The values to search requests for, and each address's wallet name.

    ``derived`` gives the addresses derived so far from a watched Bitcoin key (by wallet id)."""
    values: list[Watched] = []
    names: dict[str, str] = {}
    for wallet in wallets:
        values.append(wallet.address)
        names[wallet.address] = wallet.display_name
        if wallet.family is not AddressFamily.BITCOIN:
            continue
        from app.domain.bitcoin import script_of, scripthash  # only with a Bitcoin wallet

        addresses = [wallet.address]
        if wallet.watch is not None and wallet.id is not None:
            addresses += [a for a in derived(wallet.id) if a != wallet.address]
        for address in addresses:
            try:
                hashed = scripthash(script_of(address))
            except Exception:  # a damaged cache row: not searched, never fatal
                log.warning("a cached Bitcoin address could not be read", exc_info=True)
                continue
            if address != wallet.address:
                values.append(address)
                names[address] = wallet.display_name
            values.append((hashed, address))
    return values, names
