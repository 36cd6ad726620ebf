// The checker run after every cluster scenario: it waits until the nodes
// agree, walks every block on every node over HTTP and judges the recorded
// history against the final chain.
//
// Properties (docs: DESIGN.md "What it promises"):
//   1. Convergence: every node of `nodes` reaches the same height and latest
//      hash, with an empty mempool, within `converge_timeout`.
//   2. Identical chains: the blocks at every height are byte-identical on all
//      of `nodes` (header bytes, transactions, receipts; the commit
//      certificate is per node and left out); `prefix_nodes` (a removed node)
//      hold an identical prefix. Each header names its height and the hash of
//      the previous one (the genesis hash for height 1), and carries as many
//      transactions and receipts as its tx_count.
//   3. No loss, no duplicates: every acknowledged transaction is applied
//      exactly once, at the height its acknowledgement named; no transaction
//      (acknowledged or not) is applied twice. A later copy of an applied
//      transaction is allowed only with a DUPLICATE_TX receipt (the ledger
//      records it without effect); such copies are counted as `reincluded`.
//   4. No contradicted read: every block a node served (linearizable or not)
//      is the final chain's block at that height; a linearizable read of the
//      latest block is at least as high as every write acknowledged and every
//      linearizable read completed before it began; a linearizable read of an
//      acknowledged transaction finds it at its final height.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tests/cluster/cluster.h"
#include "tests/cluster/load.h"

namespace cl::cluster_testing {

struct CheckOptions {
  std::vector<int> nodes;         // hold the whole chain; nodes[0] is the reference
  std::vector<int> prefix_nodes;  // hold a prefix of it
  Ms converge_timeout = Ms(30'000);
};

struct CheckResult {
  uint64_t height = 0;           // final height
  uint64_t chain_txs = 0;        // transactions in the chain
  uint64_t acked = 0;
  uint64_t unknown = 0;          // writes whose outcome the client does not know
  uint64_t unknown_applied = 0;  // ... of which in the chain
  uint64_t lost = 0;             // acknowledged, not in the chain (must be 0)
  uint64_t duplicates = 0;       // transactions applied more than once (must be 0)
  uint64_t reincluded = 0;       // later occurrences with a DUPLICATE_TX receipt (recorded, not applied)
  uint64_t reads = 0;            // successful reads checked
  uint64_t linearizable_reads = 0;
  uint64_t failed_reads = 0;
  uint64_t write_retries = 0;
  int64_t converge_ms = 0;
  std::vector<std::string> errors;  // every violated property (at most 20 listed)

  bool ok() const { return errors.empty(); }
  // One line of figures for the test output.
  std::string Summary() const;
};

CheckResult CheckHistory(const Cluster& cluster, const History& history, const CheckOptions& options);

}  // namespace cl::cluster_testing
