// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {TestToken} from "./Tokens.sol";

// The subset of each protocol's deployed ABI that Chainfolio reads: the same function
// signatures and return layouts as the mainnet contracts, with states set by the tests.

// ------------------------------------------------------------------------------ Aave v3

/// PoolAddressesProvider: only getPoolDataProvider().
contract TestAaveAddressesProvider {
    address private _dataProvider;
    constructor(address dataProvider) { _dataProvider = dataProvider; }
    function getPoolDataProvider() external view returns (address) { return _dataProvider; }
}

/// Pool: getReservesList() and getUserAccountData(user) with values the test sets.
contract TestAavePool {
    struct AccountData { uint256 collateral; uint256 debt; uint256 available; uint256 threshold; uint256 ltv; uint256 hf; }
    address[] private _reserves;
    mapping(address => AccountData) private _accounts;

    function addReserve(address asset) external { _reserves.push(asset); }
    function setAccount(address user, uint256 collateral, uint256 debt, uint256 threshold, uint256 ltv, uint256 hf) external {
        _accounts[user] = AccountData(collateral, debt, 0, threshold, ltv, hf);
    }

    function getReservesList() external view returns (address[] memory) { return _reserves; }

    function getUserAccountData(address user) external view returns (
        uint256 totalCollateralBase, uint256 totalDebtBase, uint256 availableBorrowsBase,
        uint256 currentLiquidationThreshold, uint256 ltv, uint256 healthFactor
    ) {
        AccountData memory a = _accounts[user];
        // Like Aave: no debt means an infinite health factor.
        uint256 hf = a.debt == 0 ? type(uint256).max : a.hf;
        return (a.collateral, a.debt, a.available, a.threshold, a.ltv, hf);
    }
}

/// AaveProtocolDataProvider: reads the real aToken / debt token balances, like the deployed one.
contract TestAaveDataProvider {
    struct Tokens { address aToken; address stableDebt; address variableDebt; }
    mapping(address => Tokens) private _tokens;
    mapping(address => mapping(address => bool)) private _collateral;

    function setReserve(address asset, address aToken, address variableDebt) external {
        _tokens[asset] = Tokens(aToken, address(0), variableDebt);
    }
    function setCollateral(address asset, address user, bool on) external { _collateral[asset][user] = on; }

    function getReserveTokensAddresses(address asset) external view returns (
        address aTokenAddress, address stableDebtTokenAddress, address variableDebtTokenAddress
    ) {
        Tokens memory t = _tokens[asset];
        return (t.aToken, t.stableDebt, t.variableDebt);
    }

    function getUserReserveData(address asset, address user) external view returns (
        uint256 currentATokenBalance, uint256 currentStableDebt, uint256 currentVariableDebt,
        uint256 principalStableDebt, uint256 scaledVariableDebt, uint256 stableBorrowRate,
        uint256 liquidityRate, uint40 stableRateLastUpdated, bool usageAsCollateralEnabled
    ) {
        require(_tokens[asset].aToken != address(0), "unknown reserve");
        currentATokenBalance = IERC20(_tokens[asset].aToken).balanceOf(user);
        currentVariableDebt = IERC20(_tokens[asset].variableDebt).balanceOf(user);
        scaledVariableDebt = currentVariableDebt;
        usageAsCollateralEnabled = _collateral[asset][user];
    }
}

// ------------------------------------------------------------------------------ Compound v3

/// Comet: base supply/borrow, collateral per asset, asset info and prices.
contract TestComet {
    struct AssetInfo {
        uint8 offset; address asset; address priceFeed; uint64 scale;
        uint64 borrowCollateralFactor; uint64 liquidateCollateralFactor; uint64 liquidationFactor;
        uint128 supplyCap;
    }
    error BadAsset();

    address public baseToken;
    address public baseTokenPriceFeed;
    AssetInfo[] private _assets;
    mapping(address => uint256) private _supplied;
    mapping(address => uint256) private _borrowed;
    mapping(address => mapping(address => uint128)) private _collateral;
    mapping(address => uint256) private _prices;  // price feed -> price (8 decimals)

    constructor(address base, address baseFeed, uint256 basePrice) {
        baseToken = base;
        baseTokenPriceFeed = baseFeed;
        _prices[baseFeed] = basePrice;
    }

    function addAsset(address asset, address feed, uint8 decimals_, uint64 borrowCF, uint64 liquidateCF, uint256 price) external {
        _assets.push(AssetInfo(uint8(_assets.length), asset, feed, uint64(10 ** decimals_), borrowCF, liquidateCF, 0.95e18, type(uint128).max));
        _prices[feed] = price;
    }
    function setSupply(address account, uint256 amount) external { _supplied[account] = amount; }
    function setBorrow(address account, uint256 amount) external { _borrowed[account] = amount; }
    function setCollateral(address account, address asset, uint128 amount) external { _collateral[account][asset] = amount; }

    function numAssets() external view returns (uint8) { return uint8(_assets.length); }
    function getAssetInfo(uint8 i) external view returns (AssetInfo memory) {
        if (i >= _assets.length) revert BadAsset();
        return _assets[i];
    }
    function getPrice(address priceFeed) external view returns (uint256) {
        uint256 p = _prices[priceFeed];
        require(p != 0, "no price");
        return p;
    }
    function balanceOf(address account) external view returns (uint256) { return _supplied[account]; }
    function borrowBalanceOf(address account) external view returns (uint256) { return _borrowed[account]; }
    function collateralBalanceOf(address account, address asset) external view returns (uint128) {
        return _collateral[account][asset];
    }
}

// ------------------------------------------------------------------------------ Lido

/// wstETH: an ERC-20 with stEthPerToken() (stETH itself is a TestToken: balanceOf is all we read).
contract TestWstETH is TestToken {
    uint256 public stEthPerToken;
    constructor(uint256 rate) TestToken("Wrapped liquid staked Ether 2.0", "wstETH", 18) { stEthPerToken = rate; }
}

// ------------------------------------------------------------------------------ EigenLayer

/// StrategyBase: underlyingToken() and sharesToUnderlyingView(shares) at a fixed exchange rate.
contract TestStrategy {
    IERC20 public underlyingToken;
    uint256 private _num;
    uint256 private _den;
    constructor(address token, uint256 num, uint256 den) { underlyingToken = IERC20(token); _num = num; _den = den; }
    function sharesToUnderlyingView(uint256 amountShares) external view returns (uint256) { return amountShares * _num / _den; }
}

/// StrategyManager: getDeposits(staker) -> (strategies, deposit shares).
contract TestStrategyManager {
    mapping(address => address[]) private _strategies;
    mapping(address => uint256[]) private _shares;
    function addDeposit(address staker, address strategy, uint256 shares) external {
        _strategies[staker].push(strategy);
        _shares[staker].push(shares);
    }
    function getDeposits(address staker) external view returns (address[] memory, uint256[] memory) {
        return (_strategies[staker], _shares[staker]);
    }
}

/// EigenPodManager (slashing release): podOwnerDepositShares(podOwner), signed.
contract TestEigenPodManager {
    mapping(address => int256) public podOwnerDepositShares;
    function setShares(address podOwner, int256 shares) external { podOwnerDepositShares[podOwner] = shares; }
}

/// A protocol contract that reverts on every call (the fault test).
contract RevertingProtocol {
    fallback() external { revert("broken"); }
}
