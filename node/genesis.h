// Loading the genesis file: the network's founding document, a JSON file in
// the proto3 JSON mapping of certledger.v1.Genesis (proto/records.proto).
//
// The genesis hash is suite.Hash(exact file bytes) — never of a re-encoding —
// so every node and client that holds the same file computes the same hash.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/status.h"
#include "base/strong_types.h"
#include "crypto/digest.h"
#include "crypto/suite.h"

namespace certledger::v1 {
class Genesis;
class NodeInfo;
}  // namespace certledger::v1

namespace cl::node {

struct LoadedGenesis {
  std::shared_ptr<const certledger::v1::Genesis> genesis;
  Bytes bytes;                                  // the file, exactly
  crypto::Digest hash;                          // suite.Hash(bytes)
  std::shared_ptr<const crypto::Suite> suite;   // the suite it names
};

// Parses `bytes` (`source` names them in errors) and checks what a node needs
// before it can start: a chain id; a known suite; departments with unique
// codes; member keys of the suite's size; at least one node, node ids
// positive and unique, node keys of the suite's size, departments that exist,
// peer addresses that parse as host:port. Unknown JSON fields are errors.
// INVALID_ARGUMENT "<source>: <what>" otherwise.
Result<LoadedGenesis> ParseGenesis(Bytes bytes, std::string_view source);
// Reads the file at `path` and parses it. IO_ERROR if unreadable.
Result<LoadedGenesis> LoadGenesis(const std::string& path);

// The genesis entry of node `id`, or nullptr.
const certledger::v1::NodeInfo* FindNode(const certledger::v1::Genesis& genesis, NodeId id);

}  // namespace cl::node
