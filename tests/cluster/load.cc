#include "tests/cluster/load.h"

#include <google/protobuf/util/json_util.h>

#include "base/check.h"
#include "cli/http_client.h"
#include "crypto/domain.h"
#include "proto/api.pb.h"
#include "proto/tx.pb.h"

namespace cl::cluster_testing {
namespace {

namespace api = certledger::api;
namespace v1 = certledger::v1;

constexpr const char* kHolder = "111:330102199001011234";
const client::HttpRequestOptions kBinary{.timeout_ms = 2000, .headers = {{"Accept", "application/x-protobuf"}}};

}  // namespace

Load::Load(const Cluster& cluster, LoadOptions options) : cluster_(cluster), o_(std::move(options)) {
  auto key = cluster_.context().LoadKey("PSB-issuer");
  CL_CHECK(key.ok(), key.status().ToString());
  key_ = std::move(*key);
  auto ref = cluster_.context().HolderRef(kHolder);
  CL_CHECK(ref.ok(), ref.status().ToString());
  holder_ref_ = std::move(*ref);
  for (int i = 1; i <= cluster_.size(); ++i) targets_.push_back(i);
  all_ = targets_;
}

Load::~Load() { Stop(); }

void Load::SetTargets(std::vector<int> nodes) {
  CL_CHECK(!nodes.empty(), "SetTargets: no nodes");
  std::lock_guard lock(mu_);
  targets_ = std::move(nodes);
}

void Load::SetAll(std::vector<int> nodes) {
  CL_CHECK(!nodes.empty(), "SetAll: no nodes");
  std::lock_guard lock(mu_);
  all_ = std::move(nodes);
}

int Load::Target(uint64_t k, bool roaming) const {
  std::lock_guard lock(mu_);
  const std::vector<int>& from = roaming ? all_ : targets_;
  return from[k % from.size()];
}

void Load::Start() {
  CL_CHECK(stop_.load() && threads_.empty(), "Load already running");
  stop_ = false;
  for (int w = 0; w < o_.writers; ++w) threads_.emplace_back([this, w] { Writer(w); });
  for (int r = 0; r < o_.readers; ++r) threads_.emplace_back([this, r] { Reader(r); });
}

void Load::Stop() {
  stop_ = true;
  for (auto& t : threads_) t.join();
  threads_.clear();
}

int64_t Load::WaitAcks(uint64_t n, Ms timeout) const {
  const uint64_t target = acked_.load() + n;
  const int64_t t0 = NowUs();
  const auto deadline = Clock::now() + timeout;
  while (acked_.load() < target) {
    if (Clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(Ms(5));
  }
  return (NowUs() - t0) / 1000;
}

History Load::history() const {
  std::lock_guard lock(mu_);
  return history_;
}

Load::Signed Load::SignAnchor(const std::string& cert_id) const {
  const crypto::Suite& suite = *cluster_.context().Genesis(false).value()->suite;
  auto body = cluster_.context().NewBody();
  CL_CHECK(body.ok(), body.status().ToString());
  v1::AnchorCertificate* a = body->mutable_anchor_certificate();
  a->set_cert_id(cert_id);
  a->set_doc_hash(suite.Hash(cert_id).ToBytes());
  a->set_type_code("ID_CARD");
  a->set_holder_ref(holder_ref_);
  a->set_issuer(cluster_.context().DepartmentOf(key_.public_key));
  a->set_issued_at_ms(cli::NowMs());
  a->set_valid_from_ms(cli::NowMs());
  v1::SignedTx tx;
  tx.set_body(body->SerializeAsString());
  tx.set_signer(key_.public_key);
  auto sig = suite.Sign(key_.secret_key, crypto::TxMessage(tx.body()));
  CL_CHECK(sig.ok(), sig.status().ToString());
  tx.set_signature(*sig);
  return {cli::ToJson(tx), suite.Hash(tx.body()).ToHex()};
}

bool Load::SubmitOnce(const std::string& json, int node, uint32_t timeout_ms, WriteOp* op,
                      std::string* answer) const {
  ++op->attempts;
  auto r = client::HttpRequest(cluster_.Url(node), "POST",
                               "/v1/transactions?wait=commit&timeout_ms=" + std::to_string(timeout_ms), json,
                               "application/json", {.timeout_ms = timeout_ms + 500});
  if (answer != nullptr)
    *answer = "node " + std::to_string(node) + ": " +
              (r.ok() ? "HTTP " + std::to_string(r->status) + " " + r->body.substr(0, 200) : r.status().ToString());
  if (!r.ok() || r->status != 200) return false;
  api::SubmitTxResponse resp;
  google::protobuf::util::JsonParseOptions jo;
  jo.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(r->body, &resp, jo).ok() || resp.status() != "committed")
    return false;
  CL_CHECK(resp.tx_id() == op->tx_id, "the node answered another tx id");
  op->outcome = WriteOp::Outcome::kAcked;
  op->height = resp.height();
  op->node = node;
  return true;
}

void Load::Record(WriteOp op, uint64_t failed_attempts) {
  op.end_us = NowUs();
  std::lock_guard lock(mu_);
  history_.write_attempts_failed += failed_attempts;
  if (op.outcome == WriteOp::Outcome::kAcked) {
    ++acked_;
    last_ack_us_ = op.end_us;
  }
  history_.writes.push_back(std::move(op));
}

void Load::Writer(int client) {
  uint64_t k = static_cast<uint64_t>(client);
  const bool roaming = o_.writers > 1 && client == o_.writers - 1;
  for (uint64_t seq = 0; !stop_; ++seq) {
    const Signed tx = SignAnchor(o_.tag + "-" + std::to_string(client) + "-" + std::to_string(seq));
    WriteOp op{.client = client, .start_us = NowUs(), .tx_id = tx.tx_id};
    uint64_t failed = 0;
    // Resubmits the same bytes to the next node: never applied twice.
    while (op.attempts < o_.max_attempts && !stop_) {
      if (SubmitOnce(tx.json, Target(k++, roaming), o_.commit_timeout_ms, &op)) break;
      ++failed;
      std::this_thread::sleep_for(Ms(50));
    }
    Record(std::move(op), failed);
  }
}

int64_t Load::Probe(const std::vector<int>& nodes, Ms timeout, std::string* last_answer) {
  CL_CHECK(!nodes.empty(), "Probe: no nodes");
  const Signed tx = SignAnchor(o_.tag + "-probe-" + std::to_string(probes_++));
  WriteOp op{.client = -1, .start_us = NowUs(), .tx_id = tx.tx_id};
  const auto deadline = Clock::now() + timeout;
  uint64_t failed = 0;
  for (size_t k = 0; Clock::now() < deadline; ++k) {
    if (SubmitOnce(tx.json, nodes[k % nodes.size()], 1000, &op, last_answer)) break;
    ++failed;
    std::this_thread::sleep_for(Ms(20));
  }
  const bool acked = op.outcome == WriteOp::Outcome::kAcked;
  const int64_t ms = (NowUs() - op.start_us) / 1000;
  Record(std::move(op), failed);
  return acked ? ms : -1;
}

void Load::Reader(int client) {
  uint64_t k = static_cast<uint64_t>(client) + 1;
  for (uint64_t i = 0; !stop_; ++i) {
    const int node = Target(k++, /*roaming=*/true);
    ReadOp op{.node = node, .start_us = NowUs()};
    std::string target;
    switch (i % 3) {
      case 0:
        op.kind = ReadOp::Kind::kLatestLinearizable;
        target = "/v1/blocks/latest?consistency=linearizable";
        break;
      case 1:
        op.kind = ReadOp::Kind::kLatestLocal;
        target = "/v1/blocks/latest";
        break;
      default: {
        op.kind = ReadOp::Kind::kTxLinearizable;
        std::lock_guard lock(mu_);
        for (auto it = history_.writes.rbegin(); it != history_.writes.rend(); ++it)
          if (it->outcome == WriteOp::Outcome::kAcked) {
            op.tx_id = it->tx_id;
            break;
          }
        if (op.tx_id.empty()) continue;
        target = "/v1/transactions/" + op.tx_id + "?consistency=linearizable";
      }
    }
    auto r = client::HttpRequest(cluster_.Url(node), "GET", target, "", "application/json", kBinary);
    op.end_us = NowUs();
    bool ok = false;
    if (r.ok() && r->status == 200) {
      if (op.kind == ReadOp::Kind::kTxLinearizable) {
        api::TxView v;
        ok = v.ParseFromString(r->body);
        op.height = v.height();
      } else {
        api::BlockView b;
        ok = b.ParseFromString(r->body);
        op.height = b.height();
        op.hash = b.hash();
      }
    } else if (r.ok() && r->status == 404 && op.kind == ReadOp::Kind::kTxLinearizable) {
      ok = true;
      op.found = false;
    }
    {
      std::lock_guard lock(mu_);
      if (ok) history_.reads.push_back(std::move(op));
      else ++history_.failed_reads;
    }
    std::this_thread::sleep_for(Ms(20));
  }
}

}  // namespace cl::cluster_testing
