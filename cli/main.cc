// certledger: the command-line client for clerks, operators and auditors.
// See docs/cli.md for every command and the exit codes.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands/commands.h"

int main(int argc, char** argv) {
  using namespace cl::cli;
  CLI::App app{"certledger: anchor and verify e-certificates, manage consent, run 无证办理, audit the chain"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "certledger 0.1.0");
  GlobalOptions g;
  app.add_option("--node", g.nodes, "node URL, repeatable (else $CERTLEDGER_NODES, else the client config)");
  app.add_option("--client-config", g.client_config, "client config TOML (else $CERTLEDGER_CONFIG, "
                                                     "else ~/.config/certledger/client.toml)");
  app.add_option("--genesis", g.genesis_file, "pin this genesis file (verification trusts nothing else)");
  app.add_option("--genesis-hash", g.genesis_hash, "pin the genesis by its hash (hex)");
  app.add_option("--passphrase", g.passphrase, "key passphrase source: env:NAME, file:PATH or prompt "
                                               "(default: $CERTLEDGER_PASSPHRASE if set, else the client config, "
                                               "else prompt)");
  app.add_option("--network-secret", g.network_secret, "file with the network secret (for holder refs)");
  app.add_option("--keys-dir", g.keys_dir, "where --key NAME is looked up as NAME.key");
  app.add_option("--timeout-ms", g.timeout_ms, "per-request time limit");
  app.add_flag("--json", g.json, "machine-readable output");
  app.footer("Exit codes: 0 ok/VALID/approved, 1 error, 2 usage, 3 no node answered, 4 refused by the ledger,\n"
             "5 not found, 10 REVOKED, 11 SUSPENDED, 12 EXPIRED, 13 SUPERSEDED, 14 UNKNOWN, 15 DENIED,\n"
             "20 verification failed. Run `certledger COMMAND SUB --help` for examples.");
  Action action;
  AddKeysCommands(app, &action);
  AddNetworkCommands(app, &action);
  AddCertCommands(app, &action);
  AddAuthCommands(app, &action);
  AddHolderCommands(app, &action);
  AddServiceCommands(app, &action);
  AddProofCommands(app, &action);
  AddBlockCommands(app, &action);
  AddChainCommands(app, &action);
  AddNodeCommands(app, &action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  if (!action) return kExitUsage;
  auto ctx = Context::Create(g);
  if (!ctx.ok()) return Fail(ctx.status());
  return action(*ctx);
}
