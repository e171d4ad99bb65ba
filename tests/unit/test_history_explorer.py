"""Etherscan-style account API answers (Etherscan v2 and Blockscout), as the explorers send them:
rows, "no transactions", a refused key, a rate limit, a plan without the network, broken rows."""

from __future__ import annotations

import pytest

from app.chains.evm import explorer
from app.chains.evm.explorer import ExplorerError, HistorySettings, blockscout, etherscan

ROW = {
    "blockNumber": "14923678", "timeStamp": "1654646411",
    "hash": "0x" + "ab" * 32, "nonce": "6", "blockHash": "0x" + "cd" * 32,
    "transactionIndex": "61", "from": "0x" + "1A" * 20, "to": "0x" + "2b" * 20,
    "value": "1000000000000000000", "gas": "21000", "gasPrice": "20000000000", "isError": "0",
    "txreceipt_status": "1", "input": "0x", "contractAddress": "", "cumulativeGasUsed": "1",
    "gasUsed": "21000", "confirmations": "100", "methodId": "0x", "functionName": "",
}  # fmt: skip
INTERNAL = {
    "blockNumber": "14923679", "timeStamp": "1654646423", "hash": "0x" + "ef" * 32,
    "from": "0x" + "33" * 20, "to": "0x" + "1a" * 20, "value": "5", "contractAddress": "",
    "input": "", "type": "call", "gas": "2300", "gasUsed": "0", "traceId": "0_1",
    "isError": "0", "errCode": "",
}  # fmt: skip


def test_rows_are_read_exactly() -> None:
    rows = explorer._parse("txlist", {"status": "1", "message": "OK", "result": [ROW]})
    (row,) = rows
    assert row.tx == "0x" + "ab" * 32 and row.block == 14923678 and row.ts == 1654646411
    assert row.sender == "0x" + "1a" * 20 and row.receiver == "0x" + "2b" * 20
    assert row.value == 10**18 and not row.failed and row.trace_id == ""
    (internal,) = explorer._parse(
        "txlistinternal", {"status": "1", "message": "OK", "result": [INTERNAL]}
    )
    assert internal.trace_id == "0_1" and internal.value == 5


def test_failed_transactions_are_marked() -> None:
    failed = {**ROW, "isError": "1", "txreceipt_status": "0"}
    (row,) = explorer._parse("txlist", {"status": "1", "message": "OK", "result": [failed]})
    assert row.failed


@pytest.mark.parametrize(
    "body",
    [
        {"status": "0", "message": "No transactions found", "result": []},
        {"status": "0", "message": "No internal transactions found", "result": []},
        {"status": "0", "message": "No records found", "result": []},
    ],
)
def test_nothing_found_is_an_empty_list(body: dict[str, object]) -> None:
    assert explorer._parse("txlist", body) == []


def test_a_refused_key_is_a_plain_sentence_without_the_key() -> None:
    with pytest.raises(ExplorerError, match="refused the API key") as caught:
        explorer._parse("txlist", {"status": "0", "message": "NOTOK", "result": "Invalid API Key"})
    assert "Invalid" not in str(caught.value)


def test_a_rate_limit_is_retried() -> None:
    with pytest.raises(explorer._RateLimited):
        explorer._parse(
            "txlist", {"status": "0", "message": "NOTOK", "result": "Max rate limit reached"}
        )


def test_a_plan_without_the_network_says_what_to_do() -> None:
    body = {
        "status": "0", "message": "NOTOK",
        "result": "Free API access is not supported for this chain. Please upgrade your api plan "
                  "for full chain coverage. https://etherscan.io/apis",
    }  # fmt: skip
    with pytest.raises(ExplorerError, match="choose Blockscout"):
        explorer._parse("txlist", body)


@pytest.mark.parametrize(
    "bad",
    [
        {**ROW, "hash": "0x12"},
        {**ROW, "from": "<b>evil</b>"},
        {**ROW, "value": "-1"},
        {**ROW, "blockNumber": "0x10"},
        {**ROW, "to": "0x" + "zz" * 20},
        "a string",
    ],
)
def test_broken_rows_are_refused(bad: object) -> None:
    with pytest.raises(ValueError):
        explorer._parse("txlist", {"status": "1", "message": "OK", "result": [bad]})


def test_other_errors_are_cleaned() -> None:
    with pytest.raises(ValueError) as caught:
        explorer._parse(
            "txlist", {"status": "0", "message": "NOTOK", "result": "<script>x</script> bad"}
        )
    assert "<" not in str(caught.value)


def test_builders_and_settings_defaults() -> None:
    e = etherscan(8453, "KEY", "https://api.etherscan.io/v2/api")
    assert e.params == {"chainid": "8453", "apikey": "KEY"} and e.name == "Etherscan"
    b = blockscout("https://base.blockscout.com/")
    assert b.base_url == "https://base.blockscout.com/api" and b.params == {}
    assert HistorySettings().explorer == "none"
