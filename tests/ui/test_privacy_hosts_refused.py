"""A host that was only ever refused was never contacted: its "Last contact" cell says when it
was refused, not a bare time that reads as a contact."""

from __future__ import annotations

from typing import Any

from app.domain.privacy import HostReport
from app.ui.privacy_page import HostColumn, HostsModel, when

AT = 1_796_600_000


def test_refused_only_host_shows_refusal_not_contact(qapp: Any) -> None:
    m = HostsModel()
    m.set_hosts([HostReport("api.coingecko.com", ("prices",), 0, 3, None, None, AT, ())])
    assert m.index(0, HostColumn.FIRST).data() == "never (refused)"
    assert m.index(0, HostColumn.LAST).data() == f"refused {when(AT)}"


def test_contacted_host_shows_its_last_contact(qapp: Any) -> None:
    m = HostsModel()
    m.set_hosts([HostReport("node.lan:8545", ("rpc",), 2, 1, AT - 60, AT, AT + 60, ())])
    assert m.index(0, HostColumn.LAST).data() == when(AT)
