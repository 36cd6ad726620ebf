// Admission checks and the mempool.
//
// CheckTx is the pure admission check every submitted transaction passes on
// arrival (size, decoding, chain id, expiry window, signatures); Mempool holds
// admitted transactions until the leader proposes them and they are applied.
// Duplicates are refused while pending, proposed, or (through the caller's
// `applied` lookup) already on the chain.
#pragma once

#include <cstdint>
#include <deque>
#include <expected>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "crypto/digest.h"
#include "crypto/suite.h"

namespace cl::node {

// Why a transaction was refused at the door. Names are stable API codes.
enum class RejectReason : uint8_t {
  kTooLarge,      // more bytes than the network's max_tx_bytes
  kMalformed,     // SignedTx or TxBody does not decode, or a required field is missing
  kWrongChain,    // chain_id is not this network's
  kExpired,       // valid_until_ms already passed
  kTooFarAhead,   // valid_until_ms beyond now + max_tx_validity_ms
  kBadSignature,  // a signature does not verify (or a key is malformed)
  kDuplicate,     // the same tx id is pending, proposed or applied
  kMempoolFull,   // back off and retry (HTTP 429 with Retry-After)
};

// "TX_TOO_LARGE", "MALFORMED", "WRONG_CHAIN", "TX_EXPIRED", "TX_TOO_FAR_AHEAD",
// "BAD_SIGNATURE", "DUPLICATE_TX", "MEMPOOL_FULL".
std::string_view RejectReasonName(RejectReason reason);

struct Rejection {
  RejectReason reason;
  std::string message;
  // The generic status for the reason (e.g. kBadSignature → UNAUTHENTICATED).
  Status ToStatus() const;
};

struct AdmissionParams {
  std::string chain_id;
  uint32_t max_tx_bytes = 65536;
  int64_t max_tx_validity_ms = 86'400'000;
};

struct AdmittedTx {
  crypto::Digest id;      // suite.Hash(SignedTx.body)
  Bytes raw;              // the serialized SignedTx exactly as received
  int64_t valid_until_ms = 0;
};

// Checks one serialized SignedTx against the network's rules at time now_ms.
// Pure apart from signature verification; thread-safe.
std::expected<AdmittedTx, Rejection> CheckTx(Bytes raw, const AdmissionParams& params,
                                             const crypto::Suite& suite, int64_t now_ms);

struct MempoolOptions {
  size_t max_txs = 20'000;          // pending + proposed transactions
  size_t max_bytes = 64u << 20;     // their serialized bytes
  int64_t reproposal_ms = 5'000;    // a proposed tx not applied by then may be proposed again
};

// Thread-safe. Pending transactions are proposed in arrival order.
class Mempool {
 public:
  // `applied` answers whether a tx id is already on the chain (the node's tx
  // index); it is called without the mempool's lock held.
  Mempool(MempoolOptions options, std::function<bool(const crypto::Digest&)> applied);
  Mempool(const Mempool&) = delete;
  Mempool& operator=(const Mempool&) = delete;

  // Adds an admitted transaction. kDuplicate or kMempoolFull on refusal.
  std::expected<void, Rejection> Add(AdmittedTx tx);

  // Removes up to max_txs pending transactions totalling at most max_bytes
  // (at least one if any is pending), oldest first, and marks them proposed.
  // Proposed transactions older than reproposal_ms come back first.
  std::vector<AdmittedTx> TakeBatch(size_t max_txs, size_t max_bytes, int64_t now_ms);

  // Forgets transactions that were applied (any node's block).
  void OnApplied(std::span<const crypto::Digest> ids);

  // Drops transactions whose validity ended before now_ms; returns how many.
  size_t Expire(int64_t now_ms);

  // Moves every proposed transaction back to pending (leadership changed).
  void RequeueProposed();

  size_t size() const;
  size_t bytes() const;
  size_t pending() const;

 private:
  struct Entry {
    AdmittedTx tx;
    bool proposed = false;
    int64_t proposed_at_ms = 0;
    uint64_t seq = 0;
  };
  void EraseLocked(std::map<crypto::Digest, Entry>::iterator it);

  const MempoolOptions options_;
  const std::function<bool(const crypto::Digest&)> applied_;
  mutable std::mutex mu_;
  std::map<crypto::Digest, Entry> by_id_;
  std::map<uint64_t, crypto::Digest> pending_;   // seq → id, arrival order
  std::map<uint64_t, crypto::Digest> proposed_;  // seq → id
  uint64_t next_seq_ = 1;
  size_t bytes_ = 0;
};

}  // namespace cl::node
