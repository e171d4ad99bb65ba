"""Which binding pycryptodome (eth-hash's Keccak-256 backend) uses, for short processes.

pycryptodome reaches its C code through cffi when cffi is installed (another dependency brings
it), and cffi's binding parses C declarations with pycparser on first use: ~0.1 s before the
first hash. Without cffi, pycryptodome uses its own ctypes binding to the same C code (its
documented fallback), loaded in a few milliseconds but ~2.5 µs slower per hash. A command-line
process hashes a few dozen addresses (a refresh: ~65 checksums), so it takes the ctypes
binding; the window keeps the default (it loads the backend while warming up, then may hash
many more).
"""

from __future__ import annotations

import sys


def prefer_ctypes() -> bool:
    """Load pycryptodome's ctypes binding unless a binding is loaded already; True when it
    did. Only hides cffi from pycryptodome's own import: later imports of cffi still work."""
    if "Crypto.Util._raw_api" in sys.modules or "cffi" in sys.modules:
        return False  # chosen already, or cffi is loaded anyway (nothing to save)
    sys.modules["cffi"] = None  # type: ignore[assignment]  # ``import cffi`` raises ImportError
    try:
        import Crypto.Util._raw_api  # noqa: F401
    except ImportError:
        return False  # no pycryptodome: eth-hash picks another backend
    finally:
        del sys.modules["cffi"]
    return True
