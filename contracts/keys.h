// State key layout of the contracts (documented in docs/contracts.md).
//
// Every key starts with an ASCII prefix ending in '/'. Integers are big-endian
// so that numeric order is key order. Variable-length components are either
// last in the key, or codes validated to contain no '/' (department, type,
// service and data-type codes) followed by '/', or fixed-size (holder refs and
// digests are exactly 32 bytes). Pure functions; no state access.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/bytes.h"

namespace cl::contracts::keys {

inline constexpr std::string_view kDept = "dept/";      // <code> -> Department
inline constexpr std::string_view kMember = "member/";  // <pubkey> -> Member
inline constexpr std::string_view kAdmin = "admin/";    // <pubkey> -> "" (active admins)
inline constexpr std::string_view kType = "type/";      // <type_code> -> CertType
inline constexpr std::string_view kNode = "node/";      // <node_id BE64> -> NodeInfo
inline constexpr std::string_view kAdminThreshold = "param/admin_threshold";  // -> BE32
inline constexpr std::string_view kCert = "cert/";         // <cert_id> -> CertificateRecord
inline constexpr std::string_view kCertDoc = "certdoc/";   // <doc_hash> -> cert_id
inline constexpr std::string_view kHolderCert = "hcert/";  // <ref><type>/<inv issued BE64><cert_id>
inline constexpr std::string_view kHolder = "holder/";     // <ref> -> HolderRecord
inline constexpr std::string_view kHolderKey =
    "holderkey/";                                     // <pubkey> -> ref || BE64 revoked_height
inline constexpr std::string_view kAgent = "agent/";  // <ref><pubkey> -> AgentRecord
inline constexpr std::string_view kAuth = "auth/";    // <grant_id> -> AuthorizationRecord
inline constexpr std::string_view kHolderAuth =
    "hauth/";                                         // <ref><grantee>/<inv height BE64><grant_id>
inline constexpr std::string_view kService = "svc/";  // <code> -> ServiceDefinition (current)
inline constexpr std::string_view kServiceVersion =
    "svcv/";                                            // <code>/<ver BE32> -> ServiceDefinition
inline constexpr std::string_view kBundle = "bundle/";  // <code> -> BundleDefinition (current)
inline constexpr std::string_view kBundleVersion =
    "bundlev/";                                           // <code>/<ver BE32> -> BundleDefinition
inline constexpr std::string_view kVerdict = "verdict/";  // <request_id> -> Verdict
inline constexpr std::string_view kAccessLog =
    "alog/";  // <ref><height BE64><index BE32> -> AccessLogEntry
inline constexpr std::string_view kSeen = "seen/";   // <tx_id> -> BE64 valid_until_ms
inline constexpr std::string_view kExpiry = "exp/";  // <valid_until BE64><tx_id> -> ""

inline Bytes Join(std::string_view prefix, ByteView a) {
  Bytes k(prefix);
  k.append(a);
  return k;
}

inline Bytes Dept(std::string_view code) { return Join(kDept, code); }
inline Bytes Member(ByteView pubkey) { return Join(kMember, pubkey); }
inline Bytes Admin(ByteView pubkey) { return Join(kAdmin, pubkey); }
inline Bytes Type(std::string_view code) { return Join(kType, code); }
inline Bytes Node(uint64_t node_id) { return Join(kNode, BigEndian64(node_id)); }
inline Bytes Cert(std::string_view cert_id) { return Join(kCert, cert_id); }
inline Bytes CertDoc(ByteView doc_hash) { return Join(kCertDoc, doc_hash); }
inline Bytes Holder(ByteView ref) { return Join(kHolder, ref); }
inline Bytes HolderKey(ByteView pubkey) { return Join(kHolderKey, pubkey); }
inline Bytes Auth(std::string_view grant_id) { return Join(kAuth, grant_id); }
inline Bytes Service(std::string_view code) { return Join(kService, code); }
inline Bytes Bundle(std::string_view code) { return Join(kBundle, code); }
inline Bytes Verdict(std::string_view request_id) { return Join(kVerdict, request_id); }
inline Bytes Seen(ByteView tx_id) { return Join(kSeen, tx_id); }

inline Bytes Agent(ByteView ref, ByteView pubkey) {
  Bytes k = Join(kAgent, ref);
  k.append(pubkey);
  return k;
}

// Prefix of one holder's certificates of one type (newest issue date first).
inline Bytes HolderCertPrefix(ByteView ref, std::string_view type_code) {
  Bytes k = Join(kHolderCert, ref);
  k.append(type_code);
  k.push_back('/');
  return k;
}
// issued_at_ms is >= 0 (validated at anchoring); inverted so newer sorts first.
inline Bytes HolderCert(ByteView ref, std::string_view type_code, int64_t issued_at_ms,
                        std::string_view cert_id) {
  Bytes k = HolderCertPrefix(ref, type_code);
  PutBigEndian64(&k, UINT64_MAX - static_cast<uint64_t>(issued_at_ms));
  k.append(cert_id);
  return k;
}

// Prefix of one holder's grants to one department (newest first).
inline Bytes HolderAuthPrefix(ByteView ref, std::string_view grantee) {
  Bytes k = Join(kHolderAuth, ref);
  k.append(grantee);
  k.push_back('/');
  return k;
}
inline Bytes HolderAuth(ByteView ref, std::string_view grantee, uint64_t granted_height,
                        std::string_view grant_id) {
  Bytes k = HolderAuthPrefix(ref, grantee);
  PutBigEndian64(&k, UINT64_MAX - granted_height);
  k.append(grant_id);
  return k;
}

inline Bytes ServiceVersion(std::string_view code, uint32_t version) {
  Bytes k = Join(kServiceVersion, code);
  k.push_back('/');
  PutBigEndian32(&k, version);
  return k;
}
inline Bytes BundleVersion(std::string_view code, uint32_t version) {
  Bytes k = Join(kBundleVersion, code);
  k.push_back('/');
  PutBigEndian32(&k, version);
  return k;
}

inline Bytes AccessLog(ByteView ref, uint64_t height, uint32_t index) {
  Bytes k = Join(kAccessLog, ref);
  PutBigEndian64(&k, height);
  PutBigEndian32(&k, index);
  return k;
}

// valid_until_ms is >= 0 here (a tx must not expire before block time >= 0).
inline Bytes Expiry(int64_t valid_until_ms, ByteView tx_id) {
  Bytes k(kExpiry);
  PutBigEndian64(&k, valid_until_ms < 0 ? 0 : static_cast<uint64_t>(valid_until_ms));
  k.append(tx_id);
  return k;
}

}  // namespace cl::contracts::keys
