"""Price sources (CoinGecko, DefiLlama) behind one port, with a router and a cache."""
