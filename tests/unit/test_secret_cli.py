"""Every free-text input of the command line refuses a wallet secret, names the field, and the
secret reaches nothing: not stdout, not stderr, not the database, settings, networks or log file.

``networks add`` checks each URL's chain id like the Settings dialog (real local HTTP servers)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from app.cli import main
from tests.support.net import CannedHttpServer, free_port
from tests.unit.test_secret_inputs import HEX_KEY, SEED_12, SOL_ARRAY, XPRV

ADDR = "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045"
DEAD = "http://127.0.0.1:1"


def run(data: Path, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        code = main(["--data-dir", str(data), *argv], stdout=out)
    except SystemExit as exc:  # argparse refusing the command line
        code = int(exc.code or 0)
    return code, out.getvalue()


def _assert_nowhere(data: Path, secret: str, *outputs: str) -> None:
    needles = [secret, *[w for w in secret.split() if len(w) > 6][:3]]
    for text in outputs:
        for needle in needles:
            assert needle not in text, f"{needle!r} echoed: {text[-400:]}"
    files = [p for p in data.rglob("*") if p.is_file()]
    for path in files:
        blob = path.read_bytes()
        assert secret.encode() not in blob, f"secret stored in {path.relative_to(data)}"


CASES = {
    "wallet label": (["wallets", "add", ADDR, "--label", SEED_12], SEED_12),
    "wallet group": (["wallets", "add", ADDR, "--group", HEX_KEY], HEX_KEY),
    "network name": (["networks", "add", "1337", SEED_12, "ETH", DEAD, "--no-check"], SEED_12),
    "symbol": (["networks", "add", "1337", "Home", HEX_KEY, DEAD, "--no-check"], HEX_KEY),
    "explorer URL": (
        [
            "networks",
            "add",
            "1337",
            "Home",
            "ETH",
            DEAD,
            "--explorer",
            f"https://x.io/{HEX_KEY}",
            "--no-check",
        ],
        HEX_KEY,
    ),
    "RPC URL": (["networks", "add", "1337", "Home", "ETH", HEX_KEY, "--no-check"], HEX_KEY),
    "RPC URL ": (["networks", "set-rpc", "eip155:1", XPRV], XPRV),
    "network name or id": (["networks", "set-rpc", HEX_KEY, DEAD], HEX_KEY),
    "value for the DefiLlama address": (
        ["config", "set", "prices.defillama.url", f"https://x.io/{HEX_KEY}"],
        HEX_KEY,
    ),
    "value for the CoinGecko address": (
        ["config", "set", "prices.coingecko.url", SEED_12],
        SEED_12,
    ),
    "token address": (["tokens", "add", "eip155:1", HEX_KEY], HEX_KEY),
    "asset": (["prices", "override", HEX_KEY, "1"], HEX_KEY),
    "price": (["prices", "override", "eip155:1/slip44:60", SOL_ARRAY], SOL_ARRAY),
    "key name": (["keys", "set", HEX_KEY], HEX_KEY),
}


@pytest.mark.parametrize(("argv", "secret"), list(CASES.values()), ids=list(CASES))
def test_secret_in_a_field_is_refused_and_never_echoed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], secret: str
) -> None:
    data = tmp_path / "data"
    field = next(k for k, v in CASES.items() if v == (argv, secret)).strip()
    code, out = run(data, *argv)
    err = capsys.readouterr().err
    assert code == 1, err
    assert f"The {field} looks like" in err
    assert "it was not saved" in err
    _assert_nowhere(data, secret, out, err)


def test_wallet_label_and_group_edits_refuse_secrets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    assert run(data, "wallets", "add", ADDR, "--label", "cold")[0] == 0
    outputs = []
    for argv, secret in (
        (["wallets", "label", ADDR, SEED_12], SEED_12),
        (["wallets", "group", ADDR, XPRV], XPRV),
        (["wallets", "remove", HEX_KEY], HEX_KEY),
    ):
        code, out = run(data, *argv)
        err = capsys.readouterr().err
        assert code == 1 and "looks like" in err, err
        outputs += [out, err]
        _assert_nowhere(data, secret, *outputs)
    code, out = run(data, "wallets", "list", "--json")
    assert [w["label"] for w in json.loads(out)] == ["cold"]


def test_a_seed_phrase_typed_without_quotes_is_never_echoed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    assert run(data, "wallets", "add", ADDR)[0] == 0
    code, out = run(data, "wallets", "label", ADDR, *SEED_12.split())
    err = capsys.readouterr().err
    assert code != 0
    assert "seed phrase" in err
    _assert_nowhere(data, SEED_12, out, err)


def test_a_huge_network_name_is_refused_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    code, _ = run(data, "networks", "add", "1337", "N" * 100_000, "ETH", DEAD, "--no-check")
    err = capsys.readouterr().err
    assert code == 1
    assert "network name is too long (100,000 characters): up to 60 fit" in err
    assert len(err) < 400


# ---------------------------------------------------------------- chain id check on add


def _chain_id_server(chain_id: int) -> CannedHttpServer:
    return CannedHttpServer(
        json.dumps({"jsonrpc": "2.0", "id": 1, "result": hex(chain_id)}).encode()
    )


def _networks(data: Path) -> set[str]:
    return {n["chain"] for n in json.loads(run(data, "networks", "list", "--json")[1])}


def test_networks_add_refuses_a_url_of_another_chain(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    with _chain_id_server(59144) as linea:
        code, _ = run(data, "networks", "add", "1337", "Home", "ETH", linea.url)
    err = capsys.readouterr().err
    assert code == 1
    assert "answers chain id 59144, not 1337" in err and "not added" in err
    assert "eip155:1337" not in _networks(data)


def test_networks_add_checks_and_adds_a_matching_url(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with _chain_id_server(1337) as node:
        code, out = run(data, "networks", "add", "1337", "Home", "ETH", node.url)
    assert code == 0, out
    assert "chain id 1337" in out
    assert "eip155:1337" in _networks(data)


def test_networks_add_unreachable_is_refused_unless_no_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    dead = f"http://127.0.0.1:{free_port()}/v2/sEcReTkEy"
    code, _ = run(data, "networks", "add", "1337", "Home", "ETH", dead)
    err = capsys.readouterr().err
    assert code == 1
    assert "--no-check" in err and "not added" in err
    assert "sEcReTkEy" not in err
    assert "eip155:1337" not in _networks(data)
    assert run(data, "networks", "add", "1337", "Home", "ETH", DEAD, "--no-check")[0] == 0
    assert "eip155:1337" in _networks(data)
