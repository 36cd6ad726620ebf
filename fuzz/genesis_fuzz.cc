// Fuzz target: the genesis parsers — the node's (node/genesis.h ParseGenesis),
// the CLI's pinned genesis (cli/verify.h ParsePinnedGenesis) and the
// contracts' genesis validation (Executor::Create) — fed genesis JSON.
//
// Invariants:
//   - what the node accepts, the CLI accepts too, with the same hash of the
//     exact bytes and the same suite;
//   - an accepted genesis has a chain id, at least one node, node ids positive
//     and unique, each found by FindNode, node keys of the suite's size;
//   - Executor::Create answers (accepts or refuses) without crashing.
#include <cstdint>
#include <set>
#include <string>

#include "base/check.h"
#include "cli/verify.h"
#include "contracts/executor.h"
#include "node/genesis.h"
#include "proto/records.pb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cl;
  const Bytes bytes(reinterpret_cast<const char*>(data), size);
  auto cli_pinned = cli::ParsePinnedGenesis(bytes);
  auto loaded = node::ParseGenesis(bytes, "genesis.json");
  if (cli_pinned.ok()) {
    auto exec = contracts::Executor::Create(cli_pinned->genesis, cli_pinned->suite);
    if (exec.ok()) (void)(*exec)->GenesisState();
  }
  if (!loaded.ok()) {
    CL_CHECK(loaded.status().message().starts_with("genesis.json"), "errors name the source");
    return 0;
  }
  CL_CHECK(cli_pinned.ok(), "the node accepts a genesis the CLI refuses: " + cli_pinned.status().ToString());
  CL_CHECK(loaded->bytes == bytes, "the loaded bytes are the file");
  CL_CHECK(loaded->hash == cli_pinned->hash, "node and CLI hash the genesis differently");
  CL_CHECK(loaded->suite->name() == cli_pinned->suite->name(), "node and CLI pick different suites");
  const auto& g = *loaded->genesis;
  CL_CHECK(!g.chain_id().empty() && g.nodes_size() > 0, "chain id and nodes");
  std::set<uint64_t> ids;
  for (const auto& n : g.nodes()) {
    CL_CHECK(n.node_id() > 0 && ids.insert(n.node_id()).second, "node ids positive and unique");
    CL_CHECK(node::FindNode(g, NodeId(n.node_id())) != nullptr, "FindNode finds every node");
    CL_CHECK(n.public_key().size() == loaded->suite->public_key_size(), "node key size");
  }
  return 0;
}
