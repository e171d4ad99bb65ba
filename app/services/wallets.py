"""Adding, labelling, grouping and removing watch-only wallets."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from app.domain.addresses import AddressFamily, ParsedAddress, is_ens_name, parse_address
from app.domain.errors import (
    ChainfolioError,
    DuplicateWalletError,
    InvalidAddressError,
    WalletNotFoundError,
)
from app.domain.model import MAX_GROUP_LENGTH, MAX_LABEL_LENGTH, Wallet
from app.domain.ports import NameResolver, WalletRepository
from app.domain.secret_text import refuse_secret
from app.domain.text import MAX_CHAIN_REFERENCE, clean_text, person_text

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WalletEntry:
    """One address of a list to add; ``where`` names it for the person ("line 7")."""

    where: str
    text: str
    label: str = ""
    group: str = ""
    problem: str | None = None  # found while reading the list (e.g. too many columns)


@dataclass(frozen=True, slots=True)
class AddedWallets:
    added: list[Wallet]
    skipped: int  # already watched, or repeated in the list


SHOWN_PROBLEMS = 5


def _default_label(parsed: ParsedAddress) -> str:
    """A Bitcoin key or descriptor is named by its shortened form (never in full), so the list
    does not show it as its first address alone."""
    if parsed.watch is None:
        return ""
    from app.domain.bitcoin import shorten_key

    return person_text(f"Bitcoin {shorten_key(parsed.watch)}", "wallet label", MAX_LABEL_LENGTH)


class WalletService:
    def __init__(self, repo: WalletRepository, resolver: NameResolver | None = None) -> None:
        self._repo = repo
        self._resolver = resolver

    @property
    def resolves_names(self) -> bool:
        return self._resolver is not None

    def check(self, text: str) -> ParsedAddress | str:
        """Validate input without saving: a parsed address, or the ENS name to resolve.

        Raises InvalidAddressError (or SecretInputError) with a message for the person.
        """
        stripped = text.strip()
        if is_ens_name(stripped):
            if self._resolver is None:
                raise InvalidAddressError(
                    "ENS names cannot be resolved here: enter the 0x address."
                )
            return stripped.lower()
        parsed = parse_address(stripped)
        existing = self._repo.get_by_address(parsed.address)
        if existing is not None:
            if parsed.watch is not None:
                from app.domain.bitcoin import shorten_key

                if existing.watch is None:  # the address alone is watched, not this key
                    raise DuplicateWalletError(
                        f"The first address of {shorten_key(parsed.watch)}, {parsed.address}, "
                        "is already watched on its own. Remove that wallet first, then add "
                        "the key: its coins are then counted in the key's wallet."
                    )
                raise DuplicateWalletError(
                    f"{shorten_key(parsed.watch)} is already in your wallets (its first address "
                    f"{parsed.address} is)."
                )
            raise DuplicateWalletError(f"{parsed.address} is already in your wallets.")
        return parsed

    async def add(self, text: str, label: str = "", group: str = "") -> Wallet:
        clean_label = person_text(label, "wallet label", MAX_LABEL_LENGTH)
        clean_group = person_text(group, "wallet group", MAX_GROUP_LENGTH)
        checked = self.check(text)
        ens_name: str | None = None
        if isinstance(checked, str):
            ens_name = checked
            assert self._resolver is not None
            resolved = await self._resolver.resolve(ens_name)
            if resolved is None:
                raise InvalidAddressError(f"The ENS name {ens_name} does not point to an address.")
            checked = parse_address(resolved)
            if self._repo.get_by_address(checked.address) is not None:
                raise DuplicateWalletError(
                    f"{ens_name} resolves to {checked.address}, which is already in your wallets."
                )
        wallet = Wallet(
            address=checked.address,
            family=checked.family,
            label=clean_label or _default_label(checked),
            group=clean_group,
            ens_name=ens_name,
            watch=checked.watch,
        )
        saved = self._repo.add(wallet)
        log.info("added %s wallet id=%s", saved.family.value, saved.id)
        return saved

    async def add_many(self, entries: Sequence[WalletEntry]) -> AddedWallets:
        """Add a list of addresses in one transaction, all or none: a list with a bad entry adds
        nothing, so it can be fixed and given again as it is. Addresses already watched (or
        repeated) are skipped. Problems name each entry by ``where``, never by its text."""
        known = {w.address for w in self._repo.list()}
        problems: list[str] = []
        batch: list[Wallet] = []
        skipped = 0
        for entry in entries:
            try:
                wallet = await self._entry_wallet(entry)
            except ChainfolioError as exc:
                problems.append(f"{entry.where}: {exc}")
                continue
            if wallet.address in known:
                skipped += 1
                continue
            known.add(wallet.address)
            batch.append(wallet)
        if problems:
            more = len(problems) - SHOWN_PROBLEMS
            shown = " / ".join(problems[:SHOWN_PROBLEMS]) + (
                f" / and {more} more" if more > 0 else ""
            )
            raise InvalidAddressError(
                f"Nothing was added, so the list can be fixed and given again as it is "
                f"({len(problems)} of {len(entries)} not usable): {shown}"
            )
        saved = self._repo.add_many(batch)
        log.info("added %d wallets in one transaction (%d skipped)", len(saved), skipped)
        return AddedWallets(saved, skipped)

    async def _entry_wallet(self, entry: WalletEntry) -> Wallet:
        if entry.problem is not None:
            raise InvalidAddressError(entry.problem)
        label = person_text(entry.label, "wallet label", MAX_LABEL_LENGTH)
        group = person_text(entry.group, "wallet group", MAX_GROUP_LENGTH)
        stripped = entry.text.strip()
        ens_name: str | None = None
        if is_ens_name(stripped):
            if self._resolver is None:
                raise InvalidAddressError(
                    "ENS names cannot be resolved here: enter the 0x address."
                )
            ens_name = stripped.lower()
            resolved = await self._resolver.resolve(ens_name)
            if resolved is None:
                raise InvalidAddressError(f"The ENS name {ens_name} does not point to an address.")
            stripped = resolved
        parsed = parse_address(stripped)
        return Wallet(
            parsed.address,
            parsed.family,
            label or _default_label(parsed),
            group,
            ens_name,
            watch=parsed.watch,
        )

    def list(self) -> list[Wallet]:
        return self._repo.list()

    def find(self, text: str) -> Wallet:
        """Find a wallet by its address (any case for EVM) or its ENS name."""
        refuse_secret(text, "wallet address")
        stripped = text.strip()
        wallets = self._repo.list()
        for wallet in wallets:
            if stripped.lower() == (wallet.ens_name or "").lower():
                return wallet
            if wallet.family is AddressFamily.EVM and stripped.lower() == wallet.address.lower():
                return wallet
            if stripped in (wallet.address, wallet.watch):
                return wallet
        raise WalletNotFoundError(
            f"No wallet {clean_text(stripped, MAX_CHAIN_REFERENCE)!r} in your list."
        )

    def edit(self, wallet: Wallet, label: str | None = None, group: str | None = None) -> Wallet:
        """Change the label and/or group; both are checked before anything is written."""
        clean_label = (
            None if label is None else person_text(label, "wallet label", MAX_LABEL_LENGTH)
        )
        clean_group = (
            None if group is None else person_text(group, "wallet group", MAX_GROUP_LENGTH)
        )
        updated = wallet
        if clean_label is not None:
            updated = updated.with_label(clean_label)
        if clean_group is not None:
            updated = updated.with_group(clean_group)
        return self._repo.update(updated)

    def remove(self, wallet: Wallet) -> None:
        if wallet.id is None:
            raise WalletNotFoundError("That wallet is not saved.")
        self._repo.remove(wallet.id)
        log.info("removed wallet id=%s", wallet.id)
