#include "node/config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "node/genesis.h"
#include "proto/records.pb.h"

namespace cl::node {
namespace {

constexpr char kMinimal[] = R"(
node_id = 3
data_dir = "/var/lib/certledger"
genesis_file = "/etc/certledger/genesis.json"
[key]
file = "/etc/certledger/node.key"
)";

TEST(ConfigTest, MinimalConfigGetsEveryDefault) {
  auto c = ParseConfig(kMinimal, "node.toml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->node_id, NodeId(3));
  EXPECT_EQ(c->data_dir, "/var/lib/certledger");
  EXPECT_EQ(c->key.file, "/etc/certledger/node.key");
  NodeConfig defaults;
  EXPECT_EQ(c->peer_listen, defaults.peer_listen);
  EXPECT_EQ(c->http_listen, "127.0.0.1:8080");
  EXPECT_EQ(c->mempool, defaults.mempool);
  EXPECT_EQ(c->batch, defaults.batch);
  EXPECT_EQ(c->raft, defaults.raft);
  EXPECT_EQ(c->ledger, defaults.ledger);
  EXPECT_EQ(c->http.max_body_bytes, http::HttpLimits{}.max_body_bytes);
  EXPECT_EQ(c->transport.max_frame_bytes, TransportLimits{}.max_frame_bytes);
  EXPECT_EQ(c->log_level, "info");
  EXPECT_TRUE(c->peers.empty());
}

TEST(ConfigTest, FullConfigOverridesEverySection) {
  auto c = ParseConfig(R"(
node_id = 2
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
max_bytes = 1048576
reproposal_ms = 2000
[batch]
max_txs = 500
max_bytes = 65536
timeout_ms = 10
max_inflight = 4
[raft]
tick_ms = 50
election_ticks = 20
heartbeat_ticks = 2
snapshot_interval_entries = 100
compaction_keep_entries = 10
[ledger]
verify_threads = 4
block_cache_bytes = 0
state_cache_bytes = 1048576
[http]
io_threads = 4
max_body_bytes = 2097152
idle_timeout_ms = 1000
[transport]
max_frame_bytes = 1048576
keepalive_interval_ms = 500
idle_timeout_ms = 5000
)", "full.toml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->department, "PSB");
  EXPECT_EQ(c->key.passphrase_env, "CL_PASS");
  EXPECT_EQ(c->http_listen, "[::1]:8443");
  EXPECT_EQ(c->peers, (std::map<NodeId, std::string>{{NodeId(1), "10.0.0.1:7100"}, {NodeId(3), "node-3.city.gov:7100"}}));
  EXPECT_EQ(c->mempool, (MempoolConfig{.max_txs = 1000, .max_bytes = 1048576, .reproposal_ms = 2000}));
  EXPECT_EQ(c->batch, (BatchConfig{.max_txs = 500, .max_bytes = 65536, .timeout_ms = 10, .max_inflight = 4}));
  EXPECT_EQ(c->raft.election_ticks, 20u);
  EXPECT_EQ(c->ledger.verify_threads, 4u);
  EXPECT_EQ(c->ledger.state_cache_bytes, 1048576u);
  EXPECT_EQ(c->http_io_threads, 4u);
  EXPECT_EQ(c->http.max_body_bytes, 2097152u);
  EXPECT_EQ(c->http.idle_timeout_ms, 1000u);
  EXPECT_EQ(c->transport.keepalive_interval_ms, 500u);
}

TEST(ConfigTest, BadConfigsNameTheFileAndTheSetting) {
  // Top-level keys only (dotted key.file), so cases can append anything.
  const std::string head = "node_id = 3\ndata_dir = \"/d\"\ngenesis_file = \"/g\"\n";
  const std::string base = head + "key.file = \"/k\"\n";
  struct Case { const char* name; std::string text; const char* want; };
  const Case cases[] = {
      {"syntax", "node_id = = 3", "bad.toml:1:"},
      {"missing_node_id", "data_dir = \"/d\"\ngenesis_file = \"/g\"\n[key]\nfile = \"/k\"\n", "bad.toml: node_id: required"},
      {"missing_data_dir", "node_id = 1\ngenesis_file = \"/g\"\n[key]\nfile = \"/k\"\n", "bad.toml: data_dir: required"},
      {"missing_key", "node_id = 1\ndata_dir = \"/d\"\ngenesis_file = \"/g\"\n", "bad.toml: key.file: required"},
      {"typo_top", base + "dta_dir = \"/x\"\n", "bad.toml: dta_dir: unknown setting"},
      {"typo_section", base + "[batch]\nmax_tx = 5\n", "bad.toml: batch.max_tx: unknown setting"},
      {"unknown_section", base + "[consensus]\nx = 1\n", "bad.toml: consensus: unknown setting"},
      {"wrong_type", base + "[batch]\nmax_txs = \"many\"\n", "bad.toml: batch.max_txs: expected an integer"},
      {"negative", base + "[mempool]\nmax_txs = -1\n", "bad.toml: mempool.max_txs: out of range"},
      {"too_big_for_type", base + "[raft]\ntick_ms = 99999999999\n", "bad.toml: raft.tick_ms: out of range"},
      {"zero_batch", base + "[batch]\nmax_txs = 0\n", "bad.toml: batch.max_txs: must be in 1..100000 (got 0)"},
      {"batch_over_mempool", base + "[mempool]\nmax_txs = 10\n[batch]\nmax_txs = 20\n", "batch.max_txs: must not exceed mempool.max_txs"},
      {"batch_over_frame", base + "[transport]\nmax_frame_bytes = 1048576\n[batch]\nmax_bytes = 1048576\n", "batch.max_bytes: must be at least 64 KiB below"},
      {"heartbeat_ge_election", base + "[raft]\nelection_ticks = 3\nheartbeat_ticks = 3\n", "raft.heartbeat_ticks: must be less than"},
      {"bad_listen", base + "[listen]\nhttp = \"localhost\"\n", "bad.toml: listen.http: address 'localhost'"},
      {"bad_peer_id", base + "[peers]\nabc = \"h:1\"\n", "bad.toml: peers.abc: peer keys must be node ids"},
      {"peer_port_zero", base + "[peers]\n2 = \"h:0\"\n", "bad.toml: peers.2: port 0"},
      {"peer_not_string", base + "[peers]\n2 = 7100\n", "bad.toml: peers.2: expected a string"},
      {"both_passphrases", "node_id = 1\ndata_dir = \"/d\"\ngenesis_file = \"/g\"\n[key]\nfile = \"/k\"\npassphrase_env = \"A\"\npassphrase_file = \"/p\"\n", "bad.toml: key: set passphrase_env or passphrase_file, not both"},
      {"bad_log_level", base + "log_level = \"loud\"\n", "bad.toml: log_level: unknown log level 'loud'"},
      {"http_zero", base + "[http]\nmax_connections = 0\n", "bad.toml: http.max_connections must be positive"},
      {"transport_idle", base + "[transport]\nidle_timeout_ms = 100\nkeepalive_interval_ms = 100\n", "bad.toml: transport.idle_timeout_ms must exceed"},
      {"section_not_table", head + "key = \"/k\"\n", "bad.toml: key: expected a table"},
  };
  for (const auto& c : cases) {
    auto r = ParseConfig(c.text, "bad.toml");
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << c.name;
    EXPECT_NE(r.status().message().find(c.want), std::string::npos) << c.name << ": " << r.status().message();
  }
}

TEST(ConfigTest, FlagsOverrideTheFile) {
  ConfigOverrides flags{.data_dir = "/tmp/other", .http_listen = "0.0.0.0:9000", .log_level = "warn"};
  auto c = ParseConfig(kMinimal, "node.toml", flags);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->data_dir, "/tmp/other");
  EXPECT_EQ(c->http_listen, "0.0.0.0:9000");
  EXPECT_EQ(c->log_level, "warn");
  EXPECT_EQ(c->genesis_file, "/etc/certledger/genesis.json");  // untouched

