// Holder identities, agents (代办) and consent (authorizations).
//
// An identity-authority department (IDENTITY_CLERK member, after its real-name
// check) binds a holder's key to a holder_ref and registers agents. A holder
// grants an authorization with its current key; an active agent may grant on
// its behalf (recorded as via_agent). Only the holder's current key, or the
// agent that granted it (while still an active agent), may withdraw a grant.
//
// holderkey/<pubkey> holds holder_ref (32 bytes) || BE64 revoked_height: a
// replaced key stays usable for the rest of its block and signs nothing from
// the next block on, like a revoked member key.
#include "contracts/internal.h"

namespace cl::contracts::internal {
namespace {

Result<std::optional<Outcome>> RequireIdentityClerk(TxContext& ctx) {
  CL_ASSIGN_OR_RETURN(auto m, ActiveMember(ctx.state, ctx.tx.signer(), ctx.height));
  if (!m)
    return std::optional<Outcome>(Reject(v1::UNKNOWN_SIGNER, "signer is not an active member"));
  CL_ASSIGN_OR_RETURN(auto dept, GetRecord<v1::Department>(ctx.state, keys::Dept(m->department())));
  if (!HasRole(*m, v1::IDENTITY_CLERK) || !dept || !dept->identity_authority()) {
    return std::optional<Outcome>(Reject(
        v1::PERMISSION_DENIED, "needs an IDENTITY_CLERK of an identity-authority department"));
  }
  return std::optional<Outcome>();
}

Bytes HolderKeyValue(ByteView ref, uint64_t revoked_height) {
  Bytes v(ref);
  PutBigEndian64(&v, revoked_height);
  return v;
}

// True if `key` is the holder's key, usable at height h.
Result<bool> IsHolderKey(const StateView& state, ByteView key, ByteView ref, Height h) {
  if (key.empty()) return false;
  CL_ASSIGN_OR_RETURN(auto raw, state.Get(keys::HolderKey(key)));
  if (!raw) return false;
  if (raw->size() != crypto::Digest::kSize + 8) return Corruption("bad holderkey record");
  uint64_t revoked = ReadBigEndian64(ByteView(*raw).substr(crypto::Digest::kSize));
  return ByteView(*raw).substr(0, crypto::Digest::kSize) == ref &&
         (revoked == 0 || h.value() < revoked);
}

// True if `key` is an active agent of the holder at (h, time_ms).
Result<bool> IsActiveAgent(const StateView& state, ByteView key, ByteView ref, Height h,
                           int64_t time_ms) {
  if (key.empty()) return false;
  CL_ASSIGN_OR_RETURN(auto a, GetRecord<v1::AgentRecord>(state, keys::Agent(ref, key)));
  if (!a) return false;
  if (a->revoked_height() != 0 && h.value() >= a->revoked_height()) return false;
  return a->valid_until_ms() == 0 || time_ms <= a->valid_until_ms();
}

}  // namespace

Result<Outcome> ApplyRegisterHolder(TxContext& ctx, const v1::RegisterHolder& r) {
  CL_ASSIGN_OR_RETURN(auto denied, RequireIdentityClerk(ctx));
  if (denied) return *denied;
  if (r.holder_ref().size() != crypto::Digest::kSize)
    return Reject(v1::INVALID_ARGUMENT, "holder_ref must be 32 bytes");
  if (r.public_key().size() != ctx.suite.public_key_size()) {
    return Reject(v1::INVALID_ARGUMENT, "public key has the wrong size for the suite");
  }
  CL_ASSIGN_OR_RETURN(auto as_member, ctx.state.Get(keys::Member(r.public_key())));
  CL_ASSIGN_OR_RETURN(auto as_holder, ctx.state.Get(keys::HolderKey(r.public_key())));
  if (as_member || as_holder) return Reject(v1::ALREADY_EXISTS, "key already registered");
  CL_ASSIGN_OR_RETURN(auto m, ActiveMember(ctx.state, ctx.tx.signer(), ctx.height));
  CL_ASSIGN_OR_RETURN(auto old,
                      GetRecord<v1::HolderRecord>(ctx.state, keys::Holder(r.holder_ref())));
  if (old) {
    ctx.state.Put(keys::HolderKey(old->public_key()),
                  HolderKeyValue(r.holder_ref(), ctx.height.value() + 1));
  }
  v1::HolderRecord rec;
  rec.set_holder_ref(r.holder_ref());
  rec.set_public_key(r.public_key());
  rec.set_registered_height(ctx.height.value());
  rec.set_registered_by(m->department());
  ctx.state.Put(keys::Holder(r.holder_ref()), Encode(rec));
  ctx.state.Put(keys::HolderKey(r.public_key()), HolderKeyValue(r.holder_ref(), 0));
  return Ok(old ? "holder key replaced; the old key is revoked from height " +
                      std::to_string(ctx.height.value() + 1)
                : "holder registered");
}

Result<Outcome> ApplyRegisterAgent(TxContext& ctx, const v1::RegisterAgent& r) {
  CL_ASSIGN_OR_RETURN(auto denied, RequireIdentityClerk(ctx));
  if (denied) return *denied;
  if (r.holder_ref().size() != crypto::Digest::kSize)
    return Reject(v1::INVALID_ARGUMENT, "holder_ref must be 32 bytes");
  if (r.agent_public_key().size() != ctx.suite.public_key_size()) {
    return Reject(v1::INVALID_ARGUMENT, "agent key has the wrong size for the suite");
  }
  Bytes key = keys::Agent(r.holder_ref(), r.agent_public_key());
  CL_ASSIGN_OR_RETURN(auto existing, GetRecord<v1::AgentRecord>(ctx.state, key));
  if (r.revoke()) {
    if (!existing ||
        (existing->revoked_height() != 0 && ctx.height.value() >= existing->revoked_height())) {
      return Reject(v1::NOT_FOUND, "no active agency to end");
    }
    existing->set_revoked_height(ctx.height.value() + 1);
    ctx.state.Put(key, Encode(*existing));
    return Ok("agency ended from height " + std::to_string(ctx.height.value() + 1));
  }
  if (!ValidCode(r.relation())) return Reject(v1::INVALID_ARGUMENT, "relation code required");
  if (!ValidTime(r.valid_until_ms()))
    return Reject(v1::INVALID_ARGUMENT, "valid_until_ms out of range");
  CL_ASSIGN_OR_RETURN(auto as_member, ctx.state.Get(keys::Member(r.agent_public_key())));
  if (as_member) return Reject(v1::INVALID_ARGUMENT, "a department member key cannot be an agent");
  CL_ASSIGN_OR_RETURN(auto m, ActiveMember(ctx.state, ctx.tx.signer(), ctx.height));
  v1::AgentRecord rec;
  rec.set_holder_ref(r.holder_ref());
  rec.set_agent_public_key(r.agent_public_key());
  rec.set_relation(r.relation());
  rec.set_valid_until_ms(r.valid_until_ms());
  rec.set_registered_height(ctx.height.value());
  rec.set_registered_by(m->department());
  ctx.state.Put(key, Encode(rec));
  return Ok("agent registered");
}

Result<Outcome> ApplyGrant(TxContext& ctx, const v1::GrantAuthorization& g) {
  if (!ValidId(g.grant_id())) return Reject(v1::INVALID_ARGUMENT, "invalid grant_id");
  if (g.holder_ref().size() != crypto::Digest::kSize)
    return Reject(v1::INVALID_ARGUMENT, "holder_ref must be 32 bytes");
  CL_ASSIGN_OR_RETURN(bool by_holder,
                      IsHolderKey(ctx.state, ctx.tx.signer(), g.holder_ref(), ctx.height));
  bool by_agent = false;
  if (!by_holder) {
    CL_ASSIGN_OR_RETURN(by_agent, IsActiveAgent(ctx.state, ctx.tx.signer(), g.holder_ref(),
                                                ctx.height, ctx.time_ms));
  }
  if (!by_holder && !by_agent) {
    return Reject(v1::PERMISSION_DENIED, "signer is neither the holder's key nor an active agent");
  }
  if (g.data_types().empty() || !ValidCodeList(g.data_types())) {
    return Reject(v1::INVALID_ARGUMENT, "data types must be distinct codes");
  }
  if (g.purpose().empty() || !ValidText(g.purpose()))
    return Reject(v1::INVALID_ARGUMENT, "purpose required");
  if (!ValidTime(g.not_before_ms()) || !ValidTime(g.not_after_ms())) {
    return Reject(v1::INVALID_ARGUMENT, "validity window out of range");
  }
  if (g.not_before_ms() >= g.not_after_ms())
    return Reject(v1::INVALID_ARGUMENT, "empty validity window");
  if (g.not_after_ms() < ctx.time_ms)
    return Reject(v1::INVALID_ARGUMENT, "validity window already over");
  CL_ASSIGN_OR_RETURN(auto grantee, ActiveDepartment(ctx.state, g.grantee()));
  if (!grantee) return Reject(v1::NOT_FOUND, "no active department " + g.grantee());
  CL_ASSIGN_OR_RETURN(auto existing, ctx.state.Get(keys::Auth(g.grant_id())));
  if (existing) return Reject(v1::ALREADY_EXISTS, "grant " + g.grant_id() + " exists");

  v1::AuthorizationRecord rec;
  *rec.mutable_grant() = g;
  rec.set_status(v1::ACTIVE);
  rec.set_granted_by(ctx.tx.signer());
  rec.set_via_agent(by_agent);
  rec.set_granted_height(ctx.height.value());
  rec.set_tx_id(ctx.tx_id.ToBytes());
  ctx.state.Put(keys::Auth(g.grant_id()), Encode(rec));
  ctx.state.Put(keys::HolderAuth(g.holder_ref(), g.grantee(), ctx.height.value(), g.grant_id()),
                "");
  return Ok(by_agent ? "authorization granted by an agent (代办)" : "authorization granted");
}

Result<Outcome> ApplyRevokeAuthorization(TxContext& ctx, const v1::RevokeAuthorization& r) {
  if (!ValidId(r.grant_id())) return Reject(v1::INVALID_ARGUMENT, "invalid grant_id");
  if (!ValidText(r.reason())) return Reject(v1::INVALID_ARGUMENT, "reason too long");
  CL_ASSIGN_OR_RETURN(auto rec,
                      GetRecord<v1::AuthorizationRecord>(ctx.state, keys::Auth(r.grant_id())));
  if (!rec) return Reject(v1::NOT_FOUND, "no grant " + r.grant_id());
  const Bytes& ref = rec->grant().holder_ref();
  CL_ASSIGN_OR_RETURN(bool by_holder, IsHolderKey(ctx.state, ctx.tx.signer(), ref, ctx.height));
  bool by_granting_agent = false;
  if (!by_holder && rec->via_agent() && rec->granted_by() == ctx.tx.signer()) {
    CL_ASSIGN_OR_RETURN(by_granting_agent,
                        IsActiveAgent(ctx.state, ctx.tx.signer(), ref, ctx.height, ctx.time_ms));
  }
  if (!by_holder && !by_granting_agent) {
    return Reject(v1::PERMISSION_DENIED,
                  "only the holder or the agent that granted it may withdraw it");
  }
  if (rec->status() != v1::ACTIVE) return Reject(v1::INVALID_STATE, "grant already withdrawn");
  rec->set_status(v1::WITHDRAWN);
  rec->set_withdrawn_height(ctx.height.value());
  rec->set_withdraw_reason(r.reason());
  ctx.state.Put(keys::Auth(r.grant_id()), Encode(*rec));
  return Ok("authorization withdrawn");
}

}  // namespace cl::contracts::internal
