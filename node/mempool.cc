#include "node/mempool.h"

#include "crypto/domain.h"
#include "proto/tx.pb.h"

namespace cl::node {
namespace {

std::unexpected<Rejection> Reject(RejectReason r, std::string msg) {
  return std::unexpected(Rejection{r, std::move(msg)});
}

}  // namespace

std::string_view RejectReasonName(RejectReason reason) {
  switch (reason) {
    case RejectReason::kTooLarge: return "TX_TOO_LARGE";
    case RejectReason::kMalformed: return "MALFORMED";
    case RejectReason::kWrongChain: return "WRONG_CHAIN";
    case RejectReason::kExpired: return "TX_EXPIRED";
    case RejectReason::kTooFarAhead: return "TX_TOO_FAR_AHEAD";
    case RejectReason::kBadSignature: return "BAD_SIGNATURE";
    case RejectReason::kDuplicate: return "DUPLICATE_TX";
    case RejectReason::kMempoolFull: return "MEMPOOL_FULL";
  }
  return "UNKNOWN";
}

Status Rejection::ToStatus() const {
  std::string msg = std::string(RejectReasonName(reason)) + ": " + message;
  switch (reason) {
    case RejectReason::kTooLarge: return ResourceExhausted(std::move(msg));
    case RejectReason::kMalformed: return InvalidArgument(std::move(msg));
    case RejectReason::kWrongChain: return InvalidArgument(std::move(msg));
    case RejectReason::kExpired: return FailedPrecondition(std::move(msg));
    case RejectReason::kTooFarAhead: return InvalidArgument(std::move(msg));
    case RejectReason::kBadSignature: return Unauthenticated(std::move(msg));
    case RejectReason::kDuplicate: return AlreadyExists(std::move(msg));
    case RejectReason::kMempoolFull: return ResourceExhausted(std::move(msg));
  }
  return Internal(std::move(msg));
}

std::expected<AdmittedTx, Rejection> CheckTx(Bytes raw, const AdmissionParams& params,
                                             const crypto::Suite& suite, int64_t now_ms) {
  if (raw.size() > params.max_tx_bytes)
    return Reject(RejectReason::kTooLarge, std::to_string(raw.size()) + " bytes > max_tx_bytes " +
                                               std::to_string(params.max_tx_bytes));
  certledger::v1::SignedTx stx;
  if (!stx.ParseFromString(raw)) return Reject(RejectReason::kMalformed, "SignedTx does not decode");
  certledger::v1::TxBody body;
  if (stx.body().empty() || !body.ParseFromString(stx.body()))
    return Reject(RejectReason::kMalformed, "TxBody does not decode");
  if (body.payload_case() == certledger::v1::TxBody::PAYLOAD_NOT_SET)
    return Reject(RejectReason::kMalformed, "TxBody has no payload");
  if (body.chain_id() != params.chain_id)
    return Reject(RejectReason::kWrongChain,
                  "chain_id '" + body.chain_id() + "' is not '" + params.chain_id + "'");
  if (body.valid_until_ms() < now_ms)
    return Reject(RejectReason::kExpired, "valid_until_ms " + std::to_string(body.valid_until_ms()) +
                                              " < now " + std::to_string(now_ms));
  if (body.valid_until_ms() - now_ms > params.max_tx_validity_ms)
    return Reject(RejectReason::kTooFarAhead,
                  "valid_until_ms more than max_tx_validity_ms (" +
                      std::to_string(params.max_tx_validity_ms) + " ms) ahead");
  const Bytes msg = crypto::TxMessage(stx.body());
  if (!suite.Verify(stx.signer(), msg, stx.signature()))
    return Reject(RejectReason::kBadSignature, "signature does not verify");
  for (int i = 0; i < stx.cosignatures_size(); ++i) {
    const auto& co = stx.cosignatures(i);
    if (!suite.Verify(co.signer(), msg, co.signature()))
      return Reject(RejectReason::kBadSignature,
                    "cosignature " + std::to_string(i) + " does not verify");
  }
  return AdmittedTx{suite.Hash(stx.body()), std::move(raw), body.valid_until_ms()};
}

Mempool::Mempool(MempoolOptions options, std::function<bool(const crypto::Digest&)> applied)
    : options_(options), applied_(std::move(applied)) {}

std::expected<void, Rejection> Mempool::Add(AdmittedTx tx) {
  if (applied_ && applied_(tx.id))
    return Reject(RejectReason::kDuplicate, "tx " + tx.id.ToHex() + " is already applied");
  std::lock_guard lock(mu_);
  if (by_id_.contains(tx.id))
    return Reject(RejectReason::kDuplicate, "tx " + tx.id.ToHex() + " is already pending");
  if (by_id_.size() >= options_.max_txs || bytes_ + tx.raw.size() > options_.max_bytes)
    return Reject(RejectReason::kMempoolFull, "mempool full (" + std::to_string(by_id_.size()) +
                                                  " txs, " + std::to_string(bytes_) + " bytes)");
  const uint64_t seq = next_seq_++;
  bytes_ += tx.raw.size();
  crypto::Digest id = tx.id;
  by_id_.emplace(id, Entry{.tx = std::move(tx), .seq = seq});
  pending_.emplace(seq, id);
  return {};
}

std::vector<AdmittedTx> Mempool::TakeBatch(size_t max_txs, size_t max_bytes, int64_t now_ms) {
  std::lock_guard lock(mu_);
  // Proposals that never came back applied (lost with a leader) go first.
  for (auto it = proposed_.begin(); it != proposed_.end();) {
    Entry& e = by_id_.at(it->second);
    if (now_ms - e.proposed_at_ms < options_.reproposal_ms) {
      ++it;
      continue;
    }
    e.proposed = false;
    pending_.emplace(it->first, it->second);
    it = proposed_.erase(it);
  }
  std::vector<AdmittedTx> out;
  size_t taken_bytes = 0;
  for (auto it = pending_.begin(); it != pending_.end() && out.size() < max_txs;) {
    Entry& e = by_id_.at(it->second);
    if (!out.empty() && taken_bytes + e.tx.raw.size() > max_bytes) break;
    taken_bytes += e.tx.raw.size();
    e.proposed = true;
    e.proposed_at_ms = now_ms;
    out.push_back(e.tx);
    proposed_.emplace(it->first, it->second);
    it = pending_.erase(it);
  }
  return out;
}

void Mempool::EraseLocked(std::map<crypto::Digest, Entry>::iterator it) {
  (it->second.proposed ? proposed_ : pending_).erase(it->second.seq);
  bytes_ -= it->second.tx.raw.size();
  by_id_.erase(it);
}

void Mempool::OnApplied(std::span<const crypto::Digest> ids) {
  std::lock_guard lock(mu_);
  for (const auto& id : ids) {
    auto it = by_id_.find(id);
    if (it != by_id_.end()) EraseLocked(it);
  }
}

size_t Mempool::Expire(int64_t now_ms) {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (auto it = by_id_.begin(); it != by_id_.end();) {
    auto next = std::next(it);
    if (it->second.tx.valid_until_ms < now_ms) {
      EraseLocked(it);
      ++n;
    }
    it = next;
  }
  return n;
}

void Mempool::RequeueProposed() {
  std::lock_guard lock(mu_);
  for (const auto& [seq, id] : proposed_) {
    by_id_.at(id).proposed = false;
    pending_.emplace(seq, id);
  }
  proposed_.clear();
}

size_t Mempool::size() const {
  std::lock_guard lock(mu_);
  return by_id_.size();
}

size_t Mempool::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

size_t Mempool::pending() const {
  std::lock_guard lock(mu_);
  return pending_.size();
}

}  // namespace cl::node
