// Governance: departments, member keys, certificate types, nodes and the admin
// quorum. Every action needs `admin_threshold` distinct active ADMIN members
// among the signer and the cosigners; the signer itself must be one of them.
//
// Key revocation takes effect from the next block (revoked_height = height + 1),
// as does department removal: a key revoked in block N may still sign later
// transactions of block N, and nothing from block N+1 on.
#include <set>

#include "contracts/internal.h"

namespace cl::contracts::internal {
namespace {

Result<uint32_t> AdminThreshold(const StateView& state) {
  CL_ASSIGN_OR_RETURN(auto raw, state.Get(keys::kAdminThreshold));
  if (!raw || raw->size() != 4) return Corruption("admin threshold missing from state");
  return ReadBigEndian32(*raw);
}

// Active ADMIN members at height `at` (the admin index holds at most kMaxAdmins).
Result<uint32_t> CountAdmins(const StateView& state, Height at) {
  CL_ASSIGN_OR_RETURN(auto entries, state.Scan(keys::kAdmin, "", kMaxAdmins + 1));
  uint32_t n = 0;
  for (const auto& [k, v] : entries) {
    CL_ASSIGN_OR_RETURN(auto m, ActiveMember(state, ByteView(k).substr(keys::kAdmin.size()), at));
    if (m && HasRole(*m, v1::ADMIN)) ++n;
  }
  return n;
}

Result<bool> KeyInUse(const StateView& state, ByteView key) {
  CL_ASSIGN_OR_RETURN(auto m, state.Get(keys::Member(key)));
  if (m) return true;
  CL_ASSIGN_OR_RETURN(auto h, state.Get(keys::HolderKey(key)));
  return h.has_value();
}

Result<Outcome> AddDepartment(TxContext& ctx, const v1::Department& d) {
  if (!ValidCode(d.code())) return Reject(v1::INVALID_ARGUMENT, "invalid department code");
  if (d.name().empty() || !ValidText(d.name())) {
    return Reject(v1::INVALID_ARGUMENT, "department name required");
  }
  CL_ASSIGN_OR_RETURN(auto existing, ctx.state.Get(keys::Dept(d.code())));
  if (existing)
    return Reject(v1::ALREADY_EXISTS,
                  "department " + d.code() + " exists (codes are never reused)");
  v1::Department rec = d;
  rec.set_removed_height(0);
  ctx.state.Put(keys::Dept(d.code()), Encode(rec));
  return Ok("department " + d.code() + " added");
}

Result<Outcome> RemoveDepartment(TxContext& ctx, const std::string& code) {
  CL_ASSIGN_OR_RETURN(auto dept, ActiveDepartment(ctx.state, code));
  if (!dept) return Reject(v1::NOT_FOUND, "no active department " + code);
  dept->set_removed_height(ctx.height.value() + 1);
  ctx.state.Put(keys::Dept(code), Encode(*dept));
  CL_ASSIGN_OR_RETURN(uint32_t threshold, AdminThreshold(ctx.state));
  CL_ASSIGN_OR_RETURN(uint32_t admins, CountAdmins(ctx.state, ctx.height + 1));
  if (admins < threshold) {
    return Reject(v1::INVALID_STATE,
                  "removing " + code + " would leave fewer admins than the threshold");
  }
  return Ok("department " + code + " removed from height " +
            std::to_string(ctx.height.value() + 1));
}

Result<Outcome> AddMember(TxContext& ctx, const v1::Member& m) {
  if (m.public_key().size() != ctx.suite.public_key_size()) {
    return Reject(v1::INVALID_ARGUMENT, "public key has the wrong size for the suite");
  }
  CL_ASSIGN_OR_RETURN(bool used, KeyInUse(ctx.state, m.public_key()));
  if (used) return Reject(v1::ALREADY_EXISTS, "key already registered");
  CL_ASSIGN_OR_RETURN(auto dept, ActiveDepartment(ctx.state, m.department()));
  if (!dept) return Reject(v1::NOT_FOUND, "no active department " + m.department());
  if (m.roles().empty()) return Reject(v1::INVALID_ARGUMENT, "a member needs at least one role");
  std::set<int> roles;
  for (int r : m.roles()) {
    if (r <= v1::ROLE_UNSPECIFIED || r > v1::IDENTITY_CLERK || !roles.insert(r).second) {
      return Reject(v1::INVALID_ARGUMENT, "invalid or repeated role");
    }
  }
  if (roles.contains(v1::IDENTITY_CLERK) && !dept->identity_authority()) {
    return Reject(v1::INVALID_ARGUMENT, "IDENTITY_CLERK only in an identity-authority department");
  }
  if (!ValidText(m.label())) return Reject(v1::INVALID_ARGUMENT, "label too long");
  if (roles.contains(v1::ADMIN)) {
    CL_ASSIGN_OR_RETURN(auto admins, ctx.state.Scan(keys::kAdmin, "", kMaxAdmins));
    if (admins.size() >= kMaxAdmins) return Reject(v1::INVALID_STATE, "too many admins");
    ctx.state.Put(keys::Admin(m.public_key()), "");
  }
  v1::Member rec = m;
  rec.set_added_height(ctx.height.value());
  rec.set_revoked_height(0);
  ctx.state.Put(keys::Member(m.public_key()), Encode(rec));
  return Ok("member added to " + m.department());
}

Result<Outcome> RevokeMember(TxContext& ctx, const std::string& key) {
  CL_ASSIGN_OR_RETURN(auto m, ActiveMember(ctx.state, key, ctx.height));
  if (!m) return Reject(v1::NOT_FOUND, "no active member with that key");
  m->set_revoked_height(ctx.height.value() + 1);
  ctx.state.Put(keys::Member(key), Encode(*m));
  ctx.state.Delete(keys::Admin(key));
  CL_ASSIGN_OR_RETURN(uint32_t threshold, AdminThreshold(ctx.state));
  CL_ASSIGN_OR_RETURN(uint32_t admins, CountAdmins(ctx.state, ctx.height + 1));
  if (admins < threshold) {
    return Reject(v1::INVALID_STATE, "revoking would leave fewer admins than the threshold");
  }
  return Ok("member revoked from height " + std::to_string(ctx.height.value() + 1));
}

Result<Outcome> RotateMember(TxContext& ctx, const v1::RotateMember& r) {
  CL_ASSIGN_OR_RETURN(auto old, ActiveMember(ctx.state, r.old_public_key(), ctx.height));
  if (!old) return Reject(v1::NOT_FOUND, "no active member with the old key");
  if (r.new_public_key().size() != ctx.suite.public_key_size()) {
    return Reject(v1::INVALID_ARGUMENT, "new key has the wrong size for the suite");
  }
  CL_ASSIGN_OR_RETURN(bool used, KeyInUse(ctx.state, r.new_public_key()));
  if (used) return Reject(v1::ALREADY_EXISTS, "new key already registered");
  v1::Member fresh = *old;
  fresh.set_public_key(r.new_public_key());
  fresh.set_added_height(ctx.height.value());
  fresh.set_revoked_height(0);
  old->set_revoked_height(ctx.height.value() + 1);
  ctx.state.Put(keys::Member(r.old_public_key()), Encode(*old));
  ctx.state.Put(keys::Member(r.new_public_key()), Encode(fresh));
  if (HasRole(fresh, v1::ADMIN)) {
    ctx.state.Delete(keys::Admin(r.old_public_key()));
    ctx.state.Put(keys::Admin(r.new_public_key()), "");
  }
  return Ok("member key rotated; old key revoked from height " +
            std::to_string(ctx.height.value() + 1));
}

Result<Outcome> RegisterCertType(TxContext& ctx, const v1::CertType& t) {
  if (!ValidCode(t.type_code())) return Reject(v1::INVALID_ARGUMENT, "invalid type code");
  if (t.name().empty() || !ValidText(t.name()))
    return Reject(v1::INVALID_ARGUMENT, "type name required");
  if (t.doc_class() != v1::CERTIFICATE && t.doc_class() != v1::EBILL) {
    return Reject(v1::INVALID_ARGUMENT, "doc_class must be CERTIFICATE or EBILL");
  }
  if (t.issuers().empty() || !ValidCodeList(t.issuers())) {
    return Reject(v1::INVALID_ARGUMENT, "issuers must be distinct department codes");
  }
  if (!ValidCodeList(t.data_types())) return Reject(v1::INVALID_ARGUMENT, "invalid data types");
  for (const auto& issuer : t.issuers()) {
    CL_ASSIGN_OR_RETURN(auto dept, ActiveDepartment(ctx.state, issuer));
    if (!dept) return Reject(v1::NOT_FOUND, "no active department " + issuer);
  }
  CL_ASSIGN_OR_RETURN(auto existing, GetRecord<v1::CertType>(ctx.state, keys::Type(t.type_code())));
  if (existing && existing->doc_class() != t.doc_class()) {
    return Reject(v1::INVALID_ARGUMENT, "a type's doc_class cannot change");
  }
  ctx.state.Put(keys::Type(t.type_code()), Encode(t));
  return Ok(existing ? "certificate type " + t.type_code() + " updated"
                     : "certificate type " + t.type_code() + " registered");
}

Result<Outcome> SetNode(TxContext& ctx, const v1::NodeInfo& n) {
  if (n.node_id() == 0) return Reject(v1::INVALID_ARGUMENT, "node id 0 is reserved");
  CL_ASSIGN_OR_RETURN(auto dept, ActiveDepartment(ctx.state, n.department()));
  if (!dept) return Reject(v1::NOT_FOUND, "no active department " + n.department());
  if (n.public_key().size() != ctx.suite.public_key_size()) {
    return Reject(v1::INVALID_ARGUMENT, "node key has the wrong size for the suite");
  }
  if (n.role() == v1::NodeInfo::NODE_ROLE_UNSPECIFIED || !ValidText(n.peer_address()) ||
      !ValidText(n.http_address())) {
    return Reject(v1::INVALID_ARGUMENT, "node role and addresses required");
  }
  ctx.state.Put(keys::Node(n.node_id()), Encode(n));
  return Ok("node " + std::to_string(n.node_id()) + " set");
}

Result<Outcome> SetAdminThreshold(TxContext& ctx, uint32_t m) {
  CL_ASSIGN_OR_RETURN(uint32_t admins, CountAdmins(ctx.state, ctx.height + 1));
  if (m == 0 || m > admins) {
    return Reject(v1::INVALID_ARGUMENT, "threshold must be in [1, " + std::to_string(admins) + "]");
  }
  Bytes v;
  PutBigEndian32(&v, m);
  ctx.state.Put(keys::kAdminThreshold, v);
  return Ok("admin threshold set to " + std::to_string(m));
}

}  // namespace

Result<Outcome> ApplyGovernance(TxContext& ctx, const v1::Governance& g) {
  CL_ASSIGN_OR_RETURN(auto signer, ActiveMember(ctx.state, ctx.tx.signer(), ctx.height));
  if (!signer) return Reject(v1::UNKNOWN_SIGNER, "signer is not an active member");
  if (!HasRole(*signer, v1::ADMIN))
    return Reject(v1::PERMISSION_DENIED, "governance needs ADMIN members");
  std::set<Bytes> admins{ctx.tx.signer()};
  for (const auto& c : ctx.tx.cosignatures()) {
    if (admins.contains(c.signer())) continue;
    CL_ASSIGN_OR_RETURN(auto m, ActiveMember(ctx.state, c.signer(), ctx.height));
    if (m && HasRole(*m, v1::ADMIN)) admins.insert(c.signer());
  }
  CL_ASSIGN_OR_RETURN(uint32_t threshold, AdminThreshold(ctx.state));
  if (admins.size() < threshold) {
    return Reject(v1::QUORUM_NOT_MET, std::to_string(admins.size()) + " of " +
                                          std::to_string(threshold) + " admin signatures");
  }
  switch (g.action_case()) {
    case v1::Governance::kAddDepartment:
      return AddDepartment(ctx, g.add_department());
    case v1::Governance::kRemoveDepartment:
      return RemoveDepartment(ctx, g.remove_department());
    case v1::Governance::kAddMember:
      return AddMember(ctx, g.add_member());
    case v1::Governance::kRevokeMember:
      return RevokeMember(ctx, g.revoke_member());
    case v1::Governance::kRotateMember:
      return RotateMember(ctx, g.rotate_member());
    case v1::Governance::kRegisterCertType:
      return RegisterCertType(ctx, g.register_cert_type());
    case v1::Governance::kSetNode:
      return SetNode(ctx, g.set_node());
    case v1::Governance::kSetAdminThreshold:
      return SetAdminThreshold(ctx, g.set_admin_threshold());
    case v1::Governance::ACTION_NOT_SET:
      break;
  }
  return Reject(v1::MALFORMED, "governance action missing");
}

}  // namespace cl::contracts::internal
