// Internals shared by the contract handlers (not a public header).
//
// Each handler takes a TxContext (the envelope already validated: decoded,
// right chain, inside the expiry window, signatures valid, not a replay) and
// returns an Outcome: the receipt code and message. A handler writes only on
// success paths; the executor drops the tx's writes when the code is not OK.
// A Result error is only a StateView failure and aborts the block.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/strong_types.h"
#include "contracts/codec.h"
#include "contracts/keys.h"
#include "contracts/overlay.h"
#include "crypto/suite.h"
#include "proto/records.pb.h"
#include "proto/tx.pb.h"

namespace cl::contracts::internal {

namespace v1 = certledger::v1;

// Limits that are not genesis params (documented in docs/contracts.md).
inline constexpr size_t kMaxCodeBytes = 32;    // department, type, service, data-type codes
inline constexpr size_t kMaxIdBytes = 128;     // cert_id, grant_id, request_id
inline constexpr size_t kMaxTextBytes = 512;   // names, reasons, purposes, labels
inline constexpr size_t kMaxListItems = 32;    // issuers, data types, requesters, owners ...
inline constexpr size_t kMaxAttributes = 32;   // attribute commitments per certificate
inline constexpr size_t kMaxDisclosures = 64;  // per proof request
inline constexpr size_t kMaxBundleServices = 16;
inline constexpr size_t kMaxCertHistory = 256;  // status events per certificate
inline constexpr size_t kMaxAdmins = 64;        // active ADMIN members
inline constexpr int kMaxRequirementDepth = 8;
inline constexpr size_t kMaxCertCandidates = 32;   // newest certificates examined per leaf
inline constexpr size_t kMaxGrantCandidates = 64;  // newest grants examined per consent check
inline constexpr size_t kMaxPrunePerBlock = 4096;  // replay-index entries dropped per block
inline constexpr int64_t kDayMs = 86'400'000;
inline constexpr int64_t kMaxTimeMs = 253'402'300'799'999;  // 9999-12-31T23:59:59.999Z

struct Outcome {
  v1::ResultCode code = v1::OK;
  std::string message;
  bool ok() const { return code == v1::OK; }
};
inline Outcome Ok(std::string msg = "") { return {v1::OK, std::move(msg)}; }
inline Outcome Reject(v1::ResultCode code, std::string msg) { return {code, std::move(msg)}; }

struct TxContext {
  const crypto::Suite& suite;
  const v1::GenesisParams& params;
  Height height;
  int64_t time_ms;
  uint32_t index;  // position in the block
  const crypto::Digest& tx_id;
  const v1::SignedTx& tx;
  OverlayState& state;  // reads see earlier txs; writes are this tx's
};

// ---- validation of identifiers (pure)
// Codes: 1..32 bytes of [A-Za-z0-9_.-].
bool ValidCode(std::string_view s);
// Ids (cert_id, grant_id, request_id): 1..128 bytes, no control bytes.
bool ValidId(std::string_view s);
// Times in records: 0 <= t <= kMaxTimeMs (so date arithmetic cannot overflow).
inline bool ValidTime(int64_t t) { return t >= 0 && t <= kMaxTimeMs; }
// Free text: at most 512 bytes, no NUL.
bool ValidText(std::string_view s);
bool Contains(const google::protobuf::RepeatedPtrField<std::string>& list, std::string_view s);
// Every entry a valid code, no duplicates, at most kMaxListItems.
bool ValidCodeList(const google::protobuf::RepeatedPtrField<std::string>& list);

// ---- signer resolution
// The member with `key` if it is registered, not revoked at `h` and its
// department is active at `h`; nullopt otherwise.
Result<std::optional<v1::Member>> ActiveMember(const StateView& state, ByteView key, Height h);
bool HasRole(const v1::Member& m, v1::Role role);
// The department if it exists and has not been removed. Removal is immediate
// for departments as targets (issuer, grantee, owner, requester, node); for
// signers ActiveMember applies it from the next block.
Result<std::optional<v1::Department>> ActiveDepartment(const StateView& state,
                                                       std::string_view code);

// ---- contracts (one per payload family)
Result<Outcome> ApplyGovernance(TxContext& ctx, const v1::Governance& g);
Result<Outcome> ApplyAnchor(TxContext& ctx, const v1::AnchorCertificate& a);
Result<Outcome> ApplyRevoke(TxContext& ctx, const v1::RevokeCertificate& r);
Result<Outcome> ApplySupersede(TxContext& ctx, const v1::SupersedeCertificate& s);
Result<Outcome> ApplySuspend(TxContext& ctx, const v1::SuspendCertificate& s);
Result<Outcome> ApplyReinstate(TxContext& ctx, const v1::ReinstateCertificate& r);
Result<Outcome> ApplyRegisterHolder(TxContext& ctx, const v1::RegisterHolder& r);
Result<Outcome> ApplyRegisterAgent(TxContext& ctx, const v1::RegisterAgent& r);
Result<Outcome> ApplyGrant(TxContext& ctx, const v1::GrantAuthorization& g);
Result<Outcome> ApplyRevokeAuthorization(TxContext& ctx, const v1::RevokeAuthorization& r);
Result<Outcome> ApplyDefineService(TxContext& ctx, const v1::DefineService& d);
Result<Outcome> ApplyDefineBundle(TxContext& ctx, const v1::DefineBundle& d);
// Fills *verdict when the outcome is OK.
Result<Outcome> ApplyProofRequest(TxContext& ctx, const v1::ProofRequest& p, v1::Verdict* verdict);

// Validates a service definition against the state (used for DefineService and
// for genesis services): codes, departments, cert types, tree bounds.
// Returns an empty string when valid, else the reason.
Result<std::string> CheckServiceDefinition(const StateView& state, const v1::ServiceDefinition& s,
                                           uint32_t max_leaves);

// Writes a service definition (current + version keys).
void PutService(OverlayState& state, const v1::ServiceDefinition& s);

}  // namespace cl::contracts::internal
