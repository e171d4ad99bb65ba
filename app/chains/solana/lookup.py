"""One Solana mint's metadata, for ``chainfolio tokens add``: what the user adds is what later
refreshes show for that mint (its symbol, name, price id and spam mark are taken from the store).

Reads the mint account and its Metaplex metadata account in one ``getMultipleAccounts`` call and
applies the same parsing, cleaning and spam rules as a refresh, except one: a mint without
metadata is not marked as spam, since adding it is the user saying it is theirs.
"""

from __future__ import annotations

from solders.rpc.responses import GetMultipleAccountsResp

from app.chains.solana.mints import TOKEN_PROGRAMS, onchain_asset, parse_metadata
from app.chains.solana.replies import BadReply, parse_reply
from app.chains.solana.rpc import BatchClient, Call, RpcError
from app.chains.solana.tokens import curated_tokens, metaplex_metadata_address
from app.domain.balances import AssetInfo
from app.domain.chains import ChainSpec
from app.domain.errors import ChainfolioError
from app.domain.ids import AssetId, ChainId


class SolanaTokenError(ChainfolioError):
    """The address is not a Solana token mint this app can show."""


def spl_asset_id(chain: ChainId, mint: str) -> AssetId:
    """The CAIP-19 id of an SPL Token / Token-2022 mint; raises SolanaTokenError if ``mint`` is
    not a Solana address."""
    from solders.pubkey import Pubkey

    try:
        Pubkey.from_string(mint.strip())
    except ValueError as exc:
        raise SolanaTokenError(f"{mint} is not a Solana address.") from exc
    return AssetId(chain, "token", mint.strip())


async def read_token(spec: ChainSpec, mint: str, *, timeout: float = 20.0) -> AssetInfo:
    asset_id = spl_asset_id(spec.chain_id, mint)
    mint = asset_id.asset_reference
    pdas = {mint: metaplex_metadata_address(mint)}
    keys = [mint, pdas[mint]]
    client = BatchClient(spec.rpc_urls, timeout=timeout, retries=2)
    try:
        (reply,) = await client.call_all(
            [Call("getMultipleAccounts", [keys, {"encoding": "base64"}])]
        )
        accounts = parse_reply(GetMultipleAccountsResp, reply).value
    except (RpcError, BadReply) as exc:
        raise SolanaTokenError(f"Could not read {mint} on {spec.name}: {exc}") from exc
    finally:
        await client.aclose()
    found = {k: (str(a.owner), bytes(a.data)) for k, a in zip(keys, accounts, strict=False) if a}
    if found.get(mint, ("", b""))[0] not in TOKEN_PROGRAMS:
        raise SolanaTokenError(f"{mint} is not a token mint on {spec.name}.")
    info = parse_metadata([mint], pdas, found).get(mint)
    if info is None:
        raise SolanaTokenError(f"{mint} is not a token mint on {spec.name}.")
    if info.unsupported:
        raise SolanaTokenError(
            f"{mint} is a {info.unsupported} Token-2022 mint: its amounts change over time and "
            "Chainfolio cannot show them exactly yet."
        )
    known = curated_tokens().get(mint)
    if known is not None and known.decimals == info.decimals:
        return AssetInfo(
            asset_id, known.symbol, known.name, known.decimals, price_id=known.price_id
        )
    return onchain_asset(asset_id, info.decimals, info, user_added=True)
