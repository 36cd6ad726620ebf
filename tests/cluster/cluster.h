// A real local network of `certledger-node` processes for fault tests.
//
// Create() runs `certledger network init` (fast keys, free ports, 127.0.0.1),
// puts a FaultProxy on every peer link (for i < j node i dials j, so node i's
// config lists j's peer address as the proxy of link (i, j)), shortens the
// transport timeouts so that broken links are noticed within ~2 s, and starts
// the member nodes. Nodes past `members` are in the genesis (so every node
// knows their keys and addresses) but in no raft configuration: they join
// through /v1/admin/membership.
//
// Processes: every node is a child of the test process with
// PR_SET_PDEATHSIG=SIGKILL, so a test killed by its CTest timeout leaves no
// daemon behind; the destructor SIGKILLs every node (paused ones too) and
// removes the directory unless CL_KEEP_CLUSTER_DIR is set. Node logs are in
// <dir>/node-<i>.log; LogTail() shows their ends in failure messages.
//
// Every wait is bounded by the timeout its caller passes. Thread-safety:
// process control and link faults belong to the test's main thread; Url(),
// Status() and Context() may be used from load threads.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "cli/context.h"
#include "proto/api.pb.h"
#include "tests/cluster/fault_proxy.h"

namespace cl::cluster_testing {

using Clock = std::chrono::steady_clock;
using Ms = std::chrono::milliseconds;

// Microseconds on the steady clock since the first call (the history's time base).
int64_t NowUs();

struct ClusterOptions {
  int nodes = 3;     // in the genesis: 1..7
  int members = 0;   // nodes 1..members are voters and start at once; 0: all
  uint32_t tick_ms = 50;
  // [raft] snapshot_interval_entries / compaction_keep_entries of every node
  // (0: the node's defaults), to make a lagging node need a snapshot.
  uint64_t snapshot_interval_entries = 0;
  uint64_t compaction_keep_entries = 0;
};

class Cluster {
 public:
  static Result<std::unique_ptr<Cluster>> Create(const ClusterOptions& options);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  int size() const { return n_; }
  std::string Url(int i) const;
  const std::string& dir() const { return dir_; }
  // The client context of the network (genesis pinned, keys, secret): for
  // signing transactions and requests. Its lazy state is loaded by Create, so
  // its const methods may be used from several threads.
  const cli::Context& context() const { return *ctx_; }

  // ---- processes
  void Start(int i);
  void Kill(int i);    // SIGKILL, reaped
  void Pause(int i);   // SIGSTOP
  void Resume(int i);  // SIGCONT
  void Restart(int i) {
    Kill(i);
    Start(i);
  }
  // Removes the node's data directory; the node must not be running.
  void Wipe(int i);
  bool running(int i) const { return pids_[static_cast<size_t>(i)] != 0; }
  bool paused(int i) const { return paused_[static_cast<size_t>(i)]; }

  // ---- links
  FaultProxy& Link(int a, int b);
  // Blocks every link between `side` and the other nodes (both directions).
  void Partition(const std::vector<int>& side);
  // Blocks every link between `side` and the others in one direction only:
  // bytes from `side` to the others are dropped, the others still reach `side`.
  void PartitionOneWay(const std::vector<int>& side);
  // Heals every link (no drops, no delays).
  void HealAll();

  // ---- observation
  Result<certledger::api::NodeStatus> Status(int i, uint32_t timeout_ms = 1000) const;
  // A node that reports itself leader and that a majority of `voters` name as
  // leader in the same term; 0 if none within `timeout`.
  int WaitLeader(const std::vector<int>& voters, Ms timeout) const;
  // Keeps the directory (configs, data, logs) after the destructor, e.g.
  // after a failure.
  void KeepDir() { keep_dir_ = true; }
  // The last `bytes` of node i's log, for failure messages.
  std::string LogTail(int i, size_t bytes = 3000) const;

 private:
  Cluster() = default;

  int n_ = 0;
  std::string dir_;
  bool keep_dir_ = false;
  uint16_t base_ = 0;
  std::unique_ptr<cli::Context> ctx_;
  std::vector<pid_t> pids_;
  std::vector<bool> paused_;
  std::map<std::pair<int, int>, std::unique_ptr<FaultProxy>> links_;
};

}  // namespace cl::cluster_testing
