"""Where a new address has been used: the EVM chains on which it has a nonce or a balance.

Asked when a person pastes addresses to watch, so the first-run page can say "used on
Ethereum, Base" next to each one before anything is saved. Every enabled EVM chain is asked
at once, each with its own time limit; a chain that does not answer is named as "could not
check", never as an error: being offline must not stop anyone from adding an address.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.domain.chains import ChainFamily, ChainSpec
from app.domain.ports import ActivityProbe

log = logging.getLogger(__name__)

SHOWN_NAMES = 4


def _names(names: Sequence[str]) -> str:
    more = len(names) - SHOWN_NAMES
    return ", ".join(names[:SHOWN_NAMES]) + (f" and {more} more" if more > 0 else "")


@dataclass(frozen=True, slots=True)
class AddressActivity:
    """What the chains said about one address. Chain names are in the registry's order."""

    address: str
    active: tuple[str, ...]  # chains with a nonce or a balance above zero
    quiet: tuple[str, ...]  # chains that answered: never used there
    unchecked: tuple[str, ...]  # chains that did not answer in time

    def describe(self) -> str:
        """One plain sentence for the person."""
        if not self.active and not self.quiet:
            if not self.unchecked:
                return "No EVM network is switched on to check."
            return "Could not check where it is used: no network answered."
        if self.active:
            text = f"Used on {_names(self.active)}"
        else:
            count = len(self.quiet)
            text = f"No activity found on the {count} network{'s' if count != 1 else ''} checked"
        if self.unchecked:
            text += f"; could not check {_names(self.unchecked)}"
        return text + "."


class ActivityService:
    """Asks every enabled EVM chain, concurrently, which addresses it has seen."""

    def __init__(
        self,
        chains: Callable[[], Sequence[ChainSpec]],
        probe: ActivityProbe,
        timeout: Callable[[], float] | float = 8.0,
    ) -> None:
        self._chains = chains
        self._probe = probe
        self._timeout = timeout

    async def find(self, addresses: Sequence[str]) -> dict[str, AddressActivity]:
        """Activity of each EVM address (already validated, EIP-55). Never raises for the
        network: a chain that fails or runs out of time is listed in ``unchecked``."""
        wanted = list(dict.fromkeys(addresses))
        if not wanted:
            return {}
        specs = [s for s in self._chains() if s.family is ChainFamily.EVM and s.enabled]
        limit = self._timeout() if callable(self._timeout) else self._timeout

        async def ask(spec: ChainSpec) -> set[str] | None:
            try:
                return await asyncio.wait_for(self._probe.active(spec, wanted), limit)
            except Exception as exc:  # network trouble of any kind: "could not check"
                log.info("activity check on %s failed: %s", spec.chain_id, exc, exc_info=True)
                return None

        answers = await asyncio.gather(*(ask(s) for s in specs))
        found: dict[str, AddressActivity] = {}
        lowered = {a: a.lower() for a in wanted}
        for address in wanted:
            active: list[str] = []
            quiet: list[str] = []
            unchecked: list[str] = []
            for spec, answer in zip(specs, answers, strict=True):
                if answer is None:
                    unchecked.append(spec.name)
                elif lowered[address] in {a.lower() for a in answer}:
                    active.append(spec.name)
                else:
                    quiet.append(spec.name)
            found[address] = AddressActivity(address, tuple(active), tuple(quiet), tuple(unchecked))
        return found
