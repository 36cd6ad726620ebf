// The HTTP API of a one-node network, over a real loopback socket. The cases
// that hash or sign (submission, proofs, signed reads, rejections) run once
// per crypto suite, the suite's name ending the test name.
#include "node/api.h"

#include <gtest/gtest.h>
#include <google/protobuf/util/json_util.h>

#include <filesystem>
#include <thread>

#include "cli/http_client.h"
#include "crypto/domain.h"
#include "crypto/merkle.h"
#include "crypto/suite.h"
#include "node/commit_certs.h"
#include "node/http/server.h"
#include "proto/api.pb.h"
#include "proto/records.pb.h"
#include "proto/tx.pb.h"
#include "tests/contracts/fixture.h"
#include "tests/node/every_suite.h"

namespace cl::node {
namespace {

namespace v1 = certledger::v1;
namespace api = certledger::api;

// The value of an unlabelled metric in a /metrics body; -1 if absent.
double MetricValue(const std::string& body, const std::string& name) {
  const size_t at = body.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stod(body.substr(at + name.size() + 2));
}
using client::HttpRequest;
using client::HttpResponse;
using contracts::testing::Fixture;
using namespace std::chrono_literals;

std::string ToJson(const google::protobuf::Message& m) {
  std::string s;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(m, &s).ok());
  return s;
}

template <typename T>
T FromJson(const std::string& s) {
  T m;
  auto st = google::protobuf::util::JsonStringToMessage(s, &m);
  EXPECT_TRUE(st.ok()) << st.ToString() << " in " << s;
  return m;
}

// A one-node network of the given suite with the API served on a free port.
class ApiTestBase : public ::testing::Test {
 protected:
  explicit ApiTestBase(std::string_view suite) : f_(suite) {}

  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("cl-api-" + std::to_string(::getpid()) + "-" +
            std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    v1::Genesis g = f_.genesis();
    g.mutable_nodes()->DeleteSubrange(1, g.nodes_size() - 1);  // node 1 alone
    genesis_ = std::make_shared<v1::Genesis>(g);
    NodeSetup s;
    s.id = NodeId(1);
    s.genesis = genesis_;
    s.genesis_bytes = genesis_->SerializeAsString();
    s.node_key = crypto::SecretKey(Bytes(f_.Key("node/1").secret_key.bytes()));
    s.data_dir = dir_.string();
    s.raft = RaftDriverOptions{.tick_ms = 10, .election_ticks = 5};
    s.raft.metrics = &metrics_;  // declared before node_: outlives it
    s.ledger = LedgerOptions{.verify_threads = 0, .sync_applies = false};
    s.log = Logger::Null();
    auto n = Node::Create(std::move(s));
    ASSERT_TRUE(n.ok()) << n.status();
    node_ = std::move(n).value();
    node_->Start();
    api_ = std::make_unique<Api>(*node_, metrics_);
    http::Router router;
    api_->Register(router);
    registered_ = router.Registered();
    auto srv = http::HttpServer::Create(
        http::HttpServerOptions{.listen_address = "127.0.0.1:0", .io_threads = 2, .log = Logger::Null(),
                                .metrics = &metrics_},
        std::move(router));
    ASSERT_TRUE(srv.ok()) << srv.status();
    server_ = std::move(srv).value();
    server_->Start();
    url_ = "http://127.0.0.1:" + std::to_string(server_->port());
    // A single voter elects itself within a few ticks.
    for (int i = 0; i < 300 && node_->driver().status().role != consensus::StateRole::kLeader; ++i)
      std::this_thread::sleep_for(10ms);
    ASSERT_EQ(node_->driver().status().role, consensus::StateRole::kLeader);
  }

