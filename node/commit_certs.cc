#include "node/commit_certs.h"

#include <set>

#include "crypto/domain.h"
#include "proto/records.pb.h"

namespace cl::node {

namespace v1 = certledger::v1;

Status VerifyCommitCertificate(const crypto::Suite& suite, ByteView cert_bytes, Height height,
                               const crypto::Digest& expected_hash,
                               const std::vector<SignerInfo>& voters, size_t quorum) {
  v1::CommitCertificate cert;
  if (!cert.ParseFromArray(cert_bytes.data(), static_cast<int>(cert_bytes.size()))) return Corruption("commit certificate does not decode");
  if (cert.height() != height.value())
    return Corruption("commit certificate is for height " + std::to_string(cert.height()) +
                      ", not " + std::to_string(height.value()));
  if (cert.block_hash() != expected_hash.view())
    return Corruption("commit certificate names another block hash");
  const Bytes msg = crypto::HeaderMessage(expected_hash.view());
  std::set<uint64_t> good;
  for (const auto& sig : cert.signatures()) {
    const SignerInfo* signer = nullptr;
    for (const auto& v : voters)
      if (v.id.value() == sig.node_id()) signer = &v;
    if (signer == nullptr) continue;  // not a voter: does not count
    if (suite.Verify(signer->public_key, msg, sig.signature())) good.insert(sig.node_id());
  }
  if (good.size() < quorum)
    return Unauthenticated("commit certificate has " + std::to_string(good.size()) +
                           " valid voter signatures, quorum is " + std::to_string(quorum));
  return Status::Ok();
}

CommitCertCollector::CommitCertCollector(Options options,
                                         std::shared_ptr<const crypto::Suite> suite,
                                         const crypto::SecretKey& node_key,
                                         std::function<Status(Height, const Bytes&)> store_cert,
                                         std::function<void(const Bytes&)> broadcast)
    : options_(std::move(options)),
      suite_(std::move(suite)),
      node_key_(node_key),
      store_cert_(std::move(store_cert)),
      broadcast_(std::move(broadcast)),
      quorum_(options_.voters.size() / 2 + 1),
      self_votes_(FindVoter(options_.self) != nullptr) {}

const SignerInfo* CommitCertCollector::FindVoter(NodeId id) const {
  for (const auto& v : options_.voters)
    if (v.id == id) return &v;
  return nullptr;
}

void CommitCertCollector::OnApplied(Height height, const crypto::Digest& hash) {
  auto sig = suite_->Sign(node_key_, crypto::HeaderMessage(hash.view()));
  CL_CHECK(sig.ok(), "the node key cannot sign");
  v1::CommitCertificate gossip;
  gossip.set_height(height.value());
  gossip.set_block_hash(hash.ToBytes());
  auto* s = gossip.add_signatures();
  s->set_node_id(options_.self.value());
  s->set_signature(*sig);

  std::vector<std::pair<Height, Bytes>> to_store;
  {
    std::lock_guard lock(mu_);
    if (height > highest_applied_) highest_applied_ = height;
    Slot& slot = slots_[height];
    slot.local_hash = hash;
    if (self_votes_) slot.sigs[options_.self] = std::make_pair(hash, *sig);
    MaybeCertifyLocked(height, slot, &to_store);
    // Forget slots far below: their certificates are stored or never will be.
    while (!slots_.empty() &&
           slots_.begin()->first.value() + options_.max_pending_heights < highest_applied_.value())
      slots_.erase(slots_.begin());
  }
  broadcast_(gossip.SerializeAsString());
  StoreAll(to_store);
}

void CommitCertCollector::OnGossip(NodeId from, ByteView payload) {
  v1::CommitCertificate gossip;
  auto hash = crypto::Digest::FromBytes(
      gossip.ParseFromArray(payload.data(), static_cast<int>(payload.size())) ? gossip.block_hash() : "");
  const SignerInfo* signer = FindVoter(from);
  if (!hash || gossip.signatures_size() != 1 || gossip.signatures(0).node_id() != from.value() ||
      signer == nullptr) {
    std::lock_guard lock(mu_);
    ++rejected_;
    return;
  }
  const Height h(gossip.height());
  {
    std::lock_guard lock(mu_);
    // Bound what we hold for blocks we have not applied yet (or long ago).
    if (h.value() + options_.max_pending_heights < highest_applied_.value() ||
        h.value() > highest_applied_.value() + options_.max_pending_heights) {
      ++rejected_;
      return;
    }
    // A certificate carries a quorum, not every voter: once the height is
    // certified, or a quorum for this hash is in hand (counting this node's
    // own signature, made when it applies the block, if it votes), a further
    // signature is not needed — neither verified (the costly part) nor kept.
    // A peer's first valid signature for a height is the one kept: a second
    // one (another hash) must not replace what was counted.
    auto it = slots_.find(h);
    if (it != slots_.end()) {
      const Slot& slot = it->second;
      if (slot.stored || slot.sigs.contains(from)) return;
      size_t same = 0;
      for (const auto& [id, hs] : slot.sigs)
        if (hs.first == *hash) ++same;
      const bool own_to_come = self_votes_ && !slot.local_hash;
      if (!slot.local_hash && same + (own_to_come ? 1 : 0) >= quorum_) return;
    }
  }
  // Verified outside the lock, so that OnApplied (on the raft thread) never
  // waits behind a verification.
  if (!suite_->Verify(signer->public_key, crypto::HeaderMessage(hash->view()),
                      gossip.signatures(0).signature())) {
    std::lock_guard lock(mu_);
    ++rejected_;
    return;
  }
  std::vector<std::pair<Height, Bytes>> to_store;
  {
    std::lock_guard lock(mu_);
    Slot& slot = slots_[h];
    slot.sigs.try_emplace(from, *hash, gossip.signatures(0).signature());
    MaybeCertifyLocked(h, slot, &to_store);
  }
  StoreAll(to_store);
}

void CommitCertCollector::StoreAll(const std::vector<std::pair<Height, Bytes>>& certs) {
  for (const auto& [height, bytes] : certs) {
    if (store_cert_(height, bytes).ok()) continue;
    // Not stored (a write error, a snapshot being installed): the next
    // signature to arrive for the height tries again.
    std::lock_guard lock(mu_);
    if (auto it = slots_.find(height); it != slots_.end() && it->second.stored) {
      it->second.stored = false;
      --certified_;
    }
  }
}

void CommitCertCollector::MaybeCertifyLocked(Height h, Slot& slot,
                                             std::vector<std::pair<Height, Bytes>>* out) {
  if (!slot.local_hash) return;
  v1::CommitCertificate cert;
  cert.set_height(h.value());
  cert.set_block_hash(slot.local_hash->ToBytes());
  for (const auto& [id, hs] : slot.sigs) {
    if (hs.first != *slot.local_hash) continue;  // signed another block: a fork, never counted
    auto* s = cert.add_signatures();
    s->set_node_id(id.value());
    s->set_signature(hs.second);
  }
  const size_t n = static_cast<size_t>(cert.signatures_size());
  // Stored once, at quorum (OnGossip stops collecting for the height then).
  if (n < quorum_ || slot.stored) return;
  slot.stored = true;
  ++certified_;
  out->emplace_back(h, cert.SerializeAsString());
}

uint64_t CommitCertCollector::rejected() const {
  std::lock_guard lock(mu_);
  return rejected_;
}

uint64_t CommitCertCollector::certified() const {
  std::lock_guard lock(mu_);
  return certified_;
}

}  // namespace cl::node
