"""The privacy ledger on SQLite: contacts summed per host and purpose, and per host and
address (tables of revision 0014). A batch of contacts is one transaction of upserts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.dialects.sqlite import insert

from app.domain.privacy import Contact, HostReport, SeenAddress
from app.storage.tables import privacy_contacts, privacy_revealed


@dataclass
class _Sum:
    requests: int = 0
    refused: int = 0
    first_at: int | None = None
    last_at: int | None = None
    last_refused_at: int | None = None


def _min(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


def _max(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


class SqlPrivacyStore:
    """Implements the recorder's ContactSink and the report the Privacy page reads."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add_contacts(self, contacts: Sequence[Contact]) -> None:
        sums: dict[tuple[str, str], _Sum] = defaultdict(_Sum)
        seen: dict[tuple[str, str], list[int]] = {}
        for c in contacts:
            s = sums[(c.host, c.purpose)]
            if c.refused:
                s.refused += 1
                s.last_refused_at = _max(s.last_refused_at, c.at)
                continue
            s.requests += 1
            s.first_at, s.last_at = _min(s.first_at, c.at), _max(s.last_at, c.at)
            for address in c.addresses:
                got = seen.setdefault((c.host, address), [0, c.at, c.at])
                got[0] += 1
                got[1], got[2] = min(got[1], c.at), max(got[2], c.at)
        if not sums:
            return
        pc, pr = privacy_contacts, privacy_revealed
        with self._engine.begin() as con:
            rows = [
                {"host": h, "purpose": p, "requests": s.requests, "refused": s.refused,
                 "first_at": s.first_at, "last_at": s.last_at,
                 "last_refused_at": s.last_refused_at}
                for (h, p), s in sums.items()
            ]  # fmt: skip
            stmt = insert(pc)
            ex = stmt.excluded
            con.execute(
                stmt.on_conflict_do_update(
                    index_elements=[pc.c.host, pc.c.purpose],
                    set_={
                        "requests": pc.c.requests + ex.requests,
                        "refused": pc.c.refused + ex.refused,
                        "first_at": func.coalesce(func.min(pc.c.first_at, ex.first_at),
                                                  pc.c.first_at, ex.first_at),
                        "last_at": func.coalesce(func.max(pc.c.last_at, ex.last_at),
                                                 pc.c.last_at, ex.last_at),
                        "last_refused_at": func.coalesce(
                            func.max(pc.c.last_refused_at, ex.last_refused_at),
                            pc.c.last_refused_at, ex.last_refused_at),
                    },
                ),
                rows,
            )  # fmt: skip
            if seen:
                stmt2 = insert(pr)
                ex2 = stmt2.excluded
                con.execute(
                    stmt2.on_conflict_do_update(
                        index_elements=[pr.c.host, pr.c.address],
                        set_={
                            "requests": pr.c.requests + ex2.requests,
                            "first_at": func.min(pr.c.first_at, ex2.first_at),
                            "last_at": func.max(pr.c.last_at, ex2.last_at),
                        },
                    ),
                    [
                        {"host": h, "address": a, "requests": n, "first_at": f, "last_at": la}
                        for (h, a), (n, f, la) in seen.items()
                    ],
                )

    def report(self) -> list[HostReport]:
        """Every host ever contacted or refused, most requests first."""
        with self._engine.connect() as con:
            contacts = con.execute(select(privacy_contacts)).mappings().all()
            revealed = (
                con.execute(select(privacy_revealed).order_by(privacy_revealed.c.address))
                .mappings()
                .all()
            )
        hosts: dict[str, _Sum] = defaultdict(_Sum)
        purposes: dict[str, list[str]] = defaultdict(list)
        for r in contacts:
            s = hosts[r["host"]]
            s.requests += int(r["requests"])
            s.refused += int(r["refused"])
            s.first_at = _min(s.first_at, r["first_at"])
            s.last_at = _max(s.last_at, r["last_at"])
            s.last_refused_at = _max(s.last_refused_at, r["last_refused_at"])
            purposes[r["host"]].append(str(r["purpose"]))
        seen: dict[str, list[SeenAddress]] = defaultdict(list)
        for r in revealed:
            seen[r["host"]].append(
                SeenAddress(str(r["address"]), int(r["requests"]), int(r["first_at"]),
                            int(r["last_at"]))
            )  # fmt: skip
        out = [
            HostReport(
                host, tuple(sorted(purposes[host])), s.requests, s.refused, s.first_at,
                s.last_at, s.last_refused_at, tuple(seen.get(host, ())),
            )
            for host, s in hosts.items()
        ]  # fmt: skip
        out.sort(key=lambda h: (-len(h.addresses), -h.requests, h.host))
        return out

    def clear(self) -> None:
        """Forget the record (the person asked to start it again)."""
        with self._engine.begin() as con:
            con.execute(delete(privacy_revealed))
            con.execute(delete(privacy_contacts))
