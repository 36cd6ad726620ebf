// Helpers for tests that run Nodes in process: submit and wait for the
// receipt, and find the leader among a set of nodes.
#pragma once

#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "node/node.h"

namespace cl::node::testing {

// Submits `tx` to `n` and waits (at most 10 s) for its receipt on that node.
inline Result<SubmitResult> SubmitAndWait(Node& n, Bytes tx) {
  std::promise<Result<SubmitResult>> p;
  n.Submit(std::move(tx), std::chrono::steady_clock::now() + std::chrono::seconds(10),
           [&](Result<SubmitResult> r, std::optional<RejectReason>) { p.set_value(std::move(r)); });
  return p.get_future().get();
}

// The id of a node (null entries are skipped) that leads, or 0 after `timeout`.
inline NodeId WaitForLeader(const std::vector<std::unique_ptr<Node>>& nodes,
                            std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    for (const auto& n : nodes)
      if (n && n->driver().status().role == consensus::StateRole::kLeader) return n->id();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return NodeId();
}

}  // namespace cl::node::testing
