"""Exchange accounts read through ccxt (adapter)."""