  void TearDown() override {
    if (api_) api_->Shutdown();
    if (server_) server_->Stop();
    if (node_) node_->Stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  HttpResponse Get(const std::string& target, client::HttpRequestOptions o = {}) {
    auto r = HttpRequest(url_, "GET", target, "", "application/json", o);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : HttpResponse{};
  }

  HttpResponse PostTx(const Bytes& signed_tx, const std::string& query = "?wait=commit") {
    v1::SignedTx tx;
    EXPECT_TRUE(tx.ParseFromString(signed_tx));
    auto r = HttpRequest(url_, "POST", "/v1/transactions" + query, ToJson(tx));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : HttpResponse{};
  }

  // Signed-read headers for `target` by key `name`.
  client::HttpRequestOptions SignedBy(std::string_view name, const std::string& target) {
    const std::string ts = std::to_string(WallClockMs());
    Bytes msg(crypto::kReadTag);
    msg += "GET\n" + target + "\n" + ts;
    const crypto::KeyPair& k = f_.Key(name);
    client::HttpRequestOptions o;
    o.headers = {{"X-Certledger-Signer", ToHex(k.public_key)},
                 {"X-Certledger-Timestamp", ts},
                 {"X-Certledger-Signature", ToHex(f_.suite().Sign(k.secret_key, msg).value())}};
    return o;
  }

  Fixture f_;
  std::filesystem::path dir_;
  std::shared_ptr<v1::Genesis> genesis_;
  MetricsRegistry metrics_;
  std::unique_ptr<Node> node_;
  std::unique_ptr<Api> api_;
  std::unique_ptr<http::HttpServer> server_;
  std::string url_;
  std::vector<std::pair<std::string, std::string>> registered_;
};

// Cases that do not depend on the suite: the default one.
class ApiTest : public ApiTestBase {
 protected:
  ApiTest() : ApiTestBase(crypto::kDefaultSuite) {}
};

// Cases run once per suite.
class ApiSuiteTest : public ApiTestBase, public ::testing::WithParamInterface<std::string> {
 protected:
  ApiSuiteTest() : ApiTestBase(GetParam()) {}
};

TEST_F(ApiTest, RegistersExactlyTheListedRoutes) {
  auto listed = Api::Routes();
  std::sort(listed.begin(), listed.end());
  EXPECT_EQ(registered_, listed);  // openapi_test checks the list against docs/openapi.yaml
}

TEST_P(ApiSuiteTest, SubmitWaitsForTheReceiptAndTheTxCarriesAVerifiableProof) {
  const Bytes holder = f_.HolderRef("110105199001011234");
  auto cert = f_.Cert("MARRIAGE-1", "MARRIAGE", "CAB", holder, WallClockMs() - contracts::testing::kDayMs);
  HttpResponse r = PostTx(f_.Anchor("CAB/issuer", WallClockMs(), cert));
  ASSERT_EQ(r.status, 200) << r.body;
  auto sub = FromJson<api::SubmitTxResponse>(r.body);
  EXPECT_EQ(sub.status(), "committed");
  EXPECT_EQ(sub.receipt().code(), v1::OK) << sub.receipt().message();
  EXPECT_EQ(node_->ledger().suite().name(), GetParam());

  // The transaction with its inclusion proof; wait for the commit certificate.
  HttpResponse t;
  for (int i = 0; i < 100; ++i) {
    t = Get("/v1/transactions/" + sub.tx_id() + "?proof=true");
    if (t.status == 200) break;
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_EQ(t.status, 200) << t.body;
  auto view = FromJson<api::TxView>(t.body);
  EXPECT_EQ(view.body().anchor_certificate().cert_id(), "MARRIAGE-1");
  v1::BlockHeader header;
  ASSERT_TRUE(header.ParseFromString(view.proof().header()));
  std::vector<crypto::Digest> path;
  for (const auto& h : view.proof().path()) path.push_back(*crypto::Digest::FromHex(h));
  const crypto::Digest leaf = crypto::MerkleLeafHash(f_.suite(), FromHex(sub.tx_id()).value());
  EXPECT_TRUE(crypto::VerifyMerkleInclusion(f_.suite(), view.proof().leaf_index(), view.proof().tree_size(),
                                            leaf, path, *crypto::Digest::FromBytes(header.history_root()))
                  .ok());
  EXPECT_EQ(view.proof().tree_size(), header.history_size());
  EXPECT_EQ(f_.suite().Hash(view.tx().body()).ToHex(), sub.tx_id()) << "tx id = suite hash of the body";
  // The commit certificate: node 1's signature over the suite's hash of the header.
  EXPECT_TRUE(VerifyCommitCertificate(f_.suite(), view.proof().commit_certificate(),
                                      Height(view.proof().height()), f_.suite().Hash(view.proof().header()),
                                      node_->voters(), 1)
                  .ok());

  // The certificate by document hash.
  HttpResponse c = Get("/v1/certificates/" + ToHex(cert.doc_hash()) + "?proof=true");
  ASSERT_EQ(c.status, 200) << c.body;
  auto cv = FromJson<api::CertificateView>(c.body);
  EXPECT_EQ(cv.status(), "VALID");
  EXPECT_EQ(cv.anchor_tx_id(), sub.tx_id());
  EXPECT_EQ(cv.history_txs_size(), 1);
  EXPECT_EQ(Get("/v1/certificates/id/MARRIAGE-1").status, 200);
}

TEST_P(ApiSuiteTest, BadInputGetsAClearErrorWithAStableCode) {
  struct Case {
    const char* name;
    std::string method, target, body;
    int want_status;
    std::string want_code;
  };
  const std::vector<Case> cases = {
      {"garbage json", "POST", "/v1/transactions", "{not json", 400, "INVALID_ARGUMENT"},
      {"undecodable tx", "POST", "/v1/transactions", "{\"body\":\"AAEC\"}", 400, "INVALID_ARGUMENT"},
      {"bad wait", "POST", "/v1/transactions?wait=forever", "{}", 400, "INVALID_ARGUMENT"},
      {"bad tx id", "GET", "/v1/transactions/xyz", "", 400, "INVALID_ARGUMENT"},
      {"unknown tx", "GET", "/v1/transactions/" + std::string(64, 'a'), "", 404, "NOT_FOUND"},
      {"height zero", "GET", "/v1/blocks/0", "", 400, "INVALID_ARGUMENT"},
      {"future block", "GET", "/v1/blocks/999999", "", 404, "NOT_FOUND"},
      {"unknown certificate", "GET", "/v1/certificates/" + std::string(64, 'b'), "", 404, "NOT_FOUND"},
      {"unknown service", "GET", "/v1/services/NOPE", "", 404, "NOT_FOUND"},
      {"bad consistency range", "GET", "/v1/proofs/consistency?from=5&to=2", "", 400, "INVALID_ARGUMENT"},
      {"unsigned holder read", "GET", "/v1/holders/" + std::string(64, 'c') + "/access-log", "", 401, "UNAUTHENTICATED"},
      {"unknown route", "GET", "/v1/nothing", "", 404, "NOT_FOUND"},
      {"wrong method", "DELETE", "/v1/status", "", 405, "INVALID_ARGUMENT"},
      {"unsigned membership change", "POST", "/v1/admin/membership", "{}", 401, "UNAUTHENTICATED"},
  };
  for (const auto& c : cases) {
    auto r = HttpRequest(url_, c.method, c.target, c.body);
    ASSERT_TRUE(r.ok()) << c.name << ": " << r.status();
    EXPECT_EQ(r->status, c.want_status) << c.name << ": " << r->body;
    EXPECT_NE(r->body.find("\"code\":\"" + c.want_code + "\""), std::string::npos) << c.name << ": " << r->body;
  }
  // A rejected tx names the precise reason too.
  v1::TxBody body = f_.Body(WallClockMs());
  body.set_chain_id("another-city");
  body.mutable_revoke_certificate()->set_cert_id("X");
  HttpResponse wrong = PostTx(f_.Sign(body, "CAB/issuer"), "");
  EXPECT_EQ(wrong.status, 400);
  EXPECT_NE(wrong.body.find("\"reason\":\"WRONG_CHAIN\""), std::string::npos) << wrong.body;
  // Nothing of it reached the chain.
  EXPECT_EQ(node_->ledger().height(), Height(0));
}

TEST_P(ApiSuiteTest, HolderViewsNeedTheHoldersSignature) {
  const Bytes ref = f_.HolderRef("110105199202021111");
  ASSERT_EQ(PostTx(f_.RegisterHolder("PSB/identity", WallClockMs(), ref, "citizen-1")).status, 200);
  const std::string target = "/v1/holders/" + ToHex(ref) + "/access-log";
  EXPECT_EQ(Get(target, SignedBy("citizen-1", target)).status, 200);
  EXPECT_EQ(Get(target, SignedBy("stranger", target)).status, 403);
  // A signature for another target does not open this one.
  EXPECT_EQ(Get(target, SignedBy("citizen-1", target + "?limit=1")).status, 401);
}

TEST_F(ApiTest, StatusHealthMetricsAndEvents) {
  ASSERT_EQ(PostTx(f_.RegisterHolder("PSB/identity", WallClockMs(), f_.HolderRef("1"), "c")).status, 200);
  auto st = FromJson<api::NodeStatus>(Get("/v1/status").body);
  EXPECT_EQ(st.role(), "leader");
  EXPECT_EQ(st.height(), 1u);
  EXPECT_EQ(st.chain_id(), genesis_->chain_id());
  EXPECT_EQ(Get("/healthz").status, 200);
  EXPECT_EQ(Get("/readyz").status, 200);
  // The second lookup of an unknown document is answered by the state cache
  // (it caches that the key is absent).
  const std::string unknown = "/v1/certificates/" + std::string(64, 'c');
  EXPECT_EQ(Get(unknown).status, 404);
  const double hits_before = MetricValue(Get("/metrics").body, "certledger_state_cache_hits");
  EXPECT_EQ(Get(unknown).status, 404);
  HttpResponse m = Get("/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("certledger_raft_term"), std::string::npos);
  EXPECT_NE(m.body.find("certledger_http_requests_total"), std::string::npos);
  EXPECT_GE(MetricValue(m.body, "certledger_state_cache_hits"), hits_before + 1);
  EXPECT_GT(MetricValue(m.body, "certledger_state_cache_entries"), 0);
  // The lone block was executed while its raft-log write was in flight.
  EXPECT_EQ(MetricValue(m.body, "certledger_blocks_prepared_total"), 1);
  HttpResponse b = Get("/v1/blocks/latest");
  ASSERT_EQ(b.status, 200);
  EXPECT_EQ(FromJson<api::BlockView>(b.body).height(), 1u);

  std::vector<std::string> ids;
  Status s = client::HttpEventStream(url_, "/v1/events?from=1", 5000,
                                     [&](const std::string& id, const std::string& data) {
                                       ids.push_back(id);
                                       EXPECT_EQ(FromJson<api::BlockEvent>(data).height(), 1u);
                                       return false;
                                     });
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(ids, std::vector<std::string>{"1"});
}

CL_INSTANTIATE_FOR_EVERY_SUITE(ApiSuiteTest);

}  // namespace
}  // namespace cl::node
