// Verifying certificates and chains without trusting the node that answered.
//
// Everything here is pure: it takes the pinned genesis, the bytes a node (or a
// saved bundle) supplied and the locally computed document hash, and decides.
// The node's own claims (its `status` field, its record) are never believed:
// the status is recomputed from transactions whose inclusion in the history
// tree is proven against a header certified by a quorum of the genesis voters.
//
// What a proof can and cannot show (docs/cli.md): every status change that is
// presented is proven; a node that withholds a later revocation cannot be
// caught by inclusion proofs alone (there is no state commitment yet), so a
// clerk who needs that assurance asks a second node or pins a recent height.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "crypto/digest.h"
#include "crypto/suite.h"
#include "proto/api.pb.h"
#include "proto/records.pb.h"

namespace cl::cli {

// The pinned genesis: the exact file bytes, parsed, with its hash and suite.
struct PinnedGenesis {
  Bytes bytes;
  crypto::Digest hash;
  certledger::v1::Genesis genesis;
  std::shared_ptr<const crypto::Suite> suite;
};

// Parses genesis JSON (proto3 mapping; unknown fields are errors) and hashes
// the exact bytes with its suite (an absent `suite` means ed25519-sha256, as
// for the node: docs/operations.md). INVALID_ARGUMENT if it does not parse or
// names an unknown suite.
Result<PinnedGenesis> ParsePinnedGenesis(Bytes bytes);

// The verdict of `cert verify`. kValid..kUnknown are answers about the
// certificate; kFailed means the evidence did not verify (tampered file,
// tampered bundle, forged certificate, lying node) and nothing is claimed.
enum class CertVerdict { kValid, kRevoked, kSuspended, kExpired, kSuperseded, kUnknown, kFailed };
std::string_view CertVerdictName(CertVerdict v);

struct CertCheck {
  CertVerdict verdict = CertVerdict::kUnknown;
  std::string reason;            // why kFailed / kUnknown, or the status-change reason
  certledger::v1::AnchorCertificate anchor;  // from the proven anchoring tx
  std::string issuer_name;       // department name from genesis
  uint64_t checked_height = 0;   // the certified height the proofs are against
  int64_t checked_time_ms = 0;   // that header's block time
  std::vector<certledger::v1::TxBody> proven_changes;  // status txs after the anchor, oldest first
};

// Verifies `view` (a CertificateView fetched with ?proof=true, or a saved
// bundle) for the document whose hash (suite.Hash of the file) is `doc_hash`.
CertCheck VerifyCertificateView(const PinnedGenesis& g, ByteView doc_hash,
                                const certledger::api::CertificateView& view);

// Verifies one transaction's inclusion proof against the genesis voters:
// tx id = suite.Hash(body); the RFC 6962 path to the header's history root;
// the header's commit certificate. OK or CORRUPTION/UNAUTHENTICATED with why.
// On success sets *header to the certified header.
Status VerifyTxInclusion(const PinnedGenesis& g, const certledger::api::TxView& tx,
                         certledger::v1::BlockHeader* header);


// Incremental audit of a chain, block by block (`chain verify`). Feed blocks
// in height order from 1; the first failure names the block and stops.
class ChainAuditor {
 public:
  explicit ChainAuditor(const PinnedGenesis& g);
  ~ChainAuditor();
  ChainAuditor(const ChainAuditor&) = delete;
  ChainAuditor& operator=(const ChainAuditor&) = delete;

  // Checks block `view`: header hash, height, prev_hash link, chain id, tx
  // root, result root, history root and size (recomputed from every tx id
  // since height 1), time not going backwards, and its commit certificate if
  // present. CORRUPTION "block N: ..." on the first problem.
  Status Add(const certledger::api::BlockView& view);
  // Checks a consistency proof between two audited heights.
  Status CheckConsistency(const certledger::api::ConsistencyProofView& p) const;

  uint64_t height() const { return height_; }
  uint64_t certified() const { return certified_; }
  uint64_t uncertified() const { return uncertified_; }
  uint64_t txs() const;

 private:
  struct State;
  const PinnedGenesis& g_;
  std::unique_ptr<State> s_;
  uint64_t height_ = 0;
  uint64_t certified_ = 0;
  uint64_t uncertified_ = 0;
};

}  // namespace cl::cli
