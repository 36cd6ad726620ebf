// The executor: envelope checks, contract dispatch, replay index, block assembly.
#include "contracts/executor.h"

#include <algorithm>
#include <set>

#include "contracts/internal.h"
#include "crypto/domain.h"
#include "crypto/merkle.h"

namespace cl::contracts {

using internal::Outcome;
using internal::Reject;
namespace v1 = certledger::v1;

namespace {

constexpr uint32_t kDefaultMaxTxBytes = 65536;
constexpr int64_t kDefaultMaxTxValidityMs = 86'400'000;
constexpr uint32_t kDefaultMaxBlockTxs = 2000;
constexpr uint32_t kDefaultMaxRequirementLeaves = 64;
constexpr uint32_t kMaxRequirementLeavesCap = 1024;
constexpr int kMaxCosignatures = 64;

bool VerifyParsed(const crypto::Suite& suite, const v1::SignedTx& tx) {
  if (tx.cosignatures_size() > kMaxCosignatures) return false;
  Bytes msg = crypto::TxMessage(tx.body());
  if (!suite.Verify(tx.signer(), msg, tx.signature())) return false;
  for (const auto& c : tx.cosignatures()) {
    if (!suite.Verify(c.signer(), msg, c.signature())) return false;
  }
  return true;
}

Result<Outcome> Dispatch(internal::TxContext& ctx, const v1::TxBody& body, v1::Verdict* verdict) {
  using B = v1::TxBody;
  switch (body.payload_case()) {
    case B::kAnchorCertificate:
      return internal::ApplyAnchor(ctx, body.anchor_certificate());
    case B::kRevokeCertificate:
      return internal::ApplyRevoke(ctx, body.revoke_certificate());
    case B::kSupersedeCertificate:
      return internal::ApplySupersede(ctx, body.supersede_certificate());
    case B::kSuspendCertificate:
      return internal::ApplySuspend(ctx, body.suspend_certificate());
    case B::kReinstateCertificate:
      return internal::ApplyReinstate(ctx, body.reinstate_certificate());
    case B::kRegisterHolder:
      return internal::ApplyRegisterHolder(ctx, body.register_holder());
    case B::kRegisterAgent:
      return internal::ApplyRegisterAgent(ctx, body.register_agent());
    case B::kGrantAuthorization:
      return internal::ApplyGrant(ctx, body.grant_authorization());
    case B::kRevokeAuthorization:
      return internal::ApplyRevokeAuthorization(ctx, body.revoke_authorization());
    case B::kDefineService:
      return internal::ApplyDefineService(ctx, body.define_service());
    case B::kDefineBundle:
      return internal::ApplyDefineBundle(ctx, body.define_bundle());
    case B::kProofRequest:
      return internal::ApplyProofRequest(ctx, body.proof_request(), verdict);
    case B::kGovernance:
      return internal::ApplyGovernance(ctx, body.governance());
    case B::PAYLOAD_NOT_SET:
      break;
  }
  return Reject(v1::MALFORMED, "no payload");
}

// Applies the txs of one block, in order, over `base`.
class BlockRun {
 public:
  BlockRun(const crypto::Suite& suite, const v1::GenesisParams& params, const std::string& chain_id,
           const StateView& base, Height height, int64_t time_ms,
           const std::vector<uint8_t>* presigned)
      : suite_(suite),
        params_(params),
        chain_id_(chain_id),
        height_(height),
        time_ms_(time_ms),
        presigned_(presigned),
        state_(base, &writes_) {}

