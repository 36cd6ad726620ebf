// certledger-node: a department's node daemon.
//
//   certledger-node --config /etc/certledger/node.toml
//   certledger-node --dev [--data-dir DIR] [--http-addr 127.0.0.1:8080]
//
// Exit codes: 0 after a clean shutdown (SIGTERM/SIGINT), 1 on a configuration
// or start-up error (the message says which setting), 2 on bad flags, 3 if
// the node stopped on a storage failure.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "crypto/keyfile.h"
#include "node/api.h"
#include "node/config.h"
#include "node/genesis.h"
#include "node/http/server.h"
#include "node/log.h"
#include "node/metrics.h"
#include "node/netinit.h"
#include "node/node.h"
#include "proto/records.pb.h"

namespace {

using namespace cl;
using namespace cl::node;

constexpr const char* kVersion = "0.1.0";

Result<crypto::Passphrase> KeyPassphrase(const KeyConfig& k) {
  if (!k.passphrase_env.empty())
    return crypto::ReadPassphrase({crypto::PassphraseSource::FromEnv{k.passphrase_env}});
  if (!k.passphrase_file.empty())
    return crypto::ReadPassphrase({crypto::PassphraseSource::FromFile{k.passphrase_file}});
  return crypto::ReadPassphrase({crypto::PassphraseSource::FromPrompt{"Node key passphrase: ", false}});
}

// Creates (once) a one-node development network in `dir`.
// A one-node network in `dir` (kept if it is there: its suite stays).
Result<std::string> PrepareDev(const std::string& dir, const std::string& suite) {
  const std::string config = dir + "/node-1.toml";
  if (std::filesystem::exists(config)) return config;
  NetworkSpec spec;
  spec.chain_id = "certledger-dev";
  spec.suite = suite;
  spec.departments = DefaultDepartments(7);
  spec.nodes = 1;
  spec.base_peer_port = 0;
  spec.base_http_port = 0;
  // Development keys sit next to their passphrase: a cheap KDF keeps --dev quick.
  spec.key_cost = crypto::KeyFileCost{.opslimit = 1, .memlimit_bytes = 8u << 20};
  CL_ASSIGN_OR_RETURN(NetworkLayout layout, InitNetwork(dir, spec));
  return layout.nodes.at(0).config_file;
}

int Run(int argc, char** argv) {
  CLI::App app{"certledger-node: a department's node of a certledger network"};
  std::string config_file;
  bool dev = false;
  ConfigOverrides flags;
  std::string data_dir, http_addr, peer_addr, genesis, key_file, log_level, suite;
  uint64_t node_id = 0;
  app.add_option("-c,--config", config_file, "TOML config file (docs/operations.md)");
  app.add_flag("--dev", dev, "run a one-node development network (generated keys and genesis)");
  app.add_option("--suite", suite, "with --dev: the network's crypto suite, ed25519-sha256 (default) or sm2-sm3");
  app.add_option("--data-dir", data_dir, "data directory (overrides the config)");
  app.add_option("--http-addr", http_addr, "HTTP listen HOST:PORT; port 0 picks a free port");
  app.add_option("--peer-addr", peer_addr, "peer listen HOST:PORT");
  app.add_option("--node-id", node_id, "this node's id in genesis");
  app.add_option("--genesis", genesis, "genesis file");
  app.add_option("--key-file", key_file, "the node's key file");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, off");
  app.set_version_flag("--version", std::string("certledger-node ") + kVersion);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (!data_dir.empty()) flags.data_dir = data_dir;
  if (!http_addr.empty()) flags.http_listen = http_addr;
  if (!peer_addr.empty()) flags.peer_listen = peer_addr;
  if (node_id != 0) flags.node_id = node_id;
  if (!genesis.empty()) flags.genesis_file = genesis;
  if (!key_file.empty()) flags.key_file = key_file;
  if (!log_level.empty()) flags.log_level = log_level;

  auto fail = [](const Status& s) {
    std::fprintf(stderr, "certledger-node: %s\n", s.ToString().c_str());
    return 1;
  };

  if (!suite.empty()) {  // usage errors: exit 2, like the parser's
    Status bad = dev ? crypto::MakeSuite(suite).status()
                     : InvalidArgument("--suite is for --dev; a network's suite is in its genesis");
    if (!bad.ok()) {
      std::fprintf(stderr, "certledger-node: %s\n", bad.ToString().c_str());
      return 2;
    }
  }
  std::string dev_dir;
  if (dev) {
    dev_dir = data_dir;
    if (dev_dir.empty()) {
      char tmpl[] = "/tmp/certledger-dev-XXXXXX";
      if (::mkdtemp(tmpl) == nullptr) return fail(IoError("cannot create a temporary directory"));
      dev_dir = tmpl;
    }
    auto cfg = PrepareDev(dev_dir, suite.empty() ? std::string(crypto::kDefaultSuite) : suite);
    if (!cfg.ok()) return fail(cfg.status());
    config_file = *cfg;
    flags.data_dir = dev_dir + "/data/node-1";
    if (!flags.http_listen) flags.http_listen = "127.0.0.1:8080";
  } else if (config_file.empty()) {
    return fail(InvalidArgument("--config FILE is required (or --dev for a development network)"));
  }

  auto config = LoadConfig(config_file, flags);
  if (!config.ok()) return fail(config.status());
  auto level = ParseLogLevel(config->log_level);
  const Logger base_log = Logger::Stderr(level.ok() ? *level : LogLevel::kInfo);
  const Logger log = base_log.With({{"node", config->node_id}});

  auto g = LoadGenesis(config->genesis_file);
  if (!g.ok()) return fail(g.status());
  auto pass = KeyPassphrase(config->key);
  if (!pass.ok()) return fail(pass.status().WithContext("key passphrase"));
  auto key = crypto::ReadKeyFile(config->key.file, *g->suite, pass->view());
  if (!key.ok()) return fail(key.status().WithContext("node key " + config->key.file));

  // Signals are taken by sigwait below; every thread created from here on
  // inherits the blocked mask.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  NodeSetup setup;
  setup.id = config->node_id;
  setup.genesis = g->genesis;
  setup.genesis_bytes = g->bytes;
  setup.node_key = std::move(key->secret_key);
  setup.data_dir = config->data_dir;
  setup.peer_listen = config->peer_listen;
  for (const auto& [id, addr] : config->peers) setup.peer_addresses.emplace_back(id, addr);
  setup.raft = RaftDriverOptions{.tick_ms = config->raft.tick_ms,
                                 .election_ticks = static_cast<int>(config->raft.election_ticks),
                                 .heartbeat_ticks = static_cast<int>(config->raft.heartbeat_ticks),
                                 .max_batch_txs = config->batch.max_txs,
                                 .max_batch_bytes = config->batch.max_bytes,
                                 .max_inflight_batches = config->batch.max_inflight,
                                 .snapshot_interval_entries = config->raft.snapshot_interval_entries,
                                 .compaction_keep_entries = config->raft.compaction_keep_entries};
  setup.mempool = MempoolOptions{.max_txs = config->mempool.max_txs,
                                 .max_bytes = config->mempool.max_bytes,
                                 .reproposal_ms = config->mempool.reproposal_ms};
  setup.ledger = LedgerOptions{.verify_threads = config->ledger.verify_threads,
                               // Applies need no fsync of their own: the raft log
                               // holds every committed entry durably, a lost apply
                               // is re-applied from it after a power loss, and the
                               // next synced raft write syncs the WAL they share.
                               .sync_applies = false,
                               .block_cache_bytes = config->ledger.block_cache_bytes,
                               .state_cache_bytes = config->ledger.state_cache_bytes};
  setup.log = base_log;  // the node adds node=
  MetricsRegistry metrics;  // outlives the node
  setup.raft.metrics = &metrics;
  auto node = Node::Create(std::move(setup));
  if (!node.ok()) return fail(node.status());

  Api api(**node, metrics, ApiOptions{.version = kVersion});
  http::Router router;
  api.Register(router);
  auto server = http::HttpServer::Create(
      http::HttpServerOptions{.listen_address = config->http_listen,
                              .io_threads = config->http_io_threads,
                              .limits = config->http,
                              .log = log,
                              .metrics = &metrics},
      std::move(router));
  if (!server.ok()) return fail(server.status().WithContext("http listen " + config->http_listen));

  (*node)->Start();
  (*server)->Start();
  const std::string url = "http://127.0.0.1:" + std::to_string((*server)->port());
  log.Info("http_listening", {{"port", (*server)->port()}, {"url", url}});
  if (dev) {
    std::printf(
        "certledger development network (one node, chain %s)\n"
        "  HTTP API:     %s   (try: curl %s/v1/status)\n"
        "  directory:    %s   (genesis.json, keys/, passphrase, network-secret)\n"
        "  CLI:          certledger --node %s --network %s status\n"
        "Stop with Ctrl-C.\n",
        g->genesis->chain_id().c_str(), url.c_str(), url.c_str(), dev_dir.c_str(), url.c_str(),
        dev_dir.c_str());
    std::fflush(stdout);
  }

  int sig = 0;
  sigwait(&sigs, &sig);
  log.Info("shutting_down", {{"signal", sig}});
  api.Shutdown();
  (*server)->Stop();
  (*node)->Stop();
  const Status failure = (*node)->driver().status().failure;
  if (!failure.ok()) {
    log.Error("stopped_on_failure", {{"reason", failure}});
    return 3;
  }
  log.Info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Run(argc, argv); }
