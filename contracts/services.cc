// Service matters (事项) and bundles (一件事): versioned definitions.
//
// Version 1 of a code may be defined by any active ADMIN; version n+1 only by
// an ADMIN of a department among the current version's owners. Old versions
// stay readable under svcv/ so verdicts can be replayed against the version
// they used.
#include <charconv>
#include <set>
#include <variant>

#include "contracts/internal.h"

namespace cl::contracts::internal {
namespace {

constexpr size_t kMaxPredicates = 8;

bool ParseInt(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool Subset(const google::protobuf::RepeatedPtrField<std::string>& a,
            const google::protobuf::RepeatedPtrField<std::string>& b) {
  for (const auto& x : a) {
    if (!Contains(b, x)) return false;
  }
  return true;
}

struct TreeCheck {
  const StateView& state;
  const v1::ServiceDefinition& service;
  uint32_t max_leaves;
  uint32_t leaves = 0;
};

std::string CheckPredicate(const v1::AttributePredicate& p) {
  if (!ValidCode(p.name())) return "predicate needs an attribute name";
  switch (p.op()) {
    case v1::AttributePredicate::EQUALS:
      if (p.values_size() != 1) return "EQUALS takes one value";
      return "";
    case v1::AttributePredicate::ONE_OF:
      if (p.values().empty() || static_cast<size_t>(p.values_size()) > kMaxListItems) {
        return "ONE_OF takes 1..32 values";
      }
      return "";
    case v1::AttributePredicate::INT_GTE:
    case v1::AttributePredicate::INT_LTE: {
      int64_t v = 0;
      if (p.values_size() != 1 || !ParseInt(p.values(0), &v))
        return "integer predicate takes one integer";
      return "";
    }
    default:
      return "unknown predicate op";
  }
}

Result<std::string> CheckNode(TreeCheck& tc, const v1::Requirement& r, int depth) {
  if (depth > kMaxRequirementDepth) return std::string("requirement tree deeper than 8");
  if (!ValidText(r.label())) return std::string("label too long");
  switch (r.node_case()) {
    case v1::Requirement::kAllOf:
    case v1::Requirement::kAnyOf: {
      const auto& list = r.has_all_of() ? r.all_of() : r.any_of();
      if (list.items().empty()) return std::string("empty all_of/any_of");
      for (const auto& child : list.items()) {
        CL_ASSIGN_OR_RETURN(std::string err, CheckNode(tc, child, depth + 1));
        if (!err.empty()) return err;
      }
      return std::string();
    }
    case v1::Requirement::kCert: {
      if (++tc.leaves > tc.max_leaves)
        return "more than " + std::to_string(tc.max_leaves) + " leaves";
      const auto& c = r.cert();
      CL_ASSIGN_OR_RETURN(auto type, GetRecord<v1::CertType>(tc.state, keys::Type(c.type_code())));
      if (!ValidCode(c.type_code()) || !type) return "unknown certificate type " + c.type_code();
      if (!ValidCodeList(c.issuers()) || !Subset(c.issuers(), type->issuers())) {
        return "leaf issuers must be permitted issuers of " + c.type_code();
      }
      if (!Subset(type->data_types(), tc.service.data_types())) {
        return "the matter's data_types must list what " + c.type_code() + " discloses";
      }
      if (static_cast<size_t>(c.predicates_size()) > kMaxPredicates)
        return std::string("too many predicates");
      for (const auto& p : c.predicates()) {
        if (std::string err = CheckPredicate(p); !err.empty()) return err;
      }
      return std::string();
    }
    case v1::Requirement::kConsent: {
      if (++tc.leaves > tc.max_leaves)
        return "more than " + std::to_string(tc.max_leaves) + " leaves";
      const auto& dt = r.consent().data_types();
      if (dt.empty() || !ValidCodeList(dt)) return std::string("consent needs distinct data types");
      if (!Subset(dt, tc.service.data_types()))
        return std::string("consent data types must be in the matter's data_types");
      return std::string();
    }
    case v1::Requirement::NODE_NOT_SET:
      break;
  }
  return std::string("requirement node missing");
}

Result<std::string> CheckDepartments(const StateView& state,
                                     const google::protobuf::RepeatedPtrField<std::string>& list,
                                     std::string_view what) {
  if (list.empty() || !ValidCodeList(list))
    return std::string(what) + " must be distinct department codes";
  for (const auto& code : list) {
    CL_ASSIGN_OR_RETURN(auto d, ActiveDepartment(state, code));
    if (!d) return std::string(what) + ": no active department " + code;
  }
  return std::string();
}

// Who may define `version` of a definition whose current version is `current`
// (nullopt if none). Empty when permitted.
struct VersionRule {
  v1::ResultCode code = v1::OK;
  std::string message;
};
VersionRule CheckVersion(uint32_t version, std::optional<uint32_t> current,
                         const google::protobuf::RepeatedPtrField<std::string>* current_owners,
                         const std::string& signer_dept) {
  if (!current) {
    if (version != 1) return {v1::INVALID_STATE, "the first version must be 1"};
    return {};
  }
  if (version != *current + 1) {
    if (version == 1) return {v1::ALREADY_EXISTS, "already defined"};
    return {v1::INVALID_STATE, "next version must be " + std::to_string(*current + 1)};
  }
  if (!Contains(*current_owners, signer_dept)) {
    return {v1::PERMISSION_DENIED, signer_dept + " does not own it"};
  }
  return {};
}

Result<std::variant<v1::Member, Outcome>> RequireAdmin(TxContext& ctx) {
  using R = std::variant<v1::Member, Outcome>;
  CL_ASSIGN_OR_RETURN(auto m, ActiveMember(ctx.state, ctx.tx.signer(), ctx.height));
  if (!m) return R(Reject(v1::UNKNOWN_SIGNER, "signer is not an active member"));
  if (!HasRole(*m, v1::ADMIN))
    return R(Reject(v1::PERMISSION_DENIED, "defining matters needs an ADMIN"));
  return R(*m);
}

}  // namespace

Result<std::string> CheckServiceDefinition(const StateView& state, const v1::ServiceDefinition& s,
                                           uint32_t max_leaves) {
  if (!ValidCode(s.code())) return std::string("invalid service code");
  if (s.name().empty() || !ValidText(s.name())) return std::string("service name required");
  if (s.version() == 0) return std::string("version starts at 1");
  CL_ASSIGN_OR_RETURN(std::string err, CheckDepartments(state, s.owners(), "owners"));
  if (!err.empty()) return err;
  CL_ASSIGN_OR_RETURN(err, CheckDepartments(state, s.requesters(), "requesters"));
  if (!err.empty()) return err;
  if (!ValidCodeList(s.data_types())) return std::string("data types must be distinct codes");
  if (!s.has_requirement()) return std::string("requirement tree required");
  TreeCheck tc{state, s, max_leaves};
  return CheckNode(tc, s.requirement(), 1);
}

void PutService(OverlayState& state, const v1::ServiceDefinition& s) {
  Bytes enc = Encode(s);
  state.Put(keys::Service(s.code()), enc);
  state.Put(keys::ServiceVersion(s.code(), s.version()), enc);
}

Result<Outcome> ApplyDefineService(TxContext& ctx, const v1::DefineService& d) {
  CL_ASSIGN_OR_RETURN(auto admin, RequireAdmin(ctx));
  if (auto* o = std::get_if<Outcome>(&admin)) return *o;
  const auto& s = d.service();
  if (!ValidCode(s.code())) return Reject(v1::INVALID_ARGUMENT, "invalid service code");
  CL_ASSIGN_OR_RETURN(auto current,
                      GetRecord<v1::ServiceDefinition>(ctx.state, keys::Service(s.code())));
  VersionRule rule = CheckVersion(
      s.version(), current ? std::optional(current->version()) : std::nullopt,
      current ? &current->owners() : nullptr, std::get<v1::Member>(admin).department());
  if (rule.code != v1::OK) return Reject(rule.code, "service " + s.code() + ": " + rule.message);
  CL_ASSIGN_OR_RETURN(std::string err,
                      CheckServiceDefinition(ctx.state, s, ctx.params.max_requirement_leaves()));
  if (!err.empty()) return Reject(v1::INVALID_ARGUMENT, err);
  v1::ServiceDefinition rec = s;
  rec.set_defined_height(ctx.height.value());
  PutService(ctx.state, rec);
  return Ok("service " + s.code() + " version " + std::to_string(s.version()) + " defined");
}

Result<Outcome> ApplyDefineBundle(TxContext& ctx, const v1::DefineBundle& d) {
  CL_ASSIGN_OR_RETURN(auto admin, RequireAdmin(ctx));
  if (auto* o = std::get_if<Outcome>(&admin)) return *o;
  const auto& b = d.bundle();
  if (!ValidCode(b.code())) return Reject(v1::INVALID_ARGUMENT, "invalid bundle code");
  CL_ASSIGN_OR_RETURN(auto current,
                      GetRecord<v1::BundleDefinition>(ctx.state, keys::Bundle(b.code())));
  VersionRule rule = CheckVersion(
      b.version(), current ? std::optional(current->version()) : std::nullopt,
      current ? &current->owners() : nullptr, std::get<v1::Member>(admin).department());
  if (rule.code != v1::OK) return Reject(rule.code, "bundle " + b.code() + ": " + rule.message);
  if (b.name().empty() || !ValidText(b.name()))
    return Reject(v1::INVALID_ARGUMENT, "bundle name required");
  CL_ASSIGN_OR_RETURN(std::string err, CheckDepartments(ctx.state, b.owners(), "owners"));
  if (!err.empty()) return Reject(v1::INVALID_ARGUMENT, err);
  if (b.service_codes().empty() ||
      static_cast<size_t>(b.service_codes_size()) > kMaxBundleServices ||
      !ValidCodeList(b.service_codes())) {
    return Reject(v1::INVALID_ARGUMENT, "a bundle needs 1..16 distinct service codes");
  }
  for (const auto& code : b.service_codes()) {
    CL_ASSIGN_OR_RETURN(auto svc, ctx.state.Get(keys::Service(code)));
    if (!svc) return Reject(v1::NOT_FOUND, "no service " + code);
  }
  v1::BundleDefinition rec = b;
  rec.set_defined_height(ctx.height.value());
  Bytes enc = Encode(rec);
  ctx.state.Put(keys::Bundle(b.code()), enc);
  ctx.state.Put(keys::BundleVersion(b.code(), b.version()), enc);
  return Ok("bundle " + b.code() + " version " + std::to_string(b.version()) + " defined");
}

}  // namespace cl::contracts::internal