  // Drops replay-index entries whose valid_until_ms is before block time: a tx
  // with that expiry can no longer be included (block time never decreases),
  // so remembering its id is useless. At most kMaxPrunePerBlock per block;
  // leftovers go in later blocks (keeping them longer is harmless).
  // The index is read in growing pages (8, 32, 128, ...): usually nothing or
  // little has expired, and reading kMaxPrunePerBlock entries of a large
  // index every block was a third of a busy node's CPU (docs/performance.md).
  //
  // `floor` (optional) is a lower bound on every expiry in the index: at or
  // after block time, nothing can have expired and the index is not read.
  // Afterwards floor() is such a bound for the index as this block leaves it.
  Status Prune(std::optional<int64_t> floor) {
    if (floor && *floor >= time_ms_) {
      floor_ = floor;
      return Status::Ok();
    }
    floor_.reset();
    size_t pruned = 0, page = 8;
    Bytes after;
    while (pruned < internal::kMaxPrunePerBlock) {
      page = std::min(page, internal::kMaxPrunePerBlock - pruned);
      CL_ASSIGN_OR_RETURN(auto entries, state_.Scan(keys::kExpiry, after, page));
      for (const auto& [k, v] : entries) {
        if (k.size() < keys::kExpiry.size() + 8) return Corruption("bad expiry index key");
        auto until = static_cast<int64_t>(ReadBigEndian64(ByteView(k).substr(keys::kExpiry.size())));
        if (until >= time_ms_) {
          floor_ = until;  // the index is in expiry order: the earliest left
          return Status::Ok();
        }
        state_.Delete(k);
        state_.Delete(keys::Seen(ByteView(k).substr(keys::kExpiry.size() + 8)));
        ++pruned;
      }
      if (entries.size() < page) {
        floor_ = INT64_MAX;  // the index is empty now
        return Status::Ok();
      }
      after = entries.back().first;
      page *= 4;
    }
    return Status::Ok();  // stopped at the cap: what is left is not known
  }

  std::optional<int64_t> floor() const { return floor_; }

  Result<v1::Receipt> ApplyTx(ByteView raw, uint32_t index, crypto::Digest* id) {
    v1::Receipt r;
    r.set_height(height_.value());
    r.set_index(index);
    auto done = [&](v1::ResultCode code, std::string msg) {
      r.set_tx_id(id->ToBytes());
      r.set_code(code);
      r.set_message(std::move(msg));
      return r;
    };
    *id = TxIdOf(suite_, raw);
    if (index >= params_.max_block_txs()) return done(v1::INVALID_ARGUMENT, "beyond max_block_txs");
    if (raw.size() > params_.max_tx_bytes())
      return done(v1::MALFORMED, "tx larger than max_tx_bytes");
    v1::SignedTx tx;
    if (!tx.ParseFromArray(raw.data(), static_cast<int>(raw.size())))
      return done(v1::MALFORMED, "signed tx does not decode");
    v1::TxBody body;
    if (!body.ParseFromString(tx.body())) return done(v1::MALFORMED, "tx body does not decode");
    if (body.chain_id() != chain_id_) return done(v1::WRONG_CHAIN, "chain id is not " + chain_id_);
    if (body.valid_until_ms() < time_ms_)
      return done(v1::TX_EXPIRED, "valid_until_ms before block time");
    // valid_until >= time here, so the unsigned difference cannot wrap.
    if (static_cast<uint64_t>(body.valid_until_ms()) - static_cast<uint64_t>(time_ms_) >
        static_cast<uint64_t>(params_.max_tx_validity_ms())) {
      return done(v1::TX_EXPIRED, "valid_until_ms beyond block time + max_tx_validity_ms");
    }
    bool sig_ok = presigned_ ? (*presigned_)[index] != 0 : VerifyParsed(suite_, tx);
    if (!sig_ok) return done(v1::BAD_SIGNATURE, "a signature does not verify");
    CL_ASSIGN_OR_RETURN(auto seen, state_.Get(keys::Seen(id->view())));
    if (seen) return done(v1::DUPLICATE_TX, "tx already applied");
    // Remember the id (whatever the contract decides) until it expires.
    state_.Put(keys::Seen(id->view()), BigEndian64(static_cast<uint64_t>(body.valid_until_ms())));
    state_.Put(keys::Expiry(body.valid_until_ms(), id->view()), "");
    if (floor_) floor_ = std::min(*floor_, body.valid_until_ms());

    WriteSet tx_writes;
    OverlayState tx_state(state_, &tx_writes);
    internal::TxContext ctx{suite_, params_, height_, time_ms_, index, *id, tx, tx_state};
    v1::Verdict verdict;
    CL_ASSIGN_OR_RETURN(Outcome out, Dispatch(ctx, body, &verdict));
    if (out.ok()) {
      writes_.Merge(tx_writes);
      if (body.has_proof_request()) *r.mutable_verdict() = std::move(verdict);
    }
    return done(out.code, std::move(out.message));
  }

