"""Wallet secrets typed into the wrong field, API keys inside URLs, caps and strict URLs.

The detector and the URL splitter are pure functions; the services and the registry are tested
with the in-memory secret store. Every refusal must name the field and never repeat the text.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import base58
import pytest

from app.chains.registry import ChainRegistry, NetworkError
from app.domain.errors import ChainfolioError, SecretInputError
from app.domain.secret_text import (
    fill_marks,
    redact_secrets,
    redact_url,
    refuse_secret,
    secret_kind,
    split_url_secrets,
)
from app.domain.text import InvalidTextError, check_url, person_text
from app.services.wallets import WalletService
from tests.support.fakes import MemorySecrets
from tests.unit.test_wallet_service import ADDR, FakeRepo

# BIP39 test vectors (trezor/python-mnemonic vectors.json) and the classic key examples.
SEED_12 = "legal winner thank year wave sausage worth useful legal winner thank yellow"
SEED_15 = "letter advice cage absurd amount doctor acoustic avoid letter advice cage absurd amount doctor accident"
SEED_18 = "gravity machine north sort system female filter attitude volume fold club stay feature office ecology stable narrow fog"
SEED_21 = " ".join(["zoo"] * 20 + ["when"])
SEED_24 = "void come effort suffer camp survey warrior heavy shoot primary clutch crush open amazing screen patrol group space point ten exist slush involve unfold"
HEX_KEY = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
SOL_KEY = base58.b58encode(bytes(range(1, 65))).decode()
SOL_ARRAY = json.dumps(list(range(100, 164)))
XPRV = (
    "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3"
    "TGtRBeJgk33yuGBxrMPHi"
)
WIF = "5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ"

SECRETS = {
    "seed 12": SEED_12,
    "seed 15": SEED_15,
    "seed 18": SEED_18,
    "seed 21": SEED_21,
    "seed 24": SEED_24,
    "numbered": " ".join(f"{i}. {w}" for i, w in enumerate(SEED_12.split(), 1)),
    "commas": ",".join(SEED_12.split()),
    "upper, in a sentence": f"My Ledger: {SEED_24.upper()} (old)",
    "url-encoded": "https://rpc.example/?q=" + SEED_12.replace(" ", "%20"),
    "hex": HEX_KEY,
    "0x hex": "0x" + HEX_KEY,
    "hex in a label": f"cold {HEX_KEY}",
    "solana base58": SOL_KEY,
    "solana array": SOL_ARRAY,
    "xprv": XPRV,
    "wif": WIF,
}


@pytest.mark.parametrize("text", list(SECRETS.values()), ids=list(SECRETS))
def test_every_secret_shape_is_found(text: str) -> None:
    assert secret_kind(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        ADDR,
        "So11111111111111111111111111111111111111112",
        "Hardware wallet",
        "the cat sat on the mat and then the dog ate all of the food again",
        " ".join(SEED_12.split()[:11]),  # eleven words are not a phrase
        "https://eth-mainnet.g.alchemy.com/v2/abcDEF1234567890xyzKEY",
        "0x" + "ab" * 20,
    ],
)
def test_ordinary_text_is_not_a_secret(text: str) -> None:
    assert secret_kind(text) is None


@pytest.mark.parametrize("text", list(SECRETS.values()), ids=list(SECRETS))
def test_refusal_names_the_field_and_never_echoes(text: str) -> None:
    with pytest.raises(SecretInputError) as info:
        refuse_secret(text, "wallet label")
    message = str(info.value)
    assert message.startswith("The wallet label looks like")
    assert "never needs it: it was not saved" in message
    for token in text.replace(",", " ").split():
        if len(token) > 4:
            assert token.lower() not in message.lower()


def test_redact_secrets_removes_every_shape() -> None:
    for text in SECRETS.values():
        assert secret_kind(redact_secrets(f"error near {text} here")) is None
    assert redact_secrets("nothing secret") == "nothing secret"


# ---------------------------------------------------------------- keys inside URLs

KEY = "k3yXYZ"  # short on purpose: the /v2/<key> form must not depend on length


@pytest.mark.parametrize(
    ("url", "template", "secrets"),
    [
        (f"https://h.example/rpc?apikey={KEY}", "https://h.example/rpc?apikey={secret}", [KEY]),
        (f"https://h.example/rpc?api-key={KEY}", "https://h.example/rpc?api-key={secret}", [KEY]),
        (f"https://h.example/rpc?api_key={KEY}", "https://h.example/rpc?api_key={secret}", [KEY]),
        (f"https://h.example/?key={KEY}", "https://h.example/?key={secret}", [KEY]),
        (f"https://h.example/?a=1&key={KEY}&b=2", "https://h.example/?a=1&key={secret}&b=2", [KEY]),
        (f"https://eth.example/v2/{KEY}", "https://eth.example/v2/{secret}", [KEY]),
        (f"https://eth.example/v3/{KEY}/", "https://eth.example/v3/{secret}/", [KEY]),
        ("https://eth.example/v2/" + "a" * 40, "https://eth.example/v2/{secret}", ["a" * 40]),
        (
            "https://u:p%40ss@node.example:8545/",
            "https://{secret}@node.example:8545/",
            ["u:p%40ss"],
        ),
        (
            f"https://u:pw@h.example/v2/{KEY}?token=t0k",
            "https://{secret}@h.example/v2/{secret:1}?token={secret:2}",
            ["u:pw", KEY, "t0k"],
        ),
        ("http://127.0.0.1:8545", "http://127.0.0.1:8545", []),
        ("https://api.coingecko.com/api/v3", "https://api.coingecko.com/api/v3", []),
    ],
)
def test_split_url_secrets(url: str, template: str, secrets: list[str]) -> None:
    assert split_url_secrets(url) == (template, secrets)
    assert fill_marks(template, secrets) == url
    if secrets:
        masked = redact_url(url)
        assert all(s not in masked for s in secrets)


# ---------------------------------------------------------------- caps and strict URLs


def test_person_text_refuses_over_the_cap_without_echo() -> None:
    with pytest.raises(InvalidTextError) as info:
        person_text("N" * 100_000, "network name", 60)
    assert "network name is too long" in str(info.value)
    assert "NNNNN" not in str(info.value)
    assert person_text("  My \u202enode\n", "network name", 60) == "My node"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:1/\n",
        "http://127.0.0.1:1/ x",
        "http://127.0.0.1:1/\x00",
        " http://127.0.0.1:1/",
        "ftp://127.0.0.1/",
        "javascript:alert(1)",
        "http://",
        "http:///path",
        "127.0.0.1:8545",
        "http://127.0.0.1:99999/",
        "http://bad_host!/",
        "https://h.example/" + "a" * 3000,
    ],
)
def test_check_url_is_strict(url: str) -> None:
    with pytest.raises(InvalidTextError) as info:
        check_url(url, "RPC URL")
    assert "RPC URL is not a usable URL" in str(info.value)
    assert url.strip() not in str(info.value)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8545",
        "https://ethereum-rpc.publicnode.com",
        "http://[::1]:8545/rpc",
        f"https://eth-mainnet.g.alchemy.com/v2/{KEY}",
        "https://rpc.ankr.com/eth/" + HEX_KEY,  # a provider key of 64 hex digits is a key
    ],
)
def test_check_url_accepts_real_urls(url: str) -> None:
    assert check_url(url, "RPC URL") == url


def test_seed_phrase_inside_a_url_is_refused() -> None:
    with pytest.raises(SecretInputError, match="RPC URL looks like a seed phrase"):
        check_url("https://h.example/?q=" + "+".join(SEED_12.split()), "RPC URL")
    with pytest.raises(SecretInputError, match="private key"):
        check_url(f"https://h.example/x?id={HEX_KEY}", "RPC URL")


# ---------------------------------------------------------------- wallets


@pytest.mark.parametrize("field", ["label", "group"])
@pytest.mark.parametrize(
    "secret", [SEED_12, HEX_KEY, SOL_ARRAY, XPRV], ids=["seed", "hex", "sol", "xprv"]
)
def test_wallet_label_and_group_refuse_secrets(field: str, secret: str) -> None:
    repo = FakeRepo()
    svc = WalletService(repo)
    with pytest.raises(SecretInputError, match=f"wallet {field} looks like"):
        asyncio.run(svc.add(ADDR, **{field: secret}))
    assert repo.rows == {}
    wallet = asyncio.run(svc.add(ADDR, label="cold"))
    with pytest.raises(SecretInputError, match=f"wallet {field} looks like"):
        svc.edit(wallet, **{field: secret})
    assert repo.rows[wallet.id or 0].label == "cold"
    assert secret not in repr(repo.rows)


def test_wallet_label_over_the_cap_is_refused() -> None:
    svc = WalletService(FakeRepo())
    with pytest.raises(InvalidTextError, match="wallet label is too long"):
        asyncio.run(svc.add(ADDR, label="x" * 65))
    assert asyncio.run(svc.add(ADDR, label="x" * 64)).label == "x" * 64


def test_finding_a_wallet_by_a_secret_never_echoes_it() -> None:
    svc = WalletService(FakeRepo())
    with pytest.raises(ChainfolioError) as info:
        svc.find(HEX_KEY)
    assert HEX_KEY not in str(info.value)


# ---------------------------------------------------------------- networks


def _registry(tmp_path: Path, secrets: MemorySecrets | None = None) -> ChainRegistry:
    return ChainRegistry(tmp_path / "networks.toml", secrets or MemorySecrets())


@pytest.mark.parametrize(
    "url",
    [
        f"https://h.example/rpc?api-key={KEY}",
        f"https://h.example/rpc?api_key={KEY}",
        f"https://h.example/rpc?key={KEY}",
        f"https://h.example/rpc?chain=1&apikey={KEY}",
        f"https://eth.example/v2/{KEY}",
        f"https://eth.example/v3/{KEY}",
        f"https://user:{KEY}@node.example/",
    ],
)
def test_every_key_form_goes_to_the_secret_store(tmp_path: Path, url: str) -> None:
    secrets = MemorySecrets()
    reg = _registry(tmp_path, secrets)
    reg.set_rpc("eip155:1", [url, "http://127.0.0.1:8545"])
    assert KEY not in (tmp_path / "networks.toml").read_text()
    assert any(KEY in v for v in secrets.values.values())
    assert _registry(tmp_path, secrets).get("eip155:1").rpc_urls == (url, "http://127.0.0.1:8545")
    reg.set_rpc("eip155:1", [])
    assert secrets.values == {}


def test_several_keys_in_one_url_all_go_to_the_store(tmp_path: Path) -> None:
    secrets = MemorySecrets()
    url = f"https://u:pw@h.example/v2/{KEY}?token=t0ken"
    _registry(tmp_path, secrets).set_rpc("eip155:10", [url])
    text = (tmp_path / "networks.toml").read_text()
    assert all(s not in text for s in ("u:pw", KEY, "t0ken"))
    assert _registry(tmp_path, secrets).get("eip155:10").rpc_urls == (url,)


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("network name", {"name": SEED_12}),
        ("network name", {"name": "N" * 100_000}),
        ("symbol", {"symbol": HEX_KEY}),
        ("symbol", {"symbol": "S" * 13}),
        ("explorer URL", {"explorer_url": "https://x.example/" + HEX_KEY}),
        ("explorer URL", {"explorer_url": "http://127.0.0.1:1/\n"}),
        ("RPC URL", {"rpc_urls": [HEX_KEY]}),
        ("RPC URL", {"rpc_urls": ["http://127.0.0.1:1/\n"]}),
        ("RPC URL", {"rpc_urls": ["https://h.example/?q=" + SEED_12.replace(" ", "%20")]}),
    ],
)
def test_network_fields_are_checked(tmp_path: Path, field: str, kwargs: dict[str, object]) -> None:
    reg = _registry(tmp_path)
    args: dict[str, object] = {"name": "Home", "symbol": "ETH", "rpc_urls": ["http://127.0.0.1:1"]}
    args.update(kwargs)
    extra = {"explorer_url": args.pop("explorer_url")} if "explorer_url" in args else {}
    with pytest.raises(ChainfolioError) as info:
        reg.add(1337, str(args["name"]), str(args["symbol"]), list(args["rpc_urls"]), **extra)  # type: ignore[call-overload]
    message = str(info.value)
    assert field in message
    for value in kwargs.values():
        for text in value if isinstance(value, list) else [value]:
            assert str(text).strip()[:40] not in message
    assert not (tmp_path / "networks.toml").exists()


def test_set_rpc_refuses_a_secret_and_keeps_the_old_urls(tmp_path: Path) -> None:
    reg = _registry(tmp_path)
    reg.set_rpc("eip155:1", ["http://127.0.0.1:8545"])
    with pytest.raises(ChainfolioError) as info:
        reg.set_rpc("eip155:1", ["http://127.0.0.1:8545", HEX_KEY])
    assert HEX_KEY not in str(info.value)
    assert HEX_KEY not in (tmp_path / "networks.toml").read_text()
    assert _registry(tmp_path).get("eip155:1").rpc_urls == ("http://127.0.0.1:8545",)


def test_naming_a_network_by_a_secret_never_echoes_it(tmp_path: Path) -> None:
    with pytest.raises(SecretInputError) as info:
        _registry(tmp_path).get(HEX_KEY)
    assert HEX_KEY not in str(info.value)
    with pytest.raises(NetworkError) as other:
        _registry(tmp_path).get("x" * 100_000)
    assert "x" * 100 not in str(other.value)


def test_a_key_left_in_networks_toml_by_an_older_version_moves_to_the_store(
    tmp_path: Path,
) -> None:
    path = tmp_path / "networks.toml"
    leaked = f"https://h.example/rpc?api-key={KEY}"
    path.write_text(
        f'network = []\n\n[override."eip155:1"]\nrpc_urls = ["{leaked}", "http://127.0.0.1:8545"]\n'
    )
    secrets = MemorySecrets()
    reg = _registry(tmp_path, secrets)
    assert KEY not in path.read_text()
    assert secrets.values == {"rpc.eip155:1.0": KEY}
    assert reg.get("eip155:1").rpc_urls == (leaked, "http://127.0.0.1:8545")


def test_a_leaked_key_stays_put_when_the_keyring_cannot_take_it(tmp_path: Path) -> None:
    class NoKeyring(MemorySecrets):
        def set(self, name: str, value: str) -> None:
            raise ChainfolioError("The keyring is locked.")

    path = tmp_path / "networks.toml"
    leaked = f"https://h.example/v2/{KEY}"
    path.write_text(f'network = []\n\n[override."eip155:1"]\nrpc_urls = ["{leaked}"]\n')
    reg = _registry(tmp_path, NoKeyring())
    assert reg.get("eip155:1").rpc_urls == (leaked,)  # still usable; moved on a later start
