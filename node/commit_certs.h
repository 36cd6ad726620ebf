// Commit certificates: each node signs the header of every block it applies
// and gossips the signature; a header signed by a quorum of the network's
// voting nodes is a commit certificate, stored beside the block. A client
// checks it against the genesis keys without trusting the node it asked.
//
// The gossip payload is a certledger.v1.CommitCertificate carrying one
// signature. Signatures are over crypto::HeaderMessage(block hash).
// A node stores one certificate per height, with a quorum of signatures
// (its own and the first peers' to arrive); signatures beyond a quorum are
// dropped unverified, so a 3-node network checks one peer signature per
// block, not two.
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "base/strong_types.h"
#include "crypto/digest.h"
#include "crypto/suite.h"

namespace cl::node {

struct SignerInfo {
  NodeId id;
  Bytes public_key;
};

// Verifies a serialized CommitCertificate for `expected_hash` at `height`:
// at least `quorum` distinct known signers with valid signatures. Used by the
// node, the CLI and the tests alike. CORRUPTION/UNAUTHENTICATED with a reason.
Status VerifyCommitCertificate(const crypto::Suite& suite, ByteView cert_bytes, Height height,
                               const crypto::Digest& expected_hash,
                               const std::vector<SignerInfo>& voters, size_t quorum);

class CommitCertCollector {
 public:
  struct Options {
    NodeId self;
    std::vector<SignerInfo> voters;  // the voting nodes whose signatures count
    size_t max_pending_heights = 1024;  // signatures for blocks we have not applied yet
  };
  // `store_cert(height, bytes)` persists a certificate (called without the
  // collector's lock, on whatever thread completed the quorum);
  // `broadcast(bytes)` sends our signature gossip to every peer.
  CommitCertCollector(Options options, std::shared_ptr<const crypto::Suite> suite,
                      const crypto::SecretKey& node_key,
                      std::function<Status(Height, const Bytes&)> store_cert,
                      std::function<void(const Bytes&)> broadcast);

  size_t quorum() const { return quorum_; }

  // This node applied block `height` with `hash`: sign, record, broadcast.
  void OnApplied(Height height, const crypto::Digest& hash);
  // A peer's gossip. Bad signatures, unknown signers and mismatching hashes
  // are dropped (with a count), never stored.
  void OnGossip(NodeId from, ByteView payload);

  uint64_t rejected() const;
  uint64_t certified() const;

 private:
  struct Slot {
    std::optional<crypto::Digest> local_hash;  // set once we applied the block
    std::map<NodeId, std::pair<crypto::Digest, Bytes>> sigs;  // signer → (hash, sig)
    bool stored = false;  // a certificate for the height is stored
  };
  void MaybeCertifyLocked(Height h, Slot& slot, std::vector<std::pair<Height, Bytes>>* out);
  // Stores certificates made under the lock; one that fails is made again later.
  void StoreAll(const std::vector<std::pair<Height, Bytes>>& certs);
  const SignerInfo* FindVoter(NodeId id) const;

  const Options options_;
  const std::shared_ptr<const crypto::Suite> suite_;
  const crypto::SecretKey& node_key_;
  const std::function<Status(Height, const Bytes&)> store_cert_;
  const std::function<void(const Bytes&)> broadcast_;
  const size_t quorum_;
  const bool self_votes_;  // this node's own signature counts toward a quorum

  mutable std::mutex mu_;
  std::map<Height, Slot> slots_;
  Height highest_applied_;
  uint64_t rejected_ = 0;
  uint64_t certified_ = 0;
};

}  // namespace cl::node
