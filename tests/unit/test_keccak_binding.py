"""A command-line process loads pycryptodome's ctypes binding (fast to load), hashes the same,
and leaves cffi importable for whoever needs it."""

from __future__ import annotations

import subprocess
import sys

from app.keccak_binding import prefer_ctypes

CHILD = """
import sys
from app.keccak_binding import prefer_ctypes
first = prefer_ctypes()
from eth_hash.auto import keccak
from app.domain.addresses import to_checksum_address
print(first, prefer_ctypes(), "cffi" in sys.modules, keccak(b"").hex(),
      to_checksum_address("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"))
import cffi  # still importable afterwards
print(cffi.FFI is not None)
"""


def test_a_fresh_process_gets_the_ctypes_binding_and_the_same_hashes() -> None:
    out = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[:3] == ["True", "False", "False"]
    assert out[3] == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    assert out[4] == "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"  # EIP-55's own example
    assert out[5] == "True"


def test_a_binding_already_loaded_is_left_alone() -> None:
    import Crypto.Util._raw_api  # noqa: F401  (this test process may have it already)

    assert prefer_ctypes() is False
