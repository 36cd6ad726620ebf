#include "bench/node/workload.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <google/protobuf/util/json_util.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "base/check.h"
#include "cli/http_client.h"
#include "crypto/domain.h"
#include "crypto/keyfile.h"
#include "node/netinit.h"
#include "proto/records.pb.h"
#include "proto/tx.pb.h"

namespace cl::bench {
namespace {

namespace v1 = certledger::v1;
namespace fs = std::filesystem;

Result<std::string> Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string FirstLine(const std::string& s) { return s.substr(0, s.find_first_of("\r\n")); }

bool PortFree(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// The matter the proof requests ask for (cli/examples/marriage_hukou.toml).
constexpr char kServiceJson[] = R"({
  "code": "MARRIAGE_HUKOU", "name": "婚后户口迁移（投靠配偶）", "version": 1,
  "owners": ["ASC", "PSB"], "requesters": ["ASC", "PSB"],
  "dataTypes": ["identity", "household_register", "marriage"],
  "requirement": {"label": "投靠配偶迁移户口条件", "allOf": {"items": [
    {"label": "申请人居民身份证", "cert": {"typeCode": "ID_CARD", "issuers": ["PSB"]}},
    {"label": "申请人居民户口簿", "cert": {"typeCode": "HUKOU", "issuers": ["PSB"]}},
    {"label": "结婚证", "cert": {"typeCode": "MARRIAGE", "issuers": ["CAB"]}},
    {"label": "授权共享身份、户籍与婚姻信息",
     "consent": {"dataTypes": ["identity", "household_register", "marriage"]}}]}}})";

constexpr int64_t kDayMs = 86'400'000;

v1::TxBody NewBody(const TxFactory& f, uint64_t nonce) {
  v1::TxBody b;
  b.set_chain_id(f.net().chain_id);
  // A per-run nonce space: the tag's hash in the high bits keeps runs apart.
  b.set_nonce(nonce ^ (std::hash<std::string>{}(f.tag()) << 24));
  b.set_valid_until_ms(f.now_ms() + 12 * 3'600'000);
  return b;
}

Bytes SignWith(const crypto::Suite& suite, const crypto::KeyPair& key, const v1::TxBody& body) {
  v1::SignedTx tx;
  tx.set_body(body.SerializeAsString());
  tx.set_signer(key.public_key);
  auto sig = suite.Sign(key.secret_key, crypto::TxMessage(tx.body()));
  CL_CHECK(sig.ok());
  tx.set_signature(*sig);
  return tx.SerializeAsString();
}

Bytes AnchorTx(const TxFactory& f, const std::string& cert_id, const std::string& type,
               const std::string& doc_seed, const Bytes& holder_ref, uint64_t nonce) {
  const std::string issuer = type == "MARRIAGE" ? "CAB" : "PSB";
  v1::TxBody b = NewBody(f, nonce);
  v1::AnchorCertificate* a = b.mutable_anchor_certificate();
  a->set_cert_id(cert_id);
  a->set_doc_hash(f.net().suite->Hash(doc_seed).ToBytes());
  a->set_type_code(type);
  a->set_holder_ref(holder_ref);
  a->set_issuer(issuer);
  a->set_issued_at_ms(f.now_ms() - kDayMs);
  a->set_valid_from_ms(f.now_ms() - kDayMs);
  a->set_valid_until_ms(f.now_ms() + 3650 * kDayMs);
  a->set_jurisdiction("330100");
  return SignWith(*f.net().suite, f.net().Key(issuer + "-issuer"), b);
}

Bytes GrantTx(const TxFactory& f, uint32_t holder, const std::string& grant_id, uint64_t nonce) {
  const TxFactory::Holder& h = f.holders()[holder];
  v1::TxBody b = NewBody(f, nonce);
  v1::GrantAuthorization* g = b.mutable_grant_authorization();
  g->set_grant_id(grant_id);
  g->set_holder_ref(h.ref);
  g->set_grantee("ASC");
  for (const char* d : {"identity", "household_register", "marriage"}) g->add_data_types(d);
  g->set_purpose("婚后户口迁移办理");
  g->set_not_before_ms(f.now_ms() - 60'000);
  g->set_not_after_ms(f.now_ms() + 30 * kDayMs);
  return SignWith(*f.net().suite, h.key, b);
}

Bytes RequestTx(const TxFactory& f, uint32_t holder, const std::string& request_id, uint64_t nonce) {
  v1::TxBody b = NewBody(f, nonce);
  v1::ProofRequest* p = b.mutable_proof_request();
  p->set_request_id(request_id);
  p->set_service_code("MARRIAGE_HUKOU");
  p->set_holder_ref(f.holders()[holder].ref);
  p->set_reason("窗口受理婚后户口迁移申请");
  return SignWith(*f.net().suite, f.net().Key("ASC-service"), b);
}

}  // namespace

// ---------------------------------------------------------------- network

Result<BenchNetwork> BenchNetwork::Load(const std::string& dir) {
  BenchNetwork n;
  n.dir = dir;
  CL_ASSIGN_OR_RETURN(std::string gj, Slurp(dir + "/genesis.json"));
  v1::Genesis g;
  google::protobuf::util::JsonParseOptions jo;
  jo.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(gj, &g, jo).ok())
    return Corruption(dir + "/genesis.json is not a genesis");
  n.chain_id = g.chain_id();
  CL_ASSIGN_OR_RETURN(n.suite, crypto::MakeSuite(g.suite().empty() ? "ed25519-sha256" : g.suite()));
  for (const v1::NodeInfo& ni : g.nodes()) n.urls.push_back("http://" + ni.http_address());
  CL_ASSIGN_OR_RETURN(std::string secret, Slurp(dir + "/network-secret"));
  n.network_secret = FirstLine(secret);
  CL_ASSIGN_OR_RETURN(std::string pass, Slurp(dir + "/passphrase"));
  pass = FirstLine(pass);
  for (const char* name : {"PSB-issuer", "PSB-identity", "CAB-issuer", "ASC-service", "ASC-admin"}) {
    CL_ASSIGN_OR_RETURN(crypto::KeyPair kp,
                        crypto::ReadKeyFile(dir + "/keys/" + name + ".key", *n.suite, pass));
    n.keys.emplace(name, std::move(kp));
  }
  return n;
}

