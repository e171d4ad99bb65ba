"""Bad input and edge cases of the encryption pieces (no database server, real files)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.domain.errors import DatabaseError
from app.log_privacy import MASK, mask_addresses
from app.logging_setup import redact
from app.storage.backup import check_new_passphrase
from app.storage.encryption import (
    DatabaseKey,
    KeyringKeys,
    KeyUnavailable,
    encrypted_salt,
    new_passphrase_key,
    new_random_key,
    passphrase_key,
    unlock,
)


def test_a_key_never_shows_itself() -> None:
    key = new_random_key()
    assert key.key.hex() not in repr(key) and key.key.hex() not in str(key)
    assert redact(f"oops {key.key.hex()}") == "oops «redacted»"  # registered with the redactor
    with pytest.raises(ValueError):
        DatabaseKey(b"short", os.urandom(16))
    with pytest.raises(ValueError):
        DatabaseKey(os.urandom(32), b"salt")


def test_passphrase_key_is_sqlcipher_s_own_derivation() -> None:
    salt = bytes(range(16))
    a, b = passphrase_key("pass phrase", salt), passphrase_key("pass phrase", salt)
    assert a == b and a.from_passphrase and a.salt == salt
    assert passphrase_key("pass phrasE", salt) != a
    assert new_passphrase_key("pass phrase").salt != new_passphrase_key("pass phrase").salt
    assert redact("typed: pass phrase") == "typed: «redacted»"


def test_encrypted_salt_only_for_whole_page_files_without_the_sqlite_header(
    tmp_path: Path,
) -> None:
    assert encrypted_salt(tmp_path / "missing") is None
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert encrypted_salt(empty) is None
    plain = tmp_path / "plain"
    plain.write_bytes(b"SQLite format 3\x00" + bytes(4096 - 16))
    assert encrypted_salt(plain) is None
    torn = tmp_path / "torn"
    torn.write_bytes(os.urandom(4096 + 100))  # not a whole number of pages: damaged
    assert encrypted_salt(torn) is None
    cipher = tmp_path / "cipher"
    data = os.urandom(8192)
    cipher.write_bytes(data)
    assert encrypted_salt(cipher) == data[:16]


def test_unlock_plaintext_needs_nothing_and_encrypted_without_a_key_says_so(
    tmp_path: Path,
) -> None:
    import sqlite3

    plain = tmp_path / "plain.sqlite3"
    sqlite3.connect(plain).execute("CREATE TABLE t (x)").connection.close()
    assert unlock(plain, None, None) is None
    locked = tmp_path / "cipher.sqlite3"
    locked.write_bytes(os.urandom(8192))
    before = locked.read_bytes()
    with pytest.raises(KeyUnavailable, match="is encrypted"):
        unlock(locked, KeyringKeys(), None)  # tests run with keyring's "fail" backend
    asked: list[str | None] = []

    def prompt(problem: str | None) -> str | None:
        asked.append(problem)
        return "guess" if len(asked) < 3 else None

    with pytest.raises(KeyUnavailable, match="does not open"):
        unlock(locked, None, prompt, attempts=5)
    assert asked[0] is None and "does not open" in str(asked[1])  # told why, asked again
    assert locked.read_bytes() == before


def test_no_keyring_cannot_keep_a_key() -> None:
    keys = KeyringKeys()
    assert keys.problem() is not None and not keys.usable
    key = new_random_key()
    assert keys.get(key.salt) is None
    with pytest.raises(KeyUnavailable, match="cannot be kept"):
        keys.put(key)


def test_short_backup_passphrase_refused() -> None:
    with pytest.raises(DatabaseError, match="at least 8"):
        check_new_passphrase("short")
    assert check_new_passphrase("long enough") == "long enough"


@pytest.mark.parametrize(
    "text",
    [
        "wallet 0x52908400098527886E0F7030069857D2E4169EE7 read",
        "eip155:1:0x52908400098527886e0f7030069857d2e4169ee7",
        "owner 9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM failed",
        "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp:9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM",
        "btc bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
        "xpub " + "xpub" + "6" * 107,
    ],
)
def test_address_shapes_are_masked(text: str) -> None:
    masked = mask_addresses(text)
    assert MASK in masked
    for token in ("52908400098527886", "9WzDXwBbmkg8Z", "bc1qar0srrr7x", "6" * 100):
        assert token.lower() not in masked.lower()


def test_ordinary_words_numbers_and_hashes_are_left_alone() -> None:
    text = "refresh Local: ok in 0.07 s, 1 requests, 1 holdings read; chain eip155:1 block 19000000"
    assert mask_addresses(text) == text
