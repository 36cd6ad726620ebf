#include "node/config.h"

#include <charconv>
#include <fstream>
#include <limits>
#include <sstream>

#include <toml++/toml.h>

#include "node/address.h"
#include "node/log.h"

namespace cl::node {
namespace {

// Reads typed values out of TOML tables; every error names source and setting.
class Reader {
 public:
  explicit Reader(std::string_view source) : source_(source) {}

  Status Error(std::string_view setting, std::string_view msg) const {
    return InvalidArgument(std::string(source_) + ": " + std::string(setting) + ": " + std::string(msg));
  }
  static std::string Name(std::string_view section, std::string_view key) {
    return section.empty() ? std::string(key) : std::string(section) + "." + std::string(key);
  }

  // Unknown keys are errors: they are almost always typos.
  Status OnlyKeys(const toml::table& t, std::string_view section,
                  std::initializer_list<std::string_view> known) const {
    for (auto&& [k, v] : t) {
      bool ok = false;
      for (auto n : known) ok = ok || k.str() == n;
      if (!ok) return Error(Name(section, k.str()), "unknown setting");
    }
    return Status::Ok();
  }

  template <typename T>
  Status Uint(const toml::table& t, std::string_view section, std::string_view key, T* out) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) return Status::Ok();
    const auto* v = n->as_integer();
    if (v == nullptr) return Error(Name(section, key), "expected an integer");
    int64_t x = v->get();
    if (x < 0 || static_cast<uint64_t>(x) > std::numeric_limits<T>::max())
      return Error(Name(section, key), "out of range (got " + std::to_string(x) + ")");
    *out = static_cast<T>(x);
    return Status::Ok();
  }

  Status String(const toml::table& t, std::string_view section, std::string_view key, std::string* out) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) return Status::Ok();
    const auto* v = n->as_string();
    if (v == nullptr) return Error(Name(section, key), "expected a string");
    *out = v->get();
    return Status::Ok();
  }

  // The sub-table `key`, or nullptr if absent.
  Result<const toml::table*> Table(const toml::table& root, std::string_view key) const {
    const toml::node* n = root.get(key);
    if (n == nullptr) return static_cast<const toml::table*>(nullptr);
    if (!n->is_table()) return Error(key, "expected a table ([" + std::string(key) + "])");
    return n->as_table();
  }

 private:
  std::string_view source_;
};

