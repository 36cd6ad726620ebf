// certledger-bench: a load generator for certledger networks (and, with
// --target etcd, for an etcd cluster through its JSON gateway, so that the
// same client drives both). See docs/performance.md, "Network".
//
//   certledger-bench --local --suite ed25519-sha256 --clients 100 --duration 10
//   certledger-bench --local --clients 1 --duration 10             (single-client latency)
//   certledger-bench --local --rate 2000 --duration 10             (open loop)
//   certledger-bench --local --mode query --preload 10000 --clients 64
//   certledger-bench --local --local-dir /tmp/net-1m --mode query --bulk --preload 1000000 --restart
//                                                   (bulk-loaded corpus, kept for later runs; bulk_load.h)
//   certledger-bench --net DIR [--url http://127.0.0.1:8101 ...]   (a running network)
//   certledger-bench --target etcd --url http://127.0.0.1:2379 --clients 100 --value-bytes 300
//
// Every run prints a human summary and one machine-readable line starting
// with "RESULT" (key=value pairs) for scripts such as bench/compare-etcd.
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <google/protobuf/util/json_util.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <random>
#include <sstream>

#include "bench/node/bulk_load.h"
#include "bench/node/http_load.h"
#include "bench/node/workload.h"
#include "cli/http_client.h"
#include "proto/api.pb.h"
#include "proto/tx.pb.h"

