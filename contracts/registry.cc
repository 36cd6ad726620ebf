// Certificate registry (电子证照 and 电子票据): anchoring and status changes.
//
// Anchoring: the signer must be an active ISSUING_CLERK member of the
// department named as issuer, and that department a permitted issuer of the
// type. Status changes (revoke, suspend, reinstate, supersede) are by an
// ISSUING_CLERK of the original issuer only, need a reason, and append a
// CertEvent so the status at any past time can be recomputed.
//
//   VALID --suspend--> SUSPENDED --reinstate--> VALID
//   VALID | SUSPENDED --revoke--> REVOKED        (final)
//   VALID | SUSPENDED --supersede--> SUPERSEDED  (final)
#include <initializer_list>
#include <set>
#include <variant>

#include "contracts/internal.h"

namespace cl::contracts::internal {
namespace {

// The signer as an ISSUING_CLERK member, or the rejection.
Result<std::variant<v1::Member, Outcome>> IssuingClerk(TxContext& ctx) {
  CL_ASSIGN_OR_RETURN(auto m, ActiveMember(ctx.state, ctx.tx.signer(), ctx.height));
  if (!m)
    return std::variant<v1::Member, Outcome>(
        Reject(v1::UNKNOWN_SIGNER, "signer is not an active member"));
  if (!HasRole(*m, v1::ISSUING_CLERK)) {
    return std::variant<v1::Member, Outcome>(
        Reject(v1::PERMISSION_DENIED, "signer lacks the ISSUING_CLERK role"));
  }
  return std::variant<v1::Member, Outcome>(*m);
}

v1::CertEvent Event(const TxContext& ctx, v1::CertEvent::Kind kind, const std::string& reason) {
  v1::CertEvent e;
  e.set_kind(kind);
  e.set_height(ctx.height.value());
  e.set_time_ms(ctx.time_ms);
  e.set_reason(reason);
  e.set_tx_id(ctx.tx_id.ToBytes());
  e.set_signer(ctx.tx.signer());
  return e;
}

// Loads the certificate for a status change by its issuer, or the rejection.
Result<std::variant<v1::CertificateRecord, Outcome>> LoadForChange(TxContext& ctx,
                                                                   const std::string& cert_id,
                                                                   const std::string& reason) {
  using R = std::variant<v1::CertificateRecord, Outcome>;
  CL_ASSIGN_OR_RETURN(auto clerk, IssuingClerk(ctx));
  if (auto* o = std::get_if<Outcome>(&clerk)) return R(*o);
  if (reason.empty() || !ValidText(reason))
    return R(Reject(v1::INVALID_ARGUMENT, "a reason is required"));
  if (!ValidId(cert_id)) return R(Reject(v1::INVALID_ARGUMENT, "invalid cert_id"));
  CL_ASSIGN_OR_RETURN(auto rec, GetRecord<v1::CertificateRecord>(ctx.state, keys::Cert(cert_id)));
  if (!rec) return R(Reject(v1::NOT_FOUND, "no certificate " + cert_id));
  if (rec->anchor().issuer() != std::get<v1::Member>(clerk).department()) {
    return R(Reject(v1::PERMISSION_DENIED,
                    "only the issuer " + rec->anchor().issuer() + " may change it"));
  }
  if (static_cast<size_t>(rec->history_size()) >= kMaxCertHistory) {
    return R(Reject(v1::INVALID_STATE, "certificate history is full"));
  }
  return R(std::move(*rec));
}

std::string_view StatusName(v1::CertStatus s) { return v1::CertStatus_Name(s); }

Result<Outcome> Transition(TxContext& ctx, const std::string& cert_id, const std::string& reason,
                           std::initializer_list<v1::CertStatus> from, v1::CertStatus to,
                           v1::CertEvent::Kind kind) {
  CL_ASSIGN_OR_RETURN(auto loaded, LoadForChange(ctx, cert_id, reason));
  if (auto* o = std::get_if<Outcome>(&loaded)) return *o;
  auto& rec = std::get<v1::CertificateRecord>(loaded);
  bool allowed = false;
  for (auto s : from) allowed = allowed || rec.status() == s;
  if (!allowed) {
    return Reject(v1::INVALID_STATE, "certificate is " + std::string(StatusName(rec.status())));
  }
  rec.set_status(to);
  *rec.add_history() = Event(ctx, kind, reason);
  ctx.state.Put(keys::Cert(cert_id), Encode(rec));
  return Ok("certificate " + cert_id + " " + std::string(StatusName(to)));
}

}  // namespace

Result<Outcome> ApplyAnchor(TxContext& ctx, const v1::AnchorCertificate& a) {
  CL_ASSIGN_OR_RETURN(auto clerk, IssuingClerk(ctx));
  if (auto* o = std::get_if<Outcome>(&clerk)) return *o;
  const auto& member = std::get<v1::Member>(clerk);
  if (!ValidId(a.cert_id())) return Reject(v1::INVALID_ARGUMENT, "invalid cert_id");
  if (a.doc_hash().size() != crypto::Digest::kSize)
    return Reject(v1::INVALID_ARGUMENT, "doc_hash must be 32 bytes");
  if (a.holder_ref().size() != crypto::Digest::kSize)
    return Reject(v1::INVALID_ARGUMENT, "holder_ref must be 32 bytes");
  if (a.number_ref().size() > crypto::Digest::kSize)
    return Reject(v1::INVALID_ARGUMENT, "number_ref too long");
  if (!ValidTime(a.issued_at_ms()) || !ValidTime(a.valid_from_ms()) ||
      !ValidTime(a.valid_until_ms())) {
    return Reject(v1::INVALID_ARGUMENT, "dates out of range");
  }
  if (a.jurisdiction().empty() || !ValidCode(a.jurisdiction())) {
    return Reject(v1::INVALID_ARGUMENT, "jurisdiction code required");
  }
  if (static_cast<size_t>(a.attributes_size()) > kMaxAttributes) {
    return Reject(v1::INVALID_ARGUMENT, "too many attribute commitments");
  }
  std::set<std::string_view> names;
  for (const auto& attr : a.attributes()) {
    if (!ValidCode(attr.name()) || !names.insert(attr.name()).second ||
        attr.commitment().size() != crypto::Digest::kSize) {
      return Reject(v1::INVALID_ARGUMENT,
                    "attribute commitments need distinct names and 32-byte hashes");
    }
  }
  if (a.issuer() != member.department()) {
    return Reject(v1::PERMISSION_DENIED,
                  "issuer must be the signer's department " + member.department());
  }
  CL_ASSIGN_OR_RETURN(auto type, GetRecord<v1::CertType>(ctx.state, keys::Type(a.type_code())));
  if (!type) return Reject(v1::NOT_FOUND, "unknown certificate type " + a.type_code());
  if (!Contains(type->issuers(), a.issuer())) {
    return Reject(v1::PERMISSION_DENIED,
                  a.issuer() + " is not a permitted issuer of " + a.type_code());
  }
  v1::AnchorCertificate anchor = a;
  if (anchor.valid_until_ms() == 0 && type->default_validity_days() > 0) {
    anchor.set_valid_until_ms(anchor.valid_from_ms() +
                              static_cast<int64_t>(type->default_validity_days()) * kDayMs);
  }
  if (anchor.valid_until_ms() != 0 && anchor.valid_until_ms() < anchor.valid_from_ms()) {
    return Reject(v1::INVALID_ARGUMENT, "valid_until before valid_from");
  }
  CL_ASSIGN_OR_RETURN(auto by_id, ctx.state.Get(keys::Cert(a.cert_id())));
  if (by_id) return Reject(v1::ALREADY_EXISTS, "certificate " + a.cert_id() + " already anchored");
  CL_ASSIGN_OR_RETURN(auto by_doc, ctx.state.Get(keys::CertDoc(a.doc_hash())));
  if (by_doc) return Reject(v1::ALREADY_EXISTS, "document hash already anchored as " + *by_doc);

  v1::CertificateRecord rec;
  *rec.mutable_anchor() = std::move(anchor);
  rec.set_status(v1::VALID);
  rec.set_doc_class(type->doc_class());
  *rec.add_history() = Event(ctx, v1::CertEvent::ANCHORED, "");
  ctx.state.Put(keys::Cert(a.cert_id()), Encode(rec));
  ctx.state.Put(keys::CertDoc(a.doc_hash()), a.cert_id());
  ctx.state.Put(keys::HolderCert(a.holder_ref(), a.type_code(), a.issued_at_ms(), a.cert_id()), "");
  return Ok("certificate " + a.cert_id() + " anchored");
}

Result<Outcome> ApplyRevoke(TxContext& ctx, const v1::RevokeCertificate& r) {
  return Transition(ctx, r.cert_id(), r.reason(), {v1::VALID, v1::SUSPENDED}, v1::REVOKED,
                    v1::CertEvent::REVOKED);
}

Result<Outcome> ApplySuspend(TxContext& ctx, const v1::SuspendCertificate& s) {
  return Transition(ctx, s.cert_id(), s.reason(), {v1::VALID}, v1::SUSPENDED,
                    v1::CertEvent::SUSPENDED);
}

Result<Outcome> ApplyReinstate(TxContext& ctx, const v1::ReinstateCertificate& r) {
  return Transition(ctx, r.cert_id(), r.reason(), {v1::SUSPENDED}, v1::VALID,
                    v1::CertEvent::REINSTATED);
}

Result<Outcome> ApplySupersede(TxContext& ctx, const v1::SupersedeCertificate& s) {
  CL_ASSIGN_OR_RETURN(auto loaded, LoadForChange(ctx, s.cert_id(), s.reason()));
  if (auto* o = std::get_if<Outcome>(&loaded)) return *o;
  auto& rec = std::get<v1::CertificateRecord>(loaded);
  if (rec.status() != v1::VALID && rec.status() != v1::SUSPENDED) {
    return Reject(v1::INVALID_STATE, "certificate is " + std::string(StatusName(rec.status())));
  }
  if (s.new_cert_id() == s.cert_id())
    return Reject(v1::INVALID_ARGUMENT, "a certificate cannot supersede itself");
  if (!ValidId(s.new_cert_id())) return Reject(v1::INVALID_ARGUMENT, "invalid new_cert_id");
  CL_ASSIGN_OR_RETURN(auto fresh,
                      GetRecord<v1::CertificateRecord>(ctx.state, keys::Cert(s.new_cert_id())));
  if (!fresh) return Reject(v1::NOT_FOUND, "new certificate " + s.new_cert_id() + " not anchored");
  if (fresh->anchor().issuer() != rec.anchor().issuer() ||
      fresh->anchor().holder_ref() != rec.anchor().holder_ref() ||
      fresh->anchor().type_code() != rec.anchor().type_code()) {
    return Reject(v1::INVALID_ARGUMENT,
                  "the new certificate must have the same issuer, holder and type");
  }
  if (fresh->status() != v1::VALID)
    return Reject(v1::INVALID_STATE, "the new certificate is not VALID");
  rec.set_status(v1::SUPERSEDED);
  rec.set_superseded_by(s.new_cert_id());
  auto* e = rec.add_history();
  *e = Event(ctx, v1::CertEvent::SUPERSEDED, s.reason());
  e->set_new_cert_id(s.new_cert_id());
  ctx.state.Put(keys::Cert(s.cert_id()), Encode(rec));
  return Ok("certificate " + s.cert_id() + " superseded by " + s.new_cert_id());
}

}  // namespace cl::contracts::internal
