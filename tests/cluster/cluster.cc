#include "tests/cluster/cluster.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <google/protobuf/util/json_util.h>

#include "base/check.h"
#include "cli/http_client.h"
#include "proto/records.pb.h"

namespace cl::cluster_testing {
namespace {

namespace fs = std::filesystem;
namespace v1 = certledger::v1;

// The built binaries; $CL_BIN_DIR overrides (to run the scenarios against
// another build of the node).
std::string BinDir() {
  const char* dir = std::getenv("CL_BIN_DIR");
  return dir != nullptr && *dir != '\0' ? dir : CERTLEDGER_BIN_DIR;
}

bool IsFree(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// A base port p with p..p+n-1 (peer) and p+100..p+100+n-1 (HTTP) free right
// now, below the kernel's ephemeral range so the proxies' ports cannot take
// them (a small race with other programs remains).
uint16_t FreeBase(int n) {
  std::mt19937 rng(static_cast<unsigned>(::getpid()) ^
                   static_cast<unsigned>(Clock::now().time_since_epoch().count()));
  for (int tries = 0; tries < 1000; ++tries) {
    const auto b = static_cast<uint16_t>(20000 + rng() % 12000);
    bool ok = true;
    for (int i = 0; i < n && ok; ++i)
      ok = IsFree(static_cast<uint16_t>(b + i)) && IsFree(static_cast<uint16_t>(b + 100 + i));
    if (ok) return b;
  }
  return 0;
}

// Runs `certledger ARGS`; returns the exit code and puts stdout+stderr in *out.
int RunCli(const std::vector<std::string>& args, const std::string& log, std::string* out) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    (void)!std::freopen(log.c_str(), "w", stdout);
    (void)!std::freopen(log.c_str(), "a", stderr);
    std::vector<char*> argv;
    const std::string bin = BinDir() + "/certledger";
    argv.push_back(const_cast<char*>(bin.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::alarm(60);
    ::execv(bin.c_str(), argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::ifstream in(log);
  std::stringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

Result<std::string> ReadText(const fs::path& p) {
  std::ifstream in(p);
  if (!in) return IoError("cannot read " + p.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status AppendText(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::app);
  out << text;
  out.close();
  if (!out) return IoError("cannot write " + p.string());
  return Status::Ok();
}

// Leaves nodes past `members` in the genesis with no raft role, so they are
// peers everyone can authenticate but join only by a membership change.
Status DemoteExtraNodes(const fs::path& genesis_file, int members) {
  CL_ASSIGN_OR_RETURN(std::string json, ReadText(genesis_file));
  v1::Genesis g;
  if (!google::protobuf::util::JsonStringToMessage(json, &g).ok()) return Internal("cannot parse the genesis");
  for (auto& n : *g.mutable_nodes())
    if (n.node_id() > static_cast<uint64_t>(members)) n.set_role(v1::NodeInfo::NODE_ROLE_UNSPECIFIED);
  google::protobuf::util::JsonPrintOptions jo;
  jo.add_whitespace = true;
  jo.preserve_proto_field_names = true;
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(g, &out, jo).ok()) return Internal("cannot print the genesis");
  std::ofstream f(genesis_file, std::ios::trunc);
  f << out;
  f.close();
  if (!f) return IoError("cannot write " + genesis_file.string());
  return Status::Ok();
}

}  // namespace

int64_t NowUs() {
  static const Clock::time_point epoch = Clock::now();
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - epoch).count();
}

Result<std::unique_ptr<Cluster>> Cluster::Create(const ClusterOptions& o) {
  if (o.nodes < 1 || o.nodes > 7 || o.members < 0 || o.members > o.nodes)
    return InvalidArgument("nodes must be 1..7 and members 0..nodes");
  static std::atomic<int> counter{0};
  std::unique_ptr<Cluster> c(new Cluster());
  c->n_ = o.nodes;
  c->dir_ = (fs::temp_directory_path() /
             ("cl-cluster-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
              std::to_string(Clock::now().time_since_epoch().count() % 1000000)))
                .string();
  fs::create_directories(c->dir_);
  c->pids_.assign(static_cast<size_t>(o.nodes + 1), 0);
  c->paused_.assign(static_cast<size_t>(o.nodes + 1), false);
  c->base_ = FreeBase(o.nodes);
  if (c->base_ == 0) return Unavailable("no free ports");

  const fs::path net = fs::path(c->dir_) / "net";
  std::string out;
  const int rc = RunCli({"network", "init", net.string(), "-n", std::to_string(o.nodes), "--fast-keys",
                         "--peer-port", std::to_string(c->base_), "--http-port", std::to_string(c->base_ + 100),
                         "--tick-ms", std::to_string(o.tick_ms)},
                        c->dir_ + "/init.log", &out);
  if (rc != 0) return Internal("certledger network init failed (" + std::to_string(rc) + "): " + out);
  const int members = o.members == 0 ? o.nodes : o.members;
  if (members < o.nodes) CL_RETURN_IF_ERROR(DemoteExtraNodes(net / "genesis.json", members));

  // One proxy per link (i < j), upstream j's real peer port.
  for (int i = 1; i <= o.nodes; ++i) {
    // `network init` ends the file with the [raft] table: these keys join it.
    std::string extra;
    if (o.snapshot_interval_entries != 0)
      extra += "snapshot_interval_entries = " + std::to_string(o.snapshot_interval_entries) + "\n";
    if (o.compaction_keep_entries != 0)
      extra += "compaction_keep_entries = " + std::to_string(o.compaction_keep_entries) + "\n";
    extra += "\n[peers]\n";
    for (int j = i + 1; j <= o.nodes; ++j) {
      auto p = std::make_unique<FaultProxy>(static_cast<uint16_t>(c->base_ + j - 1));
      extra += std::to_string(j) + " = \"127.0.0.1:" + std::to_string(p->port()) + "\"\n";
      c->links_[{i, j}] = std::move(p);
    }
    // Broken links are noticed in ~1.5 s and redialled within 0.5 s (the
    // defaults, 10 s, would make every scenario slow).
    extra +=
        "\n[transport]\nhandshake_timeout_ms = 2000\nkeepalive_interval_ms = 300\nidle_timeout_ms = 1500\n"
        "reconnect_initial_ms = 50\nreconnect_max_ms = 500\n";
    CL_RETURN_IF_ERROR(AppendText(net / ("node-" + std::to_string(i) + ".toml"), extra));
  }

  CL_ASSIGN_OR_RETURN(cli::Context ctx,
                      cli::Context::Create(cli::GlobalOptions{.client_config = (net / "client.toml").string()}));
  c->ctx_ = std::make_unique<cli::Context>(std::move(ctx));
  CL_RETURN_IF_ERROR(c->ctx_->Genesis(/*require_pin=*/true).status());
  for (int i = 1; i <= members; ++i) c->Start(i);
  return c;
}

Cluster::~Cluster() {
  for (int i = 1; i <= n_; ++i)
    if (running(i)) Kill(i);
  links_.clear();
  if (!keep_dir_ && std::getenv("CL_KEEP_CLUSTER_DIR") == nullptr) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

std::string Cluster::Url(int i) const { return "http://127.0.0.1:" + std::to_string(base_ + 100 + i - 1); }

void Cluster::Start(int i) {
  CL_CHECK(i >= 1 && i <= n_ && !running(i), "Start: no such node or already running");
  const std::string log = dir_ + "/node-" + std::to_string(i) + ".log";
  const std::string cfg = dir_ + "/net/node-" + std::to_string(i) + ".toml";
  const std::string bin = BinDir() + "/certledger-node";
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    // Dies with the test process (also when CTest kills it on a timeout).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    (void)!std::freopen(log.c_str(), "a", stdout);
    (void)!std::freopen(log.c_str(), "a", stderr);
    ::execl(bin.c_str(), bin.c_str(), "--config", cfg.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  CL_CHECK(pid > 0, "fork failed");
  pids_[static_cast<size_t>(i)] = pid;
  paused_[static_cast<size_t>(i)] = false;
}

void Cluster::Kill(int i) {
  const pid_t pid = pids_[static_cast<size_t>(i)];
  if (pid == 0) return;
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  pids_[static_cast<size_t>(i)] = 0;
  paused_[static_cast<size_t>(i)] = false;
}

void Cluster::Pause(int i) {
  if (!running(i)) return;
  ::kill(pids_[static_cast<size_t>(i)], SIGSTOP);
  paused_[static_cast<size_t>(i)] = true;
}

void Cluster::Resume(int i) {
  if (!running(i)) return;
  ::kill(pids_[static_cast<size_t>(i)], SIGCONT);
  paused_[static_cast<size_t>(i)] = false;
}

void Cluster::Wipe(int i) {
  CL_CHECK(!running(i), "Wipe: the node is running");
  std::error_code ec;
  fs::remove_all(fs::path(dir_) / "net" / "data" / ("node-" + std::to_string(i)), ec);
}

FaultProxy& Cluster::Link(int a, int b) {
  auto it = links_.find({std::min(a, b), std::max(a, b)});
  CL_CHECK(it != links_.end(), "Link: no such link");
  return *it->second;
}

void Cluster::Partition(const std::vector<int>& side) {
  for (auto& [ends, proxy] : links_) {
    const bool a = std::find(side.begin(), side.end(), ends.first) != side.end();
    const bool b = std::find(side.begin(), side.end(), ends.second) != side.end();
    if (a != b) proxy->SetBlocked(true);
  }
}

void Cluster::PartitionOneWay(const std::vector<int>& side) {
  for (auto& [ends, proxy] : links_) {
    const bool a = std::find(side.begin(), side.end(), ends.first) != side.end();
    const bool b = std::find(side.begin(), side.end(), ends.second) != side.end();
    if (a == b) continue;
    // The dialler (ends.first) writes in the forward direction.
    proxy->SetDrop(a ? Direction::kForward : Direction::kBackward, true);
  }
}

void Cluster::HealAll() {
  for (auto& [ends, proxy] : links_) proxy->Heal();
}

Result<certledger::api::NodeStatus> Cluster::Status(int i, uint32_t timeout_ms) const {
  CL_ASSIGN_OR_RETURN(client::HttpResponse r,
                      client::HttpRequest(Url(i), "GET", "/v1/status", "", "application/json",
                                          {.timeout_ms = timeout_ms}));
  if (r.status != 200) return Unavailable("status " + std::to_string(r.status) + ": " + r.body);
  certledger::api::NodeStatus st;
  google::protobuf::util::JsonParseOptions jo;
  jo.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(r.body, &st, jo).ok())
    return Corruption("not a NodeStatus: " + r.body);
  return st;
}

int Cluster::WaitLeader(const std::vector<int>& voters, Ms timeout) const {
  const auto deadline = Clock::now() + timeout;
  do {
    std::map<uint64_t, size_t> named;  // leader id → voters naming it
    std::vector<uint64_t> claimants;
    for (int v : voters) {
      if (!running(v) || paused(v)) continue;
      auto st = Status(v, 500);
      if (!st.ok()) continue;
      if (st->leader() != 0) ++named[st->leader()];
      if (st->role() == "leader") claimants.push_back(st->node_id());
    }
    for (uint64_t l : claimants)
      if (named[l] * 2 > voters.size()) return static_cast<int>(l);
    std::this_thread::sleep_for(Ms(50));
  } while (Clock::now() < deadline);
  return 0;
}

std::string Cluster::LogTail(int i, size_t bytes) const {
  auto text = ReadText(fs::path(dir_) / ("node-" + std::to_string(i) + ".log"));
  if (!text.ok()) return "(no log)";
  return text->size() <= bytes ? *text : text->substr(text->size() - bytes);
}

}  // namespace cl::cluster_testing
