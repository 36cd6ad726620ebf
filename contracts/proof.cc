// Proof requests (无证办理): evaluates a matter or a bundle for a holder and
// records the verdict and an access-log entry.
//
// Evaluation rules (docs/contracts.md has the full text):
//  - all_of evaluates every child; any_of evaluates children in order and
//    marks the leaves after the first satisfied child NOT_EVALUATED.
//  - A cert leaf looks at the holder's newest kMaxCertCandidates certificates
//    of the type (newest issue date first) and takes the first that passes, in
//    this order: status, validity window at block time, issuer, max age,
//    attribute predicates, and - if the type discloses data types - consent.
//    If none passes it reports the newest candidate's failure (CERT_MISSING if
//    there is none).
//  - A consent leaf (and a cert leaf's consent) needs an ACTIVE grant of the
//    holder to the requester covering all its data types, in force at block
//    time and not used up; otherwise the newest covering grant's failure
//    (NO_CONSENT if no grant covers them).
//  - Grants relied on by an approved request count one use each (once per
//    request, however many leaves used them). Denied requests use nothing.
#include <charconv>
#include <set>
#include <variant>

#include "contracts/internal.h"
#include "crypto/domain.h"

namespace cl::contracts::internal {
namespace {

using Strings = google::protobuf::RepeatedPtrField<std::string>;

// The holder's grants to the requester (id, record), newest first: read
// once per request, however many leaves need consent. Nothing in the
// evaluation writes grants (uses are counted after it), so they cannot change
// between leaves.
using Grants = std::vector<std::pair<std::string, v1::AuthorizationRecord>>;

struct Env {
  const crypto::Suite& suite;
  const StateView& state;
  int64_t time_ms;
  const std::string& requester;
  const v1::ProofRequest& req;
  mutable std::optional<Grants> grants;  // filled by the first consent check
};

struct NodeResult {
  bool satisfied = false;
  std::set<std::string> grants;  // grants the satisfied subtree relied on
};

struct Check {
  v1::LeafReason reason = v1::SATISFIED;
  std::string record_id;
  std::string detail;
};

Check Fail(v1::LeafReason reason, std::string record_id, std::string detail) {
  return {reason, std::move(record_id), std::move(detail)};
}

bool Covers(const Strings& granted, const Strings& needed) {
  for (const auto& d : needed) {
    if (!Contains(granted, d)) return false;
  }
  return true;
}

Result<const Grants*> HolderGrants(const Env& env) {
  if (env.grants) return &*env.grants;
  Bytes prefix = keys::HolderAuthPrefix(env.req.holder_ref(), env.requester);
  CL_ASSIGN_OR_RETURN(auto index, env.state.Scan(prefix, "", kMaxGrantCandidates));
  Grants grants;
  grants.reserve(index.size());
  for (const auto& [k, v] : index) {
    std::string grant_id = k.substr(prefix.size() + 8);
    CL_ASSIGN_OR_RETURN(auto rec,
                        GetRecord<v1::AuthorizationRecord>(env.state, keys::Auth(grant_id)));
    if (!rec) return Corruption("authorization index points to a missing grant " + grant_id);
    grants.emplace_back(std::move(grant_id), std::move(*rec));
  }
  env.grants = std::move(grants);
  return &*env.grants;
}

Result<Check> FindConsent(const Env& env, const Strings& data_types) {
  CL_ASSIGN_OR_RETURN(const Grants* grants, HolderGrants(env));
  std::optional<Check> first_failure;
  for (const auto& [grant_id, record] : *grants) {
    const v1::AuthorizationRecord* rec = &record;
    const auto& g = rec->grant();
    if (!Covers(g.data_types(), data_types)) continue;
    Check c;
    if (rec->status() != v1::ACTIVE) {
      c = Fail(v1::CONSENT_WITHDRAWN, grant_id,
               "grant withdrawn at height " + std::to_string(rec->withdrawn_height()));
    } else if (env.time_ms < g.not_before_ms()) {
      c = Fail(v1::CONSENT_EXPIRED, grant_id, "grant not yet in force");
    } else if (env.time_ms > g.not_after_ms()) {
      c = Fail(v1::CONSENT_EXPIRED, grant_id, "grant expired");
    } else if (g.max_uses() != 0 && rec->uses() >= g.max_uses()) {
      c = Fail(v1::CONSENT_USED_UP, grant_id,
               "grant used " + std::to_string(rec->uses()) + " of " + std::to_string(g.max_uses()) +
                   " times");
    } else {
      return Check{v1::SATISFIED, grant_id, "consent by grant " + grant_id};
    }
    if (!first_failure) first_failure = c;
  }
  if (first_failure) return *first_failure;
  return Fail(v1::NO_CONSENT, "", "no grant to " + env.requester + " covers the data types");
}

const v1::AttributeDisclosure* FindDisclosure(const v1::ProofRequest& req,
                                              const std::string& cert_id, const std::string& name) {
  for (const auto& d : req.disclosures()) {
    if (d.cert_id() == cert_id && d.name() == name) return &d;
  }
  return nullptr;
}

bool ParseInt(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool PredicateHolds(const v1::AttributePredicate& p, const std::string& value) {
  int64_t have = 0, want = 0;
  switch (p.op()) {
    case v1::AttributePredicate::EQUALS:
      return !p.values().empty() && value == p.values(0);
    case v1::AttributePredicate::ONE_OF:
      return Contains(p.values(), value);
    case v1::AttributePredicate::INT_GTE:
      return !p.values().empty() && ParseInt(value, &have) && ParseInt(p.values(0), &want) &&
             have >= want;
    case v1::AttributePredicate::INT_LTE:
      return !p.values().empty() && ParseInt(value, &have) && ParseInt(p.values(0), &want) &&
             have <= want;
    default:
      return false;
  }
}

Check CheckPredicates(const Env& env, const v1::CertificateRecord& rec,
                      const v1::CertRequirement& leaf) {
  const std::string& id = rec.anchor().cert_id();
  for (const auto& p : leaf.predicates()) {
    const v1::AttributeCommitment* commitment = nullptr;
    for (const auto& a : rec.anchor().attributes()) {
      if (a.name() == p.name()) commitment = &a;
    }
    if (!commitment)
      return Fail(v1::ATTRIBUTE_MISMATCH, id, "certificate commits to no attribute " + p.name());
    const auto* d = FindDisclosure(env.req, id, p.name());
    if (!d)
      return Fail(v1::ATTRIBUTE_NOT_DISCLOSED, id, "attribute " + p.name() + " not disclosed");
    const ByteView parts[] = {crypto::kAttrTag, d->salt(), d->name(), ByteView("\0", 1),
                              d->value()};
    if (env.suite.HashParts(parts).view() != commitment->commitment()) {
      return Fail(v1::ATTRIBUTE_MISMATCH, id,
                  "disclosure of " + p.name() + " does not open the commitment");
    }
    if (!PredicateHolds(p, d->value())) {
      return Fail(v1::PREDICATE_FAILED, id,
                  "attribute " + p.name() + " fails " + v1::AttributePredicate::Op_Name(p.op()));
    }
  }
  return Check{v1::SATISFIED, id, ""};
}

Check CheckCertificate(const Env& env, const v1::CertificateRecord& rec,
                       const v1::CertRequirement& leaf) {
  const auto& a = rec.anchor();
  const std::string& id = a.cert_id();
  switch (rec.status()) {
    case v1::REVOKED:
      return Fail(v1::CERT_REVOKED, id, "certificate revoked");
    case v1::SUSPENDED:
      return Fail(v1::CERT_SUSPENDED, id, "certificate suspended");
    case v1::SUPERSEDED:
      return Fail(v1::CERT_SUPERSEDED, id, "superseded by " + rec.superseded_by());
    default:
      break;
  }
  if (env.time_ms < a.valid_from_ms())
    return Fail(v1::CERT_EXPIRED, id, "certificate not yet valid");
  if (a.valid_until_ms() != 0 && env.time_ms > a.valid_until_ms()) {
    return Fail(v1::CERT_EXPIRED, id, "certificate expired");
  }
  if (!leaf.issuers().empty() && !Contains(leaf.issuers(), a.issuer())) {
    return Fail(v1::CERT_WRONG_ISSUER, id, "issued by " + a.issuer() + ", not a required issuer");
  }
  if (leaf.max_age_days() != 0 &&
      env.time_ms - a.issued_at_ms() > static_cast<int64_t>(leaf.max_age_days()) * kDayMs) {
    return Fail(v1::CERT_TOO_OLD, id,
                "issued more than " + std::to_string(leaf.max_age_days()) + " days ago");
  }
  return CheckPredicates(env, rec, leaf);
}

Result<std::pair<Check, std::set<std::string>>> EvalCertLeaf(const Env& env,
                                                             const v1::CertRequirement& leaf) {
  using R = std::pair<Check, std::set<std::string>>;
  Bytes prefix = keys::HolderCertPrefix(env.req.holder_ref(), leaf.type_code());
  CL_ASSIGN_OR_RETURN(auto index, env.state.Scan(prefix, "", kMaxCertCandidates));
  if (index.empty())
    return R{Fail(v1::CERT_MISSING, "", "no " + leaf.type_code() + " for the holder"), {}};
  std::optional<Check> first_failure;
  for (const auto& [k, v] : index) {
    std::string cert_id = k.substr(prefix.size() + 8);
    CL_ASSIGN_OR_RETURN(auto rec, GetRecord<v1::CertificateRecord>(env.state, keys::Cert(cert_id)));
    if (!rec) return Corruption("certificate index points to a missing record " + cert_id);
    Check c = CheckCertificate(env, *rec, leaf);
    if (c.reason != v1::SATISFIED) {
      if (!first_failure) first_failure = c;
      continue;
    }
    CL_ASSIGN_OR_RETURN(auto type,
                        GetRecord<v1::CertType>(env.state, keys::Type(leaf.type_code())));
    if (!type || type->data_types().empty()) return R{Check{v1::SATISFIED, cert_id, "valid"}, {}};
    CL_ASSIGN_OR_RETURN(Check consent, FindConsent(env, type->data_types()));
    if (consent.reason != v1::SATISFIED) {
      return R{Fail(consent.reason, cert_id,
                    "certificate valid, but " + consent.detail +
                        (consent.record_id.empty() ? "" : " (" + consent.record_id + ")")),
               {}};
    }
    return R{Check{v1::SATISFIED, cert_id, "valid; " + consent.detail}, {consent.record_id}};
  }
  return R{*first_failure, {}};
}

void AddLeaf(std::vector<v1::LeafResult>* out, const std::string& path, const v1::Requirement& r,
             const Check& c) {
  v1::LeafResult leaf;
  leaf.set_path(path);
  leaf.set_label(r.label());
  leaf.set_satisfied(c.reason == v1::SATISFIED);
  leaf.set_reason(c.reason);
  leaf.set_record_id(c.record_id);
  leaf.set_detail(c.detail);
  out->push_back(std::move(leaf));
}

// Evaluates the subtree at `path`; `skip` marks its leaves NOT_EVALUATED.
Result<NodeResult> EvalNode(const Env& env, const v1::Requirement& r, const std::string& path,
                            bool skip, std::vector<v1::LeafResult>* out) {
  switch (r.node_case()) {
    case v1::Requirement::kAllOf: {
      NodeResult res{.satisfied = !skip, .grants = {}};
      for (int i = 0; i < r.all_of().items_size(); ++i) {
        CL_ASSIGN_OR_RETURN(NodeResult child, EvalNode(env, r.all_of().items(i),
                                                       path + "." + std::to_string(i), skip, out));
        res.satisfied = res.satisfied && child.satisfied;
        res.grants.insert(child.grants.begin(), child.grants.end());
      }
      if (!res.satisfied) res.grants.clear();
      return res;
    }
    case v1::Requirement::kAnyOf: {
      NodeResult res;
      for (int i = 0; i < r.any_of().items_size(); ++i) {
        CL_ASSIGN_OR_RETURN(NodeResult child,
                            EvalNode(env, r.any_of().items(i), path + "." + std::to_string(i),
                                     skip || res.satisfied, out));
        if (child.satisfied && !res.satisfied) res = std::move(child);
      }
      return res;
    }
    case v1::Requirement::kCert:
    case v1::Requirement::kConsent: {
      if (skip) {
        AddLeaf(out, path, r, Fail(v1::NOT_EVALUATED, "", "an alternative was already satisfied"));
        return NodeResult{};
      }
      if (r.has_cert()) {
        CL_ASSIGN_OR_RETURN(auto cert, EvalCertLeaf(env, r.cert()));
        AddLeaf(out, path, r, cert.first);
        return NodeResult{cert.first.reason == v1::SATISFIED, std::move(cert.second)};
      }
      CL_ASSIGN_OR_RETURN(Check consent, FindConsent(env, r.consent().data_types()));
      AddLeaf(out, path, r, consent);
      if (consent.reason != v1::SATISFIED) return NodeResult{};
      return NodeResult{true, {consent.record_id}};
    }
    case v1::Requirement::NODE_NOT_SET:
      break;
  }
  return Corruption("stored requirement node without a kind");
}

Result<std::variant<std::vector<v1::ServiceDefinition>, Outcome>> ResolveTarget(
    TxContext& ctx, const v1::ProofRequest& p, v1::Verdict* verdict) {
  using R = std::variant<std::vector<v1::ServiceDefinition>, Outcome>;
  std::vector<v1::ServiceDefinition> services;
  if (p.target_case() == v1::ProofRequest::kServiceCode) {
    CL_ASSIGN_OR_RETURN(
        auto svc, GetRecord<v1::ServiceDefinition>(ctx.state, keys::Service(p.service_code())));
    if (!ValidCode(p.service_code()) || !svc)
      return R(Reject(v1::NOT_FOUND, "no service " + p.service_code()));
    services.push_back(std::move(*svc));
    return R(std::move(services));
  }
  CL_ASSIGN_OR_RETURN(auto bundle,
                      GetRecord<v1::BundleDefinition>(ctx.state, keys::Bundle(p.bundle_code())));
  if (!ValidCode(p.bundle_code()) || !bundle)
    return R(Reject(v1::NOT_FOUND, "no bundle " + p.bundle_code()));
  verdict->set_bundle_code(bundle->code());
  verdict->set_bundle_version(bundle->version());
  for (const auto& code : bundle->service_codes()) {
    CL_ASSIGN_OR_RETURN(auto svc, GetRecord<v1::ServiceDefinition>(ctx.state, keys::Service(code)));
    if (!svc) return Corruption("bundle " + bundle->code() + " names a missing service " + code);
    services.push_back(std::move(*svc));
  }
  return R(std::move(services));
}

std::string CheckRequestFields(const v1::ProofRequest& p) {
  if (!ValidId(p.request_id())) return "invalid request_id";
  if (p.reason().empty() || !ValidText(p.reason())) return "a reason (申请事由) is required";
  if (p.holder_ref().size() != crypto::Digest::kSize) return "holder_ref must be 32 bytes";
  if (p.target_case() == v1::ProofRequest::TARGET_NOT_SET)
    return "service_code or bundle_code required";
  if (static_cast<size_t>(p.disclosures_size()) > kMaxDisclosures) return "too many disclosures";
  for (const auto& d : p.disclosures()) {
    if (!ValidId(d.cert_id()) || !ValidCode(d.name()) || !ValidText(d.value()) ||
        d.salt().size() > 64) {
      return "malformed disclosure";
    }
  }
  return "";
}

}  // namespace

Result<Outcome> ApplyProofRequest(TxContext& ctx, const v1::ProofRequest& p, v1::Verdict* verdict) {
  CL_ASSIGN_OR_RETURN(auto m, ActiveMember(ctx.state, ctx.tx.signer(), ctx.height));
  if (!m) return Reject(v1::UNKNOWN_SIGNER, "signer is not an active member");
  if (!HasRole(*m, v1::SERVICE_SYSTEM) && !HasRole(*m, v1::VERIFYING_CLERK)) {
    return Reject(v1::PERMISSION_DENIED, "proof requests need SERVICE_SYSTEM or VERIFYING_CLERK");
  }
  if (std::string err = CheckRequestFields(p); !err.empty())
    return Reject(v1::INVALID_ARGUMENT, err);
  CL_ASSIGN_OR_RETURN(auto existing, ctx.state.Get(keys::Verdict(p.request_id())));
  if (existing) return Reject(v1::ALREADY_EXISTS, "request " + p.request_id() + " already decided");

  v1::Verdict v;
  CL_ASSIGN_OR_RETURN(auto target, ResolveTarget(ctx, p, &v));
  if (auto* o = std::get_if<Outcome>(&target)) return *o;
  const auto& services = std::get<std::vector<v1::ServiceDefinition>>(target);

  const std::string& requester = m->department();
  v.set_request_id(p.request_id());
  v.set_requester(requester);
  v.set_holder_ref(p.holder_ref());
  v.set_reason(p.reason());
  v.set_height(ctx.height.value());
  v.set_time_ms(ctx.time_ms);
  v.set_tx_id(ctx.tx_id.ToBytes());

  bool permitted = true;
  for (const auto& svc : services) permitted = permitted && Contains(svc.requesters(), requester);
  std::set<std::string> grants;
  bool approved = permitted;
  Env env{ctx.suite, ctx.state, ctx.time_ms, requester, p, std::nullopt};
  for (const auto& svc : services) {
    auto* mv = v.add_matters();
    mv->set_service_code(svc.code());
    mv->set_service_version(svc.version());
    if (!permitted) {
      // Nothing of the holder's is read for a request that is not permitted.
      if (!Contains(svc.requesters(), requester)) mv->set_denial(v1::REQUESTER_NOT_PERMITTED);
      continue;
    }
    std::vector<v1::LeafResult> leaves;
    CL_ASSIGN_OR_RETURN(NodeResult res, EvalNode(env, svc.requirement(), "0", false, &leaves));
    mv->set_approved(res.satisfied);
    for (auto& l : leaves) *mv->add_leaves() = std::move(l);
    approved = approved && res.satisfied;
    grants.insert(res.grants.begin(), res.grants.end());
  }
  if (!permitted) v.set_denial(v1::REQUESTER_NOT_PERMITTED);
  v.set_approved(approved);
  if (approved) {
    for (const auto& id : grants) {
      CL_ASSIGN_OR_RETURN(auto rec, GetRecord<v1::AuthorizationRecord>(ctx.state, keys::Auth(id)));
      if (!rec) return Corruption("grant vanished during evaluation: " + id);
      rec->set_uses(rec->uses() + 1);
      ctx.state.Put(keys::Auth(id), Encode(*rec));
      v.add_grants_used(id);
    }
  }

  v1::AccessLogEntry entry;
  entry.set_holder_ref(p.holder_ref());
  entry.set_requester(requester);
  entry.set_time_ms(ctx.time_ms);
  entry.set_height(ctx.height.value());
  entry.set_service_code(v.bundle_code().empty() ? services.front().code() : v.bundle_code());
  entry.set_request_id(p.request_id());
  *entry.mutable_grants_used() = v.grants_used();
  entry.set_approved(approved);
  entry.set_reason(p.reason());
  entry.set_tx_id(ctx.tx_id.ToBytes());
  ctx.state.Put(keys::AccessLog(p.holder_ref(), ctx.height.value(), ctx.index), Encode(entry));
  ctx.state.Put(keys::Verdict(p.request_id()), Encode(v));
  *verdict = std::move(v);
  return Ok(approved ? "approved" : (permitted ? "denied" : "denied: requester not permitted"));
}

}  // namespace cl::contracts::internal
