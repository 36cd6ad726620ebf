#include "node/genesis.h"

#include <fstream>
#include <set>
#include <sstream>

#include <google/protobuf/util/json_util.h>

#include "node/address.h"
#include "proto/records.pb.h"

namespace cl::node {
namespace {

Status Check(const certledger::v1::Genesis& g, const crypto::Suite& suite, std::string_view source) {
  auto bad = [&](const std::string& what) { return InvalidArgument(std::string(source) + ": " + what); };
  if (g.chain_id().empty()) return bad("chain_id is required");
  std::set<std::string> departments;
  for (const auto& d : g.departments()) {
    if (d.code().empty()) return bad("a department has an empty code");
    if (!departments.insert(d.code()).second) return bad("department code '" + d.code() + "' appears twice");
  }
  for (int i = 0; i < g.members_size(); ++i) {
    const auto& m = g.members(i);
    if (m.public_key().size() != suite.public_key_size())
      return bad("members[" + std::to_string(i) + "].public_key is not a " + std::string(suite.name()) + " key");
    if (!departments.contains(m.department()))
      return bad("members[" + std::to_string(i) + "].department '" + m.department() + "' is not a department");
  }
  if (g.nodes_size() == 0) return bad("nodes: at least one node is required");
  std::set<uint64_t> ids;
  for (int i = 0; i < g.nodes_size(); ++i) {
    const auto& n = g.nodes(i);
    const std::string at = "nodes[" + std::to_string(i) + "]";
    if (n.node_id() == 0) return bad(at + ".node_id must be positive");
    if (!ids.insert(n.node_id()).second) return bad(at + ".node_id " + std::to_string(n.node_id()) + " appears twice");
    if (n.public_key().size() != suite.public_key_size())
      return bad(at + ".public_key is not a " + std::string(suite.name()) + " key");
    if (!departments.contains(n.department()))
      return bad(at + ".department '" + n.department() + "' is not a department");
    if (auto hp = ParseHostPort(n.peer_address()); !hp.ok())
      return bad(at + ".peer_address: " + hp.status().message());
  }
  return Status::Ok();
}

}  // namespace

Result<LoadedGenesis> ParseGenesis(Bytes bytes, std::string_view source) {
  auto g = std::make_shared<certledger::v1::Genesis>();
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = false;
  auto st = google::protobuf::util::JsonStringToMessage(bytes, g.get(), opts);
  if (!st.ok())
    return InvalidArgument(std::string(source) + ": not a valid genesis JSON: " + std::string(st.message()));
  auto suite = crypto::MakeSuite(g->suite().empty() ? crypto::kDefaultSuite : g->suite());
  if (!suite.ok()) return InvalidArgument(std::string(source) + ": suite: " + suite.status().message());
  // A genesis without `suite` is an ed25519-sha256 network (docs/operations.md):
  // say so in the parsed record, which the ledger and the store take the suite from.
  if (g->suite().empty()) g->set_suite(std::string(crypto::kDefaultSuite));
  CL_RETURN_IF_ERROR(Check(*g, **suite, source));
  LoadedGenesis out;
  out.hash = (*suite)->Hash(bytes);
  out.bytes = std::move(bytes);
  out.genesis = std::move(g);
  out.suite = std::move(*suite);
  return out;
}

Result<LoadedGenesis> LoadGenesis(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("cannot read genesis file " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return IoError("cannot read genesis file " + path);
  return ParseGenesis(ss.str(), path);
}

const certledger::v1::NodeInfo* FindNode(const certledger::v1::Genesis& genesis, NodeId id) {
  for (const auto& n : genesis.nodes())
    if (n.node_id() == id.value()) return &n;
  return nullptr;
}

}  // namespace cl::node
