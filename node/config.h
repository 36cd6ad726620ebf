// The node's configuration file (TOML) and command-line overrides.
//
// Every setting has a default (below, and in docs/operations.md) except the
// four that identify the node: node_id, data_dir, genesis_file and key.file.
// The file is validated once, when loaded: a wrong type, a value out of
// range, an unknown key (a typo) or a missing required setting is an error
// naming the file and the setting, e.g.
//   "/etc/certledger/node.toml: batch.max_txs: must be in 1..100000 (got 0)".
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "base/strong_types.h"
#include "node/http/server.h"
#include "node/transport/transport.h"

namespace cl::node {

struct KeyConfig {
  std::string file;             // required: the node's secret key file
  std::string passphrase_env;   // name of an environment variable holding the passphrase
  std::string passphrase_file;  // or a file holding it (at most one of the two; neither: unencrypted)
  friend bool operator==(const KeyConfig&, const KeyConfig&) = default;
};

struct MempoolConfig {
  uint32_t max_txs = 20000;          // pending + proposed transactions
  uint64_t max_bytes = 64ull << 20;  // their serialized bytes
  uint32_t reproposal_ms = 5000;     // a proposed tx not applied by then may be proposed again
  friend bool operator==(const MempoolConfig&, const MempoolConfig&) = default;
};

struct BatchConfig {
  uint32_t max_txs = 2000;           // per proposed batch
  uint64_t max_bytes = 4ull << 20;   // per proposed batch; must fit transport.max_frame_bytes
  uint32_t timeout_ms = 2;           // longest wait to fill a batch once a tx is pending
  uint32_t max_inflight = 2;         // batches proposed but not yet applied
  friend bool operator==(const BatchConfig&, const BatchConfig&) = default;
};

struct RaftConfig {
  uint32_t tick_ms = 100;                    // one raft tick
  uint32_t election_ticks = 10;              // election timeout, randomized in [e, 2e) ticks
  uint32_t heartbeat_ticks = 1;              // leader heartbeat interval; < election_ticks
  uint64_t snapshot_interval_entries = 10000;  // applied entries between snapshots
  uint64_t compaction_keep_entries = 5000;     // log entries kept behind a snapshot for slow followers
  friend bool operator==(const RaftConfig&, const RaftConfig&) = default;
};

struct LedgerConfig {
  uint32_t verify_threads = 1;                // extra threads for signature checks (0: apply thread only)
  uint64_t block_cache_bytes = 64ull << 20;   // RocksDB block cache
  uint64_t state_cache_bytes = 256ull << 20;  // cache of state point reads (certificate lookups)
  friend bool operator==(const LedgerConfig&, const LedgerConfig&) = default;
};

struct NodeConfig {
  NodeId node_id{};                 // required; this node's id in genesis
  std::string department{};         // optional; checked against genesis when set
  KeyConfig key{};
  std::string data_dir{};           // required
  std::string genesis_file{};       // required
  std::string peer_listen = "0.0.0.0:7100";   // [listen] peer
  std::string http_listen = "127.0.0.1:8080"; // [listen] http
  // [peers] id -> host:port; overrides the peer_address of that node in genesis.
  std::map<NodeId, std::string> peers{};
  MempoolConfig mempool{};
  BatchConfig batch{};
  RaftConfig raft{};
  LedgerConfig ledger{};
  uint32_t http_io_threads = 2;     // [http] io_threads
  http::HttpLimits http{};          // [http] limits
  TransportLimits transport{};      // [transport]
  std::string log_level = "info";   // trace, debug, info, warn, error, off
};

// Command-line flags that override the file (CLI11 parsing lives in main.cc).
struct ConfigOverrides {
  std::optional<uint64_t> node_id;         // --node-id N
  std::optional<std::string> data_dir;     // --data-dir DIR
  std::optional<std::string> genesis_file; // --genesis FILE
  std::optional<std::string> key_file;     // --key-file FILE
  std::optional<std::string> peer_listen;  // --peer-addr HOST:PORT
  std::optional<std::string> http_listen;  // --http-addr HOST:PORT
  std::optional<std::string> log_level;    // --log-level LEVEL
};

// Parses TOML `text` (`source` names it in errors, normally the path),
// applies `flags` on top, then validates the result once.
Result<NodeConfig> ParseConfig(std::string_view text, std::string_view source,
                               const ConfigOverrides& flags = {});
// Reads the file at `path` and parses it as above. IO_ERROR if unreadable.
Result<NodeConfig> LoadConfig(const std::string& path, const ConfigOverrides& flags = {});

// The merge: sets every flag that is present on `config`. A malformed flag
// value is INVALID_ARGUMENT naming the flag ("--http-addr: ..."). Does not
// run ValidateConfig.
Status ApplyOverrides(const ConfigOverrides& flags, NodeConfig* config);

// Every check on an assembled config, cross-field ones too; errors start
// with "<source>: <setting>: ".
Status ValidateConfig(const NodeConfig& config, std::string_view source);

}  // namespace cl::node