  // A required setting may come from a flag alone.
  auto d = ParseConfig("node_id = 1\ngenesis_file = \"/g\"\n[key]\nfile = \"/k\"\n", "n.toml",
                       ConfigOverrides{.data_dir = "/d"});
  ASSERT_TRUE(d.ok()) << d.status();

  struct Case { const char* name; ConfigOverrides flags; const char* want; };
  const Case bad[] = {
      {"http", {.http_listen = "nope"}, "command line: --http-addr: address 'nope'"},
      {"peer", {.peer_listen = "1.2.3.4:99999"}, "command line: --peer-addr:"},
      {"level", {.log_level = "chatty"}, "command line: --log-level:"},
      {"node_id", {.node_id = 0}, "command line: --node-id: must be positive"},
  };
  for (const auto& b : bad) {
    auto r = ParseConfig(kMinimal, "node.toml", b.flags);
    ASSERT_FALSE(r.ok()) << b.name;
    EXPECT_NE(r.status().message().find(b.want), std::string::npos) << b.name << ": " << r.status().message();
  }
}

TEST(ConfigTest, LoadsFromFile) {
  std::string path = ::testing::TempDir() + "/certledger_config_test.toml";
  {
    std::ofstream out(path);
    out << kMinimal;
  }
  auto c = LoadConfig(path);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->node_id, NodeId(3));
  std::remove(path.c_str());
  EXPECT_EQ(LoadConfig(path).status().code(), Code::kIoError);
}

// ------------------------------------------------------------------ genesis

class GenesisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    suite_ = *crypto::MakeSuite("ed25519-sha256");
    for (int i = 1; i <= 3; ++i) keys_[i] = ToBase64(suite_->KeyFromSeed(Bytes(32, static_cast<char>(i)))->public_key);
  }
  std::string Node(int id, const std::string& key, const std::string& dept = "PSB",
                   const std::string& addr = "10.0.0.1:7100") {
    return R"({"nodeId":")" + std::to_string(id) + R"(","department":")" + dept + R"(","publicKey":")" + key +
           R"(","peerAddress":")" + addr + R"(","role":"VOTER"})";
  }
  std::string Genesis(const std::string& nodes, const std::string& extra = "") {
    return R"({"chainId":"city-1","suite":"ed25519-sha256","genesisTimeMs":"1700000000000",)"
           R"("departments":[{"code":"PSB","name":"市公安局"},{"code":"CAB","name":"市民政局"}],)"
           R"("nodes":[)" + nodes + "]" + extra + "}";
  }
  std::shared_ptr<const crypto::Suite> suite_;
  std::map<int, std::string> keys_;
};

TEST_F(GenesisTest, ParsesAndHashesTheExactBytes) {
  std::string text = Genesis(Node(1, keys_[1]) + "," + Node(2, keys_[2], "CAB", "10.0.0.2:7100"));
  auto g = ParseGenesis(text, "genesis.json");
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->genesis->chain_id(), "city-1");
  EXPECT_EQ(g->genesis->nodes_size(), 2);
  EXPECT_EQ(g->bytes, text);
  EXPECT_EQ(g->hash, suite_->Hash(text));
  EXPECT_EQ(g->suite->name(), "ed25519-sha256");
  ASSERT_NE(FindNode(*g->genesis, NodeId(2)), nullptr);
  EXPECT_EQ(FindNode(*g->genesis, NodeId(2))->department(), "CAB");
  EXPECT_EQ(FindNode(*g->genesis, NodeId(9)), nullptr);
  // Whitespace changes the hash: the file bytes are hashed, not a re-encoding.
  auto spaced = ParseGenesis(text + "\n", "genesis.json");
  ASSERT_TRUE(spaced.ok());
  EXPECT_NE(spaced->hash, g->hash);
}

TEST_F(GenesisTest, AGenesisWithoutSuiteIsEd25519AndSaysSo) {
  std::string text = Genesis(Node(1, keys_[1]));
  const std::string field = R"("suite":"ed25519-sha256",)";
  text.erase(text.find(field), field.size());
  auto g = ParseGenesis(text, "genesis.json");
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->suite->name(), "ed25519-sha256");
  // The ledger and the store take the suite from the parsed record.
  EXPECT_EQ(g->genesis->suite(), "ed25519-sha256");
  EXPECT_EQ(g->bytes, text);
}

TEST_F(GenesisTest, RejectsBrokenGenesisWithClearErrors) {
  struct Case { const char* name; std::string text; const char* want; };
  const Case cases[] = {
      {"not_json", "{chainId:", "g.json: not a valid genesis JSON"},
      {"unknown_field", Genesis(Node(1, keys_[1]), R"(,"chainID":"x")"), "g.json: not a valid genesis JSON"},
      {"no_chain", R"({"suite":"ed25519-sha256","departments":[{"code":"PSB"}],"nodes":[)" + Node(1, keys_[1]) + "]}", "g.json: chain_id is required"},
      {"unknown_suite", R"({"chainId":"c","suite":"rsa","departments":[{"code":"PSB"}],"nodes":[)" + Node(1, keys_[1]) + "]}", "g.json: suite: unknown crypto suite 'rsa'"},
      {"no_nodes", Genesis(""), "g.json: nodes: at least one node"},
      {"zero_id", Genesis(Node(0, keys_[1])), "nodes[0].node_id must be positive"},
      {"dup_id", Genesis(Node(1, keys_[1]) + "," + Node(1, keys_[2])), "nodes[1].node_id 1 appears twice"},
      {"short_key", Genesis(Node(1, ToBase64("short"))), "nodes[0].public_key is not a ed25519-sha256 key"},
      {"unknown_dept", Genesis(Node(1, keys_[1], "XYZ")), "nodes[0].department 'XYZ' is not a department"},
      {"bad_address", Genesis(Node(1, keys_[1], "PSB", "nowhere")), "nodes[0].peer_address: address 'nowhere'"},
  };
  for (const auto& c : cases) {
    auto r = ParseGenesis(c.text, "g.json");
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_NE(r.status().message().find(c.want), std::string::npos) << c.name << ": " << r.status().message();
  }
  EXPECT_EQ(LoadGenesis("/nonexistent/genesis.json").status().code(), Code::kIoError);
}

}  // namespace
}  // namespace cl::node