Status ReadConfig(const toml::table& root, const Reader& r, NodeConfig* c) {
  CL_RETURN_IF_ERROR(r.OnlyKeys(root, "", {"node_id", "department", "data_dir", "genesis_file", "log_level",
                                           "key", "listen", "peers", "mempool", "batch", "raft", "ledger",
                                           "http", "transport"}));
  uint64_t id = 0;
  CL_RETURN_IF_ERROR(r.Uint(root, "", "node_id", &id));
  c->node_id = NodeId(id);
  CL_RETURN_IF_ERROR(r.String(root, "", "department", &c->department));
  CL_RETURN_IF_ERROR(r.String(root, "", "data_dir", &c->data_dir));
  CL_RETURN_IF_ERROR(r.String(root, "", "genesis_file", &c->genesis_file));
  CL_RETURN_IF_ERROR(r.String(root, "", "log_level", &c->log_level));

  CL_ASSIGN_OR_RETURN(const toml::table* key, r.Table(root, "key"));
  if (key) {
    CL_RETURN_IF_ERROR(r.OnlyKeys(*key, "key", {"file", "passphrase_env", "passphrase_file"}));
    CL_RETURN_IF_ERROR(r.String(*key, "key", "file", &c->key.file));
    CL_RETURN_IF_ERROR(r.String(*key, "key", "passphrase_env", &c->key.passphrase_env));
    CL_RETURN_IF_ERROR(r.String(*key, "key", "passphrase_file", &c->key.passphrase_file));
  }
  CL_ASSIGN_OR_RETURN(const toml::table* listen, r.Table(root, "listen"));
  if (listen) {
    CL_RETURN_IF_ERROR(r.OnlyKeys(*listen, "listen", {"peer", "http"}));
    CL_RETURN_IF_ERROR(r.String(*listen, "listen", "peer", &c->peer_listen));
    CL_RETURN_IF_ERROR(r.String(*listen, "listen", "http", &c->http_listen));
  }
  CL_ASSIGN_OR_RETURN(const toml::table* peers, r.Table(root, "peers"));
  if (peers) {
    for (auto&& [k, v] : *peers) {
      std::string name = "peers." + std::string(k.str());
      uint64_t pid = 0;
      auto [end, ec] = std::from_chars(k.str().data(), k.str().data() + k.str().size(), pid);
      if (ec != std::errc() || end != k.str().data() + k.str().size() || pid == 0)
        return r.Error(name, "peer keys must be node ids (positive integers)");
      const auto* addr = v.as_string();
      if (addr == nullptr) return r.Error(name, "expected a string \"host:port\"");
      c->peers[NodeId(pid)] = addr->get();
    }
  }
  CL_ASSIGN_OR_RETURN(const toml::table* mp, r.Table(root, "mempool"));
  if (mp) {
    CL_RETURN_IF_ERROR(r.OnlyKeys(*mp, "mempool", {"max_txs", "max_bytes", "reproposal_ms"}));
    CL_RETURN_IF_ERROR(r.Uint(*mp, "mempool", "max_txs", &c->mempool.max_txs));
    CL_RETURN_IF_ERROR(r.Uint(*mp, "mempool", "max_bytes", &c->mempool.max_bytes));
    CL_RETURN_IF_ERROR(r.Uint(*mp, "mempool", "reproposal_ms", &c->mempool.reproposal_ms));
  }
  CL_ASSIGN_OR_RETURN(const toml::table* b, r.Table(root, "batch"));
  if (b) {
    CL_RETURN_IF_ERROR(r.OnlyKeys(*b, "batch", {"max_txs", "max_bytes", "timeout_ms", "max_inflight"}));
    CL_RETURN_IF_ERROR(r.Uint(*b, "batch", "max_txs", &c->batch.max_txs));
    CL_RETURN_IF_ERROR(r.Uint(*b, "batch", "max_bytes", &c->batch.max_bytes));
    CL_RETURN_IF_ERROR(r.Uint(*b, "batch", "timeout_ms", &c->batch.timeout_ms));
    CL_RETURN_IF_ERROR(r.Uint(*b, "batch", "max_inflight", &c->batch.max_inflight));
  }
  CL_ASSIGN_OR_RETURN(const toml::table* raft, r.Table(root, "raft"));
  if (raft) {
    CL_RETURN_IF_ERROR(r.OnlyKeys(*raft, "raft", {"tick_ms", "election_ticks", "heartbeat_ticks",
                                                  "snapshot_interval_entries", "compaction_keep_entries"}));
    CL_RETURN_IF_ERROR(r.Uint(*raft, "raft", "tick_ms", &c->raft.tick_ms));
    CL_RETURN_IF_ERROR(r.Uint(*raft, "raft", "election_ticks", &c->raft.election_ticks));
    CL_RETURN_IF_ERROR(r.Uint(*raft, "raft", "heartbeat_ticks", &c->raft.heartbeat_ticks));
    CL_RETURN_IF_ERROR(r.Uint(*raft, "raft", "snapshot_interval_entries", &c->raft.snapshot_interval_entries));
    CL_RETURN_IF_ERROR(r.Uint(*raft, "raft", "compaction_keep_entries", &c->raft.compaction_keep_entries));
  }
  CL_ASSIGN_OR_RETURN(const toml::table* ledger, r.Table(root, "ledger"));
  if (ledger) {
    CL_RETURN_IF_ERROR(r.OnlyKeys(*ledger, "ledger", {"verify_threads", "block_cache_bytes", "state_cache_bytes"}));
    CL_RETURN_IF_ERROR(r.Uint(*ledger, "ledger", "verify_threads", &c->ledger.verify_threads));
    CL_RETURN_IF_ERROR(r.Uint(*ledger, "ledger", "block_cache_bytes", &c->ledger.block_cache_bytes));
    CL_RETURN_IF_ERROR(r.Uint(*ledger, "ledger", "state_cache_bytes", &c->ledger.state_cache_bytes));
  }
  CL_ASSIGN_OR_RETURN(const toml::table* h, r.Table(root, "http"));
  if (h) {
    auto& l = c->http;
    CL_RETURN_IF_ERROR(r.OnlyKeys(*h, "http", {"io_threads", "max_header_bytes", "max_body_bytes", "max_url_bytes",
                                               "max_connections", "idle_timeout_ms", "read_header_timeout_ms",
                                               "request_timeout_ms", "handler_timeout_ms",
                                               "max_stream_buffer_bytes", "shutdown_grace_ms"}));
    CL_RETURN_IF_ERROR(r.Uint(*h, "http", "io_threads", &c->http_io_threads));
    CL_RETURN_IF_ERROR(r.Uint(*h, "http", "max_header_bytes", &l.max_header_bytes));
    CL_RETURN_IF_ERROR(r.Uint(*h, "http", "max_body_bytes", &l.max_body_bytes));
    CL_RETURN_IF_ERROR(r.Uint(*h, "http", "max_url_bytes", &l.max_url_bytes));
    CL_RETURN_IF_ERROR(r.Uint(*h, "http", "max_connections", &l.max_connections));
    CL_RETURN_IF_ERROR(r.Uint(*h, "http", "idle_timeout_ms", &l.idle_timeout_ms));
    CL_RETURN_IF_ERROR(r.Uint(*h, "http", "read_header_timeout_ms", &l.read_header_timeout_ms));
    CL_RETURN_IF_ERROR(r.Uint(*h, "http", "request_timeout_ms", &l.request_timeout_ms));
    CL_RETURN_IF_ERROR(r.Uint(*h, "http", "handler_timeout_ms", &l.handler_timeout_ms));
    CL_RETURN_IF_ERROR(r.Uint(*h, "http", "max_stream_buffer_bytes", &l.max_stream_buffer_bytes));
    CL_RETURN_IF_ERROR(r.Uint(*h, "http", "shutdown_grace_ms", &l.shutdown_grace_ms));
  }
  CL_ASSIGN_OR_RETURN(const toml::table* t, r.Table(root, "transport"));
  if (t) {
    auto& l = c->transport;
    CL_RETURN_IF_ERROR(r.OnlyKeys(*t, "transport", {"max_frame_bytes", "max_queue_messages", "max_queue_bytes",
                                                    "handshake_timeout_ms", "keepalive_interval_ms",
                                                    "idle_timeout_ms", "reconnect_initial_ms", "reconnect_max_ms",
                                                    "max_pending_handshakes"}));
    CL_RETURN_IF_ERROR(r.Uint(*t, "transport", "max_frame_bytes", &l.max_frame_bytes));
    CL_RETURN_IF_ERROR(r.Uint(*t, "transport", "max_queue_messages", &l.max_queue_messages));
    CL_RETURN_IF_ERROR(r.Uint(*t, "transport", "max_queue_bytes", &l.max_queue_bytes));
    CL_RETURN_IF_ERROR(r.Uint(*t, "transport", "handshake_timeout_ms", &l.handshake_timeout_ms));
    CL_RETURN_IF_ERROR(r.Uint(*t, "transport", "keepalive_interval_ms", &l.keepalive_interval_ms));
    CL_RETURN_IF_ERROR(r.Uint(*t, "transport", "idle_timeout_ms", &l.idle_timeout_ms));
    CL_RETURN_IF_ERROR(r.Uint(*t, "transport", "reconnect_initial_ms", &l.reconnect_initial_ms));
    CL_RETURN_IF_ERROR(r.Uint(*t, "transport", "reconnect_max_ms", &l.reconnect_max_ms));
    CL_RETURN_IF_ERROR(r.Uint(*t, "transport", "max_pending_handshakes", &l.max_pending_handshakes));
  }
  return Status::Ok();
}

