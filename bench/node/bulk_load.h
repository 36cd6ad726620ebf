// Bulk loading a local network's data directories with anchored
// certificates, much faster than submitting them through HTTP and raft, for
// the lookup and restart benchmarks at 10^5..10^7 certificates
// (docs/performance.md, "Certificate lookups").
//
// What it writes is what the running network would hold after committing the
// same transactions: the node's own code does every step. For each batch of
// `batch_txs` signed anchors (TxFactory::CorpusAnchors, so the query phase
// finds them) it forms the raft entry the leader would propose (a Batch with
// the proposal time and proposer, term 1 after the leader's no-op entry at
// index 1), appends it to node 1's raft log, applies it through
// Ledger::ApplyEntry (executor, history tree, one atomic store write with the
// raft index), and stores the block's commit certificate signed by every
// voting node's key. The hard state records the term, the leader's vote and
// the commit index. Writes are unsynced (a bulk load; the daemons open the
// store normally). Then the other nodes get node 1's store as a RocksDB
// checkpoint does it (immutable table files hard-linked, the rest copied):
// every node applies the same entries to the same bytes (DESIGN.md), so their
// stores would be identical.
//
// Signatures: the loader signs every tx itself; with `verify` false it
// records them as admitted (Ledger::NoteVerified, as a node does after
// CheckTx at admission), so apply runs the crypto-free checks only; with
// `verify` true apply checks every signature as for a tx it did not admit.
//
// The nodes of the network must be stopped. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "bench/node/workload.h"

namespace cl::bench {

struct BulkLoadOptions {
  std::string network_dir;              // certledger network init output
  std::vector<std::string> data_dirs;   // the nodes' data directories, node 1 first
  uint64_t count = 0;                   // corpus anchors 0..count-1
  uint32_t batch_txs = 2000;            // per block (the node's batch.max_txs default)
  uint32_t sign_threads = 2;
  bool verify = false;                  // apply verifies every signature
};

struct BulkLoadResult {
  uint64_t blocks = 0;
  uint64_t txs = 0;
  double seconds = 0;
};

// Loads `options.count` corpus anchors of `factory` into empty data
// directories (created by InitNetwork, never started). FAILED_PRECONDITION
// if node 1's store already holds blocks; any apply failure or a receipt
// that is not OK aborts.
Result<BulkLoadResult> BulkLoad(const BulkLoadOptions& options, const TxFactory& factory);

}  // namespace cl::bench
