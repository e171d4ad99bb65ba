"""DeFi protocol positions (Aave v3, Compound v3, Lido, EigenLayer) read in the EVM reader's pass.

Each protocol module is a :class:`~app.defi.ports.PositionSource`: it names the calls it needs up
front (sent in the same Multicall3 ``aggregate3`` chunks as the wallet balances) and, when some
calls depend on the first answers, one more round; then it turns the answers into position
balances and lending accounts. Contract addresses are data: ``resources/defi.toml``.
"""
