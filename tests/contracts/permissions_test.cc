// Every permission rule of the contracts, as named table cases: a setup block
// (every tx must succeed), then one tx in the next block and its expected code.
#include <gtest/gtest.h>

#include "contracts/queries.h"
#include "tests/contracts/fixture.h"

namespace cl::contracts::testing {
namespace {

constexpr int64_t kT1 = kGenesisTimeMs + 60'000;
constexpr int64_t kT2 = kT1 + 1000;
const std::vector<std::string> kQuorum = {"CAB/admin", "HRSS/admin"};  // + the signer = 3

using Txs = std::vector<Bytes>;

struct PermCase {
  std::string name;
  std::function<Txs(const Fixture&)> setup;
  std::function<Bytes(const Fixture&)> tx;
  v1::ResultCode want;
};

Bytes Citizen(const Fixture& f) { return f.HolderRef("330102199001011234"); }
Bytes Other(const Fixture& f) { return f.HolderRef("330102198505054321"); }

Bytes Gov(const Fixture& f, const v1::Governance& g, std::string_view signer = "PSB/admin",
          const std::vector<std::string>& cosigners = kQuorum, int64_t now = kT1) {
  return f.Govern(signer, cosigners, now, g);
}
v1::Governance AddDept(std::string code) {
  v1::Governance g;
  g.mutable_add_department()->set_code(code);
  g.mutable_add_department()->set_name("新部门 " + code);
  return g;
}
v1::Governance AddMember(const Fixture& f, std::string key, std::string dept, v1::Role role) {
  v1::Governance g;
  g.mutable_add_member()->set_public_key(f.Pub(key));
  g.mutable_add_member()->set_department(dept);
  g.mutable_add_member()->add_roles(role);
  return g;
}
v1::Governance RevokeMember(const Fixture& f, std::string key) {
  v1::Governance g;
  g.set_revoke_member(f.Pub(key));
  return g;
}
v1::Governance Threshold(uint32_t m) {
  v1::Governance g;
  g.set_set_admin_threshold(m);
  return g;
}
v1::Governance CertTypeGov(std::string code, v1::DocClass cls, std::vector<std::string> issuers) {
  v1::Governance g;
  auto* t = g.mutable_register_cert_type();
  t->set_type_code(code);
  t->set_name("类型 " + code);
  t->set_doc_class(cls);
  for (auto& i : issuers) t->add_issuers(i);
  return g;
}

v1::AnchorCertificate IdCard(const Fixture& f, std::string id, ByteView ref) {
  return f.Cert(id, "ID_CARD", "PSB", ref, kGenesisTimeMs, kGenesisTimeMs + 20 * kYearMs);
}
Bytes AnchorId(const Fixture& f, std::string id, int64_t now = kT1) {
  return f.Anchor("PSB/issuer", now, IdCard(f, id, Citizen(f)));
}
Bytes RegisterCitizen(const Fixture& f, std::string key = "citizen") {
  return f.RegisterHolder("PSB/identity", kT1, Citizen(f), key);
}
v1::GrantAuthorization GrantTo(const Fixture& f, std::string id, std::string grantee = "HOUSING") {
  return f.GrantMsg(id, Citizen(f), grantee, {"identity"}, kGenesisTimeMs, kT1 + kYearMs);
}
v1::ServiceDefinition SimpleService(std::string code = "SIMPLE", uint32_t version = 1) {
  return Service(
      code, "简单事项", {"HOUSING"}, {"HOUSING"}, {"identity"},
      AllOf("all", {CertLeaf("身份证", "ID_CARD", {"PSB"}), ConsentLeaf("授权", {"identity"})}),
      version);
}
v1::Requirement Deep(int depth) {
  if (depth == 1) return CertLeaf("leaf", "ID_CARD");
  return AllOf("level", {Deep(depth - 1)});
}

Txs None(const Fixture&) { return {}; }

std::vector<PermCase> Cases() {
  using F = const Fixture&;
  return {
      // ---- governance
      {"gov_add_department_with_quorum", None, [](F f) { return Gov(f, AddDept("EDU")); }, v1::OK},
      {"gov_add_department_below_quorum", None,
       [](F f) { return Gov(f, AddDept("EDU"), "PSB/admin", {"CAB/admin"}); }, v1::QUORUM_NOT_MET},
      {"gov_repeated_cosigner_counts_once", None,
       [](F f) {
         return Gov(f, AddDept("EDU"), "PSB/admin", {"CAB/admin", "CAB/admin", "PSB/admin"});
       },
       v1::QUORUM_NOT_MET},
      {"gov_non_admin_cosigners_do_not_count", None,
       [](F f) {
         return Gov(f, AddDept("EDU"), "PSB/admin", {"CAB/issuer", "HRSS/service"});
       },
       v1::QUORUM_NOT_MET},
      {"gov_signer_must_be_admin", None,
       [](F f) {
         return Gov(f, AddDept("EDU"), "PSB/issuer", {"CAB/admin", "HRSS/admin", "AMR/admin"});
       },
       v1::PERMISSION_DENIED},
      {"gov_unknown_signer", None, [](F f) { return Gov(f, AddDept("EDU"), "stranger"); },
       v1::UNKNOWN_SIGNER},
      {"gov_department_codes_never_reused", None, [](F f) { return Gov(f, AddDept("CAB")); },
       v1::ALREADY_EXISTS},
      {"gov_add_member", None,
       [](F f) { return Gov(f, AddMember(f, "new", "CAB", v1::ISSUING_CLERK)); }, v1::OK},
      {"gov_add_member_unknown_department", None,
       [](F f) { return Gov(f, AddMember(f, "new", "EDU", v1::ISSUING_CLERK)); }, v1::NOT_FOUND},
      {"gov_add_member_key_in_use", None,
       [](F f) { return Gov(f, AddMember(f, "CAB/issuer", "CAB", v1::ISSUING_CLERK)); },
       v1::ALREADY_EXISTS},
      {"gov_add_member_holder_key_in_use", [](F f) { return Txs{RegisterCitizen(f)}; },
       [](F f) { return Gov(f, AddMember(f, "citizen", "CAB", v1::ISSUING_CLERK)); },
       v1::ALREADY_EXISTS},
      {"gov_identity_clerk_only_in_identity_authority", None,
       [](F f) { return Gov(f, AddMember(f, "new", "CAB", v1::IDENTITY_CLERK)); },
       v1::INVALID_ARGUMENT},
      {"gov_revoke_member", None, [](F f) { return Gov(f, RevokeMember(f, "CAB/issuer")); },
       v1::OK},
      {"gov_revoke_unknown_member", None, [](F f) { return Gov(f, RevokeMember(f, "stranger")); },
       v1::NOT_FOUND},
      {"gov_revoke_admin_below_threshold", [](F f) { return Txs{Gov(f, Threshold(8))}; },
       [](F f) {
         return Gov(f, RevokeMember(f, "TAX/admin"), "PSB/admin",
                    {"CAB/admin", "HRSS/admin", "AMR/admin", "HOSP/admin", "HOUSING/admin",
                     "ASC/admin", "TAX/admin"},
                    kT2);
       },
       v1::INVALID_STATE},
      {"gov_threshold_above_admin_count", None, [](F f) { return Gov(f, Threshold(9)); },
       v1::INVALID_ARGUMENT},
      {"gov_raised_threshold_applies", [](F f) { return Txs{Gov(f, Threshold(4))}; },
       [](F f) { return Gov(f, AddDept("EDU"), "PSB/admin", kQuorum, kT2); }, v1::QUORUM_NOT_MET},
      {"gov_revoked_admin_cannot_cosign_next_block",
       [](F f) { return Txs{Gov(f, RevokeMember(f, "HRSS/admin"))}; },
       [](F f) { return Gov(f, AddDept("EDU"), "PSB/admin", kQuorum, kT2); }, v1::QUORUM_NOT_MET},
      {"gov_rotated_key_signs_nothing_next_block",
       [](F f) {
         v1::Governance g;
         g.mutable_rotate_member()->set_old_public_key(f.Pub("PSB/issuer"));
         g.mutable_rotate_member()->set_new_public_key(f.Pub("PSB/issuer-2"));
         return Txs{Gov(f, g)};
       },
       [](F f) { return AnchorId(f, "c1", kT2); }, v1::UNKNOWN_SIGNER},
      {"gov_rotated_new_key_inherits_roles",
       [](F f) {
         v1::Governance g;
         g.mutable_rotate_member()->set_old_public_key(f.Pub("PSB/issuer"));
         g.mutable_rotate_member()->set_new_public_key(f.Pub("PSB/issuer-2"));
         return Txs{Gov(f, g)};
       },
       [](F f) { return f.Anchor("PSB/issuer-2", kT2, IdCard(f, "c1", Citizen(f))); }, v1::OK},
      {"gov_removed_department_members_sign_nothing",
       [](F f) {
         v1::Governance g;
         g.set_remove_department("HOSP");
         return Txs{Gov(f, g)};
       },
       [](F f) {
         return f.Anchor("HOSP/issuer", kT2,
                         f.Cert("b1", "BIRTH_MED", "HOSP", Citizen(f), kGenesisTimeMs));
       },
       v1::UNKNOWN_SIGNER},
      {"gov_register_cert_type", None,
       [](F f) { return Gov(f, CertTypeGov("FISCAL_BILL", v1::EBILL, {"TAX"})); }, v1::OK},
      {"gov_cert_type_unknown_issuer", None,
       [](F f) { return Gov(f, CertTypeGov("FISCAL_BILL", v1::EBILL, {"EDU"})); }, v1::NOT_FOUND},
      {"gov_cert_type_class_cannot_change", None,
       [](F f) { return Gov(f, CertTypeGov("ID_CARD", v1::EBILL, {"PSB"})); },
       v1::INVALID_ARGUMENT},
      {"gov_changed_issuers_apply",
       [](F f) { return Txs{Gov(f, CertTypeGov("ID_CARD", v1::CERTIFICATE, {"ASC"}))}; },
       [](F f) { return AnchorId(f, "c1", kT2); }, v1::PERMISSION_DENIED},
      {"gov_set_node", None,
       [](F f) {
         v1::Governance g;
         auto* n = g.mutable_set_node();
         n->set_node_id(4);
         n->set_department("HOUSING");
         n->set_public_key(f.Pub("node/4"));
         n->set_role(v1::NodeInfo::LEARNER);
         return Gov(f, g);
       },
       v1::OK},
      // ---- certificate registry
      {"anchor_by_permitted_issuer", None, [](F f) { return AnchorId(f, "c1"); }, v1::OK},
      {"anchor_ebill_by_hospital", None,
       [](F f) {
         return f.Anchor("HOSP/issuer", kT1,
                         f.Cert("inv1", "MED_INVOICE", "HOSP", Citizen(f), kT1));
       },
       v1::OK},
      {"anchor_issuer_field_must_be_signer_department", None,
       [](F f) { return f.Anchor("HOSP/issuer", kT1, IdCard(f, "c1", Citizen(f))); },
       v1::PERMISSION_DENIED},
      {"anchor_department_not_permitted_for_type", None,
       [](F f) {
         return f.Anchor("CAB/issuer", kT1, f.Cert("c1", "ID_CARD", "CAB", Citizen(f), kT1));
       },
       v1::PERMISSION_DENIED},
      {"anchor_needs_issuing_clerk_role", None,
       [](F f) { return f.Anchor("PSB/service", kT1, IdCard(f, "c1", Citizen(f))); },
       v1::PERMISSION_DENIED},
      {"anchor_unknown_signer", None,
       [](F f) { return f.Anchor("stranger", kT1, IdCard(f, "c1", Citizen(f))); },
       v1::UNKNOWN_SIGNER},
      {"anchor_unknown_type", None,
       [](F f) {
         return f.Anchor("PSB/issuer", kT1, f.Cert("c1", "PASSPORT", "PSB", Citizen(f), kT1));
       },
       v1::NOT_FOUND},
      {"anchor_duplicate_cert_id", [](F f) { return Txs{AnchorId(f, "c1")}; },
       [](F f) {
         auto a = IdCard(f, "c1", Citizen(f));
         a.set_doc_hash(f.DocHash("another file"));
         return f.Anchor("PSB/issuer", kT2, a);
       },
       v1::ALREADY_EXISTS},
      {"anchor_duplicate_doc_hash", [](F f) { return Txs{AnchorId(f, "c1")}; },
       [](F f) {
         auto a = IdCard(f, "c2", Citizen(f));
         a.set_doc_hash(f.DocHash("c1"));
         return f.Anchor("PSB/issuer", kT2, a);
       },
       v1::ALREADY_EXISTS},
      {"anchor_holder_ref_must_be_a_digest", None,
       [](F f) { return f.Anchor("PSB/issuer", kT1, IdCard(f, "c1", "110101199001011234")); },
       v1::INVALID_ARGUMENT},
      {"anchor_validity_ends_before_it_starts", None,
       [](F f) {
         return f.Anchor("PSB/issuer", kT1,
                         f.Cert("c1", "ID_CARD", "PSB", Citizen(f), kT1, kT1 - 1));
       },
       v1::INVALID_ARGUMENT},
      {"revoke_by_issuer", [](F f) { return Txs{AnchorId(f, "c1")}; },
       [](F f) { return f.Revoke("PSB/issuer", kT2, "c1"); }, v1::OK},
      {"revoke_by_other_department", [](F f) { return Txs{AnchorId(f, "c1")}; },
       [](F f) { return f.Revoke("CAB/issuer", kT2, "c1"); }, v1::PERMISSION_DENIED},
      {"revoke_needs_issuing_role", [](F f) { return Txs{AnchorId(f, "c1")}; },
       [](F f) { return f.Revoke("PSB/admin", kT2, "c1"); }, v1::PERMISSION_DENIED},
      {"revoke_needs_reason", [](F f) { return Txs{AnchorId(f, "c1")}; },
       [](F f) { return f.Revoke("PSB/issuer", kT2, "c1", ""); }, v1::INVALID_ARGUMENT},
      {"revoke_unknown_certificate", None, [](F f) { return f.Revoke("PSB/issuer", kT1, "nope"); },
       v1::NOT_FOUND},
      {"revoke_twice",
       [](F f) {
         return Txs{AnchorId(f, "c1"), f.Revoke("PSB/issuer", kT1, "c1")};
       },
       [](F f) { return f.Revoke("PSB/issuer", kT2, "c1"); }, v1::INVALID_STATE},
      {"suspend_valid", [](F f) { return Txs{AnchorId(f, "c1")}; },
       [](F f) { return f.Suspend("PSB/issuer", kT2, "c1"); }, v1::OK},
      {"suspend_revoked",
       [](F f) {
         return Txs{AnchorId(f, "c1"), f.Revoke("PSB/issuer", kT1, "c1")};
       },
       [](F f) { return f.Suspend("PSB/issuer", kT2, "c1"); }, v1::INVALID_STATE},
      {"reinstate_suspended",
       [](F f) {
         return Txs{AnchorId(f, "c1"), f.Suspend("PSB/issuer", kT1, "c1")};
       },
       [](F f) { return f.Reinstate("PSB/issuer", kT2, "c1"); }, v1::OK},
      {"reinstate_valid", [](F f) { return Txs{AnchorId(f, "c1")}; },
       [](F f) { return f.Reinstate("PSB/issuer", kT2, "c1"); }, v1::INVALID_STATE},
      {"reinstate_by_other_department",
       [](F f) {
         return Txs{AnchorId(f, "c1"), f.Suspend("PSB/issuer", kT1, "c1")};
       },
       [](F f) { return f.Reinstate("AMR/issuer", kT2, "c1"); }, v1::PERMISSION_DENIED},
      {"supersede_with_same_holder_and_type",
       [](F f) {
         return Txs{AnchorId(f, "c1"), AnchorId(f, "c2")};
       },
       [](F f) { return f.Supersede("PSB/issuer", kT2, "c1", "c2"); }, v1::OK},
      {"supersede_with_other_holder",
       [](F f) {
         return Txs{AnchorId(f, "c1"), f.Anchor("PSB/issuer", kT1, IdCard(f, "c2", Other(f)))};
       },
       [](F f) { return f.Supersede("PSB/issuer", kT2, "c1", "c2"); }, v1::INVALID_ARGUMENT},
      {"supersede_with_unanchored", [](F f) { return Txs{AnchorId(f, "c1")}; },
       [](F f) { return f.Supersede("PSB/issuer", kT2, "c1", "c2"); }, v1::NOT_FOUND},
      {"supersede_itself", [](F f) { return Txs{AnchorId(f, "c1")}; },
       [](F f) { return f.Supersede("PSB/issuer", kT2, "c1", "c1"); }, v1::INVALID_ARGUMENT},
      // ---- holders, agents, consent
      {"register_holder_by_identity_clerk", None, [](F f) { return RegisterCitizen(f); }, v1::OK},
      {"register_holder_needs_identity_clerk_role", None,
       [](F f) { return f.RegisterHolder("PSB/issuer", kT1, Citizen(f), "citizen"); },
       v1::PERMISSION_DENIED},
      {"register_holder_needs_identity_authority", None,
       [](F f) { return f.RegisterHolder("CAB/admin", kT1, Citizen(f), "citizen"); },
       v1::PERMISSION_DENIED},
      {"register_holder_key_reused", [](F f) { return Txs{RegisterCitizen(f)}; },
       [](F f) { return f.RegisterHolder("PSB/identity", kT2, Other(f), "citizen"); },
       v1::ALREADY_EXISTS},
      {"register_holder_member_key", None,
       [](F f) { return f.RegisterHolder("PSB/identity", kT1, Citizen(f), "CAB/issuer"); },
       v1::ALREADY_EXISTS},
      {"register_agent_by_identity_clerk", None,
       [](F f) { return f.RegisterAgent("PSB/identity", kT1, Citizen(f), "guardian"); }, v1::OK},
      {"register_agent_needs_identity_clerk", None,
       [](F f) { return f.RegisterAgent("CAB/issuer", kT1, Citizen(f), "guardian"); },
       v1::PERMISSION_DENIED},
      {"register_agent_member_key", None,
       [](F f) { return f.RegisterAgent("PSB/identity", kT1, Citizen(f), "CAB/issuer"); },
       v1::INVALID_ARGUMENT},
      {"end_unknown_agency", None,
       [](F f) {
         return f.RegisterAgent("PSB/identity", kT1, Citizen(f), "guardian", "guardian", 0, true);
       },
       v1::NOT_FOUND},
      {"grant_by_holder", [](F f) { return Txs{RegisterCitizen(f)}; },
       [](F f) { return f.Grant("citizen", kT2, GrantTo(f, "g1")); }, v1::OK},
      {"grant_by_unregistered_key", None,
       [](F f) { return f.Grant("citizen", kT1, GrantTo(f, "g1")); }, v1::PERMISSION_DENIED},
      {"grant_by_another_holder",
       [](F f) {
         return Txs{RegisterCitizen(f), f.RegisterHolder("PSB/identity", kT1, Other(f), "other")};
       },
       [](F f) { return f.Grant("other", kT2, GrantTo(f, "g1")); }, v1::PERMISSION_DENIED},
      {"grant_by_department_member", None,
       [](F f) { return f.Grant("HOUSING/service", kT1, GrantTo(f, "g1")); },
       v1::PERMISSION_DENIED},
      {"grant_by_replaced_holder_key",
       [](F f) {
         return Txs{RegisterCitizen(f), RegisterCitizen(f, "citizen-new")};
       },
       [](F f) { return f.Grant("citizen", kT2, GrantTo(f, "g1")); }, v1::PERMISSION_DENIED},
      {"grant_by_new_holder_key",
       [](F f) {
         return Txs{RegisterCitizen(f), RegisterCitizen(f, "citizen-new")};
       },
       [](F f) { return f.Grant("citizen-new", kT2, GrantTo(f, "g1")); }, v1::OK},
      {"grant_by_agent",
       [](F f) { return Txs{f.RegisterAgent("PSB/identity", kT1, Citizen(f), "guardian")}; },
       [](F f) { return f.Grant("guardian", kT2, GrantTo(f, "g1")); }, v1::OK},
      {"grant_by_ended_agent",
       [](F f) {
         return Txs{
             f.RegisterAgent("PSB/identity", kT1, Citizen(f), "guardian"),
             f.RegisterAgent("PSB/identity", kT1, Citizen(f), "guardian", "guardian", 0, true)};
       },
       [](F f) { return f.Grant("guardian", kT2, GrantTo(f, "g1")); }, v1::PERMISSION_DENIED},
      {"grant_by_expired_agent",
       [](F f) {
         return Txs{
             f.RegisterAgent("PSB/identity", kT1, Citizen(f), "guardian", "entrusted", kT1 + 10)};
       },
       [](F f) { return f.Grant("guardian", kT2, GrantTo(f, "g1")); }, v1::PERMISSION_DENIED},
      {"grant_by_agent_of_another_holder",
       [](F f) { return Txs{f.RegisterAgent("PSB/identity", kT1, Other(f), "guardian")}; },
       [](F f) { return f.Grant("guardian", kT2, GrantTo(f, "g1")); }, v1::PERMISSION_DENIED},
      {"grant_to_unknown_department", [](F f) { return Txs{RegisterCitizen(f)}; },
       [](F f) { return f.Grant("citizen", kT2, GrantTo(f, "g1", "EDU")); }, v1::NOT_FOUND},
      {"grant_with_empty_window", [](F f) { return Txs{RegisterCitizen(f)}; },
       [](F f) {
         auto g = GrantTo(f, "g1");
         g.set_not_after_ms(g.not_before_ms());
         return f.Grant("citizen", kT2, g);
       },
       v1::INVALID_ARGUMENT},
      {"grant_without_data_types", [](F f) { return Txs{RegisterCitizen(f)}; },
       [](F f) {
         auto g = GrantTo(f, "g1");
         g.clear_data_types();
         return f.Grant("citizen", kT2, g);
       },
       v1::INVALID_ARGUMENT},
      {"grant_id_reused",
       [](F f) {
         return Txs{RegisterCitizen(f), f.Grant("citizen", kT1, GrantTo(f, "g1"))};
       },
       [](F f) { return f.Grant("citizen", kT2, GrantTo(f, "g1", "ASC")); }, v1::ALREADY_EXISTS},
      {"withdraw_by_holder",
       [](F f) {
         return Txs{RegisterCitizen(f), f.Grant("citizen", kT1, GrantTo(f, "g1"))};
       },
       [](F f) { return f.Withdraw("citizen", kT2, "g1"); }, v1::OK},
      {"withdraw_by_grantee_department",
       [](F f) {
         return Txs{RegisterCitizen(f), f.Grant("citizen", kT1, GrantTo(f, "g1"))};
       },
       [](F f) { return f.Withdraw("HOUSING/service", kT2, "g1"); }, v1::PERMISSION_DENIED},
      {"withdraw_twice",
       [](F f) {
         return Txs{RegisterCitizen(f), f.Grant("citizen", kT1, GrantTo(f, "g1")),
                    f.Withdraw("citizen", kT1, "g1")};
       },
       [](F f) { return f.Withdraw("citizen", kT2, "g1"); }, v1::INVALID_STATE},
      {"withdraw_unknown_grant", [](F f) { return Txs{RegisterCitizen(f)}; },
       [](F f) { return f.Withdraw("citizen", kT2, "nope"); }, v1::NOT_FOUND},
      {"withdraw_by_granting_agent",
       [](F f) {
         return Txs{f.RegisterAgent("PSB/identity", kT1, Citizen(f), "guardian"),
                    f.Grant("guardian", kT1, GrantTo(f, "g1"))};
       },
       [](F f) { return f.Withdraw("guardian", kT2, "g1"); }, v1::OK},
      {"withdraw_agent_grant_by_holder",
       [](F f) {
         return Txs{RegisterCitizen(f),
                    f.RegisterAgent("PSB/identity", kT1, Citizen(f), "guardian"),
                    f.Grant("guardian", kT1, GrantTo(f, "g1"))};
       },
       [](F f) { return f.Withdraw("citizen", kT2, "g1"); }, v1::OK},
      {"withdraw_by_other_agent",
       [](F f) {
         return Txs{f.RegisterAgent("PSB/identity", kT1, Citizen(f), "guardian"),
                    f.RegisterAgent("PSB/identity", kT1, Citizen(f), "guardian-2"),
                    f.Grant("guardian", kT1, GrantTo(f, "g1"))};
       },
       [](F f) { return f.Withdraw("guardian-2", kT2, "g1"); }, v1::PERMISSION_DENIED},
      {"withdraw_holder_grant_by_agent",
       [](F f) {
         return Txs{RegisterCitizen(f),
                    f.RegisterAgent("PSB/identity", kT1, Citizen(f), "guardian"),
                    f.Grant("citizen", kT1, GrantTo(f, "g1"))};
       },
       [](F f) { return f.Withdraw("guardian", kT2, "g1"); }, v1::PERMISSION_DENIED},
      // ---- service matters and bundles
      {"define_service_v1_by_any_admin", None,
       [](F f) { return f.DefineService("TAX/admin", kT1, SimpleService()); }, v1::OK},
      {"define_service_needs_admin", None,
       [](F f) { return f.DefineService("HOUSING/service", kT1, SimpleService()); },
       v1::PERMISSION_DENIED},
      {"define_service_v1_twice",
       [](F f) { return Txs{f.DefineService("HOUSING/admin", kT1, SimpleService())}; },
       [](F f) { return f.DefineService("HOUSING/admin", kT2, SimpleService()); },
       v1::ALREADY_EXISTS},
      {"define_service_v2_by_owner",
       [](F f) { return Txs{f.DefineService("HOUSING/admin", kT1, SimpleService())}; },
       [](F f) { return f.DefineService("HOUSING/admin", kT2, SimpleService("SIMPLE", 2)); },
       v1::OK},
      {"define_service_v2_by_non_owner",
       [](F f) { return Txs{f.DefineService("HOUSING/admin", kT1, SimpleService())}; },
       [](F f) { return f.DefineService("TAX/admin", kT2, SimpleService("SIMPLE", 2)); },
       v1::PERMISSION_DENIED},
      {"define_service_skipping_a_version",
       [](F f) { return Txs{f.DefineService("HOUSING/admin", kT1, SimpleService())}; },
       [](F f) { return f.DefineService("HOUSING/admin", kT2, SimpleService("SIMPLE", 3)); },
       v1::INVALID_STATE},
      {"define_service_first_version_not_1", None,
       [](F f) { return f.DefineService("HOUSING/admin", kT1, SimpleService("SIMPLE", 2)); },
       v1::INVALID_STATE},
      {"define_service_tree_too_deep", None,
       [](F f) {
         auto s = SimpleService();
         *s.mutable_requirement() = Deep(9);
         return f.DefineService("HOUSING/admin", kT1, s);
       },
       v1::INVALID_ARGUMENT},
      {"define_service_tree_depth_8_ok", None,
       [](F f) {
         auto s = SimpleService();
         *s.mutable_requirement() = Deep(8);
         return f.DefineService("HOUSING/admin", kT1, s);
       },
       v1::OK},
      {"define_service_too_many_leaves", None,
       [](F f) {
         auto s = SimpleService();
         std::vector<v1::Requirement> leaves(65, CertLeaf("l", "ID_CARD"));
         *s.mutable_requirement() = AllOf("wide", leaves);
         return f.DefineService("HOUSING/admin", kT1, s);
       },
       v1::INVALID_ARGUMENT},
      {"define_service_unknown_cert_type", None,
       [](F f) {
         auto s = SimpleService();
         *s.mutable_requirement() = CertLeaf("x", "PASSPORT");
         return f.DefineService("HOUSING/admin", kT1, s);
       },
       v1::INVALID_ARGUMENT},
      {"define_service_leaf_issuer_not_permitted", None,
       [](F f) {
         auto s = SimpleService();
         *s.mutable_requirement() = CertLeaf("x", "ID_CARD", {"CAB"});
         return f.DefineService("HOUSING/admin", kT1, s);
       },
       v1::INVALID_ARGUMENT},
      {"define_service_undeclared_consent_data_type", None,
       [](F f) {
         auto s = SimpleService();
         *s.mutable_requirement() = ConsentLeaf("x", {"marriage"});
         return f.DefineService("HOUSING/admin", kT1, s);
       },
       v1::INVALID_ARGUMENT},
      {"define_service_undeclared_cert_data_type", None,
       [](F f) {
         auto s = SimpleService();
         *s.mutable_requirement() = CertLeaf("x", "MARRIAGE");
         return f.DefineService("HOUSING/admin", kT1, s);
       },
       v1::INVALID_ARGUMENT},
      {"define_service_empty_any_of", None,
       [](F f) {
         auto s = SimpleService();
         *s.mutable_requirement() = AnyOf("none", {});
         return f.DefineService("HOUSING/admin", kT1, s);
       },
       v1::INVALID_ARGUMENT},
      {"define_service_bad_predicate", None,
       [](F f) {
         auto s = SimpleService();
         *s.mutable_requirement() = CertLeaf(
             "x", "ID_CARD", {}, 0, {Pred("birth_year", v1::AttributePredicate::INT_GTE, {"abc"})});
         return f.DefineService("HOUSING/admin", kT1, s);
       },
       v1::INVALID_ARGUMENT},
      {"define_service_unknown_requester", None,
       [](F f) {
         auto s = SimpleService();
         s.add_requesters("EDU");
         return f.DefineService("HOUSING/admin", kT1, s);
       },
       v1::INVALID_ARGUMENT},
      {"define_bundle",
       [](F f) { return Txs{f.DefineService("HOUSING/admin", kT1, SimpleService())}; },
       [](F f) {
         v1::BundleDefinition b;
         b.set_code("B");
         b.set_name("一件事");
         b.set_version(1);
         b.add_owners("ASC");
         b.add_service_codes("SIMPLE");
         return f.DefineBundle("ASC/admin", kT2, b);
       },
       v1::OK},
      {"define_bundle_unknown_service", None,
       [](F f) {
         v1::BundleDefinition b;
         b.set_code("B");
         b.set_name("一件事");
         b.set_version(1);
         b.add_owners("ASC");
         b.add_service_codes("NOPE");
         return f.DefineBundle("ASC/admin", kT1, b);
       },
       v1::NOT_FOUND},
      // ---- proof requests
      {"request_by_service_system",
       [](F f) { return Txs{f.DefineService("HOUSING/admin", kT1, SimpleService())}; },
       [](F f) {
         return f.Request("HOUSING/service", kT2, f.RequestMsg("r1", "SIMPLE", Citizen(f)));
       },
       v1::OK},
      {"request_by_verifying_clerk",
       [](F f) { return Txs{f.DefineService("HOUSING/admin", kT1, SimpleService())}; },
       [](F f) {
         return f.Request("HOUSING/verifier", kT2, f.RequestMsg("r1", "SIMPLE", Citizen(f)));
       },
       v1::OK},
      {"request_by_issuing_clerk",
       [](F f) { return Txs{f.DefineService("HOUSING/admin", kT1, SimpleService())}; },
       [](F f) {
         return f.Request("HOUSING/issuer", kT2, f.RequestMsg("r1", "SIMPLE", Citizen(f)));
       },
       v1::PERMISSION_DENIED},
      {"request_by_holder_key",
       [](F f) {
         return Txs{RegisterCitizen(f), f.DefineService("HOUSING/admin", kT1, SimpleService())};
       },
       [](F f) { return f.Request("citizen", kT2, f.RequestMsg("r1", "SIMPLE", Citizen(f))); },
       v1::UNKNOWN_SIGNER},
      {"request_needs_reason",
       [](F f) { return Txs{f.DefineService("HOUSING/admin", kT1, SimpleService())}; },
       [](F f) {
         return f.Request("HOUSING/service", kT2, f.RequestMsg("r1", "SIMPLE", Citizen(f), ""));
       },
       v1::INVALID_ARGUMENT},
      {"request_unknown_service", None,
       [](F f) {
         return f.Request("HOUSING/service", kT1, f.RequestMsg("r1", "NOPE", Citizen(f)));
       },
       v1::NOT_FOUND},
      {"request_id_reused",
       [](F f) {
         return Txs{f.DefineService("HOUSING/admin", kT1, SimpleService()),
                    f.Request("HOUSING/service", kT1, f.RequestMsg("r1", "SIMPLE", Citizen(f)))};
       },
       [](F f) {
         return f.Request("HOUSING/service", kT2, f.RequestMsg("r1", "SIMPLE", Other(f)));
       },
       v1::ALREADY_EXISTS},
  };
}

// CTest lists cases by name instead of a byte dump.
void PrintTo(const PermCase& c, std::ostream* os) { *os << c.name; }

class PermissionTest : public ::testing::TestWithParam<PermCase> {};

TEST_P(PermissionTest, YieldsExpectedReceipt) {
  const PermCase& c = GetParam();
  Fixture f;
  Chain chain(f);
  auto setup = chain.Apply(c.setup(f), kT1);
  for (const auto& raw : setup.receipts) {
    v1::Receipt r;
    ASSERT_TRUE(r.ParseFromString(raw));
    ASSERT_EQ(r.code(), v1::OK) << "setup tx " << r.index() << ": " << r.message();
  }
  v1::Receipt r = chain.ApplyOne(c.tx(f), kT2);
  EXPECT_EQ(v1::ResultCode_Name(r.code()), v1::ResultCode_Name(c.want)) << r.message();
}

INSTANTIATE_TEST_SUITE_P(Contracts, PermissionTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<PermCase>& p) { return p.param.name; });

}  // namespace
}  // namespace cl::contracts::testing
