// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// The one Multicall3 function x402's EVM facilitator calls to explain a refused payment (which check
/// failed: balance, nonce, validity window…). A fresh anvil has no Multicall3, so the devchain places
/// this at Multicall3's canonical address; without it every refusal reads "simulation failed".
contract Multicall3 {
    struct Call {
        address target;
        bytes callData;
    }

    struct Result {
        bool success;
        bytes returnData;
    }

    function tryAggregate(bool requireSuccess, Call[] calldata calls) public payable returns (Result[] memory returnData) {
        returnData = new Result[](calls.length);
        for (uint256 i = 0; i < calls.length; i++) {
            (bool success, bytes memory result) = calls[i].target.call(calls[i].callData);
            require(success || !requireSuccess, "Multicall3: call failed");
            returnData[i] = Result(success, result);
        }
    }
}
