// What every `certledger` command shares: where the nodes are (with
// fail-over), the pinned genesis, member keys, the network secret, signing and
// submitting transactions, signed reads, and output (tables or --json).
//
// Node URLs, in order of precedence: --node URL (repeatable), the environment
// variable CERTLEDGER_NODES (comma-separated), `nodes` in the client config
// (--client-config FILE, else $CERTLEDGER_CONFIG, else
// ~/.config/certledger/client.toml). The client config (TOML) may also set
// `genesis` (file to pin), `genesis_hash`, `keys_dir`, `passphrase` (a source:
// env:NAME, file:PATH or prompt) and `network_secret` (file). Relative paths
// are relative to the config file. Flags win over the config; for the
// passphrase, $CERTLEDGER_PASSPHRASE (when set) also wins over the config.
//
// Thread-safety: none needed; one command runs at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <google/protobuf/message.h>

#include "base/status.h"
#include "cli/http_client.h"
#include "cli/verify.h"
#include "crypto/suite.h"
#include "proto/api.pb.h"
#include "proto/tx.pb.h"

namespace cl::cli {

// Exit codes (docs/cli.md). Stable: scripts rely on them.
enum Exit : int {
  kExitOk = 0,            // success; VALID; approved
  kExitError = 1,         // any other error (bad file, I/O)
  kExitUsage = 2,         // bad flags or arguments
  kExitUnreachable = 3,   // no node answered
  kExitRejected = 4,      // the node or the ledger refused (4xx, non-OK receipt)
  kExitNotFound = 5,      // the record does not exist
  kExitRevoked = 10,
  kExitSuspended = 11,
  kExitExpired = 12,
  kExitSuperseded = 13,
  kExitUnknown = 14,      // no such certificate on the ledger
  kExitDenied = 15,       // a proof request was evaluated and denied
  kExitVerifyFailed = 20, // evidence did not verify: tampered, forged, or a lying node
};

struct GlobalOptions {
  std::vector<std::string> nodes;
  std::string client_config;
  std::string genesis_file;
  std::string genesis_hash;
  std::string passphrase;      // source spec
  std::string network_secret;  // file
  std::string keys_dir;
  bool json = false;
  uint32_t timeout_ms = 15'000;
};

class Context {
 public:
  // Resolves the options against the environment and the client config.
  static Result<Context> Create(GlobalOptions flags);

  const GlobalOptions& options() const { return o_; }
  bool json() const { return o_.json; }

  // Sends a request to the first node that answers; moves on to the next on
  // a connection failure, a timeout or a 503. UNAVAILABLE if none answered.
  Result<client::HttpResponse> Call(const std::string& method, const std::string& target,
                                    const std::string& body = "",
                                    const client::HttpRequestOptions& extra = {}) const;
  // GET + JSON decode of a 200 answer; a non-200 answer becomes a status
  // (NOT_FOUND for 404, PERMISSION_DENIED/UNAUTHENTICATED, ...).
  Status GetJson(const std::string& target, google::protobuf::Message* out,
                 const client::HttpRequestOptions& extra = {}) const;

  // The genesis: pinned (file, or fetched and checked against genesis_hash),
  // or — when `require_pin` is false and nothing is pinned — fetched from a
  // node as is (enough to build transactions; the ledger checks them).
  Result<const PinnedGenesis*> Genesis(bool require_pin) const;

  // A member or holder key: a path, or a name looked up as <keys_dir>/<name>.key.
  // FAILED_PRECONDITION if it is a key of another suite than the network's
  // (it could sign nothing the network accepts).
  Result<crypto::KeyPair> LoadKey(const std::string& name_or_path) const;
  std::string KeyPath(const std::string& name_or_path) const;
  // holder_ref = KeyedHash(secret, code_type || 0x00 || code) for "TYPE:CODE"
  // (a bare code means type 111, a citizen ID number).
  Result<Bytes> HolderRef(const std::string& holder) const;
  // number_ref = KeyedHash(secret, "number/" || number).
  Result<Bytes> NumberRef(const std::string& number) const;

  // A fresh body for this chain: random nonce, valid for 10 minutes.
  Result<certledger::v1::TxBody> NewBody() const;
  // Signs `body` with `key` and submits it with ?wait=commit; returns the
  // answer. REJECTED-class errors for refusals; a non-OK receipt is returned
  // in the answer (see ReceiptError).
  // `cosigners` add cosignatures over the same message (governance needs m-of-n admins).
  Result<certledger::api::SubmitTxResponse> Submit(const certledger::v1::TxBody& body,
                                                   const crypto::KeyPair& key,
                                                   const std::vector<crypto::KeyPair>& cosigners = {}) const;
  // One transaction end to end: loads `key_name` (LoadKey), makes a fresh
  // body (NewBody), lets `fill` set its payload (it may use the loaded key,
  // e.g. for the signer's department, and may fail, e.g. on a bad date), then
  // signs and submits it (Submit). Returns the first error.
  Result<certledger::api::SubmitTxResponse> SubmitNew(
      const std::string& key_name,
      const std::function<Status(const crypto::KeyPair& key, certledger::v1::TxBody& body)>& fill) const;
  // Signed-request headers (node/api.h) for `method target` (+ "\n" body when
  // `with_body`).
  Result<client::HttpRequestOptions> SignedHeaders(const crypto::KeyPair& key, const std::string& method,
                                                   const std::string& target, const std::string* body) const;

  // The department of a genesis member key, or "".
  std::string DepartmentOf(ByteView public_key) const;

 private:
  GlobalOptions o_;
  std::string config_dir_;
  mutable std::optional<PinnedGenesis> genesis_;
  mutable bool pinned_ = false;
};

// ---- output helpers
std::string ToJson(const google::protobuf::Message& m);
// Prints rows as an aligned table (first row = header).
void PrintTable(const std::vector<std::vector<std::string>>& rows);
// "2026-11-27 10:32:09 UTC" for Unix ms (0 → "-").
std::string FormatTime(int64_t ms);
// Parses "YYYY-MM-DD" (UTC midnight) or a Unix ms number.
Result<int64_t> ParseTime(const std::string& s);
int64_t NowMs();
// Maps a status to an exit code (UNAVAILABLE → 3, NOT_FOUND → 5, ...).
int ExitFor(const Status& s);
// Prints "error: ..." to stderr and returns ExitFor(s).
int Fail(const Status& s);
// Reads a whole file.
Result<Bytes> ReadFile(const std::string& path);

}  // namespace cl::cli
