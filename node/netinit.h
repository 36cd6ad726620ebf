// Creating a network: keys, genesis and node configs for N departments in a
// directory, ready to start. Used by `certledger network init` and by
// `certledger-node --dev` (a one-node network in a temporary directory).
//
// Layout of `dir`:
//   genesis.json             the genesis (proto3 JSON); its hash is the genesis hash
//   network-secret           the holder_ref key (never on the chain), mode 0600
//   passphrase               the passphrase of every key file below, mode 0600
//                            (a development convenience: production keys get
//                            their own passphrases, see docs/operations.md)
//   keys/node-<id>.key       node keys
//   keys/<DEPT>-<role>.key   member keys: admin, issuer, verifier, service,
//                            operator (+ identity for identity departments)
//   node-<id>.toml           node configs (data in data/node-<id>)
//   network.json             a summary for tools: chain id, node URLs, key files
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "crypto/keyfile.h"

namespace cl::node {

struct DepartmentSpec {
  std::string code;             // e.g. "PSB"
  std::string name;             // e.g. "市公安局"
  bool identity_authority = false;
};

struct NetworkSpec {
  std::string chain_id = "city-dev";
  std::string suite = "ed25519-sha256";
  std::vector<DepartmentSpec> departments;
  // Nodes 1..nodes, node i run by departments[i-1]; 0 = one per department.
  size_t nodes = 0;
  std::string host = "127.0.0.1";
  uint16_t base_peer_port = 7101;            // node i listens on base + i - 1 (0: pick free ports)
  uint16_t base_http_port = 8101;
  int64_t genesis_time_ms = 0;               // 0: now
  crypto::KeyFileCost key_cost = crypto::KeyFileCost::Interactive();
  uint32_t tick_ms = 100;
};

struct NodeLayout {
  uint64_t id = 0;
  std::string department;
  std::string config_file;
  std::string http_url;
  std::string data_dir;
};

struct NetworkLayout {
  std::string dir;
  std::string chain_id;
  std::string genesis_file;
  std::string passphrase_file;
  std::string secret_file;
  std::vector<NodeLayout> nodes;
};

// The departments of a demonstration city: 公安局 (identity authority), 民政局,
// 行政服务中心, then 人社局, 住建局, 医院, 市场监管局 as n grows (1 <= n <= 7).
std::vector<DepartmentSpec> DefaultDepartments(size_t n);

// Writes the network into `dir` (created; must be empty or missing).
// INVALID_ARGUMENT for a bad spec, ALREADY_EXISTS if dir has files, IO_ERROR.
Result<NetworkLayout> InitNetwork(const std::string& dir, const NetworkSpec& spec);

}  // namespace cl::node
