"""A node's hex result: ``0x`` and whole bytes of hex digits, nothing else, not even spaces."""

from __future__ import annotations

import pytest

from app.chains.evm.replies import ReplyError, hex_data


@pytest.mark.parametrize("bad", ["0x0", "0xzz", "0x 00", "0x00\n", "00", "0X00", "0xé0", 5, None])
def test_anything_but_whole_hex_bytes_is_a_node_problem(bad: object) -> None:
    with pytest.raises(ReplyError, match="not hex data"):
        hex_data(bad)


def test_whole_hex_bytes_decode() -> None:
    assert hex_data("0x") == b"" and hex_data("0x00fFab") == b"\x00\xff\xab"