  WriteSet& writes() { return writes_; }

 private:
  const crypto::Suite& suite_;
  const v1::GenesisParams& params_;
  const std::string& chain_id_;
  Height height_;
  int64_t time_ms_;
  const std::vector<uint8_t>* presigned_;
  WriteSet writes_;
  OverlayState state_;
  std::optional<int64_t> floor_;  // see Prune
};

// Builds the genesis state, validating as it goes. Returns the reason on failure.
std::string BuildGenesisState(const crypto::Suite& suite, const v1::Genesis& g, WriteSet* ws) {
  using internal::ValidCode;
  MemState empty;
  OverlayState st(empty, ws);
  std::set<std::string> depts;
  for (const auto& d : g.departments()) {
    if (!ValidCode(d.code()) || d.name().empty() || !depts.insert(d.code()).second ||
        d.removed_height() != 0) {
      return "department " + d.code() + ": invalid or repeated";
    }
    st.Put(keys::Dept(d.code()), Encode(d));
  }
  std::set<Bytes> member_keys;
  uint32_t admins = 0;
  for (const auto& m : g.members()) {
    if (m.public_key().size() != suite.public_key_size() ||
        !member_keys.insert(m.public_key()).second) {
      return "member key of " + m.department() + ": wrong size or repeated";
    }
    if (!depts.contains(m.department())) return "member of unknown department " + m.department();
    if (m.roles().empty() || m.added_height() != 0 || m.revoked_height() != 0) {
      return "member of " + m.department() + ": needs roles, no heights";
    }
    bool identity = false;
    for (const auto& d : g.departments()) {
      if (d.code() == m.department()) identity = d.identity_authority();
    }
    std::set<int> roles;
    for (int r : m.roles()) {
      if (r <= v1::ROLE_UNSPECIFIED || r > v1::IDENTITY_CLERK || !roles.insert(r).second) {
        return "member of " + m.department() + ": invalid or repeated role";
      }
      if (r == v1::IDENTITY_CLERK && !identity)
        return "IDENTITY_CLERK outside an identity authority";
    }
    if (roles.contains(v1::ADMIN)) {
      ++admins;
      st.Put(keys::Admin(m.public_key()), "");
    }
    st.Put(keys::Member(m.public_key()), Encode(m));
  }
  if (admins == 0 || admins > internal::kMaxAdmins) return "genesis needs 1..64 ADMIN members";
  if (g.admin_threshold() == 0 || g.admin_threshold() > admins)
    return "admin_threshold must be in [1, admins]";
  Bytes threshold;
  PutBigEndian32(&threshold, g.admin_threshold());
  st.Put(keys::kAdminThreshold, threshold);
  std::set<std::string> types;
  for (const auto& t : g.cert_types()) {
    if (!ValidCode(t.type_code()) || !types.insert(t.type_code()).second || t.name().empty() ||
        (t.doc_class() != v1::CERTIFICATE && t.doc_class() != v1::EBILL) || t.issuers().empty() ||
        !internal::ValidCodeList(t.issuers()) || !internal::ValidCodeList(t.data_types())) {
      return "certificate type " + t.type_code() + ": invalid or repeated";
    }
    for (const auto& i : t.issuers()) {
      if (!depts.contains(i)) return "certificate type " + t.type_code() + ": unknown issuer " + i;
    }
    st.Put(keys::Type(t.type_code()), Encode(t));
  }
  std::set<uint64_t> nodes;
  for (const auto& n : g.nodes()) {
    if (n.node_id() == 0 || !nodes.insert(n.node_id()).second || !depts.contains(n.department()) ||
        n.public_key().size() != suite.public_key_size()) {
      return "node " + std::to_string(n.node_id()) + ": invalid or repeated";
    }
    st.Put(keys::Node(n.node_id()), Encode(n));
  }
  for (const auto& s : g.services()) {
    auto err = internal::CheckServiceDefinition(st, s, g.params().max_requirement_leaves());
    if (!err.ok()) return err.status().ToString();
    if (!err->empty()) return "service " + s.code() + ": " + *err;
    auto existing = st.Get(keys::Service(s.code()));
    if (!existing.ok() || existing->has_value()) return "service " + s.code() + ": repeated";
    v1::ServiceDefinition rec = s;
    rec.set_defined_height(0);
    internal::PutService(st, rec);
  }
  return "";
}

}  // namespace

bool VerifyTxSignatures(const crypto::Suite& suite, ByteView signed_tx) {
  v1::SignedTx tx;
  if (!tx.ParseFromArray(signed_tx.data(), static_cast<int>(signed_tx.size()))) return false;
  return VerifyParsed(suite, tx);
}

bool TxSignaturesAcceptableOnceVerified(ByteView signed_tx) {
  v1::SignedTx tx;
  if (!tx.ParseFromArray(signed_tx.data(), static_cast<int>(signed_tx.size()))) return false;
  return tx.cosignatures_size() <= kMaxCosignatures;
}

crypto::Digest TxIdOf(const crypto::Suite& suite, ByteView signed_tx) {
  v1::SignedTx tx;
  if (!tx.ParseFromArray(signed_tx.data(), static_cast<int>(signed_tx.size())))
    return suite.Hash(signed_tx);
  return suite.Hash(tx.body());
}

Executor::Executor(std::shared_ptr<const crypto::Suite> suite, std::unique_ptr<v1::Genesis> genesis,
                   WriteSet genesis_state)
    : suite_(std::move(suite)),
      genesis_(std::move(genesis)),
      chain_id_(genesis_->chain_id()),
      params_(&genesis_->params()),
      genesis_state_(std::move(genesis_state)) {}

Executor::~Executor() = default;

Result<std::unique_ptr<Executor>> Executor::Create(const v1::Genesis& genesis,
                                                   std::shared_ptr<const crypto::Suite> suite) {
  if (!suite) return InvalidArgument("no suite");
  if (genesis.chain_id().empty() || genesis.chain_id().size() > 64)
    return InvalidArgument("genesis: chain_id required");
  if (genesis.suite() != suite->name()) {
    return InvalidArgument("genesis: suite " + genesis.suite() + " but executor given " +
                           std::string(suite->name()));
  }
  auto g = std::make_unique<v1::Genesis>(genesis);
  auto* p = g->mutable_params();
  if (p->max_tx_bytes() == 0) p->set_max_tx_bytes(kDefaultMaxTxBytes);
  if (p->max_tx_validity_ms() == 0) p->set_max_tx_validity_ms(kDefaultMaxTxValidityMs);
  if (p->max_block_txs() == 0) p->set_max_block_txs(kDefaultMaxBlockTxs);
  if (p->max_requirement_leaves() == 0) p->set_max_requirement_leaves(kDefaultMaxRequirementLeaves);
  if (p->max_tx_validity_ms() < 0)
    return InvalidArgument("genesis: max_tx_validity_ms must be > 0");
  if (p->max_requirement_leaves() > kMaxRequirementLeavesCap) {
    return InvalidArgument("genesis: max_requirement_leaves above 1024");
  }
  WriteSet ws;
  if (std::string err = BuildGenesisState(*suite, *g, &ws); !err.empty()) {
    return InvalidArgument("genesis: " + err);
  }
  return std::unique_ptr<Executor>(new Executor(std::move(suite), std::move(g), std::move(ws)));
}

WriteSet Executor::GenesisState() const { return genesis_state_; }

Result<ExecOutput> Executor::Apply(const ExecInput& in) const {
  if (in.state == nullptr) return InvalidArgument("apply: no state view");
  if (in.prev_header) {
    if (in.ctx.height.value() != in.prev_header->height() + 1) {
      return InvalidArgument("apply: height does not follow the previous header");
    }
    if (in.history.size() != in.prev_header->history_size()) {
      return InvalidArgument("apply: history frontier does not match the previous header");
    }
  } else if (in.ctx.height != Height(1) || in.history.size() != 0) {
    return InvalidArgument(
        "apply: without a previous header the height must be 1 and history empty");
  }
  if (in.presigned_ok && in.presigned_ok->size() != in.txs.size()) {
    return InvalidArgument("apply: presigned_ok must have one entry per tx");
  }
  const int64_t time_ms = std::max(in.ctx.time_ms, in.prev_time_ms);
  BlockRun run(*suite_, *params_, chain_id_, *in.state, in.ctx.height, time_ms, in.presigned_ok);
  CL_RETURN_IF_ERROR(run.Prune(in.expiry_floor));

  ExecOutput out;
  out.time_ms = time_ms;
  out.history = in.history;
  v1::Block block;
  std::vector<crypto::Digest> tx_leaves, result_leaves;
  for (size_t i = 0; i < in.txs.size(); ++i) {
    crypto::Digest id;
    CL_ASSIGN_OR_RETURN(v1::Receipt receipt, run.ApplyTx(in.txs[i], static_cast<uint32_t>(i), &id));
    Bytes receipt_bytes = Encode(receipt);
    crypto::Digest leaf = crypto::MerkleLeafHash(*suite_, id.view());
    tx_leaves.push_back(leaf);
    out.history.Append(*suite_, leaf, &out.history_nodes);
    result_leaves.push_back(crypto::MerkleLeafHash(*suite_, receipt_bytes));
    out.tx_ids.push_back(id);
    block.add_txs(in.txs[i]);
    block.add_receipts(receipt_bytes);
    out.receipts.push_back(std::move(receipt_bytes));
  }

  v1::BlockHeader h;
  h.set_chain_id(chain_id_);
  h.set_height(in.ctx.height.value());
  h.set_prev_hash(in.prev_hash.ToBytes());
  h.set_tx_root(crypto::MerkleRoot(*suite_, tx_leaves).ToBytes());
  h.set_result_root(crypto::MerkleRoot(*suite_, result_leaves).ToBytes());
  h.set_history_root(out.history.Root(*suite_).ToBytes());
  h.set_history_size(out.history.size());
  h.set_time_ms(time_ms);
  h.set_proposer(in.ctx.proposer.value());
  h.set_raft_term(in.ctx.raft_term.value());
  h.set_raft_index(in.ctx.raft_index.value());
  h.set_tx_count(static_cast<uint32_t>(in.txs.size()));
  out.header_bytes = Encode(h);
  out.block_hash = suite_->Hash(out.header_bytes);
  block.set_header(out.header_bytes);
  out.block = Encode(block);
  out.writes = std::move(run.writes());
  out.expiry_floor = run.floor();
  return out;
}

Result<v1::Verdict> Executor::ReplayVerdict(const StateView& state_before_block,
                                            const ReplayTarget& target) const {
  if (target.index >= target.txs.size()) return InvalidArgument("replay: index beyond the block");
  BlockRun run(*suite_, *params_, chain_id_, state_before_block, target.height, target.time_ms,
               nullptr);
  CL_RETURN_IF_ERROR(run.Prune(std::nullopt));
  v1::Receipt receipt;
  for (uint32_t i = 0; i <= target.index; ++i) {
    crypto::Digest id;
    CL_ASSIGN_OR_RETURN(receipt, run.ApplyTx(target.txs[i], i, &id));
  }
  if (receipt.code() != v1::OK || !receipt.has_verdict()) {
    return NotFound("replay: tx " + std::to_string(target.index) +
                    " is not an accepted proof request");
  }
  return receipt.verdict();
}

}  // namespace cl::contracts
