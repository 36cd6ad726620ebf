#include "cli/verify.h"

#include <google/protobuf/util/json_util.h>

#include <map>

#include "crypto/domain.h"
#include "crypto/merkle.h"
#include "node/commit_certs.h"
#include "proto/tx.pb.h"

namespace cl::cli {
namespace {

namespace v1 = certledger::v1;
namespace api = certledger::api;

struct Voters {
  std::vector<node::SignerInfo> list;
  size_t quorum = 1;
};

Voters VotersOf(const v1::Genesis& g) {
  Voters v;
  for (const v1::NodeInfo& n : g.nodes())
    if (n.role() == v1::NodeInfo::VOTER) v.list.push_back({NodeId(n.node_id()), n.public_key()});
  v.quorum = v.list.size() / 2 + 1;
  return v;
}

Result<std::vector<crypto::Digest>> ParsePath(const google::protobuf::RepeatedPtrField<std::string>& hex) {
  std::vector<crypto::Digest> out;
  for (const std::string& h : hex) {
    auto d = crypto::Digest::FromHex(h);
    if (!d) return Corruption("a proof path element is not a 32-byte hex digest");
    out.push_back(*d);
  }
  return out;
}

// Is `signer` a genesis member of `department` with `role`?
bool HasRole(const v1::Genesis& g, ByteView signer, const std::string& department, v1::Role role) {
  for (const v1::Member& m : g.members()) {
    if (m.public_key() != signer || m.department() != department) continue;
    for (int r : m.roles())
      if (r == role) return true;
  }
  return false;
}

bool MayIssue(const v1::Genesis& g, const std::string& type_code, const std::string& dept) {
  for (const v1::CertType& t : g.cert_types())
    if (t.type_code() == type_code)
      for (const std::string& i : t.issuers())
        if (i == dept) return true;
  return false;
}

CertCheck Failed(std::string why) {
  CertCheck c;
  c.verdict = CertVerdict::kFailed;
  c.reason = std::move(why);
  return c;
}

}  // namespace

Result<PinnedGenesis> ParsePinnedGenesis(Bytes bytes) {
  PinnedGenesis p;
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = false;
  if (!google::protobuf::util::JsonStringToMessage(bytes, &p.genesis, opts).ok())
    return InvalidArgument("the genesis does not parse as certledger.v1.Genesis JSON");
  if (p.genesis.suite().empty()) p.genesis.set_suite(std::string(crypto::kDefaultSuite));
  auto suite = crypto::MakeSuite(p.genesis.suite());
  if (!suite.ok()) return suite.status();
  p.suite = *suite;
  p.hash = p.suite->Hash(bytes);
  p.bytes = std::move(bytes);
  return p;
}

std::string_view CertVerdictName(CertVerdict v) {
  switch (v) {
    case CertVerdict::kValid: return "VALID";
    case CertVerdict::kRevoked: return "REVOKED";
    case CertVerdict::kSuspended: return "SUSPENDED";
    case CertVerdict::kExpired: return "EXPIRED";
    case CertVerdict::kSuperseded: return "SUPERSEDED";
    case CertVerdict::kUnknown: return "UNKNOWN";
    case CertVerdict::kFailed: return "VERIFICATION FAILED";
  }
  return "?";
}

Status VerifyTxInclusion(const PinnedGenesis& g, const api::TxView& tx, v1::BlockHeader* header) {
  const crypto::Suite& suite = *g.suite;
  const crypto::Digest id = suite.Hash(tx.tx().body());
  if (id.ToHex() != tx.tx_id()) return Corruption("tx id is not the hash of the tx body");
  if (!tx.has_proof()) return Corruption("no inclusion proof for tx " + tx.tx_id());
  const api::InclusionProof& p = tx.proof();
  if (!header->ParseFromString(p.header())) return Corruption("the proof's header does not decode");
  if (header->chain_id() != g.genesis.chain_id()) return Corruption("the proof's header is of another chain");
  if (header->height() != p.height()) return Corruption("the proof's header is not at the stated height");
  if (header->history_size() != p.tree_size())
    return Corruption("the proof's tree size is not the header's history size");
  auto root = crypto::Digest::FromBytes(header->history_root());
  if (!root) return Corruption("the header's history root is malformed");
  CL_ASSIGN_OR_RETURN(auto path, ParsePath(p.path()));
  if (Status s = crypto::VerifyMerkleInclusion(suite, p.leaf_index(), p.tree_size(),
                                               crypto::MerkleLeafHash(suite, id.view()), path, *root);
      !s.ok())
    return Corruption("the Merkle path does not lead to the certified history root (" + s.message() + ")");
  const Voters voters = VotersOf(g.genesis);
  if (Status s = node::VerifyCommitCertificate(suite, p.commit_certificate(), Height(p.height()),
                                               suite.Hash(p.header()), voters.list, voters.quorum);
      !s.ok())
    return Unauthenticated("the commit certificate does not verify against the genesis keys (" +
                           s.message() + ")");
  return Status::Ok();
}

CertCheck VerifyCertificateView(const PinnedGenesis& g, ByteView doc_hash, const api::CertificateView& view) {
  const crypto::Suite& suite = *g.suite;
  if (view.history_txs_size() == 0) return Failed("the answer carries no proven transactions");
  CertCheck out;
  uint64_t best_height = 0;
  std::string state = "VALID";
  for (int i = 0; i < view.history_txs_size(); ++i) {
    const api::TxView& tx = view.history_txs(i);
    v1::BlockHeader header;
    if (Status s = VerifyTxInclusion(g, tx, &header); !s.ok()) return Failed(s.message());
    if (header.height() > best_height) {
      best_height = header.height();
      out.checked_height = header.height();
      out.checked_time_ms = header.time_ms();
    }
    if (!suite.Verify(tx.tx().signer(), crypto::TxMessage(tx.tx().body()), tx.tx().signature()))
      return Failed("a transaction's signature does not verify");
    v1::TxBody body;
    if (!body.ParseFromString(tx.tx().body())) return Failed("a transaction body does not decode");
    if (body.chain_id() != g.genesis.chain_id()) return Failed("a transaction is for another chain");
    if (i == 0) {
      if (!body.has_anchor_certificate()) return Failed("the first transaction is not an anchoring");
      out.anchor = body.anchor_certificate();
      if (out.anchor.doc_hash() != doc_hash)
        return Failed("the anchored document hash differs from this file's hash (file altered, or the node "
                      "answered about another document)");
      if (!MayIssue(g.genesis, out.anchor.type_code(), out.anchor.issuer()))
        return Failed("department " + out.anchor.issuer() + " may not issue " + out.anchor.type_code());
      if (!HasRole(g.genesis, tx.tx().signer(), out.anchor.issuer(), v1::ISSUING_CLERK))
        return Failed("the anchoring was not signed by an issuing clerk of " + out.anchor.issuer() +
                      " (as registered in genesis)");
      continue;
    }
    // A later status change must concern this certificate and come from its issuer.
    const std::string* cert_id = nullptr;
    std::string next;
    if (body.has_revoke_certificate()) cert_id = &body.revoke_certificate().cert_id(), next = "REVOKED";
    else if (body.has_suspend_certificate()) cert_id = &body.suspend_certificate().cert_id(), next = "SUSPENDED";
    else if (body.has_reinstate_certificate()) cert_id = &body.reinstate_certificate().cert_id(), next = "VALID";
    else if (body.has_supersede_certificate()) cert_id = &body.supersede_certificate().cert_id(), next = "SUPERSEDED";
    if (cert_id == nullptr || *cert_id != out.anchor.cert_id())
      return Failed("a status transaction does not concern this certificate");
    if (!HasRole(g.genesis, tx.tx().signer(), out.anchor.issuer(), v1::ISSUING_CLERK))
      return Failed("a status change was not signed by an issuing clerk of the issuer");
    state = next;
    out.proven_changes.push_back(body);
  }
  // The node's record must agree with what was proven; a disagreement means
  // the node lies about the certificate.
  const v1::CertificateRecord& rec = view.record();
  if (rec.anchor().doc_hash() != out.anchor.doc_hash() || rec.anchor().cert_id() != out.anchor.cert_id())
    return Failed("the node's record differs from the proven anchoring");
  const std::map<std::string, v1::CertStatus> claimed = {
      {"VALID", v1::VALID}, {"REVOKED", v1::REVOKED}, {"SUSPENDED", v1::SUSPENDED}, {"SUPERSEDED", v1::SUPERSEDED}};
  if (rec.status() != claimed.at(state))
    return Failed("the node's status (" + v1::CertStatus_Name(rec.status()) +
                  ") is not what its proofs show (" + state + ")");
  for (const v1::Department& d : g.genesis.departments())
    if (d.code() == out.anchor.issuer()) out.issuer_name = d.name();
  if (!out.proven_changes.empty()) {
    const v1::TxBody& last = out.proven_changes.back();
    if (last.has_revoke_certificate()) out.reason = last.revoke_certificate().reason();
    if (last.has_suspend_certificate()) out.reason = last.suspend_certificate().reason();
    if (last.has_supersede_certificate())
      out.reason = last.supersede_certificate().reason() + " (now " + last.supersede_certificate().new_cert_id() + ")";
  }
  if (state == "REVOKED") out.verdict = CertVerdict::kRevoked;
  else if (state == "SUSPENDED") out.verdict = CertVerdict::kSuspended;
  else if (state == "SUPERSEDED") out.verdict = CertVerdict::kSuperseded;
  else if ((out.anchor.valid_until_ms() != 0 && out.checked_time_ms > out.anchor.valid_until_ms()) ||
           out.checked_time_ms < out.anchor.valid_from_ms()) {
    out.verdict = CertVerdict::kExpired;
    out.reason = out.checked_time_ms < out.anchor.valid_from_ms() ? "not yet valid" : "past its validity";
  } else {
    out.verdict = CertVerdict::kValid;
  }
  return out;
}

// ---------------------------------------------------------------- chain audit

struct ChainAuditor::State {
  Voters voters;
  crypto::Digest prev_hash;
  crypto::MerkleFrontier history;
  int64_t prev_time_ms = 0;
  std::map<uint64_t, std::pair<uint64_t, crypto::Digest>> roots;  // height -> (size, root)
};

ChainAuditor::ChainAuditor(const PinnedGenesis& g) : g_(g), s_(std::make_unique<State>()) {
  s_->voters = VotersOf(g.genesis);
  s_->prev_hash = g.hash;
}
ChainAuditor::~ChainAuditor() = default;

uint64_t ChainAuditor::txs() const { return s_->history.size(); }

Status ChainAuditor::Add(const api::BlockView& view) {
  const crypto::Suite& suite = *g_.suite;
  const uint64_t h = height_ + 1;
  auto bad = [h](std::string what) { return Corruption("block " + std::to_string(h) + ": " + what); };
  if (view.height() != h) return bad("the node returned height " + std::to_string(view.height()));
  const crypto::Digest hash = suite.Hash(view.header_bytes());
  if (hash.ToHex() != view.hash()) return bad("its hash is not the hash of its header bytes");
  v1::BlockHeader hd;
  if (!hd.ParseFromString(view.header_bytes())) return bad("the header does not decode");
  if (hd.height() != h) return bad("the header says height " + std::to_string(hd.height()));
  if (hd.chain_id() != g_.genesis.chain_id()) return bad("the header is of another chain");
  if (hd.prev_hash() != s_->prev_hash.view())
    return bad(h == 1 ? "prev_hash is not the pinned genesis hash" : "prev_hash does not link to block " +
                                                                         std::to_string(h - 1));
  if (hd.time_ms() < s_->prev_time_ms) return bad("block time goes backwards");
  if (view.txs_size() != view.receipts_size() || hd.tx_count() != static_cast<uint32_t>(view.txs_size()))
    return bad("tx and receipt counts do not match the header");
  std::vector<crypto::Digest> tx_leaves, result_leaves;
  for (int i = 0; i < view.txs_size(); ++i) {
    const crypto::Digest id = suite.Hash(view.txs(i).body());
    const crypto::Digest leaf = crypto::MerkleLeafHash(suite, id.view());
    tx_leaves.push_back(leaf);
    s_->history.Append(suite, leaf, nullptr);
    result_leaves.push_back(crypto::MerkleLeafHash(suite, view.receipts(i).SerializeAsString()));
  }
  if (crypto::MerkleRoot(suite, tx_leaves).view() != hd.tx_root()) return bad("tx_root does not match its txs");
  if (crypto::MerkleRoot(suite, result_leaves).view() != hd.result_root())
    return bad("result_root does not match its receipts");
  if (hd.history_size() != s_->history.size()) return bad("history_size does not count every tx so far");
  const crypto::Digest root = s_->history.Root(suite);
  if (root.view() != hd.history_root()) return bad("history_root does not match the history of txs so far");
  s_->roots[h] = {hd.history_size(), root};
  if (view.has_commit_certificate()) {
    if (Status s = node::VerifyCommitCertificate(suite, view.commit_certificate().SerializeAsString(), Height(h),
                                                 hash, s_->voters.list, s_->voters.quorum);
        !s.ok())
      return bad("commit certificate does not verify: " + s.message());
    ++certified_;
  } else {
    ++uncertified_;
  }
  s_->prev_hash = hash;
  s_->prev_time_ms = hd.time_ms();
  height_ = h;
  return Status::Ok();
}

Status ChainAuditor::CheckConsistency(const api::ConsistencyProofView& p) const {
  auto a = s_->roots.find(p.from_height());
  auto b = s_->roots.find(p.to_height());
  if (a == s_->roots.end() || b == s_->roots.end()) return InvalidArgument("heights not audited");
  if (a->second.first != p.from_size() || b->second.first != p.to_size() ||
      a->second.second.ToHex() != p.from_root() || b->second.second.ToHex() != p.to_root())
    return Corruption("consistency proof " + std::to_string(p.from_height()) + "→" + std::to_string(p.to_height()) +
                      " names roots that differ from the audited headers");
  CL_ASSIGN_OR_RETURN(auto path, ParsePath(p.path()));
  if (Status s = crypto::VerifyMerkleConsistency(*g_.suite, p.from_size(), p.to_size(), a->second.second,
                                                 b->second.second, path);
      !s.ok())
    return Corruption("history at height " + std::to_string(p.from_height()) + " is not a prefix of height " +
                      std::to_string(p.to_height()) + ": " + s.message());
  return Status::Ok();
}

}  // namespace cl::cli
