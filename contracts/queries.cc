#include "contracts/queries.h"

#include <algorithm>

#include "contracts/codec.h"
#include "contracts/keys.h"

namespace cl::contracts {

namespace v1 = certledger::v1;

namespace {

size_t Limit(const PageRequest& p) {
  return p.limit == 0 ? kDefaultPageSize : std::min(p.limit, kMaxPageSize);
}

// Scans an index under `prefix`; `load` turns an index entry into a record.
template <typename T, typename Load>
Result<Page<T>> IndexPage(const StateView& state, ByteView prefix, const PageRequest& page,
                          Load load) {
  size_t limit = Limit(page);
  Bytes after = page.after.empty() ? Bytes() : Bytes(prefix) + page.after;
  CL_ASSIGN_OR_RETURN(auto entries, state.Scan(prefix, after, limit));
  Page<T> out;
  for (const auto& kv : entries) {
    CL_ASSIGN_OR_RETURN(T rec, load(kv));
    out.items.push_back(std::move(rec));
  }
  if (entries.size() == limit) out.next = entries.back().first.substr(prefix.size());
  return out;
}

template <typename T>
Result<T> MustGet(const StateView& state, ByteView key) {
  CL_ASSIGN_OR_RETURN(auto rec, GetRecord<T>(state, key));
  if (!rec) return Corruption("index points to a missing record " + ToHex(key));
  return std::move(*rec);
}

}  // namespace

Result<std::optional<v1::CertificateRecord>> GetCertificate(const StateView& state,
                                                            std::string_view cert_id) {
  return GetRecord<v1::CertificateRecord>(state, keys::Cert(cert_id));
}

Result<std::optional<v1::CertificateRecord>> FindCertificateByDocHash(const StateView& state,
                                                                      ByteView doc_hash) {
  CL_ASSIGN_OR_RETURN(auto id, state.Get(keys::CertDoc(doc_hash)));
  if (!id) return std::optional<v1::CertificateRecord>();
  return GetCertificate(state, *id);
}

Result<Page<v1::CertificateRecord>> ListHolderCertificates(const StateView& state,
                                                           ByteView holder_ref,
                                                           const PageRequest& page) {
  Bytes prefix = keys::Join(keys::kHolderCert, holder_ref);
  return IndexPage<v1::CertificateRecord>(state, prefix, page, [&](const KeyValue& kv) {
    // <type>/<BE64><cert_id>
    ByteView rest = ByteView(kv.first).substr(prefix.size());
    size_t slash = rest.find('/');
    return MustGet<v1::CertificateRecord>(state, keys::Cert(rest.substr(slash + 1 + 8)));
  });
}

CertStatusAt StatusAt(const v1::CertificateRecord& rec, int64_t time_ms) {
  CertStatusAt s;
  for (const auto& e : rec.history()) {
    if (e.time_ms() > time_ms) break;  // events are in block-time order
    switch (e.kind()) {
      case v1::CertEvent::ANCHORED:
        s.anchored = true;
        s.status = v1::VALID;
        break;
      case v1::CertEvent::REVOKED:
        s.status = v1::REVOKED;
        break;
      case v1::CertEvent::SUSPENDED:
        s.status = v1::SUSPENDED;
        break;
      case v1::CertEvent::REINSTATED:
        s.status = v1::VALID;
        break;
      case v1::CertEvent::SUPERSEDED:
        s.status = v1::SUPERSEDED;
        break;
      default:
        break;
    }
  }
  const auto& a = rec.anchor();
  s.within_validity =
      time_ms >= a.valid_from_ms() && (a.valid_until_ms() == 0 || time_ms <= a.valid_until_ms());
  return s;
}

Result<std::optional<CertStatusAt>> CertificateStatusAt(const StateView& state,
                                                        std::string_view cert_id, int64_t time_ms) {
  CL_ASSIGN_OR_RETURN(auto rec, GetCertificate(state, cert_id));
  if (!rec) return std::optional<CertStatusAt>();
  return std::optional<CertStatusAt>(StatusAt(*rec, time_ms));
}

Result<std::optional<v1::HolderRecord>> GetHolder(const StateView& state, ByteView holder_ref) {
  return GetRecord<v1::HolderRecord>(state, keys::Holder(holder_ref));
}

Result<std::optional<v1::AgentRecord>> GetAgent(const StateView& state, ByteView holder_ref,
                                                ByteView agent_key) {
  return GetRecord<v1::AgentRecord>(state, keys::Agent(holder_ref, agent_key));
}

Result<std::optional<v1::AuthorizationRecord>> GetAuthorization(const StateView& state,
                                                                std::string_view grant_id) {
  return GetRecord<v1::AuthorizationRecord>(state, keys::Auth(grant_id));
}

Result<Page<v1::AuthorizationRecord>> ListAuthorizations(const StateView& state,
                                                         ByteView holder_ref,
                                                         const PageRequest& page) {
  Bytes prefix = keys::Join(keys::kHolderAuth, holder_ref);
  return IndexPage<v1::AuthorizationRecord>(state, prefix, page, [&](const KeyValue& kv) {
    ByteView rest = ByteView(kv.first).substr(prefix.size());  // <grantee>/<BE64><grant_id>
    size_t slash = rest.find('/');
    return MustGet<v1::AuthorizationRecord>(state, keys::Auth(rest.substr(slash + 1 + 8)));
  });
}

Result<std::optional<v1::ServiceDefinition>> GetService(const StateView& state,
                                                        std::string_view code, uint32_t version) {
  if (version == 0) return GetRecord<v1::ServiceDefinition>(state, keys::Service(code));
  return GetRecord<v1::ServiceDefinition>(state, keys::ServiceVersion(code, version));
}

Result<Page<v1::ServiceDefinition>> ListServices(const StateView& state, const PageRequest& page) {
  return IndexPage<v1::ServiceDefinition>(state, keys::kService, page, [&](const KeyValue& kv) {
    return DecodeRecord<v1::ServiceDefinition>(kv.second, kv.first);
  });
}

Result<std::optional<v1::BundleDefinition>> GetBundle(const StateView& state, std::string_view code,
                                                      uint32_t version) {
  if (version == 0) return GetRecord<v1::BundleDefinition>(state, keys::Bundle(code));
  return GetRecord<v1::BundleDefinition>(state, keys::BundleVersion(code, version));
}

Result<std::optional<v1::Verdict>> GetVerdict(const StateView& state, std::string_view request_id) {
  return GetRecord<v1::Verdict>(state, keys::Verdict(request_id));
}

Result<Page<v1::AccessLogEntry>> AccessLog(const StateView& state, ByteView holder_ref,
                                           const PageRequest& page) {
  Bytes prefix = keys::Join(keys::kAccessLog, holder_ref);
  return IndexPage<v1::AccessLogEntry>(state, prefix, page, [&](const KeyValue& kv) {
    return DecodeRecord<v1::AccessLogEntry>(kv.second, kv.first);
  });
}

Result<std::optional<v1::Member>> GetMember(const StateView& state, ByteView public_key) {
  return GetRecord<v1::Member>(state, keys::Member(public_key));
}

Result<std::optional<v1::Department>> GetDepartment(const StateView& state, std::string_view code) {
  return GetRecord<v1::Department>(state, keys::Dept(code));
}

Result<std::optional<v1::CertType>> GetCertType(const StateView& state,
                                                std::string_view type_code) {
  return GetRecord<v1::CertType>(state, keys::Type(type_code));
}

Result<uint32_t> GetAdminThreshold(const StateView& state) {
  CL_ASSIGN_OR_RETURN(auto raw, state.Get(keys::kAdminThreshold));
  if (!raw || raw->size() != 4) return Corruption("admin threshold missing from state");
  return ReadBigEndian32(*raw);
}

}  // namespace cl::contracts
