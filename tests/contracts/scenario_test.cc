// Real matters end to end: each is approved in a realistic world, then denied
// once for every kind of failure that can happen to it. Worlds are built from
// named setup txs (block 1), a failure may omit some and add txs (block 2),
// and the proof request comes in block 3, possibly much later.
#include <gtest/gtest.h>

#include <set>

#include "contracts/queries.h"
#include "tests/contracts/fixture.h"

namespace cl::contracts::testing {
namespace {

constexpr int64_t kT1 = kGenesisTimeMs + 200 * kDayMs;
constexpr int64_t kT2 = kT1 + 1000;
constexpr int64_t kT3 = kT2 + 1000;
using Txs = std::vector<Bytes>;
using Named = std::vector<std::pair<std::string, Bytes>>;

struct Failure {
  std::string name;
  std::set<std::string> omit = {};
  std::function<Txs(const Fixture&)> extra = nullptr;  // applied at kT2
  int64_t delay_ms = 0;                                // request at kT3 + delay
  std::function<void(const Fixture&, v1::ProofRequest&)> edit = nullptr;
  std::string requester = "";  // default: the scenario's
  int matter = 0;
  std::string path;  // empty: requester not permitted
  v1::LeafReason reason = v1::REQUESTER_NOT_PERMITTED;
};

struct Scenario {
  std::string requester;
  std::function<Named(const Fixture&)> setup;
  std::function<v1::ProofRequest(const Fixture&)> request;
};

struct RunResult {
  v1::Verdict verdict;
  std::unique_ptr<Chain> chain;
};

void ExpectAllOk(const ExecOutput& out, std::string_view what) {
  for (const auto& raw : out.receipts) {
    v1::Receipt r;
    ASSERT_TRUE(r.ParseFromString(raw));
    ASSERT_EQ(r.code(), v1::OK) << what << " tx " << r.index() << ": " << r.message();
  }
}

RunResult Execute(const Fixture& f, const Scenario& s, const Failure* fail) {
  RunResult run;
  run.chain = std::make_unique<Chain>(f);
  Txs setup;
  for (auto& [name, tx] : s.setup(f)) {
    if (!fail || !fail->omit.contains(name)) setup.push_back(tx);
  }
  ExpectAllOk(run.chain->Apply(setup, kT1), "setup");
  if (fail && fail->extra) ExpectAllOk(run.chain->Apply(fail->extra(f), kT2), "failure");
  int64_t when = kT3 + (fail ? fail->delay_ms : 0);
  v1::ProofRequest p = s.request(f);
  if (fail && fail->edit) fail->edit(f, p);
  std::string requester = fail && !fail->requester.empty() ? fail->requester : s.requester;
  v1::Receipt r = run.chain->ApplyOne(f.Request(requester, when, p), when);
  EXPECT_EQ(r.code(), v1::OK) << r.message();
  run.verdict = r.verdict();
  return run;
}

void ExpectApproved(const Fixture& f, const Scenario& s,
                    std::vector<std::pair<std::string, v1::LeafReason>> leaves, int matter = 0) {
  RunResult run = Execute(f, s, nullptr);
  const v1::Verdict& v = run.verdict;
  ASSERT_TRUE(v.approved()) << v.DebugString();
  for (const auto& m : v.matters()) EXPECT_TRUE(m.approved()) << m.service_code();
  ASSERT_EQ(v.matters(matter).leaves_size(), static_cast<int>(leaves.size())) << v.DebugString();
  for (size_t i = 0; i < leaves.size(); ++i) {
    EXPECT_EQ(v.matters(matter).leaves(static_cast<int>(i)).path(), leaves[i].first);
    EXPECT_EQ(v1::LeafReason_Name(v.matters(matter).leaves(static_cast<int>(i)).reason()),
              v1::LeafReason_Name(leaves[i].second));
  }
  EXPECT_FALSE(v.grants_used().empty());
}

void ExpectDenied(const Fixture& f, const Scenario& s, const Failure& fail) {
  SCOPED_TRACE(fail.name);
  RunResult run = Execute(f, s, &fail);
  const v1::Verdict& v = run.verdict;
  EXPECT_FALSE(v.approved());
  EXPECT_TRUE(v.grants_used().empty());
  if (fail.path.empty()) {
    EXPECT_EQ(v.denial(), v1::REQUESTER_NOT_PERMITTED);
    for (const auto& m : v.matters()) EXPECT_TRUE(m.leaves().empty());
    return;
  }
  ASSERT_LT(fail.matter, v.matters_size());
  const auto& m = v.matters(fail.matter);
  EXPECT_FALSE(m.approved());
  bool found = false;
  for (const auto& leaf : m.leaves()) {
    if (leaf.path() != fail.path) continue;
    found = true;
    EXPECT_EQ(v1::LeafReason_Name(leaf.reason()), v1::LeafReason_Name(fail.reason))
        << leaf.detail();
  }
  EXPECT_TRUE(found) << "no leaf " << fail.path << " in " << m.DebugString();
}

Bytes Anchor(const Fixture& f, std::string issuer, std::string id, std::string type,
             ByteView holder, int64_t issued, int64_t until = 0,
             std::vector<std::pair<std::string, std::string>> attrs = {}, int64_t now = kT1) {
  return f.Anchor(issuer + "/issuer", now, f.Cert(id, type, issuer, holder, issued, until, attrs));
}
auto Disclosure(std::string id, std::string name, std::string value) {
  return [=](const Fixture& f, v1::ProofRequest& p) {
    p.clear_disclosures();
    *p.add_disclosures() = f.Disclose(id, name, value);
  };
}

// ------------------------------------------------------- 新生儿出生一件事

Bytes Mother(const Fixture& f) { return f.HolderRef("330102199203154426"); }

Scenario NewbornScenario() {
  return {
      "ASC/service",
      [](const Fixture& f) {
        Bytes m = Mother(f);
        return Named{
            {"define_birth_reg",
             f.DefineService("HOSP/admin", kT1, NewbornBirthRegistrationMatter())},
            {"define_hukou", f.DefineService("PSB/admin", kT1, NewbornHukouMatter())},
            {"define_medins", f.DefineService("HRSS/admin", kT1, NewbornMedicalInsuranceMatter())},
            {"define_bundle", f.DefineBundle("ASC/admin", kT1, NewbornBundle())},
            {"register_mother", f.RegisterHolder("PSB/identity", kT1, m, "mother")},
            {"id_card", Anchor(f, "PSB", "id-mother", "ID_CARD", m, kGenesisTimeMs - 5 * kYearMs,
                               kT1 + 300 * kDayMs)},
            {"marriage",
             Anchor(f, "CAB", "marriage-1", "MARRIAGE", m, kGenesisTimeMs - 2 * kYearMs)},
            {"birth_med", Anchor(f, "HOSP", "birth-med-1", "BIRTH_MED", m, kT1 - 3 * kDayMs)},
            {"hukou", Anchor(f, "PSB", "hukou-1", "HUKOU", m, kGenesisTimeMs - 10 * kYearMs, 0,
                             {{"registered_city", "330100"}})},
            {"grant", f.Grant("mother", kT1,
                              f.GrantMsg("g-newborn", m, "ASC",
                                         {"identity", "marriage", "birth", "household_register"},
                                         kT1, kT1 + 2 * kYearMs))},
        };
      },
      [](const Fixture& f) {
        v1::ProofRequest p = f.RequestMsg("newborn-1", "", Mother(f), "新生儿出生一件事联办");
        p.set_bundle_code("NEWBORN_BUNDLE");
        *p.add_disclosures() = f.Disclose("hukou-1", "registered_city", "330100");
        return p;
      }};
}

TEST(NewbornBundleScenario, ApprovedThenDeniedForEachFailure) {
  Fixture f;
  Scenario s = NewbornScenario();
  ExpectApproved(f, s, {{"0.0", v1::SATISFIED}, {"0.1", v1::SATISFIED}, {"0.2", v1::SATISFIED}}, 1);
  {
    RunResult run = Execute(f, s, nullptr);
    ASSERT_EQ(run.verdict.matters_size(), 3);
    EXPECT_EQ(run.verdict.bundle_code(), "NEWBORN_BUNDLE");
    EXPECT_EQ(run.verdict.bundle_version(), 1u);
    EXPECT_EQ(run.verdict.matters(0).service_code(), "NEWBORN_BIRTH_REG");
    EXPECT_EQ(run.verdict.matters(2).leaves(2).reason(),
              v1::NOT_EVALUATED);  // 身份证 not needed: 户口簿 found
    // One request, one access-log entry under the bundle code; the grant counted once.
    auto log = AccessLog(run.chain->state(), Mother(f), {});
    ASSERT_EQ(log->items.size(), 1u);
    EXPECT_EQ(log->items[0].service_code(), "NEWBORN_BUNDLE");
    EXPECT_EQ(GetAuthorization(run.chain->state(), "g-newborn")->value().uses(), 1u);
  }
  const std::vector<Failure> failures = {
      {.name = "birth_certificate_missing",
       .omit = {"birth_med"},
       .matter = 1,
       .path = "0.0",
       .reason = v1::CERT_MISSING},
      {.name = "marriage_certificate_revoked",
       .extra =
           [](const Fixture& fx) {
             return Txs{fx.Revoke("CAB/issuer", kT2, "marriage-1", "婚姻登记被撤销")};
           },
       .matter = 0,
       .path = "0.1",
       .reason = v1::CERT_REVOKED},
      {.name = "id_card_suspended",
       .extra =
           [](const Fixture& fx) {
             return Txs{fx.Suspend("PSB/issuer", kT2, "id-mother", "挂失")};
           },
       .matter = 0,
       .path = "0.0",
       .reason = v1::CERT_SUSPENDED},
      {.name = "id_card_expired",
       .delay_ms = 301 * kDayMs,
       .matter = 0,
       .path = "0.0",
       .reason = v1::CERT_EXPIRED},
      {.name = "birth_certificate_too_old",
       .delay_ms = 366 * kDayMs,
       .matter = 1,
       .path = "0.0",
       .reason = v1::CERT_TOO_OLD},
      {.name = "hukou_not_local",
       .omit = {"hukou"},
       .extra =
           [](const Fixture& fx) {
             return Txs{Anchor(fx, "PSB", "hukou-2", "HUKOU", Mother(fx), kGenesisTimeMs, 0,
                               {{"registered_city", "310000"}}, kT2)};
           },
       .edit = Disclosure("hukou-2", "registered_city", "310000"),
       .matter = 1,
       .path = "0.1",
       .reason = v1::PREDICATE_FAILED},
      {.name = "hukou_attribute_not_disclosed",
       .edit = [](const Fixture&, v1::ProofRequest& p) { p.clear_disclosures(); },
       .matter = 1,
       .path = "0.1",
       .reason = v1::ATTRIBUTE_NOT_DISCLOSED},
      {.name = "hukou_disclosure_forged",
       .edit = Disclosure("hukou-1", "registered_city", "330101"),
       .matter = 1,
       .path = "0.1",
       .reason = v1::ATTRIBUTE_MISMATCH},
      {.name = "no_consent",
       .omit = {"grant"},
       .matter = 0,
       .path = "0.0",
       .reason = v1::NO_CONSENT},
      {.name = "consent_withdrawn",
       .extra = [](const Fixture& fx) { return Txs{fx.Withdraw("mother", kT2, "g-newborn")}; },
       .matter = 0,
       .path = "0.2",
       .reason = v1::CONSENT_WITHDRAWN},
      {.name = "consent_expired",
       .delay_ms = 2 * kYearMs,
       .matter = 1,
       .path = "0.2",
       .reason = v1::CONSENT_EXPIRED},
      {.name = "requester_not_permitted", .requester = "HOUSING/service"},
  };
  for (const auto& fail : failures) ExpectDenied(f, s, fail);
}

// ------------------------------------------------------- 购房资格审核

Bytes Buyer(const Fixture& f) { return f.HolderRef("420106198808088811"); }

Bytes BuyerSocialIns(const Fixture& f, std::string id, std::string issuer, std::string months,
                     int64_t now) {
  return Anchor(f, issuer, id, "SOCIAL_INS", Buyer(f), now - 5 * kDayMs, 0,
                {{"paid_months", months}}, now);
}

Scenario HousePurchaseScenario() {
  return {"HOUSING/service",
          [](const Fixture& f) {
            Bytes b = Buyer(f);
            return Named{
                {"define", f.DefineService("HOUSING/admin", kT1, HousePurchaseMatter())},
                {"register_buyer", f.RegisterHolder("PSB/identity", kT1, b, "buyer")},
                {"id_card", Anchor(f, "PSB", "id-buyer", "ID_CARD", b, kGenesisTimeMs - kYearMs)},
                {"social_ins", BuyerSocialIns(f, "si-1", "HRSS", "72", kT1)},
                {"marriage",
                 Anchor(f, "CAB", "marriage-b", "MARRIAGE", b, kGenesisTimeMs - 3 * kYearMs)},
                {"grant", f.Grant("buyer", kT1,
                                  f.GrantMsg("g-house", b, "HOUSING",
                                             {"identity", "household_register", "social_insurance",
                                              "marriage", "real_estate"},
                                             kT1, kT1 + 20 * kDayMs))},
            };
          },
          [](const Fixture& f) {
            v1::ProofRequest p =
                f.RequestMsg("house-1", "HOUSE_PURCHASE", Buyer(f), "商品房购房资格审核");
            *p.add_disclosures() = f.Disclose("si-1", "paid_months", "72");
            return p;
          }};
}

TEST(HousePurchaseScenario, ApprovedThenDeniedForEachFailure) {
  Fixture f;
  Scenario s = HousePurchaseScenario();
  // A non-local buyer: no 户口簿, qualifies by 72 months of social insurance.
  ExpectApproved(f, s,
                 {{"0.0", v1::SATISFIED},
                  {"0.1.0", v1::CERT_MISSING},
                  {"0.1.1", v1::SATISFIED},
                  {"0.2.0", v1::SATISFIED},
                  {"0.2.1", v1::NOT_EVALUATED},
                  {"0.3", v1::SATISFIED}});
  const std::vector<Failure> failures = {
      {.name = "social_insurance_too_short",
       .omit = {"social_ins"},
       .extra =
           [](const Fixture& fx) { return Txs{BuyerSocialIns(fx, "si-2", "HRSS", "36", kT2)}; },
       .edit = Disclosure("si-2", "paid_months", "36"),
       .path = "0.1.1",
       .reason = v1::PREDICATE_FAILED},
      {.name = "social_insurance_proof_too_old",
       .delay_ms = 26 * kDayMs - 1,
       .path = "0.1.1",
       .reason = v1::CERT_TOO_OLD},
      {.name = "social_insurance_from_wrong_issuer",
       .omit = {"social_ins"},
       .extra =
           [](const Fixture& fx) { return Txs{BuyerSocialIns(fx, "si-tax", "TAX", "72", kT2)}; },
       .edit = Disclosure("si-tax", "paid_months", "72"),
       .path = "0.1.1",
       .reason = v1::CERT_WRONG_ISSUER},
      {.name = "paid_months_forged",
       .edit = Disclosure("si-1", "paid_months", "99"),
       .path = "0.1.1",
       .reason = v1::ATTRIBUTE_MISMATCH},
      {.name = "marriage_revoked",
       .extra =
           [](const Fixture& fx) {
             return Txs{fx.Revoke("CAB/issuer", kT2, "marriage-b", "法院判决婚姻无效")};
           },
       .path = "0.2.0",
       .reason = v1::CERT_REVOKED},
      {.name = "marriage_superseded_by_unusable_replacement",
       .extra =
           [](const Fixture& fx) {
             return Txs{Anchor(fx, "CAB", "marriage-b2", "MARRIAGE", Buyer(fx),
                               kGenesisTimeMs - 4 * kYearMs, 0, {}, kT2),
                        fx.Supersede("CAB/issuer", kT2, "marriage-b", "marriage-b2", "补领"),
                        fx.Suspend("CAB/issuer", kT2, "marriage-b2", "核查中")};
           },
       .path = "0.2.0",
       .reason = v1::CERT_SUPERSEDED},
      {.name = "id_card_revoked",
       .extra =
           [](const Fixture& fx) { return Txs{fx.Revoke("PSB/issuer", kT2, "id-buyer", "注销")}; },
       .path = "0.0",
       .reason = v1::CERT_REVOKED},
      {.name = "consent_expired",
       .delay_ms = 21 * kDayMs,
       .path = "0.0",
       .reason = v1::CONSENT_EXPIRED},
      {.name = "consent_used_up",
       .omit = {"grant"},
       .extra =
           [](const Fixture& fx) {
             auto g = fx.GrantMsg(
                 "g-once", Buyer(fx), "HOUSING",
                 {"identity", "household_register", "social_insurance", "marriage", "real_estate"},
                 kT1, kT1 + 20 * kDayMs, 1);
             v1::ProofRequest first =
                 fx.RequestMsg("house-0", "HOUSE_PURCHASE", Buyer(fx), "首次审核");
             *first.add_disclosures() = fx.Disclose("si-1", "paid_months", "72");
             return Txs{fx.Grant("buyer", kT2, g), fx.Request("HOUSING/service", kT2, first)};
           },
       .path = "0.3",
       .reason = v1::CONSENT_USED_UP},
      {.name = "no_consent_to_requester",
       .requester = "ASC/service",
       .path = "0.0",
       .reason = v1::NO_CONSENT},
      {.name = "requester_not_permitted", .requester = "CAB/service"},
  };
  for (const auto& fail : failures) ExpectDenied(f, s, fail);
}

// ------------------------------------------------------- 退休养老金申领

Bytes Retiree(const Fixture& f) { return f.HolderRef("330104196003030017"); }

Bytes RetireeId(const Fixture& f, std::string id, std::string year, int64_t now) {
  return Anchor(f, "PSB", id, "ID_CARD", Retiree(f), kGenesisTimeMs - 8 * kYearMs, 0,
                {{"birth_year", year}}, now);
}
Bytes RetireeSocialIns(const Fixture& f, std::string id, std::string issuer, std::string years,
                       int64_t now) {
  return Anchor(f, issuer, id, "SOCIAL_INS", Retiree(f), now - 10 * kDayMs, 0,
                {{"contribution_years", years}}, now);
}

Scenario PensionScenario() {
  return {"HRSS/service",
          [](const Fixture& f) {
            Bytes r = Retiree(f);
            return Named{
                {"define", f.DefineService("HRSS/admin", kT1, PensionClaimMatter())},
                {"register", f.RegisterHolder("PSB/identity", kT1, r, "retiree")},
                {"id_card", RetireeId(f, "id-ret", "1960", kT1)},
                {"social_ins", RetireeSocialIns(f, "si-ret", "HRSS", "32", kT1)},
                {"hukou", Anchor(f, "PSB", "hukou-ret", "HUKOU", r, kGenesisTimeMs - 30 * kYearMs)},
                {"grant", f.Grant("retiree", kT1,
                                  f.GrantMsg("g-pension", r, "HRSS",
                                             {"identity", "social_insurance", "household_register"},
                                             kT1, kT1 + kYearMs))},
            };
          },
          [](const Fixture& f) {
            v1::ProofRequest p =
                f.RequestMsg("pension-1", "PENSION_CLAIM", Retiree(f), "申领基本养老金");
            *p.add_disclosures() = f.Disclose("id-ret", "birth_year", "1960");
            *p.add_disclosures() = f.Disclose("si-ret", "contribution_years", "32");
            return p;
          }};
}

TEST(PensionClaimScenario, ApprovedThenDeniedForEachFailure) {
  Fixture f;
  Scenario s = PensionScenario();
  ExpectApproved(f, s,
                 {{"0.0", v1::SATISFIED},
                  {"0.1", v1::SATISFIED},
                  {"0.2", v1::SATISFIED},
                  {"0.3", v1::SATISFIED}});
  auto keep_ins = [](const Fixture& fx, v1::ProofRequest& p) {
    *p.add_disclosures() = fx.Disclose("si-ret", "contribution_years", "32");
  };
  const std::vector<Failure> failures = {
      {.name = "below_retirement_age",
       .omit = {"id_card"},
       .extra = [](const Fixture& fx) { return Txs{RetireeId(fx, "id-young", "1970", kT2)}; },
       .edit =
           [=](const Fixture& fx, v1::ProofRequest& p) {
             Disclosure("id-young", "birth_year", "1970")(fx, p);
             keep_ins(fx, p);
           },
       .path = "0.0",
       .reason = v1::PREDICATE_FAILED},
      {.name = "contributions_below_15_years",
       .omit = {"social_ins"},
       .extra =
           [](const Fixture& fx) {
             return Txs{RetireeSocialIns(fx, "si-short", "HRSS", "12", kT2)};
           },
       .edit =
           [](const Fixture& fx, v1::ProofRequest& p) {
             p.clear_disclosures();
             *p.add_disclosures() = fx.Disclose("id-ret", "birth_year", "1960");
             *p.add_disclosures() = fx.Disclose("si-short", "contribution_years", "12");
           },
       .path = "0.1",
       .reason = v1::PREDICATE_FAILED},
      {.name = "contribution_record_from_wrong_issuer",
       .omit = {"social_ins"},
       .extra =
           [](const Fixture& fx) { return Txs{RetireeSocialIns(fx, "si-tax", "TAX", "32", kT2)}; },
       .edit =
           [](const Fixture& fx, v1::ProofRequest& p) {
             *p.add_disclosures() = fx.Disclose("si-tax", "contribution_years", "32");
           },
       .path = "0.1",
       .reason = v1::CERT_WRONG_ISSUER},
      {.name = "contribution_record_too_old",
       .delay_ms = 81 * kDayMs,
       .path = "0.1",
       .reason = v1::CERT_TOO_OLD},
      {.name = "household_register_missing",
       .omit = {"hukou"},
       .path = "0.2",
       .reason = v1::CERT_MISSING},
      {.name = "id_card_cancelled_after_death",
       .extra =
           [](const Fixture& fx) {
             return Txs{fx.Revoke("PSB/issuer", kT2, "id-ret", "死亡注销")};
           },
       .path = "0.0",
       .reason = v1::CERT_REVOKED},
      {.name = "consent_withdrawn",
       .extra = [](const Fixture& fx) { return Txs{fx.Withdraw("retiree", kT2, "g-pension")}; },
       .path = "0.3",
       .reason = v1::CONSENT_WITHDRAWN},
      {.name = "no_consent", .omit = {"grant"}, .path = "0.3", .reason = v1::NO_CONSENT},
      {.name = "requester_not_permitted", .requester = "HOUSING/service"},
  };
  for (const auto& fail : failures) ExpectDenied(f, s, fail);
}

TEST(PensionClaimScenario, ApprovedWithConsentGrantedByAnAgent) {
  Fixture f;
  Scenario s = PensionScenario();
  s.setup = [base = s.setup](const Fixture& fx) {
    Named txs;
    for (auto& [name, tx] : base(fx)) {
      if (name != "grant") txs.emplace_back(name, tx);
    }
    txs.emplace_back("agent", fx.RegisterAgent("PSB/identity", kT1, Retiree(fx), "daughter",
                                               "entrusted", kT1 + kYearMs));
    txs.emplace_back(
        "grant", fx.Grant("daughter", kT1,
                          fx.GrantMsg("g-agent", Retiree(fx), "HRSS",
                                      {"identity", "social_insurance", "household_register"}, kT1,
                                      kT1 + kYearMs)));
    return txs;
  };
  RunResult run = Execute(f, s, nullptr);
  EXPECT_TRUE(run.verdict.approved());
  auto grant = GetAuthorization(run.chain->state(), "g-agent");
  EXPECT_TRUE(grant->value().via_agent());
  EXPECT_EQ(grant->value().granted_by(), f.Pub("daughter"));
  EXPECT_EQ(AccessLog(run.chain->state(), Retiree(f), {})->items.at(0).grants_used(0), "g-agent");
}

// ------------------------------------------------------- 企业开办

Bytes Company(const Fixture& f) { return f.HolderRef("91330100MA2H123456", "001"); }

Bytes License(const Fixture& f, std::string id, std::string type, int64_t now) {
  return Anchor(f, "AMR", id, "BIZ_LICENSE", Company(f), now - 5 * kDayMs, 0,
                {{"company_type", type}}, now);
}

Scenario CompanyScenario() {
  return {"TAX/service",
          [](const Fixture& f) {
            Bytes c = Company(f);
            return Named{
                {"define", f.DefineService("AMR/admin", kT1, CompanyStartupMatter())},
                {"legal_rep",
                 f.RegisterAgent("PSB/identity", kT1, c, "legal-rep", "legal_representative")},
                {"license", License(f, "lic-1", "有限责任公司", kT1)},
                {"lease", Anchor(f, "HOUSING", "lease-1", "LEASE_FILING", c, kT1 - 20 * kDayMs,
                                 kT1 + 3 * kYearMs)},
                {"grant",
                 f.Grant("legal-rep", kT1,
                         f.GrantMsg("g-startup", c, "TAX", {"business_registration", "real_estate"},
                                    kT1, kT1 + kYearMs))},
            };
          },
          [](const Fixture& f) {
            v1::ProofRequest p =
                f.RequestMsg("startup-1", "COMPANY_STARTUP", Company(f), "新办企业税务登记");
            *p.add_disclosures() = f.Disclose("lic-1", "company_type", "有限责任公司");
            return p;
          }};
}

TEST(CompanyStartupScenario, ApprovedThenDeniedForEachFailure) {
  Fixture f;
  Scenario s = CompanyScenario();
  ExpectApproved(f, s,
                 {{"0.0", v1::SATISFIED},
                  {"0.1.0", v1::CERT_MISSING},
                  {"0.1.1", v1::SATISFIED},
                  {"0.2", v1::SATISFIED}});
  const std::vector<Failure> failures = {
      {.name = "license_suspended_abnormal_operation",
       .extra =
           [](const Fixture& fx) {
             return Txs{fx.Suspend("AMR/issuer", kT2, "lic-1", "列入经营异常名录")};
           },
       .path = "0.0",
       .reason = v1::CERT_SUSPENDED},
      {.name = "license_revoked",
       .extra =
           [](const Fixture& fx) {
             return Txs{fx.Revoke("AMR/issuer", kT2, "lic-1", "吊销营业执照")};
           },
       .path = "0.0",
       .reason = v1::CERT_REVOKED},
      {.name = "license_not_newly_issued",
       .delay_ms = 86 * kDayMs,
       .path = "0.0",
       .reason = v1::CERT_TOO_OLD},
      {.name = "company_type_not_eligible",
       .omit = {"license"},
       .extra =
           [](const Fixture& fx) { return Txs{License(fx, "lic-coop", "农民专业合作社", kT2)}; },
       .edit = Disclosure("lic-coop", "company_type", "农民专业合作社"),
       .path = "0.0",
       .reason = v1::PREDICATE_FAILED},
      {.name = "no_premises", .omit = {"lease"}, .path = "0.1.1", .reason = v1::CERT_MISSING},
      {.name = "lease_expired",
       .delay_ms = 3 * kYearMs,
       .path = "0.1.1",
       .reason = v1::CERT_EXPIRED},
      {.name = "consent_withdrawn_by_legal_representative",
       .extra = [](const Fixture& fx) { return Txs{fx.Withdraw("legal-rep", kT2, "g-startup")}; },
       .path = "0.0",
       .reason = v1::CONSENT_WITHDRAWN},
      {.name = "consent_given_to_another_department",
       .requester = "ASC/service",
       .path = "0.2",
       .reason = v1::NO_CONSENT},
      {.name = "requester_not_permitted", .requester = "HOUSING/service"},
  };
  for (const auto& fail : failures) ExpectDenied(f, s, fail);
}

// ------------------------------------------------------- 医疗费用报销 (e-bills)

Bytes Patient(const Fixture& f) { return f.HolderRef("330106197511110022"); }

Bytes Invoice(const Fixture& f, std::string id, std::string amount, int64_t issued, int64_t now) {
  return Anchor(f, "HOSP", id, "MED_INVOICE", Patient(f), issued, 0, {{"amount_fen", amount}}, now);
}

// 医疗费用报销: a 医疗收费票据 e-bill from the hospital, at most 180 days old,
// amount within the self-service limit; consent to the billing data.
Scenario ReimbursementScenario() {
  return {
      "HRSS/service",
      [](const Fixture& f) {
        auto matter = Service(
            "MED_REIMBURSE", "医疗费用报销", {"HRSS"}, {"HRSS"}, {"medical_billing"},
            AllOf("报销材料",
                  {
                      CertLeaf("医疗收费电子票据", "MED_INVOICE", {"HOSP"}, 180,
                               {Pred("amount_fen", v1::AttributePredicate::INT_LTE, {"5000000"})}),
                  }));
        return Named{
            {"define", f.DefineService("HRSS/admin", kT1, matter)},
            {"register", f.RegisterHolder("PSB/identity", kT1, Patient(f), "patient")},
            {"invoice", Invoice(f, "inv-1", "128000", kT1 - 20 * kDayMs, kT1)},
            {"grant", f.Grant("patient", kT1,
                              f.GrantMsg("g-med", Patient(f), "HRSS", {"medical_billing"}, kT1,
                                         kT1 + kYearMs, 1))},
        };
      },
      [](const Fixture& f) {
        v1::ProofRequest p = f.RequestMsg("reimb-1", "MED_REIMBURSE", Patient(f), "门诊费用报销");
        *p.add_disclosures() = f.Disclose("inv-1", "amount_fen", "128000");
        return p;
      }};
}

TEST(EbillReimbursementScenario, ApprovedThenDeniedForEachFailure) {
  Fixture f;
  Scenario s = ReimbursementScenario();
  ExpectApproved(f, s, {{"0.0", v1::SATISFIED}});
  {
    RunResult run = Execute(f, s, nullptr);
    EXPECT_EQ(GetCertificate(run.chain->state(), "inv-1")->value().doc_class(), v1::EBILL);
  }
  const std::vector<Failure> failures = {
      {.name = "invoice_voided",
       .extra =
           [](const Fixture& fx) {
             return Txs{fx.Revoke("HOSP/issuer", kT2, "inv-1", "冲红作废")};
           },
       .path = "0.0",
       .reason = v1::CERT_REVOKED},
      {.name = "invoice_too_old",
       .delay_ms = 161 * kDayMs,
       .path = "0.0",
       .reason = v1::CERT_TOO_OLD},
      {.name = "amount_above_limit",
       .omit = {"invoice"},
       .extra =
           [](const Fixture& fx) {
             return Txs{Invoice(fx, "inv-big", "9000000", kT2 - kDayMs, kT2)};
           },
       .edit = Disclosure("inv-big", "amount_fen", "9000000"),
       .path = "0.0",
       .reason = v1::PREDICATE_FAILED},
      {.name = "consent_already_used_once",
       .extra =
           [](const Fixture& fx) {
             v1::ProofRequest first =
                 fx.RequestMsg("reimb-0", "MED_REIMBURSE", Patient(fx), "首次报销");
             *first.add_disclosures() = fx.Disclose("inv-1", "amount_fen", "128000");
             return Txs{fx.Request("HRSS/service", kT2, first)};
           },
       .path = "0.0",
       .reason = v1::CONSENT_USED_UP},
      {.name = "invoice_missing", .omit = {"invoice"}, .path = "0.0", .reason = v1::CERT_MISSING},
  };
  for (const auto& fail : failures) ExpectDenied(f, s, fail);
}

}  // namespace
}  // namespace cl::contracts::testing