Status CheckRange(const Reader& r, std::string_view name, uint64_t v, uint64_t lo, uint64_t hi) {
  if (v < lo || v > hi)
    return r.Error(name, "must be in " + std::to_string(lo) + ".." + std::to_string(hi) + " (got " +
                             std::to_string(v) + ")");
  return Status::Ok();
}

Status CheckAddress(const Reader& r, std::string_view name, const std::string& addr, bool allow_port_zero) {
  auto hp = ParseHostPort(addr);
  if (!hp.ok()) return r.Error(name, hp.status().message());
  if (!allow_port_zero && hp->port == 0) return r.Error(name, "port 0 is not dialable");
  return Status::Ok();
}

}  // namespace

Status ValidateConfig(const NodeConfig& c, std::string_view source) {
  Reader r(source);
  if (c.node_id == NodeId(0)) return r.Error("node_id", "required (the node's id in genesis; or --node-id)");
  if (c.data_dir.empty()) return r.Error("data_dir", "required (or --data-dir)");
  if (c.genesis_file.empty()) return r.Error("genesis_file", "required (or --genesis)");
  if (c.key.file.empty()) return r.Error("key.file", "required (or --key-file)");
  if (!c.key.passphrase_env.empty() && !c.key.passphrase_file.empty())
    return r.Error("key", "set passphrase_env or passphrase_file, not both");
  if (auto lvl = ParseLogLevel(c.log_level); !lvl.ok()) return r.Error("log_level", lvl.status().message());
  CL_RETURN_IF_ERROR(CheckAddress(r, "listen.peer", c.peer_listen, true));
  CL_RETURN_IF_ERROR(CheckAddress(r, "listen.http", c.http_listen, true));
  for (const auto& [id, addr] : c.peers)
    CL_RETURN_IF_ERROR(CheckAddress(r, "peers." + std::to_string(id.value()), addr, false));

  CL_RETURN_IF_ERROR(CheckRange(r, "mempool.max_txs", c.mempool.max_txs, 1, 10'000'000));
  CL_RETURN_IF_ERROR(CheckRange(r, "mempool.max_bytes", c.mempool.max_bytes, 1 << 10, 64ull << 30));
  CL_RETURN_IF_ERROR(CheckRange(r, "mempool.reproposal_ms", c.mempool.reproposal_ms, 100, 3'600'000));
  CL_RETURN_IF_ERROR(CheckRange(r, "batch.max_txs", c.batch.max_txs, 1, 100'000));
  CL_RETURN_IF_ERROR(CheckRange(r, "batch.max_bytes", c.batch.max_bytes, 1 << 10, 1ull << 30));
  CL_RETURN_IF_ERROR(CheckRange(r, "batch.timeout_ms", c.batch.timeout_ms, 0, 10'000));
  CL_RETURN_IF_ERROR(CheckRange(r, "batch.max_inflight", c.batch.max_inflight, 1, 64));
  if (c.batch.max_txs > c.mempool.max_txs) return r.Error("batch.max_txs", "must not exceed mempool.max_txs");
  // A batch travels in one raft append, i.e. one transport frame.
  if (c.batch.max_bytes + (64 << 10) > c.transport.max_frame_bytes)
    return r.Error("batch.max_bytes", "must be at least 64 KiB below transport.max_frame_bytes");
  CL_RETURN_IF_ERROR(CheckRange(r, "raft.tick_ms", c.raft.tick_ms, 1, 10'000));
  CL_RETURN_IF_ERROR(CheckRange(r, "raft.election_ticks", c.raft.election_ticks, 2, 1000));
  CL_RETURN_IF_ERROR(CheckRange(r, "raft.heartbeat_ticks", c.raft.heartbeat_ticks, 1, 1000));
  if (c.raft.heartbeat_ticks >= c.raft.election_ticks)
    return r.Error("raft.heartbeat_ticks", "must be less than raft.election_ticks");
  CL_RETURN_IF_ERROR(CheckRange(r, "raft.snapshot_interval_entries", c.raft.snapshot_interval_entries, 1, 1ull << 40));
  CL_RETURN_IF_ERROR(CheckRange(r, "raft.compaction_keep_entries", c.raft.compaction_keep_entries, 0, 1ull << 40));
  CL_RETURN_IF_ERROR(CheckRange(r, "ledger.verify_threads", c.ledger.verify_threads, 0, 256));
  CL_RETURN_IF_ERROR(CheckRange(r, "ledger.block_cache_bytes", c.ledger.block_cache_bytes, 0, 1ull << 40));
  CL_RETURN_IF_ERROR(CheckRange(r, "ledger.state_cache_bytes", c.ledger.state_cache_bytes, 0, 1ull << 40));
  CL_RETURN_IF_ERROR(CheckRange(r, "http.io_threads", c.http_io_threads, 1, 64));
  if (Status s = http::ValidateHttpLimits(c.http); !s.ok()) return InvalidArgument(std::string(source) + ": " + s.message());
  if (Status s = ValidateTransportLimits(c.transport); !s.ok())
    return InvalidArgument(std::string(source) + ": " + s.message());
  return Status::Ok();
}

Status ApplyOverrides(const ConfigOverrides& f, NodeConfig* c) {
  Reader r("command line");
  if (f.node_id) {
    if (*f.node_id == 0) return r.Error("--node-id", "must be positive");
    c->node_id = NodeId(*f.node_id);
  }
  if (f.data_dir) c->data_dir = *f.data_dir;
  if (f.genesis_file) c->genesis_file = *f.genesis_file;
  if (f.key_file) c->key.file = *f.key_file;
  if (f.peer_listen) {
    CL_RETURN_IF_ERROR(CheckAddress(r, "--peer-addr", *f.peer_listen, true));
    c->peer_listen = *f.peer_listen;
  }
  if (f.http_listen) {
    CL_RETURN_IF_ERROR(CheckAddress(r, "--http-addr", *f.http_listen, true));
    c->http_listen = *f.http_listen;
  }
  if (f.log_level) {
    if (auto lvl = ParseLogLevel(*f.log_level); !lvl.ok()) return r.Error("--log-level", lvl.status().message());
    c->log_level = *f.log_level;
  }
  return Status::Ok();
}

Result<NodeConfig> ParseConfig(std::string_view text, std::string_view source, const ConfigOverrides& flags) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return InvalidArgument(std::string(source) + ":" + std::to_string(e.source().begin.line) + ":" +
                           std::to_string(e.source().begin.column) + ": " + std::string(e.description()));
  }
  NodeConfig c;
  CL_RETURN_IF_ERROR(ReadConfig(root, Reader(source), &c));
  CL_RETURN_IF_ERROR(ApplyOverrides(flags, &c));
  CL_RETURN_IF_ERROR(ValidateConfig(c, source));
  return c;
}

Result<NodeConfig> LoadConfig(const std::string& path, const ConfigOverrides& flags) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("cannot read config file " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return IoError("cannot read config file " + path);
  return ParseConfig(ss.str(), path, flags);
}

}  // namespace cl::node
