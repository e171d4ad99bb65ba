"""The block explorers a history scan may use (no imports: the settings module and the
explorer client both read these)."""

ETHERSCAN_V2 = "https://api.etherscan.io/v2/api"
EXPLORERS = ("none", "etherscan", "blockscout")
