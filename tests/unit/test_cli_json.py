"""The CLI's JSON documents: orjson's bytes where it takes the document as msgspec would,
msgspec's otherwise; the same JSON either way, hostile text included."""

from __future__ import annotations

import datetime
import enum
import io
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from app.cli.env import CliEnv, json_document


class Kind(enum.Enum):
    SUPPLY = "supply"


class Label(str):
    pass


@dataclass
class Point:
    x: int


def _msgspec(data: Any) -> bytes:
    return msgspec.json.format(msgspec.json.encode(data, enc_hook=str), indent=2)


HOSTILE = "\x00a\x1f\x7f\u2028\u2029</script>😀\\\"'\n\t‮"
DOCUMENTS: list[Any] = [
    {},
    [],
    {"a": [{}, [], None, True, False, 0, -1, 2**63 - 1, -(2**63)], "b": {"c": "d"}},
    {"symbol": HOSTILE, HOSTILE: [HOSTILE]},
    {"value": Decimal("36550291726980.7707989576870118854734"), "zero": Decimal("0E-18")},
    {"raw": str(2**256 - 1), "big": 2**256 - 1, "negative": -(2**70)},  # beyond 64 bits
    {1: "a key that is not text"},
    {"kind": Kind.SUPPLY, "label": Label("x"), "point": Point(3)},
    {
        "when": datetime.datetime(2026, 12, 7, 9, 0, tzinfo=datetime.UTC),
        "day": datetime.date(2026, 1, 2),
    },
]


@pytest.mark.parametrize("data", DOCUMENTS)
def test_the_same_bytes_as_msgspec(data: Any) -> None:
    assert json_document(data) == _msgspec(data)


def test_floats_are_the_same_numbers() -> None:
    data = {"age": [0.5, 1e22, 1e-7, 123456789012345678.0, -0.0, 5e-324]}
    got = json_document(data)
    assert json.loads(got) == json.loads(_msgspec(data)) == data
    assert b"1e+22" in got  # as Python's own json writes it


def test_a_refresh_sized_document_is_written_by_orjson_as_msgspec_would(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    balance = {
        "wallet": "eip155:1:0x" + "ab" * 20, "asset": "eip155:1/erc20:0x" + "cd" * 20,
        "symbol": HOSTILE, "name": None, "raw": str(10**30), "decimals": 18,
        "amount": "1000000000000.000000000000000001", "spam": False,
        "value": Decimal("1.5"), "price_age_seconds": 12, "price_stale": False,
    }  # fmt: skip
    data = {"status": "ok", "chains": [{"balances": [dict(balance) for _ in range(2000)]}]}
    expected = _msgspec(data)

    def not_msgspec(*_: object, **__: object) -> bytes:
        raise AssertionError("a refresh document should not need msgspec")

    monkeypatch.setattr(msgspec.json, "format", not_msgspec)
    assert json_document(data) == expected


def test_print_json_writes_one_document_with_a_newline() -> None:
    class Out(io.StringIO):
        def __init__(self) -> None:
            super().__init__()
            self.buffer = io.BytesIO()

    out = Out()
    env = CliEnv.__new__(CliEnv)
    object.__setattr__(env, "out", out)
    env.print_json({"total": Decimal("2.50"), "symbol": HOSTILE})
    assert out.buffer.getvalue() == _msgspec({"total": "2.50", "symbol": HOSTILE}) + b"\n"
