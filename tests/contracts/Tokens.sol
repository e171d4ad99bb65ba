// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// OpenZeppelin ERC-20 with settable decimals and open minting (test only).
contract TestToken is ERC20 {
    uint8 private immutable _dec;
    constructor(string memory n, string memory s, uint8 d) ERC20(n, s) { _dec = d; }
    function decimals() public view override returns (uint8) { return _dec; }
    function mint(address to, uint256 amount) external { _mint(to, amount); }
}

/// balanceOf always reverts.
contract RevertingToken {
    function name() external pure returns (string memory) { return "Broken"; }
    function symbol() external pure returns (string memory) { return "BRK"; }
    function decimals() external pure returns (uint8) { return 18; }
    function balanceOf(address) external pure returns (uint256) { revert("nope"); }
}

/// MKR-style token: symbol and name are bytes32; balanceOf is a plain mapping.
contract Bytes32Token {
    mapping(address => uint256) public balanceOf;
    function symbol() external pure returns (bytes32) { return "MKR"; }
    function name() external pure returns (bytes32) { return "Maker"; }
    function decimals() external pure returns (uint8) { return 18; }
    function mint(address to, uint256 amount) external { balanceOf[to] += amount; }
}

/// balanceOf returns 3 bytes instead of a 32-byte word.
contract GarbageToken {
    function decimals() external pure returns (uint8) { return 18; }
    function balanceOf(address) external pure returns (uint256) {
        assembly {
            mstore(0, 0x0102030000000000000000000000000000000000000000000000000000000000)
            return(0, 3)
        }
    }
}