namespace cl::bench {
namespace {

namespace v1 = certledger::v1;
namespace api = certledger::api;

struct Options {
  std::string target = "certledger";  // or "etcd"
  std::string mode = "submit";        // submit | query
  bool local = false;
  std::string suite = "ed25519-sha256";
  int nodes = 3;
  uint32_t tick_ms = 100;
  std::string net_dir;
  std::vector<std::string> urls;
  uint32_t clients = 100;
  uint32_t threads = 1;
  double rate = 0;
  double duration_s = 10;
  double warmup_s = 2;
  uint32_t txs = 0;       // 0: enough for the run at a generous rate
  uint32_t holders = 200;
  std::string mix = "anchor=60,grant=20,request=20";
  uint64_t preload = 10'000;
  int query_node = 1;
  uint64_t query_docs = 200'000;  // distinct documents the lookups cycle through
  uint32_t value_bytes = 300;
  uint32_t sign_threads = 2;
  bool restart = false;
  bool keep = false;
  bool strict = false;
  std::string to = "all";  // all | leader | follower
  bool tail_tx = false;
  bool bulk = false;            // query mode, local: bulk-load the corpus (bulk_load.h)
  uint32_t bulk_batch = 2000;   // txs per bulk-loaded block
  bool bulk_verify = false;     // bulk apply checks every signature
  std::string local_dir;        // local network directory, kept (reused if it holds one)
  std::string node_bin_dir;     // where certledger-node is (default: next to this binary)
  int restarts = 1;             // --restart: how many times
  bool restart_kill = false;    // --restart with SIGKILL (a crash) instead of SIGTERM
};

// The URLs to send writes to: all, only the leader's, or one follower's
// (node ids are 1-based positions in the genesis list).
Result<std::vector<std::string>> PickUrls(const std::vector<std::string>& urls, const std::string& to) {
  if (to == "all") return urls;
  for (const std::string& u : urls) {
    auto r = client::HttpRequest(u, "GET", "/v1/status", "", "application/json", {.timeout_ms = 2000});
    if (!r.ok() || r->status != 200) continue;
    api::NodeStatus st;
    google::protobuf::util::JsonParseOptions jo;
    jo.ignore_unknown_fields = true;
    if (!google::protobuf::util::JsonStringToMessage(r->body, &st, jo).ok() || st.leader() == 0) continue;
    const size_t leader = st.leader() - 1;
    if (leader >= urls.size()) return FailedPrecondition("leader id beyond the URL list");
    if (to == "leader") return std::vector<std::string>{urls[leader]};
    return std::vector<std::string>{urls[(leader + 1) % urls.size()]};
  }
  return Unavailable("no node knows a leader");
}

double Ms(uint64_t ns) { return static_cast<double>(ns) / 1e6; }

void Print(const std::string& label, const Options& o, const LoadResult& r, const std::string& extra) {
  std::printf("%s: %llu ok, %llu failed in %.2f s = %.0f /s; latency ms p50 %.2f p90 %.2f p99 %.2f p99.9 %.2f max %.2f\n",
              label.c_str(), static_cast<unsigned long long>(r.ok), static_cast<unsigned long long>(r.failed),
              r.window_s, r.ok_per_s(), Ms(r.latency.Quantile(0.5)), Ms(r.latency.Quantile(0.9)),
              Ms(r.latency.Quantile(0.99)), Ms(r.latency.Quantile(0.999)), Ms(r.latency.max_ns()));
  if (!r.first_failure.empty()) std::printf("  first failure: %s\n", r.first_failure.c_str());
  std::printf("RESULT target=%s mode=%s suite=%s loop=%s clients=%u rate=%.0f ok=%llu failed=%llu window_s=%.3f "
              "per_s=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f%s\n",
              o.target.c_str(), o.mode.c_str(), o.target == "etcd" ? "-" : o.suite.c_str(),
              o.rate > 0 ? "open" : "closed", o.clients, o.rate, static_cast<unsigned long long>(r.ok),
              static_cast<unsigned long long>(r.failed), r.window_s, r.ok_per_s(), Ms(r.latency.Quantile(0.5)),
              Ms(r.latency.Quantile(0.9)), Ms(r.latency.Quantile(0.99)), Ms(r.latency.Quantile(0.999)),
              Ms(r.latency.max_ns()), extra.c_str());
  std::fflush(stdout);
}

Result<std::vector<Endpoint>> Endpoints(const std::vector<std::string>& urls) {
  std::vector<Endpoint> out;
  for (const auto& u : urls) {
    CL_ASSIGN_OR_RETURN(Endpoint e, ParseUrl(u));
    out.push_back(e);
  }
  if (out.empty()) return InvalidArgument("no node URL");
  return out;
}

// Submits `txs` (serialized SignedTx) with ?wait=commit over `clients`
// connections, closed loop, until all are answered; every receipt must be OK
// (or ALREADY_EXISTS, if `existing_ok`: setup run again on the same network).
Result<LoadResult> SubmitAll(const std::vector<Endpoint>& eps, const std::vector<Bytes>& txs, uint32_t clients,
                             double rate, double duration_s, double warmup_s, bool existing_ok = false) {
  std::vector<RenderedRequest> reqs;
  reqs.reserve(txs.size());
  for (const Bytes& tx : txs)
    reqs.push_back(RenderRequest("POST", "/v1/transactions?wait=commit&timeout_ms=30000", eps.front(), tx,
                                 "application/x-protobuf", "application/x-protobuf"));
  std::atomic<int64_t> next{0};
  const int64_t n = static_cast<int64_t>(reqs.size());
  RequestSource src{
      .next = [&](uint32_t) -> int64_t {
        const int64_t i = next.fetch_add(1);
        return i < n ? i : -1;
      },
      .request = [&](int64_t i) -> const RenderedRequest& { return reqs[static_cast<size_t>(i)]; },
      .check = [existing_ok](int64_t, int status, const std::string& body) {
        if (status != 200) return false;
        api::SubmitTxResponse r;
        return r.ParseFromString(body) && r.status() == "committed" &&
               (r.receipt().code() == v1::OK || (existing_ok && r.receipt().code() == v1::ALREADY_EXISTS));
      }};
  LoadOptions lo{.endpoints = eps, .connections = clients, .threads = 1, .duration_s = duration_s,
                 .warmup_s = warmup_s, .rate_per_s = rate, .timeout_ms = 60'000};
  return RunLoad(lo, src);
}

Status Setup(const std::vector<Endpoint>& eps, const std::vector<Bytes>& txs, const char* what,
             bool existing_ok = false) {
  const auto t0 = std::chrono::steady_clock::now();
  CL_ASSIGN_OR_RETURN(LoadResult r, SubmitAll(eps, txs, 50, 0, 3600, 0, existing_ok));
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("setup %s: %zu txs in %.2f s (%llu ok)\n", what, txs.size(), s, static_cast<unsigned long long>(r.ok));
  if (r.failed != 0 || r.ok != txs.size())
    return Aborted(std::string("setup ") + what + " failed: " + r.first_failure);
  return Status::Ok();
}

Result<LoadResult> RunSubmit(const Options& o, const TxFactory& f, const std::vector<Endpoint>& eps) {
  // The service may be defined by an earlier run on this network (--net);
  // the holders are new on every run (their references carry the run's tag).
  CL_RETURN_IF_ERROR(Setup(eps, {f.SetupService()}, "service", /*existing_ok=*/true));
  CL_RETURN_IF_ERROR(Setup(eps, f.SetupRegistrations(), "holder registrations"));
  CL_RETURN_IF_ERROR(Setup(eps, f.SetupRecords(o.sign_threads), "certificates + grants of the holders"));
  CL_ASSIGN_OR_RETURN(Mix mix, ParseMix(o.mix));
  uint32_t count = o.txs;
  if (count == 0) {
    // Generous upper bounds of what a 2-core machine commits (a closed loop
    // of c clients also needs at most ~400 txs/s per client).
    double per_s = o.rate > 0 ? o.rate * 1.05 : (o.suite == "sm2-sm3" ? 1000 : 12000);
    if (o.rate <= 0) per_s = std::min(per_s, 400.0 * o.clients);
    count = static_cast<uint32_t>(per_s * (o.duration_s + o.warmup_s)) + o.clients;
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<Bytes> txs = f.Mixed(mix, 0, count, o.sign_threads);
  size_t bytes = 0;
  for (const Bytes& t : txs) bytes += t.size();
  std::printf("pre-signed %u txs (mix %s; mean %zu bytes) in %.2f s\n", count, o.mix.c_str(),
              bytes / std::max<size_t>(1, txs.size()),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  CL_ASSIGN_OR_RETURN(LoadResult r, SubmitAll(eps, txs, o.clients, o.rate, o.duration_s, o.warmup_s));
  if (r.sent >= txs.size())
    std::printf("note: all %zu pre-signed txs were used; the window ended early (raise --txs)\n", txs.size());
  Print("committed (?wait=commit)", o, r, " tx_bytes=" + std::to_string(bytes / std::max<size_t>(1, txs.size())));
  return r;
}

// CPU seconds (user + system) process `pid` has used so far; 0 if unknown.
double ProcessCpuSeconds(pid_t pid) {
  if (pid <= 0) return 0;
  FILE* in = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (in == nullptr) return 0;
  char buf[1024] = {0};
  const size_t n = std::fread(buf, 1, sizeof buf - 1, in);
  std::fclose(in);
  // Fields after the command name (which may hold spaces) start past the last ')'.
  const char* p = std::strrchr(buf, ')');
  if (p == nullptr || n == 0) return 0;
  unsigned long long utime = 0, stime = 0;
  if (std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2) return 0;
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double SelfCpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

Result<LoadResult> RunQuery(const Options& o, const TxFactory& f, const std::vector<Endpoint>& eps,
                            bool preloaded, pid_t node_pid) {
  const uint32_t chunk = 50'000;
  const auto t0 = std::chrono::steady_clock::now();
  for (uint64_t first = 0; first < o.preload && !preloaded; first += chunk) {
    const uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(chunk, o.preload - first));
    std::vector<Bytes> txs = f.CorpusAnchors(first, n, o.sign_threads);
    CL_ASSIGN_OR_RETURN(LoadResult r, SubmitAll(eps, txs, 100, 0, 36'000, 0));
    if (r.failed != 0) return Aborted("preload failed: " + r.first_failure);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("preloaded %llu certificates (%.0f s, %.0f anchors/s incl. signing)\n",
                static_cast<unsigned long long>(first + n), s, static_cast<double>(first + n) / s);
    std::fflush(stdout);
  }
  if (o.tail_tx) {
    // One more anchor alone, so the newest block holds one tx (isolates the
    // cost of reading the newest block on every lookup; docs/performance.md).
    std::vector<Bytes> one = f.CorpusAnchors(o.preload, 1, 1);
    CL_ASSIGN_OR_RETURN(LoadResult r, SubmitAll(eps, one, 1, 0, 60, 0));
    if (r.ok != 1) return Aborted("tail tx failed: " + r.first_failure);
  }
  // Random lookups of anchored documents (the clerk's `cert verify` read),
  // all to one node, JSON as the CLI asks.
  const Endpoint ep = eps[static_cast<size_t>(std::max(1, o.query_node) - 1) % eps.size()];
  const uint32_t m = static_cast<uint32_t>(std::min<uint64_t>(o.preload, o.query_docs));
  std::mt19937_64 rng(42);
  std::vector<RenderedRequest> reqs;
  for (uint32_t i = 0; i < m; ++i)
    reqs.push_back(RenderRequest("GET", "/v1/certificates/" + f.CorpusDocHash(rng() % o.preload), ep));
  std::atomic<int64_t> next{0};
  RequestSource src{
      .next = [&](uint32_t) -> int64_t { return next.fetch_add(1) % m; },
      .request = [&](int64_t i) -> const RenderedRequest& { return reqs[static_cast<size_t>(i)]; },
      .check = [](int64_t, int status, const std::string& body) {
        return status == 200 && body.find("\"VALID\"") != std::string::npos;
      }};
  LoadOptions lo{.endpoints = {ep}, .connections = o.clients, .threads = o.threads, .duration_s = o.duration_s,
                 .warmup_s = o.warmup_s, .rate_per_s = o.rate, .timeout_ms = 60'000};
  // CPU per lookup of the serving node and of this client (warmup included:
  // over every request sent), less sensitive to a shared machine's load
  // than the rate is.
  const double node_cpu0 = ProcessCpuSeconds(node_pid), self_cpu0 = SelfCpuSeconds();
  CL_ASSIGN_OR_RETURN(LoadResult r, RunLoad(lo, src));
  const double sent = static_cast<double>(std::max<uint64_t>(r.sent, 1));
  const double node_us = (ProcessCpuSeconds(node_pid) - node_cpu0) / sent * 1e6;
  const double client_us = (SelfCpuSeconds() - self_cpu0) / sent * 1e6;
  char cpu[128];
  std::snprintf(cpu, sizeof cpu, " node_cpu_us=%.1f client_cpu_us=%.1f", node_pid > 0 ? node_us : 0.0, client_us);
  Print("certificate lookups (GET /v1/certificates/{doc_hash})", o, r,
        " corpus=" + std::to_string(o.preload) + " docs=" + std::to_string(m) + cpu);
  return r;
}

Result<LoadResult> RunEtcd(const Options& o) {
  CL_ASSIGN_OR_RETURN(std::vector<Endpoint> eps, Endpoints(o.urls));
  uint32_t count = o.txs;
  if (count == 0) count = static_cast<uint32_t>((o.rate > 0 ? o.rate * 1.05 : 12000) * (o.duration_s + o.warmup_s)) + o.clients;
  std::vector<RenderedRequest> reqs;
  reqs.reserve(count);
  std::mt19937_64 rng(7);
  for (uint32_t i = 0; i < count; ++i) {
    std::string value(o.value_bytes, '\0');
    for (char& c : value) c = static_cast<char>(rng());
    const std::string body = "{\"key\":\"" + ToBase64("bench/" + std::to_string(::getpid()) + "/" + std::to_string(i)) +
                             "\",\"value\":\"" + ToBase64(value) + "\"}";
    reqs.push_back(RenderRequest("POST", "/v3/kv/put", eps.front(), body, "application/json"));
  }
  std::atomic<int64_t> next{0};
  const int64_t n = count;
  RequestSource src{
      .next = [&](uint32_t) -> int64_t {
        const int64_t i = next.fetch_add(1);
        return i < n ? i : -1;
      },
      .request = [&](int64_t i) -> const RenderedRequest& { return reqs[static_cast<size_t>(i)]; },
      .check = [](int64_t, int status, const std::string& body) {
        return status == 200 && body.find("\"header\"") != std::string::npos;
      }};
  LoadOptions lo{.endpoints = eps, .connections = o.clients, .threads = 1, .duration_s = o.duration_s,
                 .warmup_s = o.warmup_s, .rate_per_s = o.rate, .timeout_ms = 60'000};
  CL_ASSIGN_OR_RETURN(LoadResult r, RunLoad(lo, src));
  if (r.sent >= static_cast<uint64_t>(n)) std::printf("note: all %u prepared puts were used (raise --txs)\n", count);
  Print("etcd puts (POST /v3/kv/put)", o, r, " value_bytes=" + std::to_string(o.value_bytes));
  return r;
}

// The corpus a bulk-loaded network directory holds (file bench-corpus: tag,
// time of the run that made it, count), so later runs can query it.
struct Corpus {
  std::string tag;
  int64_t now_ms = 0;
  uint64_t count = 0;
};

Status WriteCorpus(const std::string& dir, const Corpus& c) {
  FILE* out = std::fopen((dir + "/bench-corpus").c_str(), "w");
  if (out == nullptr) return IoError("cannot write " + dir + "/bench-corpus");
  std::fprintf(out, "%s %lld %llu\n", c.tag.c_str(), static_cast<long long>(c.now_ms),
               static_cast<unsigned long long>(c.count));
  return std::fclose(out) == 0 ? Status::Ok() : IoError("cannot write " + dir + "/bench-corpus");
}

Result<Corpus> ReadCorpus(const std::string& dir) {
  FILE* in = std::fopen((dir + "/bench-corpus").c_str(), "r");
  if (in == nullptr) return NotFound(dir + " holds no bulk-loaded corpus (bench-corpus)");
  char tag[128] = {0};
  long long now = 0;
  unsigned long long count = 0;
  const int n = std::fscanf(in, "%127s %lld %llu", tag, &now, &count);
  std::fclose(in);
  if (n != 3) return Corruption(dir + "/bench-corpus does not parse");
  return Corpus{tag, now, count};
}

Status RestartCheck(LocalNetwork& ln, int nodes, bool kill) {
  const uint64_t leader = ln.Leader();
  const int victim = leader == static_cast<uint64_t>(nodes) ? 1 : nodes;
  ln.StopNode(victim, kill ? SIGKILL : SIGTERM);
  const auto t0 = std::chrono::steady_clock::now();
  CL_RETURN_IF_ERROR(ln.StartNode(victim));
  CL_RETURN_IF_ERROR(ln.WaitReady(victim, 120'000));
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("restart: follower node %d stopped (%s) and restarted; ready after %.3f s\n", victim,
              kill ? "SIGKILL" : "SIGTERM", s);
  std::printf("RESULT target=certledger mode=restart node=%d signal=%s ready_s=%.3f\n", victim,
              kill ? "KILL" : "TERM", s);
  return Status::Ok();
}

int Main(int argc, char** argv) {
  Options o;
  CLI::App app{"certledger-bench: load generator for certledger networks (and etcd, for comparison)"};
  app.add_option("--target", o.target, "certledger or etcd")->check(CLI::IsMember({"certledger", "etcd"}));
  app.add_option("--mode", o.mode, "submit (committed tx/s) or query (certificate lookups)")
      ->check(CLI::IsMember({"submit", "query"}));
  app.add_flag("--local", o.local, "start a local network (next to this binary's certledger-node) and stop it after");
  app.add_option("--suite", o.suite, "crypto suite of the local network: ed25519-sha256 or sm2-sm3");
  app.add_option("--nodes", o.nodes, "nodes of the local network");
  app.add_option("--tick-ms", o.tick_ms, "raft tick of the local network");
  app.add_option("--net", o.net_dir, "directory of a running network (certledger network init output)");
  app.add_option("--url", o.urls, "node (or etcd) URL, repeatable (default: the genesis' nodes)");
  app.add_option("--clients", o.clients, "concurrent keep-alive connections");
  app.add_option("--threads", o.threads, "client event-loop threads (query mode)");
  app.add_option("--rate", o.rate, "open loop: requests per second (0: closed loop)");
  app.add_option("--duration", o.duration_s, "measured seconds");
  app.add_option("--warmup", o.warmup_s, "seconds before measuring");
  app.add_option("--txs", o.txs, "pre-signed transactions / prepared puts (0: enough for the run)");
  app.add_option("--holders", o.holders, "registered citizens with records (grants and proof requests use them)");
  app.add_option("--mix", o.mix, "percentages, e.g. anchor=60,grant=20,request=20");
  app.add_option("--preload", o.preload, "query mode: certificates to anchor before the lookups");
  app.add_option("--query-node", o.query_node, "query mode: the node (1-based) that serves the lookups");
  app.add_option("--query-docs", o.query_docs,
                 "query mode: distinct documents (random over the corpus) the lookups cycle through; "
                 "more than a run sends makes every lookup a first one")
      ->check(CLI::Range(uint64_t{1}, uint64_t{20'000'000}));
  app.add_option("--value-bytes", o.value_bytes, "etcd: value size of each put");
  app.add_option("--sign-threads", o.sign_threads, "threads that pre-sign transactions");
  app.add_flag("--restart", o.restart, "local: afterwards, restart a follower and time until it is ready");
  app.add_flag("--keep", o.keep, "local: keep the network directory");
  app.add_option("--to", o.to, "send writes to all nodes (round robin), the leader or a follower")
      ->check(CLI::IsMember({"all", "leader", "follower"}));
  app.add_flag("--tail-tx", o.tail_tx, "query mode: anchor one tx alone after the preload");
  app.add_flag("--bulk", o.bulk,
               "query mode, local: write the corpus straight into the stopped nodes' data directories "
               "(the node's own apply path; see bench/node/bulk_load.h), then start them");
  app.add_option("--bulk-batch", o.bulk_batch, "txs per bulk-loaded block");
  app.add_flag("--bulk-verify", o.bulk_verify, "bulk apply checks every signature (slower; same data)");
  app.add_option("--local-dir", o.local_dir,
                 "local network directory: created (and bulk-loaded) if missing, reused if it holds one; kept");
  app.add_option("--node-bin-dir", o.node_bin_dir, "directory of the certledger-node to start (default: this one's)");
  app.add_option("--restarts", o.restarts, "with --restart: how many restarts to time");
  app.add_flag("--restart-kill", o.restart_kill, "with --restart: stop the node with SIGKILL (a crash), not SIGTERM");
  app.add_flag("--strict", o.strict, "exit 1 if any answer failed (the smoke test)");
  CLI11_PARSE(app, argc, argv);

  auto fail = [](const Status& s) {
    std::fprintf(stderr, "certledger-bench: %s\n", s.ToString().c_str());
    return 1;
  };
  if (o.target == "etcd") {
    auto r = RunEtcd(o);
    return r.ok() ? 0 : fail(r.status());
  }
  std::unique_ptr<LocalNetwork> ln;
  const int64_t run_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch()).count();
  Corpus corpus{"b" + std::to_string(::getpid()) + "x" + std::to_string(run_ms % 1'000'000'000), run_ms, 0};
  bool preloaded = false;
  if (o.bulk && (!o.local || o.mode != "query")) return fail(InvalidArgument("--bulk needs --local --mode query"));
  if (o.local) {
    const std::string bin_dir = !o.node_bin_dir.empty()
                                    ? o.node_bin_dir
                                    : std::filesystem::canonical("/proc/self/exe").parent_path().string();
    const bool reuse = !o.local_dir.empty() && std::filesystem::exists(o.local_dir + "/genesis.json");
    if (reuse || o.bulk) {
      const std::string dir = !o.local_dir.empty()
                                  ? o.local_dir
                                  : (std::filesystem::temp_directory_path() /
                                     ("certledger-bench-" + std::to_string(::getpid()))).string();
      auto made = reuse ? LocalNetwork::Open(bin_dir, dir) : LocalNetwork::Create(bin_dir, dir, o.suite, o.nodes, o.tick_ms);
      if (!made.ok()) return fail(made.status());
      ln = std::move(*made);
      ln->keep(o.keep || !o.local_dir.empty());
      auto bnet = BenchNetwork::Load(dir);
      if (!bnet.ok()) return fail(bnet.status());
      o.nodes = static_cast<int>(ln->data_dirs().size());
      if (reuse) {
        auto c = ReadCorpus(dir);
        if (!c.ok()) return fail(c.status());
        // Lookups need the corpus' tag; writes need one of their own (and
        // the time of this run), or they repeat an earlier run's txs.
        const uint64_t count = c->count;
        if (o.mode == "query") corpus = *c;
        corpus.count = count;
        if (o.mode == "query" && corpus.count < o.preload)
          return fail(FailedPrecondition(dir + " holds " + std::to_string(corpus.count) + " certificates, fewer than --preload"));
        if (o.mode == "query") o.preload = corpus.count;
        std::printf("reusing %s: %llu bulk-loaded certificates\n", dir.c_str(),
                    static_cast<unsigned long long>(corpus.count));
      } else {
        TxFactory bf(*bnet, corpus.tag, corpus.now_ms, 0);
        auto loaded = BulkLoad(BulkLoadOptions{.network_dir = dir, .data_dirs = ln->data_dirs(), .count = o.preload,
                                               .batch_txs = o.bulk_batch, .sign_threads = o.sign_threads,
                                               .verify = o.bulk_verify},
                               bf);
        if (!loaded.ok()) return fail(loaded.status());
        corpus.count = o.preload;
        if (Status w = WriteCorpus(dir, corpus); !w.ok()) return fail(w);
        std::printf("bulk load: %llu certificates in %llu blocks in %.1f s (%.0f/s), signed and applied\n",
                    static_cast<unsigned long long>(loaded->txs), static_cast<unsigned long long>(loaded->blocks),
                    loaded->seconds, static_cast<double>(loaded->txs) / std::max(loaded->seconds, 1e-9));
        std::printf("RESULT target=certledger mode=bulk_load certificates=%llu blocks=%llu seconds=%.1f\n",
                    static_cast<unsigned long long>(loaded->txs), static_cast<unsigned long long>(loaded->blocks),
                    loaded->seconds);
      }
      preloaded = o.mode == "query";
      const auto t0 = std::chrono::steady_clock::now();
      if (Status st = ln->StartAll(600'000); !st.ok()) return fail(st);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("started %d nodes on the loaded data: all ready after %.3f s\n", o.nodes, s);
      std::printf("RESULT target=certledger mode=start ready_s=%.3f\n", s);
    } else {
      auto started = LocalNetwork::Start(bin_dir, o.suite, o.nodes, o.tick_ms);
      if (!started.ok()) return fail(started.status());
      ln = std::move(*started);
      if (o.keep) ln->keep();
    }
    o.net_dir = ln->dir();
    std::printf("local network: %d nodes, suite %s, in %s\n", o.nodes, o.suite.c_str(), o.net_dir.c_str());
  }
  if (o.net_dir.empty()) return fail(InvalidArgument("give --local, --net DIR or --target etcd"));
  auto net = BenchNetwork::Load(o.net_dir);
  if (!net.ok()) return fail(net.status());
  o.suite = std::string(net->suite->name());
  auto urls = PickUrls(o.urls.empty() ? net->urls : o.urls, o.to);
  if (!urls.ok()) return fail(urls.status());
  auto eps = Endpoints(*urls);
  if (!eps.ok()) return fail(eps.status());
  TxFactory f(*net, corpus.tag, corpus.now_ms, o.mode == "submit" ? o.holders : 0);
  auto r = o.mode == "submit" ? RunSubmit(o, f, *eps) : RunQuery(o, f, *eps, preloaded, ln ? ln->pid(o.query_node) : 0);
  if (!r.ok()) return fail(r.status());
  for (int i = 0; o.restart && ln && i < o.restarts; ++i) {
    Status s = RestartCheck(*ln, o.nodes, o.restart_kill);
    if (!s.ok()) return fail(s);
  }
  if (o.strict && r->failed != 0) return 1;
  return r->ok > 0 ? 0 : 1;
}

}  // namespace
}  // namespace cl::bench

int main(int argc, char** argv) { return cl::bench::Main(argc, argv); }
