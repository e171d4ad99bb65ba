// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// Constant-product pool of two ERC-20s (x * y = k, 0.3% fee) for the on-chain history tests.
contract HistoryPool {
    IERC20 public immutable token0;
    IERC20 public immutable token1;
    uint256 public reserve0;
    uint256 public reserve1;

    constructor(IERC20 a, IERC20 b) { token0 = a; token1 = b; }

    function addLiquidity(uint256 amount0, uint256 amount1) external {
        token0.transferFrom(msg.sender, address(this), amount0);
        token1.transferFrom(msg.sender, address(this), amount1);
        reserve0 += amount0;
        reserve1 += amount1;
    }

    function quote(address tokenIn, uint256 amountIn) public view returns (uint256) {
        (uint256 rIn, uint256 rOut) = tokenIn == address(token0) ? (reserve0, reserve1) : (reserve1, reserve0);
        uint256 withFee = amountIn * 997;
        return withFee * rOut / (rIn * 1000 + withFee);
    }

    function swap(address tokenIn, uint256 amountIn, uint256 minOut, address to) external returns (uint256 out) {
        require(tokenIn == address(token0) || tokenIn == address(token1), "token");
        out = quote(tokenIn, amountIn);
        require(out >= minOut, "slippage");
        bool zeroIn = tokenIn == address(token0);
        IERC20(tokenIn).transferFrom(msg.sender, address(this), amountIn);
        (zeroIn ? token1 : token0).transfer(to, out);
        if (zeroIn) { reserve0 += amountIn; reserve1 -= out; } else { reserve1 += amountIn; reserve0 -= out; }
    }
}

/// A spam airdrop token: no one asked for it, its name advertises a scam site, and it emits
/// Transfer logs from any address it likes (address poisoning), all from one transaction.
contract SpamAirdrop {
    event Transfer(address indexed from, address indexed to, uint256 value);
    mapping(address => uint256) public balanceOf;
    string public constant name = "Claim rewards at claim-bonus.example";
    string public constant symbol = "CLAIM";
    uint8 public constant decimals = 18;

    function airdrop(address from, address[] calldata to, uint256 amount) external {
        for (uint256 i = 0; i < to.length; i++) {
            balanceOf[to[i]] += amount;
            emit Transfer(from, to[i], amount);
        }
    }
}

/// Emits logs that share the Transfer topic but not the ERC-20 layout (an ERC-721 transfer with
/// the token id as a third indexed topic; data of the wrong length; too few topics).
contract HostileEmitter {
    bytes32 constant TRANSFER = keccak256("Transfer(address,address,uint256)");

    function emitAll(address from, address to) external {
        bytes32 f = bytes32(uint256(uint160(from)));
        bytes32 t = bytes32(uint256(uint160(to)));
        bytes32 sig = TRANSFER;
        assembly {
            log4(0, 0, sig, f, t, 7) // ERC-721: id in topic 3, no data
            mstore(0, 5)
            log3(0, 31, sig, f, t) // 31 bytes of data
            log3(0, 64, sig, f, t) // 64 bytes of data
            log2(0, 32, sig, f) // the recipient is missing
        }
    }
}

/// Moves the chain's coin inside calls, where only a trace (or an explorer's internal list) sees it.
contract NativeRouter {
    receive() external payable {}

    /// Passes the value sent on to ``to``.
    function forward(address payable to) external payable {
        (bool ok,) = to.call{value: msg.value}("");
        require(ok, "forward");
    }

    /// Pays ``amount`` of the router's own balance to ``to``.
    function payout(address payable to, uint256 amount) external {
        (bool ok,) = to.call{value: amount}("");
        require(ok, "payout");
    }

    /// Pays ``amount`` to ``to`` inside a call that then reverts: nothing moves, though the
    /// inner transfer shows in the trace (without an error of its own).
    function bounce(address payable to, uint256 amount) external {
        (bool ok,) = address(this).call(abi.encodeCall(this.payThenRevert, (to, amount)));
        ok; // the revert is expected and ignored
    }

    function payThenRevert(address payable to, uint256 amount) external {
        require(msg.sender == address(this), "self");
        (bool ok,) = to.call{value: amount}("");
        require(ok, "pay");
        revert("undone");
    }
}

/// Emits ERC-20 Transfer logs in bulk (the benchmark's history: thousands of transfers in few
/// transactions).
contract TransferEmitter {
    event Transfer(address indexed from, address indexed to, uint256 value);

    function emitMany(address[] calldata from, address[] calldata to, uint256 value) external {
        for (uint256 i = 0; i < from.length; i++) emit Transfer(from[i], to[i], value + i);
    }
}
