// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// A minimal standardized-yield token (Pendle's IStandardizedYield) over one ERC-20 asset, for
/// the Pendle test world. Pendle publishes no SY implementation in its npm core package (they live
/// in its separate SY repository, not on npm), so this one is ours; everything else in the
/// world (yield contract factory, PT, YT, market factory, market, gauge controller, PY/LP
/// oracle) is Pendle's own compiled artifacts. No rewards; the exchange rate can be raised to
/// stand for accrued yield.
contract TestPendleSY is ERC20 {
    address public immutable asset;
    uint256 public exchangeRate = 1e18;

    constructor(address asset_) ERC20("SY Test Asset", "SY-TA") { asset = asset_; }

    function setExchangeRate(uint256 rate) external { exchangeRate = rate; }

    function deposit(address receiver, address tokenIn, uint256 amount, uint256)
        external payable returns (uint256 shares)
    {
        require(tokenIn == asset, "token");
        IERC20(asset).transferFrom(msg.sender, address(this), amount);
        shares = amount * 1e18 / exchangeRate;
        _mint(receiver, shares);
    }

    function redeem(address receiver, uint256 shares, address tokenOut, uint256, bool)
        external returns (uint256 amount)
    {
        require(tokenOut == asset, "token");
        _burn(msg.sender, shares);
        amount = shares * exchangeRate / 1e18;
        IERC20(asset).transfer(receiver, amount);
    }

    /// (AssetType.TOKEN, the asset, its decimals)
    function assetInfo() external view returns (uint8, address, uint8) { return (0, asset, 18); }
    function yieldToken() external view returns (address) { return asset; }
    function getTokensIn() external view returns (address[] memory res) { res = new address[](1); res[0] = asset; }
    function getTokensOut() external view returns (address[] memory res) { res = new address[](1); res[0] = asset; }
    function isValidTokenIn(address t) external view returns (bool) { return t == asset; }
    function isValidTokenOut(address t) external view returns (bool) { return t == asset; }
    function getRewardTokens() external pure returns (address[] memory) { return new address[](0); }
    function claimRewards(address) external pure returns (uint256[] memory) { return new uint256[](0); }
    function accruedRewards(address) external pure returns (uint256[] memory) { return new uint256[](0); }
    function rewardIndexesCurrent() external pure returns (uint256[] memory) { return new uint256[](0); }
    function rewardIndexesStored() external pure returns (uint256[] memory) { return new uint256[](0); }
}
