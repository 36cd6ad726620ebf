// The certledger side of certledger-bench: a network's keys and genesis
// (from `certledger network init` output), a local network of daemons the
// bench can start itself, and pre-signed transactions of a realistic mix —
// certificate anchors (PSB and CAB issuing clerks), data-sharing grants
// (signed by registered holders' own keys) and 无证办理 proof requests for the
// MARRIAGE_HUKOU matter (ASC service system) — exactly as the CLI builds them.
//
// Thread-safety: a loaded BenchNetwork is read-only and may be shared; the
// signing helpers are reentrant.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "crypto/suite.h"

namespace cl::bench {

// A network created by `certledger network init` (or InitNetwork).
struct BenchNetwork {
  std::string dir;
  std::string chain_id;
  std::shared_ptr<const crypto::Suite> suite;
  Bytes network_secret;
  std::vector<std::string> urls;  // the nodes' HTTP URLs from genesis, by node id
  std::map<std::string, crypto::KeyPair> keys;  // "PSB-issuer" → key pair

  // Loads genesis.json, the network secret and the member keys of `dir`.
  static Result<BenchNetwork> Load(const std::string& dir);
  const crypto::KeyPair& Key(const std::string& name) const;
  // holder_ref for a citizen ID number (code type 111), as the CLI computes it.
  Bytes HolderRef(const std::string& id_number) const;
};

// Local daemons for a network directory. Stops (SIGTERM, then SIGKILL after
// 10 s) every node it started when destroyed, and removes the directory
// unless keep() was set.
class LocalNetwork {
 public:
  // Creates a network of `nodes` departments/nodes with `suite` in a fresh
  // temporary directory on free loopback ports and starts the daemons found
  // next to this binary; waits until every node is ready (/readyz).
  static Result<std::unique_ptr<LocalNetwork>> Start(const std::string& bin_dir, const std::string& suite,
                                                     int nodes, uint32_t tick_ms);
  // Like Start, but in `dir` (which must not exist) and without starting the
  // nodes, e.g. to bulk-load their data directories first (bulk_load.h).
  // The directory is kept.
  static Result<std::unique_ptr<LocalNetwork>> Create(const std::string& bin_dir, const std::string& dir,
                                                      const std::string& suite, int nodes, uint32_t tick_ms);
  // A network Create made earlier in `dir` (its nodes not running). Kept.
  static Result<std::unique_ptr<LocalNetwork>> Open(const std::string& bin_dir, const std::string& dir);
  ~LocalNetwork();
  // Starts every node and waits until each is ready.
  Status StartAll(uint32_t timeout_ms);
  LocalNetwork(const LocalNetwork&) = delete;
  LocalNetwork& operator=(const LocalNetwork&) = delete;

  const std::string& dir() const { return dir_; }
  void keep(bool keep = true) { keep_ = keep; }
  // Stops node i (1-based) with `sig` and waits for it to exit.
  void StopNode(int i, int sig);
  // Starts node i again.
  Status StartNode(int i);
  // Waits until node i answers /readyz with 200; DEADLINE_EXCEEDED otherwise.
  Status WaitReady(int i, uint32_t timeout_ms) const;
  std::string url(int i) const { return urls_[static_cast<size_t>(i - 1)]; }
  // The process id of node i (1-based), 0 if it is not running.
  pid_t pid(int i) const { return i >= 1 && static_cast<size_t>(i) <= pids_.size() ? pids_[static_cast<size_t>(i - 1)] : 0; }
  // The nodes' data directories, node 1 first.
  const std::vector<std::string>& data_dirs() const { return data_dirs_; }
  // The node id of the current leader as node 1 reports it (0 if none).
  uint64_t Leader() const;

 private:
  LocalNetwork() = default;
  std::string bin_dir_, dir_;
  std::vector<std::string> urls_;
  std::vector<std::string> data_dirs_;
  std::vector<pid_t> pids_;
  bool keep_ = false;
};

// The realistic mix, by percentage.
struct Mix {
  int anchor = 60;
  int grant = 20;
  int request = 20;
};
// Parses "anchor=60,grant=20,request=20".
Result<Mix> ParseMix(const std::string& text);

// Builds and signs the transactions of a run. `tag` makes ids unique per run.
class TxFactory {
 public:
  // Derives `holders` citizens (ID numbers, holder refs and their own keys,
  // deterministic from `tag`). `tag` makes ids unique per run; `now_ms` sets
  // validity windows (txs stay valid for 12 hours).
  TxFactory(const BenchNetwork& net, std::string tag, int64_t now_ms, uint32_t holders);

  // Setup (before the measured phase), each to be committed before the
  // next: the MARRIAGE_HUKOU service definition (ALREADY_EXISTS if an earlier
  // run defined it); the holders' registrations; then their ID card,
  // household register, marriage certificate and grant, so that their proof
  // requests are approved.
  Bytes SetupService() const;
  std::vector<Bytes> SetupRegistrations() const;
  std::vector<Bytes> SetupRecords(uint32_t threads) const;
  // `count` txs of the mix (seeded interleaving), numbered from `first_seq`,
  // signed on `threads` threads.
  std::vector<Bytes> Mixed(const Mix& mix, uint64_t first_seq, uint32_t count, uint32_t threads) const;
  // Anchors of corpus certificates first..first+count-1 (the query corpus).
  std::vector<Bytes> CorpusAnchors(uint64_t first, uint32_t count, uint32_t threads) const;
  // The document hash (hex) of corpus certificate i.
  std::string CorpusDocHash(uint64_t i) const;

  struct Holder {
    std::string id_number;
    Bytes ref;
    crypto::KeyPair key;
  };
  const BenchNetwork& net() const { return net_; }
  const std::string& tag() const { return tag_; }
  int64_t now_ms() const { return now_ms_; }
  const std::vector<Holder>& holders() const { return holders_; }

 private:
  const BenchNetwork& net_;
  std::string tag_;
  int64_t now_ms_;
  std::vector<Holder> holders_;
};

// Signs builders on `threads` threads: out[i] = build(i) for i in [0, count).
std::vector<Bytes> ParallelBuild(uint32_t count, uint32_t threads, const std::function<Bytes(uint32_t)>& build);

}  // namespace cl::bench