const crypto::KeyPair& BenchNetwork::Key(const std::string& name) const {
  auto it = keys.find(name);
  CL_CHECK(it != keys.end());
  return it->second;
}

Bytes BenchNetwork::HolderRef(const std::string& id_number) const {
  Bytes data = "111";
  data.push_back('\0');
  data += id_number;
  return suite->KeyedHash(network_secret, data).ToBytes();
}

Result<std::unique_ptr<LocalNetwork>> LocalNetwork::Start(const std::string& bin_dir, const std::string& suite,
                                                          int nodes, uint32_t tick_ms) {
  const std::string dir =
      (fs::temp_directory_path() / ("certledger-bench-" + std::to_string(::getpid()))).string();
  std::error_code ec;
  fs::remove_all(dir, ec);
  CL_ASSIGN_OR_RETURN(std::unique_ptr<LocalNetwork> ln, Create(bin_dir, dir, suite, nodes, tick_ms));
  ln->keep_ = false;
  CL_RETURN_IF_ERROR(ln->StartAll(30'000));
  return ln;
}

Result<std::unique_ptr<LocalNetwork>> LocalNetwork::Create(const std::string& bin_dir, const std::string& dir,
                                                           const std::string& suite, int nodes, uint32_t tick_ms) {
  std::unique_ptr<LocalNetwork> ln(new LocalNetwork());
  ln->bin_dir_ = bin_dir;
  ln->dir_ = dir;
  ln->keep_ = true;
  std::mt19937 rng(static_cast<unsigned>(::getpid()));
  uint16_t base = 0;
  for (int tries = 0; tries < 1000 && base == 0; ++tries) {
    // Below the kernel's ephemeral range (32768+), so no outgoing connection takes one.
    const uint16_t b = static_cast<uint16_t>(20000 + rng() % 12000);
    bool ok = true;
    for (int i = 0; i < nodes && ok; ++i)
      ok = PortFree(static_cast<uint16_t>(b + i)) && PortFree(static_cast<uint16_t>(b + 100 + i));
    if (ok) base = b;
  }
  if (base == 0) return Unavailable("no free ports");
  node::NetworkSpec spec;
  spec.chain_id = "bench";
  spec.suite = suite;
  spec.departments = node::DefaultDepartments(static_cast<size_t>(std::max(nodes, 3)));
  spec.nodes = static_cast<size_t>(nodes);
  spec.base_peer_port = base;
  spec.base_http_port = static_cast<uint16_t>(base + 100);
  spec.key_cost = crypto::KeyFileCost::ForTests();
  spec.tick_ms = tick_ms;
  CL_ASSIGN_OR_RETURN(node::NetworkLayout layout, node::InitNetwork(ln->dir_, spec));
  for (const auto& nl : layout.nodes) {
    ln->urls_.push_back(nl.http_url);
    ln->data_dirs_.push_back(nl.data_dir);
  }
  ln->pids_.assign(static_cast<size_t>(nodes), 0);
  return ln;
}

Result<std::unique_ptr<LocalNetwork>> LocalNetwork::Open(const std::string& bin_dir, const std::string& dir) {
  std::unique_ptr<LocalNetwork> ln(new LocalNetwork());
  ln->bin_dir_ = bin_dir;
  ln->dir_ = dir;
  ln->keep_ = true;
  CL_ASSIGN_OR_RETURN(BenchNetwork net, BenchNetwork::Load(dir));
  ln->urls_ = net.urls;
  for (size_t i = 1; i <= net.urls.size(); ++i) ln->data_dirs_.push_back(dir + "/data/node-" + std::to_string(i));
  ln->pids_.assign(net.urls.size(), 0);
  return ln;
}

Status LocalNetwork::StartAll(uint32_t timeout_ms) {
  for (size_t i = 1; i <= pids_.size(); ++i) CL_RETURN_IF_ERROR(StartNode(static_cast<int>(i)));
  for (size_t i = 1; i <= pids_.size(); ++i) CL_RETURN_IF_ERROR(WaitReady(static_cast<int>(i), timeout_ms));
  return Status::Ok();
}

LocalNetwork::~LocalNetwork() {
  for (size_t i = 0; i < pids_.size(); ++i) StopNode(static_cast<int>(i + 1), SIGTERM);
  if (!keep_) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

Status LocalNetwork::StartNode(int i) {
  const std::string bin = bin_dir_ + "/certledger-node";
  const std::string cfg = dir_ + "/node-" + std::to_string(i) + ".toml";
  const std::string log = dir_ + "/node-" + std::to_string(i) + ".log";
  if (::access(bin.c_str(), X_OK) != 0) return NotFound("missing " + bin + " (build certledger-node)");
  std::fflush(nullptr);  // else the child's freopen writes our buffered output a second time
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive a crashed or killed bench
    (void)!std::freopen(log.c_str(), "a", stdout);
    (void)!std::freopen(log.c_str(), "a", stderr);
    ::execl(bin.c_str(), bin.c_str(), "--config", cfg.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  if (pid < 0) return Internal("fork failed");
  pids_[static_cast<size_t>(i - 1)] = pid;
  return Status::Ok();
}

void LocalNetwork::StopNode(int i, int sig) {
  pid_t& pid = pids_[static_cast<size_t>(i - 1)];
  if (pid == 0) return;
  ::kill(pid, sig);
  for (int waited = 0; waited < 1000; ++waited) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      pid = 0;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  pid = 0;
}

Status LocalNetwork::WaitReady(int i, uint32_t timeout_ms) const {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = client::HttpRequest(url(i), "GET", "/readyz", "", "application/json", {.timeout_ms = 1000});
    if (r.ok() && r->status == 200) return Status::Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return DeadlineExceeded("node " + std::to_string(i) + " not ready after " + std::to_string(timeout_ms) +
                          " ms (log: " + dir_ + "/node-" + std::to_string(i) + ".log)");
}

uint64_t LocalNetwork::Leader() const {
  for (size_t i = 0; i < urls_.size(); ++i) {
    if (pids_[i] == 0) continue;
    auto r = client::HttpRequest(urls_[i], "GET", "/v1/status", "", "application/json", {.timeout_ms = 1000});
    if (!r.ok() || r->status != 200) continue;
    const size_t p = r->body.find("\"leader\":");
    if (p == std::string::npos) continue;
    size_t q = p + 9;
    while (q < r->body.size() && (r->body[q] == '"' || r->body[q] == ' ')) ++q;
    return std::strtoull(r->body.c_str() + q, nullptr, 10);
  }
  return 0;
}

// ---------------------------------------------------------------- txs

Result<Mix> ParseMix(const std::string& text) {
  Mix m{0, 0, 0};
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos) return InvalidArgument("mix item '" + item + "' is not NAME=PERCENT");
    const int v = std::atoi(item.c_str() + eq + 1);
    const std::string name = item.substr(0, eq);
    if (name == "anchor") m.anchor = v;
    else if (name == "grant") m.grant = v;
    else if (name == "request") m.request = v;
    else return InvalidArgument("unknown mix item '" + name + "' (anchor, grant, request)");
  }
  if (m.anchor < 0 || m.grant < 0 || m.request < 0 || m.anchor + m.grant + m.request <= 0)
    return InvalidArgument("mix percentages must be >= 0 with a positive sum");
  return m;
}

std::vector<Bytes> ParallelBuild(uint32_t count, uint32_t threads, const std::function<Bytes(uint32_t)>& build) {
  std::vector<Bytes> out(count);
  threads = std::max<uint32_t>(1, std::min(threads, count));
  std::vector<std::thread> ts;
  for (uint32_t t = 0; t < threads; ++t)
    ts.emplace_back([&, t] {
      for (uint32_t i = t; i < count; i += threads) out[i] = build(i);
    });
  for (auto& t : ts) t.join();
  return out;
}

TxFactory::TxFactory(const BenchNetwork& net, std::string tag, int64_t now_ms, uint32_t holders)
    : net_(net), tag_(std::move(tag)), now_ms_(now_ms) {
  for (uint32_t i = 0; i < holders; ++i) {
    Holder h;
    char id[32];
    std::snprintf(id, sizeof id, "3301021990%08u", i);
    h.id_number = id;
    h.ref = net.HolderRef(tag_ + "/" + h.id_number);
    auto kp = net.suite->KeyFromSeed(net.suite->Hash("certledger-bench-holder/" + tag_ + "/" + h.id_number).ToBytes());
    CL_CHECK(kp.ok());
    h.key = std::move(*kp);
    holders_.push_back(std::move(h));
  }
}

Bytes TxFactory::SetupService() const {
  v1::TxBody b = NewBody(*this, 1);
  google::protobuf::util::JsonParseOptions jo;
  CL_CHECK(google::protobuf::util::JsonStringToMessage(kServiceJson, b.mutable_define_service()->mutable_service(), jo).ok());
  return SignWith(*net_.suite, net_.Key("ASC-admin"), b);
}

std::vector<Bytes> TxFactory::SetupRegistrations() const {
  std::vector<Bytes> out;
  for (uint32_t i = 0; i < holders_.size(); ++i) {
    v1::TxBody r = NewBody(*this, 100 + i);
    r.mutable_register_holder()->set_holder_ref(holders_[i].ref);
    r.mutable_register_holder()->set_public_key(holders_[i].key.public_key);
    out.push_back(SignWith(*net_.suite, net_.Key("PSB-identity"), r));
  }
  return out;
}

std::vector<Bytes> TxFactory::SetupRecords(uint32_t threads) const {
  const uint32_t n = static_cast<uint32_t>(holders_.size());
  return ParallelBuild(4 * n, threads, [&](uint32_t k) -> Bytes {
    const uint32_t h = k / 4;
    const uint64_t nonce = 1'000'000 + k;
    const std::string id = tag_ + "-" + std::to_string(h);
    switch (k % 4) {
      case 0: return AnchorTx(*this, "IDC-" + id, "ID_CARD", "idc/" + id, holders_[h].ref, nonce);
      case 1: return AnchorTx(*this, "HK-" + id, "HUKOU", "hk/" + id, holders_[h].ref, nonce);
      case 2: return AnchorTx(*this, "MAR-" + id, "MARRIAGE", "mar/" + id, holders_[h].ref, nonce);
      default: return GrantTx(*this, h, "G-SETUP-" + id, nonce);
    }
  });
}

std::vector<Bytes> TxFactory::Mixed(const Mix& mix, uint64_t first_seq, uint32_t count, uint32_t threads) const {
  const int total = mix.anchor + mix.grant + mix.request;
  return ParallelBuild(count, threads, [&](uint32_t k) -> Bytes {
    const uint64_t seq = first_seq + k;
    // A fixed pseudo-random interleaving (splitmix64 of seq) with the mix's shares.
    uint64_t z = seq + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    const int pick = static_cast<int>(z % static_cast<uint64_t>(total));
    const uint32_t h = static_cast<uint32_t>((z >> 20) % holders_.size());
    const uint64_t nonce = 10'000'000 + seq;
    const std::string s = tag_ + "-" + std::to_string(seq);
    if (pick < mix.anchor) {
      static const char* kTypes[] = {"ID_CARD", "HUKOU", "MARRIAGE"};
      const std::string type = kTypes[(z >> 40) % 3];
      // A new citizen per anchor: the holder ref of a fresh ID number.
      return AnchorTx(*this, "C-" + s, type, "doc/" + s, net_.HolderRef(tag_ + "/new/" + s), nonce);
    }
    if (pick < mix.anchor + mix.grant) return GrantTx(*this, h, "G-" + s, nonce);
    return RequestTx(*this, h, "REQ-" + s, nonce);
  });
}

std::vector<Bytes> TxFactory::CorpusAnchors(uint64_t first, uint32_t count, uint32_t threads) const {
  return ParallelBuild(count, threads, [&](uint32_t k) -> Bytes {
    const uint64_t i = first + k;
    const std::string s = std::to_string(i);
    return AnchorTx(*this, "Q-" + tag_ + "-" + s, "ID_CARD", "corpus/" + tag_ + "/" + s,
                    net_.HolderRef(tag_ + "/corpus/" + s), 100'000'000'000ull + i);
  });
}

std::string TxFactory::CorpusDocHash(uint64_t i) const {
  return net_.suite->Hash("corpus/" + tag_ + "/" + std::to_string(i)).ToHex();
}

}  // namespace cl::bench
