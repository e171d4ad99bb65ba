// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// Minimal ENS registry: node -> resolver (test only; placed at the mainnet registry address).
contract TestEnsRegistry {
    mapping(bytes32 => address) private _resolvers;
    function resolver(bytes32 node) external view returns (address) { return _resolvers[node]; }
    function setResolver(bytes32 node, address r) external { _resolvers[node] = r; }
    function owner(bytes32) external pure returns (address) { return address(0); }
}

/// Minimal public resolver: addr(bytes32) with ERC-165.
contract TestEnsResolver {
    mapping(bytes32 => address) private _addrs;
    function addr(bytes32 node) external view returns (address) { return _addrs[node]; }
    function setAddr(bytes32 node, address a) external { _addrs[node] = a; }
    function supportsInterface(bytes4 id) external pure returns (bool) {
        return id == 0x01ffc9a7 || id == 0x3b3b57de;
    }
}

/// Minimal universal resolver (what web3 8 asks): the node is read from the resolver calldata.
contract TestUniversalResolver {
    TestEnsRegistry private constant REGISTRY = TestEnsRegistry(0x00000000000C2E074eC69A0dFb2997BA6C7d2e1e);

    function resolve(bytes calldata, bytes calldata data) external view returns (bytes memory, address) {
        bytes32 node = bytes32(data[4:36]);
        address r = REGISTRY.resolver(node);
        require(r != address(0), "no resolver");
        (bool ok, bytes memory ret) = r.staticcall(data);
        require(ok, "resolver failed");
        return (ret, r);
    }
}
