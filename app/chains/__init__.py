"""Chain adapters: the registry of networks and one reader per chain family."""
