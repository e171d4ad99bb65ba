// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {TestComet} from "./Defi.sol";

// Test contracts of the defi-lend work. Only where no protocol publishes real artifacts on npm:
// Sky's sDAI/sUSDS (an ERC-4626 vault: OpenZeppelin's reference ERC4626 plus sUSDS's ssr()),
// Compound v3 (Comet is not on npm: the existing TestComet plus Comet's rate functions and a
// CometRewards), EigenLayer (not on npm: the DelegationManager's getQueuedWithdrawals).

/// An ERC-4626 savings vault like sUSDS: shares over an asset, with a per-second rate in ray.
contract TestSavingsVault is ERC4626 {
    uint256 public ssr;
    constructor(IERC20 asset_, uint256 ssr_) ERC20("Savings", "sTST") ERC4626(asset_) { ssr = ssr_; }
}

/// Comet with its rate views: the utilization and per-second rates (1e18) the tests set; like
/// Comet, the rate functions take the utilization as an argument.
contract TestCometYield is TestComet {
    uint256 private _util;
    uint64 private _supplyPerUtil;  // rate = util * k / 1e18, like Comet's linear kink segment
    uint64 private _borrowBase;
    constructor(address base, address baseFeed, uint256 basePrice) TestComet(base, baseFeed, basePrice) {}
    function setRates(uint256 util, uint64 supplyPerUtil, uint64 borrowBase) external {
        _util = util; _supplyPerUtil = supplyPerUtil; _borrowBase = borrowBase;
    }
    function getUtilization() external view returns (uint256) { return _util; }
    function getSupplyRate(uint256 utilization) external view returns (uint64) {
        return uint64(utilization * _supplyPerUtil / 1e18);
    }
    function getBorrowRate(uint256 utilization) external view returns (uint64) {
        return uint64(_borrowBase + utilization * _supplyPerUtil / 1e18 * 2);
    }
}

/// CometRewards.getRewardOwed(comet, account) -> RewardOwed(token, owed); reverts for a Comet
/// without a reward configuration, like the real one.
contract TestCometRewards {
    struct RewardOwed { address token; uint256 owed; }
    mapping(address => address) public rewardToken;
    mapping(address => mapping(address => uint256)) private _owed;
    function setReward(address comet, address token) external { rewardToken[comet] = token; }
    function setOwed(address comet, address account, uint256 owed) external { _owed[comet][account] = owed; }
    function getRewardOwed(address comet, address account) external returns (RewardOwed memory) {
        require(rewardToken[comet] != address(0), "NotSupported");
        return RewardOwed(rewardToken[comet], _owed[comet][account]);
    }
}

/// The slashing release's DelegationManager.getQueuedWithdrawals(staker).
contract TestDelegationManager {
    struct Withdrawal {
        address staker; address delegatedTo; address withdrawer; uint256 nonce; uint32 startBlock;
        address[] strategies; uint256[] scaledShares;
    }
    mapping(address => Withdrawal[]) private _queued;
    mapping(address => uint256[][]) private _shares;
    function queue(address staker, address[] calldata strategies, uint256[] calldata shares) external {
        _queued[staker].push(Withdrawal(staker, address(0), staker, _queued[staker].length,
                                        uint32(block.number), strategies, shares));
        _shares[staker].push(shares);
    }
    function getQueuedWithdrawals(address staker) external view returns (Withdrawal[] memory, uint256[][] memory) {
        return (_queued[staker], _shares[staker]);
    }
}

/// Multicall3's getCurrentBlockTimestamp() alone (the test node's Multicall3 lacks it): the
/// clock Morpho Blue's reader uses to add the interest since a market's last update.
contract BlockClock {
    function getCurrentBlockTimestamp() external view returns (uint256) { return block.timestamp; }
}
