// The `certledger` subcommands. Each Add*Commands registers its CLI11
// subcommands on `app`; when one is selected, its callback stores in *action
// what to run once the shared Context (context.h) exists. Actions return the
// process exit code (context.h, docs/cli.md).
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

#include "cli/context.h"

namespace cl::cli {

using Action = std::function<int(Context&)>;

void AddKeysCommands(CLI::App& app, Action* action);
void AddNetworkCommands(CLI::App& app, Action* action);
void AddCertCommands(CLI::App& app, Action* action);
void AddAuthCommands(CLI::App& app, Action* action);
void AddHolderCommands(CLI::App& app, Action* action);
void AddServiceCommands(CLI::App& app, Action* action);
void AddProofCommands(CLI::App& app, Action* action);
void AddBlockCommands(CLI::App& app, Action* action);
void AddChainCommands(CLI::App& app, Action* action);
void AddNodeCommands(CLI::App& app, Action* action);

// Prints a committed transaction's outcome ("committed tx ... at height N").
int ReportCommitted(const Context& c, const certledger::api::SubmitTxResponse& r, const std::string& what);
// "CODE_TYPE:CODE" help text shared by the holder options.
inline constexpr const char* kHolderHelp =
    "holder as TYPE:CODE (111 = citizen ID number, 001 = unified social credit code); a bare code means 111";

}  // namespace cl::cli
