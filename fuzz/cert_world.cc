#include "fuzz/cert_world.h"

#include <google/protobuf/util/json_util.h>

#include "base/check.h"
#include "crypto/domain.h"
#include "crypto/merkle.h"

namespace cl::fuzz {

namespace v1 = certledger::v1;
namespace api = certledger::api;
using contracts::testing::kDayMs;
using contracts::testing::kGenesisTimeMs;
using contracts::testing::kYearMs;

CertWorld::CertWorld() {
  std::string json;
  CL_CHECK(google::protobuf::util::MessageToJsonString(f_.genesis(), &json).ok(), "genesis JSON");
  auto pinned = cli::ParsePinnedGenesis(json);
  CL_CHECK(pinned.ok(), pinned.status().ToString());
  pinned_ = std::move(pinned).value();

  contracts::testing::Chain chain(f_);
  // The fixture chain links block 1 to the hash of the genesis message's
  // binary encoding (a node uses the file's); pin that so audits link up.
  pinned_.hash = chain.genesis_hash();
  const Bytes holder = f_.HolderRef("330106199001011234");
  const int64_t t1 = kGenesisTimeMs + kDayMs, t2 = t1 + kDayMs, t3 = t2 + kDayMs;
  auto anchor = [&](const char* id, const char* type, const char* dept, int64_t t) {
    return f_.Anchor(std::string(dept) + "/issuer", t,
                     f_.Cert(id, type, dept, holder, t - kDayMs, t + 5 * kYearMs));
  };
  std::vector<std::vector<std::pair<std::string, Bytes>>> blocks = {
      {{"cert-valid", anchor("cert-valid", "ID_CARD", "PSB", t1)},
       {"cert-revoked", anchor("cert-revoked", "MARRIAGE", "CAB", t1)}},
      {{"cert-revoked", f_.Revoke("CAB/issuer", t2, "cert-revoked")},
       {"cert-suspended", anchor("cert-suspended", "NO_CRIME", "PSB", t2)}},
      {{"cert-suspended", f_.Suspend("PSB/issuer", t3, "cert-suspended")}}};
  int64_t t = t1;
  for (const auto& b : blocks) {
    std::vector<Bytes> txs;
    for (const auto& [cert, raw] : b) txs.push_back(raw);
    contracts::ExecOutput out = chain.Apply(txs, t);
    t += kDayMs;
    v1::Block block;
    CL_CHECK(block.ParseFromString(out.block), "block decodes");
    for (size_t i = 0; i < b.size(); ++i) {
      v1::Receipt r;
      CL_CHECK(r.ParseFromString(out.receipts[i]) && r.code() == v1::OK,
               "world tx " + b[i].first + " failed: " + r.message());
      txs_of_[b[i].first].push_back({b[i].second, chain.height(), leaves_.size()});
      leaves_.push_back(crypto::MerkleLeafHash(f_.suite(), out.tx_ids[i].view()));
      tx_ids_.insert(out.tx_ids[i].ToHex());
    }
    header_hashes_.insert(out.block_hash.ToHex());
    blocks_.push_back(std::move(block));
  }
}

namespace {

Bytes Certificate(const contracts::testing::Fixture& f, uint64_t height, const crypto::Digest& hash) {
  v1::CommitCertificate cert;
  cert.set_height(height);
  cert.set_block_hash(Bytes(hash.view()));
  for (uint64_t id = 1; id <= 3; ++id) {
    auto* s = cert.add_signatures();
    s->set_node_id(id);
    auto sig = f.suite().Sign(f.Key("node/" + std::to_string(id)).secret_key,
                              crypto::HeaderMessage(hash.view()));
    CL_CHECK(sig.ok(), "sign header");
    s->set_signature(*sig);
  }
  return cert.SerializeAsString();
}

}  // namespace

api::CertificateView CertWorld::View(const std::string& cert_id) const {
  const crypto::Suite& suite = f_.suite();
  const v1::Block& last = blocks_.back();
  const crypto::Digest last_hash = suite.Hash(last.header());
  const Bytes cert = Certificate(f_, height(), last_hash);
  api::CertificateView view;
  const auto& txs = txs_of_.at(cert_id);
  v1::CertStatus status = v1::VALID;
  for (const TxAt& at : txs) {
    api::TxView* tv = view.add_history_txs();
    CL_CHECK(tv->mutable_tx()->ParseFromString(at.raw), "tx decodes");
    tv->set_tx_id(suite.Hash(tv->tx().body()).ToHex());
    tv->set_height(at.height);
    tv->set_leaf_index(at.leaf);
    CL_CHECK(tv->mutable_body()->ParseFromString(tv->tx().body()), "body decodes");
    if (tv->body().has_revoke_certificate()) status = v1::REVOKED;
    if (tv->body().has_suspend_certificate()) status = v1::SUSPENDED;
    api::InclusionProof* p = tv->mutable_proof();
    p->set_leaf_index(at.leaf);
    p->set_tree_size(leaves_.size());
    auto path = crypto::MerkleInclusionProof(suite, leaves_, at.leaf);
    CL_CHECK(path.ok(), path.status().ToString());
    for (const auto& d : *path) p->add_path(d.ToHex());
    p->set_height(height());
    p->set_header(last.header());
    p->set_commit_certificate(cert);
  }
  *view.mutable_proof() = view.history_txs(0).proof();
  view.set_anchor_tx_id(view.history_txs(0).tx_id());
  *view.mutable_record()->mutable_anchor() = view.history_txs(0).body().anchor_certificate();
  view.mutable_record()->set_status(status);
  view.set_status(v1::CertStatus_Name(status));
  view.set_checked_height(height());
  return view;
}

api::BlockView CertWorld::Block(uint64_t h) const {
  const crypto::Suite& suite = f_.suite();
  const v1::Block& b = blocks_.at(h - 1);
  api::BlockView v;
  v.set_height(h);
  const crypto::Digest hash = suite.Hash(b.header());
  v.set_hash(hash.ToHex());
  v.set_header_bytes(b.header());
  CL_CHECK(v.mutable_header()->ParseFromString(b.header()), "header decodes");
  for (int i = 0; i < b.txs_size(); ++i) {
    auto* tx = v.add_txs();
    CL_CHECK(tx->ParseFromString(b.txs(i)), "tx decodes");
    v.add_tx_ids(suite.Hash(tx->body()).ToHex());
    CL_CHECK(v.add_receipts()->ParseFromString(b.receipts(i)), "receipt decodes");
  }
  CL_CHECK(v.mutable_commit_certificate()->ParseFromString(Certificate(f_, h, hash)), "cert decodes");
  return v;
}

}  // namespace cl::fuzz
