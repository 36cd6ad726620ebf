// `certledger keys ...` and `certledger network init`.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/commands/commands.h"
#include "crypto/keyfile.h"
#include "node/netinit.h"

namespace cl::cli {
namespace {

struct KeysOpts {
  std::string file;
  std::string suite;  // empty: the pinned genesis's suite, else the default
  bool fast = false;
};

struct NetOpts {
  std::string dir;
  size_t departments = 3;
  size_t nodes = 0;
  std::string chain_id = "city-dev";
  std::string suite = "ed25519-sha256";
  uint16_t peer_port = 7101;
  uint16_t http_port = 8101;
  uint32_t tick_ms = 100;
  bool fast_keys = false;
};

// The suite of a new key: `flag` when given; else the suite of the genesis
// file the client config pins (a key for that network), read locally; else
// the default suite.
Result<std::shared_ptr<const crypto::Suite>> KeySuite(const Context& c, const std::string& flag) {
  if (!flag.empty()) return crypto::MakeSuite(flag);
  if (c.options().genesis_file.empty()) return crypto::MakeSuite(crypto::kDefaultSuite);
  CL_ASSIGN_OR_RETURN(const PinnedGenesis* g, c.Genesis(true));
  return g->suite;
}

}  // namespace

void AddKeysCommands(CLI::App& app, Action* action) {
  CLI::App* keys = app.add_subcommand("keys", "Generate key files and show their public keys");
  keys->require_subcommand(1);
  auto o = std::make_shared<KeysOpts>();

  CLI::App* gen = keys->add_subcommand("generate", "Generate a key pair into an encrypted key file (mode 0600)");
  gen->add_option("file", o->file, "key file to create")->required();
  gen->add_option("--suite", o->suite,
                  "crypto suite: ed25519-sha256 or sm2-sm3 (default: the suite of the client config's genesis, "
                  "else ed25519-sha256)");
  gen->add_flag("--fast-kdf", o->fast, "cheap passphrase KDF (development networks only)");
  gen->footer("Example:\n  CERTLEDGER_PASSPHRASE=... certledger keys generate citizen.key\n"
              "Exit codes: 0 created, 1 could not write, 2 bad arguments.");
  gen->callback([o, action] {
    *action = [o](Context& c) -> int {
      auto suite = KeySuite(c, o->suite);
      if (!suite.ok()) return Fail(suite.status());
      auto src = crypto::ParsePassphraseSource(c.options().passphrase);
      if (!src.ok()) return Fail(src.status());
      auto pass = crypto::ReadPassphrase(*src);
      if (!pass.ok()) return Fail(pass.status());
      crypto::KeyPair kp = (*suite)->GenerateKey();
      crypto::KeyFileWriteOptions wo;
      if (o->fast) wo.cost = crypto::KeyFileCost{.opslimit = 1, .memlimit_bytes = 8u << 20};
      if (Status s = crypto::WriteKeyFile(o->file, **suite, kp, pass->view(), wo); !s.ok()) return Fail(s);
      if (c.json())
        std::cout << "{\"file\":\"" << o->file << "\",\"suite\":\"" << (*suite)->name() << "\",\"public_key\":\""
                  << ToHex(kp.public_key) << "\"}\n";
      else
        std::cout << "created " << o->file << "\npublic key: " << ToHex(kp.public_key) << "\n";
      return kExitOk;
    };
  });

  CLI::App* show = keys->add_subcommand("show", "Show the public key of a key file (no passphrase needed)");
  show->add_option("file", o->file, "key file, or a key name in the client config's keys_dir")->required();
  show->footer("Example:\n  certledger keys show keys/PSB-issuer.key\nExit codes: 0, 5 no such file, 1 not a key file.");
  show->callback([o, action] {
    *action = [o](Context& c) -> int {
      auto info = crypto::InspectKeyFile(c.KeyPath(o->file));
      if (!info.ok()) return Fail(info.status());
      const std::string dept = c.options().nodes.empty() && c.options().genesis_file.empty()
                                   ? ""
                                   : c.DepartmentOf(info->public_key);
      if (c.json()) {
        std::cout << "{\"suite\":\"" << info->suite << "\",\"public_key\":\"" << ToHex(info->public_key)
                  << "\",\"department\":\"" << dept << "\"}\n";
      } else {
        PrintTable({{"suite", info->suite}, {"public key", ToHex(info->public_key)},
                    {"department", dept.empty() ? "-" : dept}});
      }
      return kExitOk;
    };
  });
}

void AddNetworkCommands(CLI::App& app, Action* action) {
  CLI::App* net = app.add_subcommand("network", "Create networks");
  net->require_subcommand(1);
  auto o = std::make_shared<NetOpts>();
  CLI::App* init = net->add_subcommand(
      "init", "Create keys, genesis and node configs for N departments in a directory, ready to start");
  init->add_option("dir", o->dir, "directory to create (must be empty or missing)")->required();
  init->add_option("-n,--departments", o->departments, "number of departments (1-7): PSB, CAB, ASC, HRSS, ...")
      ->check(CLI::Range(1, 7));
  init->add_option("--nodes", o->nodes, "number of nodes (default: one per department)");
  init->add_option("--chain-id", o->chain_id, "chain id");
  init->add_option("--suite", o->suite, "crypto suite: ed25519-sha256 or sm2-sm3");
  init->add_option("--peer-port", o->peer_port, "peer port of node 1 (node i: +i-1)");
  init->add_option("--http-port", o->http_port, "HTTP port of node 1 (node i: +i-1)");
  init->add_option("--tick-ms", o->tick_ms, "raft tick");
  init->add_flag("--fast-keys", o->fast_keys, "cheap passphrase KDF for the key files (development and demos)");
  init->footer(
      "Example:\n  certledger network init /tmp/city -n 3 --fast-keys\n"
      "  certledger-node --config /tmp/city/node-1.toml &   # and node-2, node-3\n"
      "  export CERTLEDGER_CONFIG=/tmp/city/client.toml\n"
      "Writes client.toml (nodes, pinned genesis, keys, passphrase, network secret) beside the network.\n"
      "Exit codes: 0 created, 2 bad arguments, 1 could not write (or the directory holds a network).");
  init->callback([o, action] {
    *action = [o](Context& c) -> int {
      node::NetworkSpec spec;
      spec.chain_id = o->chain_id;
      spec.suite = o->suite;
      spec.departments = node::DefaultDepartments(o->departments);
      spec.nodes = o->nodes;
      spec.base_peer_port = o->peer_port;
      spec.base_http_port = o->http_port;
      spec.tick_ms = o->tick_ms;
      if (o->fast_keys) spec.key_cost = crypto::KeyFileCost{.opslimit = 1, .memlimit_bytes = 8u << 20};
      auto layout = node::InitNetwork(o->dir, spec);
      if (!layout.ok()) {
        const int rc = Fail(layout.status());
        return layout.status().code() == Code::kAlreadyExists ? kExitError : rc;
      }
      std::ofstream cfg(layout->dir + "/client.toml");
      cfg << "# certledger client config for this network (certledger --client-config FILE,\n"
             "# or export CERTLEDGER_CONFIG=FILE). Relative paths are relative to this file.\n";
      cfg << "nodes = [";
      for (size_t i = 0; i < layout->nodes.size(); ++i)
        cfg << (i ? ", " : "") << "\"" << layout->nodes[i].http_url << "\"";
      cfg << "]\ngenesis = \"genesis.json\"\nkeys_dir = \"keys\"\npassphrase = \"file:passphrase\"\n"
             "network_secret = \"network-secret\"\n";
      cfg.close();
      if (!cfg) return Fail(IoError("cannot write client.toml"));
      if (c.json()) {
        std::cout << "{\"dir\":\"" << layout->dir << "\",\"chain_id\":\"" << layout->chain_id << "\",\"nodes\":[";
        for (size_t i = 0; i < layout->nodes.size(); ++i)
          std::cout << (i ? "," : "") << "{\"id\":" << layout->nodes[i].id << ",\"department\":\""
                    << layout->nodes[i].department << "\",\"url\":\"" << layout->nodes[i].http_url
                    << "\",\"config\":\"" << layout->nodes[i].config_file << "\"}";
        std::cout << "]}\n";
        return kExitOk;
      }
      std::cout << "network " << layout->chain_id << " created in " << layout->dir << "\n";
      std::vector<std::vector<std::string>> rows = {{"NODE", "DEPARTMENT", "URL", "CONFIG"}};
      for (const auto& n : layout->nodes)
        rows.push_back({std::to_string(n.id), n.department, n.http_url, n.config_file});
      PrintTable(rows);
      std::cout << "client config: " << layout->dir << "/client.toml\n";
      return kExitOk;
    };
  });
}

}  // namespace cl::cli
