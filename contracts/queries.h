// Read-side helpers over a StateView: what the node's HTTP API and the CLI
// show. Pure reads; no writes, no clock (callers pass the time they ask about).
//
// Lists are paged: pass an empty `after` for the first page and the returned
// `next` for the following one; `next` is empty on the last page. A page holds
// at most min(limit, kMaxPageSize) items (limit 0 = kDefaultPageSize).
// Errors only on I/O failure or corrupt state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "contracts/state_view.h"
#include "proto/records.pb.h"

namespace cl::contracts {

inline constexpr uint32_t kDefaultPageSize = 50;
inline constexpr uint32_t kMaxPageSize = 500;

struct PageRequest {
  Bytes after;         // opaque cursor from the previous page; empty = start
  uint32_t limit = 0;  // 0 = kDefaultPageSize; capped at kMaxPageSize
};

template <typename T>
struct Page {
  std::vector<T> items;
  Bytes next;  // empty when there is nothing more
};

// ---- registry
Result<std::optional<certledger::v1::CertificateRecord>> GetCertificate(const StateView& state,
                                                                        std::string_view cert_id);
Result<std::optional<certledger::v1::CertificateRecord>> FindCertificateByDocHash(
    const StateView& state, ByteView doc_hash);
// A holder's certificates of every type (by type code, newest first within a type).
Result<Page<certledger::v1::CertificateRecord>> ListHolderCertificates(const StateView& state,
                                                                       ByteView holder_ref,
                                                                       const PageRequest& page);

// The status of a certificate at a moment, from its recorded history: "was it
// valid on date D?". Events are dated by block time.
struct CertStatusAt {
  bool anchored = false;  // false: not yet on the ledger at that time
  certledger::v1::CertStatus status = certledger::v1::CERT_STATUS_UNSPECIFIED;
  bool within_validity = false;  // valid_from <= t <= valid_until (or no expiry)
  // VALID status and within its validity window.
  bool valid() const { return anchored && status == certledger::v1::VALID && within_validity; }
  friend bool operator==(const CertStatusAt&, const CertStatusAt&) = default;
};
CertStatusAt StatusAt(const certledger::v1::CertificateRecord& rec, int64_t time_ms);
Result<std::optional<CertStatusAt>> CertificateStatusAt(const StateView& state,
                                                        std::string_view cert_id, int64_t time_ms);

// ---- holders and consent
Result<std::optional<certledger::v1::HolderRecord>> GetHolder(const StateView& state,
                                                              ByteView holder_ref);
Result<std::optional<certledger::v1::AgentRecord>> GetAgent(const StateView& state,
                                                            ByteView holder_ref,
                                                            ByteView agent_key);
Result<std::optional<certledger::v1::AuthorizationRecord>> GetAuthorization(
    const StateView& state, std::string_view grant_id);
// A holder's grants (by grantee, newest first within a grantee).
Result<Page<certledger::v1::AuthorizationRecord>> ListAuthorizations(const StateView& state,
                                                                     ByteView holder_ref,
                                                                     const PageRequest& page);

// ---- services
// The current version, or `version` if non-zero.
Result<std::optional<certledger::v1::ServiceDefinition>> GetService(const StateView& state,
                                                                    std::string_view code,
                                                                    uint32_t version = 0);
Result<Page<certledger::v1::ServiceDefinition>> ListServices(const StateView& state,
                                                             const PageRequest& page);
Result<std::optional<certledger::v1::BundleDefinition>> GetBundle(const StateView& state,
                                                                  std::string_view code,
                                                                  uint32_t version = 0);

// ---- proof requests
Result<std::optional<certledger::v1::Verdict>> GetVerdict(const StateView& state,
                                                          std::string_view request_id);
// Who used the holder's data, oldest first.
Result<Page<certledger::v1::AccessLogEntry>> AccessLog(const StateView& state, ByteView holder_ref,
                                                       const PageRequest& page);

// ---- governance
Result<std::optional<certledger::v1::Member>> GetMember(const StateView& state,
                                                        ByteView public_key);
Result<std::optional<certledger::v1::Department>> GetDepartment(const StateView& state,
                                                                std::string_view code);
Result<std::optional<certledger::v1::CertType>> GetCertType(const StateView& state,
                                                            std::string_view type_code);
Result<uint32_t> GetAdminThreshold(const StateView& state);

}  // namespace cl::contracts
