// Writes the seed corpora of the fuzz targets: fuzz_make_corpus DIR writes
// DIR/<target>/seed-* (run from the repository: build/bin/fuzz_make_corpus
// fuzz/corpus). Every seed is small and valid (or one step from valid), so the
// fuzzers start deep inside the formats. Deterministic apart from the
// handshake ephemeral keys (the targets do not depend on them).
#include <google/protobuf/util/json_util.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "base/check.h"
#include "crypto/suite.h"
#include "fuzz/cert_world.h"
#include "fuzz/fuzz_util.h"
#include "node/transport/handshake.h"
#include "proto/api.pb.h"
#include "tests/contracts/fixture.h"

namespace cl::fuzz {
namespace {

namespace fs = std::filesystem;
namespace v1 = certledger::v1;
using contracts::testing::Fixture;
using contracts::testing::kDayMs;
using contracts::testing::kGenesisTimeMs;
using contracts::testing::kYearMs;

fs::path root;
int written = 0;

void Write(const std::string& target, const std::string& name, const std::string& bytes) {
  fs::create_directories(root / target);
  std::ofstream(root / target / ("seed-" + name), std::ios::binary) << bytes;
  ++written;
}

std::string Json(const google::protobuf::Message& m) {
  std::string s;
  CL_CHECK(google::protobuf::util::MessageToJsonString(m, &s).ok(), "json");
  return s;
}

void TxAdmission(const Fixture& f) {
  const int64_t now = kGenesisTimeMs + 2 * kDayMs;
  const Bytes mother = f.HolderRef("330106199001011234");
  std::vector<std::pair<std::string, Bytes>> txs = {
      {"anchor", f.Anchor("PSB/issuer", now, f.Cert("id-2", "ID_CARD", "PSB", mother, now - kYearMs))},
      {"anchor-wrong-issuer", f.Anchor("CAB/issuer", now, f.Cert("id-3", "ID_CARD", "CAB", mother, now))},
      {"revoke", f.Revoke("PSB/issuer", now, "id-mother")},
      {"suspend", f.Suspend("CAB/issuer", now, "marriage-1")},
      {"register-holder", f.RegisterHolder("PSB/identity", now, mother, "holder/mother")},
      {"grant", f.Grant("holder/mother", now,
                        f.GrantMsg("g-1", mother, "HOSP", {"identity", "marriage"}, now, now + kYearMs))},
      {"request", f.Request("HOSP/service", now, f.RequestMsg("req-1", "NEWBORN_BIRTH_REG", mother))},
      {"define-service", f.DefineService("PSB/admin", now, contracts::testing::NewbornHukouMatter())},
  };
  for (const auto& [name, raw] : txs) {
    Write("tx_admission", name, std::string(1, '\0') + raw);       // executor verifies
    Write("tx_admission", name + "-presigned", std::string(1, '\3') + raw);  // presigned, twice
  }
}

void RaftCluster() {
  // Ops: 0/1 tick n, 2 tick all, 3/4 deliver i, 5 deliver all, 6 drop, 7 dup,
  // 8 stale, 9 propose n, 10 campaign n, 11 crash/restart n, 12 transfer/read.
  const std::string elect = std::string("\x0a\x00", 2) + std::string(6, '\x05');
  const std::string propose = std::string("\x09\x00", 2) + std::string(6, '\x05');
  Write("raft_cluster", "elect-propose", std::string(1, '\3') + elect + propose + propose);
  Write("raft_cluster", "ticks", std::string(1, '\1') + std::string(40, '\x02') + std::string(8, '\x05') +
                                    propose);
  Write("raft_cluster", "crash-leader",
        std::string(1, '\0') + elect + propose + std::string("\x0b\x00", 2) + std::string(30, '\x02') +
            std::string(10, '\x05') + std::string("\x0b\x00", 2) + propose + std::string(20, '\x05'));
  Write("raft_cluster", "reorder",
        std::string(1, '\2') + elect + std::string("\x09\x01\x09\x02\x03\x05\x07\x01\x04\x00\x08\x03", 12) +
            std::string(10, '\x05') + std::string("\x0c\x03\x00\x0c\x02\x01", 6) + std::string(10, '\x05'));
}

void PeerHandshake() {
  auto suite = *crypto::MakeSuite("ed25519-sha256");
  std::vector<crypto::KeyPair> keys;
  std::vector<node::PeerIdentity> ids;
  for (int i = 1; i <= 3; ++i) keys.push_back(*suite->KeyFromSeed(Bytes(32, static_cast<char>(i))));
  for (int i = 1; i <= 3; ++i)
    ids.push_back({.id = NodeId(i), .chain_id = "city-1", .suite = suite.get(),
                   .secret_key = &keys[i - 1].secret_key, .public_key = keys[i - 1].public_key});
  auto genesis = [&](NodeId id) -> std::optional<Bytes> {
    if (id.value() <= 2) return keys[id.value() - 1].public_key;
    return std::nullopt;
  };
  node::HandshakeInitiator init(ids[0], NodeId(2), keys[1].public_key);
  node::HandshakeResponder resp(ids[1], genesis);
  const Bytes hello = init.Hello();
  const Bytes reply = *resp.OnHello(hello);
  const Bytes finish = init.OnReply(reply)->first;
  std::string s(1, '\0');
  AppendChunk(&s, hello);
  AppendChunk(&s, finish);  // from another connection's transcript: must fail
  Write("peer_handshake", "responder-replayed-finish", s);
  node::HandshakeInitiator stranger(ids[2], NodeId(2), keys[1].public_key);
  s = std::string(1, '\0');
  AppendChunk(&s, stranger.Hello());
  Write("peer_handshake", "responder-non-member", s);
  s = std::string(1, '\1');
  AppendChunk(&s, reply);  // a reply to another hello
  Write("peer_handshake", "initiator-replayed-reply", s);
  s = std::string(1, '\2');
  for (uint8_t op : {1, 3, 0, 4, 5, 6, 1}) {
    s.push_back(static_cast<char>(op));
    AppendChunk(&s, op & 1 ? "raft message bytes" : std::string(40, 'x'));
  }
  Write("peer_handshake", "session", s);
  s = std::string(1, '\3');
  AppendChunk(&s, "payload");
  Write("peer_handshake", "framing", s);
}

void HttpRequest() {
  const std::vector<std::pair<std::string, std::string>> reqs = {
      {"get-status", "GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n"},
      {"get-block", "GET /v1/blocks/7?proof=true&consistency=linearizable HTTP/1.1\r\nHost: x\r\n\r\n"},
      {"post-tx", "POST /v1/transactions?wait=commit&timeout_ms=100 HTTP/1.1\r\nHost: x\r\n"
                  "Content-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"body\":\"\"}"},
      {"chunked", "POST /v1/transactions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "5\r\nhello\r\n0\r\n\r\n"},
      {"signed-read", "GET /v1/holders/ab%2Fcd/access-log HTTP/1.1\r\nHost: x\r\nX-Certledger-Signer: 00\r\n"
                      "X-Certledger-Timestamp: 1\r\nx-certledger-signature: 11\r\n\r\n"},
      {"pipelined", "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/certificates/id/%E8%AF%81 HTTP/1.1\r\n"
                    "Host: x\r\n\r\nDELETE /v1/services HTTP/1.1\r\nHost: x\r\n\r\n"},
      {"http10", "GET /v1/blocks/latest HTTP/1.0\r\n\r\n"},
  };
  for (const auto& [name, r] : reqs) Write("http_request", name, std::string(1, '\x07') + r);
}

void ApiJson(const Fixture& f) {
  const int64_t now = kGenesisTimeMs + kDayMs;
  v1::SignedTx tx;
  CL_CHECK(tx.ParseFromString(f.Revoke("PSB/issuer", now, "id-1")), "tx");
  Write("api_json", "signed-tx-json", std::string("\0\0", 2) + Json(tx));
  Write("api_json", "signed-tx-binary", std::string("\0\2", 2) + tx.SerializeAsString());
  Write("api_json", "membership", std::string("\1\1", 2) + "{\"action\":\"add_learner\",\"nodeId\":\"4\"}");
  Write("api_json", "body-json", std::string("\6\3", 2) + Json([&] {
          v1::TxBody b;
          CL_CHECK(b.ParseFromString(tx.body()), "body");
          return b;
        }()));
  Write("api_json", "other-type", std::string("\0\4", 2) + "{}");
}

void CertVerify(const CertWorld& w) {
  const std::map<std::string, cli::CertVerdict> want = {{"cert-valid", cli::CertVerdict::kValid},
                                                        {"cert-revoked", cli::CertVerdict::kRevoked},
                                                        {"cert-suspended", cli::CertVerdict::kSuspended}};
  for (const auto& [id_str, verdict] : want) {
    const char* id = id_str.c_str();
    const auto view = w.View(id);
    // The seeds must be views the verifier accepts, or the fuzzer starts shallow.
    const cli::CertCheck c = cli::VerifyCertificateView(w.genesis(), w.DocHash(id), view);
    CL_CHECK(c.verdict == verdict, std::string(id) + ": " + std::string(cli::CertVerdictName(c.verdict)) + " " +
                                       c.reason);
    std::string s(1, '\0');
    AppendChunk(&s, w.DocHash(id));
    Write("cert_verify", std::string(id) + "-binary", s + view.SerializeAsString());
    s[0] = '\1';
    Write("cert_verify", std::string(id) + "-bundle", s + Json(view));
  }
  std::string s(1, '\2');
  cli::ChainAuditor auditor(w.genesis());
  for (uint64_t h = 1; h <= w.height(); ++h) {
    CL_CHECK(auditor.Add(w.Block(h)).ok(), "the audit seed audits");
    AppendChunk(&s, w.Block(h).SerializeAsString());
  }
  Write("cert_verify", "audit", s);
}

void Genesis(const Fixture& f) {
  const std::string g = Json(f.genesis());
  Write("genesis", "fixture", g);
  Write("genesis", "empty-object", "{}");
  Write("genesis", "unknown-field", g.substr(0, g.size() - 1) + ",\"extra\":1}");
}

void Config() {
  Write("config", "minimal", std::string(1, '\0') +
                                 "node_id = 3\ndata_dir = \"/d\"\ngenesis_file = \"/g.json\"\n[key]\nfile = \"/k\"\n");
  Write("config", "full", std::string(1, '\0') + R"(node_id = 2
department = "PSB"
data_dir = "/data"
genesis_file = "/g.json"
log_level = "debug"
[key]
file = "/k"
passphrase_env = "CL_PASS"
[listen]
peer = "10.0.0.2:7100"
http = "[::1]:8443"
[peers]
1 = "10.0.0.1:7100"
"3" = "node-3.city.gov:7100"
[mempool]
max_txs = 1000
[batch]
max_txs = 500
timeout_ms = 10
[raft]
tick_ms = 50
election_ticks = 20
[http]
io_threads = 4
max_body_bytes = 65536
[transport]
max_frame_bytes = 1048576
)");
  std::string s(1, '\x03');
  s += std::string("\0\0\0\7", 4);
  AppendChunk(&s, "/override");
  s += "data_dir = \"/d\"\ngenesis_file = \"/g\"\n[key]\nfile = \"/k\"\n";
  Write("config", "overrides", s);
}

}  // namespace
}  // namespace cl::fuzz

int main(int argc, char** argv) {
  using namespace cl::fuzz;
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_make_corpus DIR\n");
    return 2;
  }
  root = argv[1];
  Fixture f;
  TxAdmission(f);
  RaftCluster();
  PeerHandshake();
  HttpRequest();
  ApiJson(f);
  CertVerify(CertWorld());
  Genesis(f);
  Config();
  std::printf("wrote %d seeds under %s\n", written, argv[1]);
  return 0;
}
