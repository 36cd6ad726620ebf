// Every verdict reason, as named table cases: a one-matter service whose tree
// is the case's, a setup block, then a proof request by HOUSING in the next
// block; the expected leaves (path -> reason) and overall approval.
#include <gtest/gtest.h>

#include "contracts/queries.h"
#include "tests/contracts/fixture.h"

namespace cl::contracts::testing {
namespace {

constexpr int64_t kT1 = kGenesisTimeMs + 100 * kDayMs;
constexpr int64_t kT2 = kT1 + 1000;
using P = v1::AttributePredicate;
using Txs = std::vector<Bytes>;

struct Leaf {
  std::string path;
  v1::LeafReason reason;
  std::string record_id = "";  // checked when non-empty
};

struct VerdictCase {
  std::string name;
  v1::Requirement tree;
  std::function<Txs(const Fixture&)> setup;
  std::vector<Leaf> want_leaves;
  bool want_approved;
  std::function<void(const Fixture&, v1::ProofRequest&)> edit_request = nullptr;
  std::string requester = "HOUSING/service";
};

// A test fixture with one more type that discloses no data types (no consent
// needed) and two permitted issuers: 居住证.
Fixture MakeFixture() {
  Fixture f;
  auto* t = f.mutable_genesis().add_cert_types();
  t->set_type_code("RESIDENCE");
  t->set_name("居住证");
  t->set_doc_class(v1::CERTIFICATE);
  t->add_issuers("PSB");
  t->add_issuers("ASC");
  return f;
}

Bytes Citizen(const Fixture& f) { return f.HolderRef("330102199001011234"); }
Bytes Register(const Fixture& f) {
  return f.RegisterHolder("PSB/identity", kT1, Citizen(f), "citizen");
}
v1::AnchorCertificate Id(const Fixture& f, std::string id, int64_t issued = kGenesisTimeMs,
                         int64_t until = 0,
                         std::vector<std::pair<std::string, std::string>> attrs = {}) {
  return f.Cert(id, "ID_CARD", "PSB", Citizen(f), issued, until, attrs);
}
Bytes AnchorId(const Fixture& f, std::string id, int64_t issued = kGenesisTimeMs, int64_t until = 0,
               std::vector<std::pair<std::string, std::string>> attrs = {}) {
  return f.Anchor("PSB/issuer", kT1, Id(f, id, issued, until, std::move(attrs)));
}
Bytes AnchorResidence(const Fixture& f, std::string id, std::string issuer = "PSB") {
  return f.Anchor(issuer + "/issuer", kT1,
                  f.Cert(id, "RESIDENCE", issuer, Citizen(f), kGenesisTimeMs));
}
Bytes GrantId(const Fixture& f, std::string id, std::string grantee = "HOUSING",
              std::vector<std::string> types = {"identity"}, int64_t nb = kGenesisTimeMs,
              int64_t na = kT1 + kYearMs, uint32_t max_uses = 0) {
  return f.Grant("citizen", kT1, f.GrantMsg(id, Citizen(f), grantee, types, nb, na, max_uses));
}
// Valid identity card with consent: the usual good state.
Txs GoodId(const Fixture& f) { return {Register(f), AnchorId(f, "id1"), GrantId(f, "g1")}; }

v1::Requirement IdLeaf(std::vector<P> preds = {}, uint32_t max_age = 0) {
  return CertLeaf("身份证", "ID_CARD", {"PSB"}, max_age, std::move(preds));
}
v1::Requirement Consent(std::vector<std::string> types = {"identity"}) {
  return ConsentLeaf("授权", std::move(types));
}

v1::ServiceDefinition CheckService(const v1::Requirement& tree) {
  return Service("CHECK", "核验", {"HOUSING"}, {"HOUSING"},
                 {"identity", "marriage", "household_register"}, tree);
}

std::vector<VerdictCase> Cases() {
  using F = const Fixture&;
  const std::vector<std::pair<std::string, std::string>> kBirth1960 = {{"birth_year", "1960"}};
  const P kBornBefore1965 = Pred("birth_year", P::INT_LTE, {"1965"});
  auto disclose = [](std::string id, std::string name, std::string value) {
    return [=](F f, v1::ProofRequest& p) { *p.add_disclosures() = f.Disclose(id, name, value); };
  };
  return {
      {"satisfied_cert_with_consent", IdLeaf(), GoodId, {{"0", v1::SATISFIED, "id1"}}, true},
      {"satisfied_type_without_data_types_needs_no_consent",
       CertLeaf("居住证", "RESIDENCE"),
       [](F f) { return Txs{AnchorResidence(f, "r1")}; },
       {{"0", v1::SATISFIED, "r1"}},
       true},
      {"cert_missing",
       IdLeaf(),
       [](F f) {
         return Txs{Register(f), GrantId(f, "g1")};
       },
       {{"0", v1::CERT_MISSING}},
       false},
      {"cert_missing_other_holder",
       IdLeaf(),
       [](F f) {
         return Txs{f.Anchor("PSB/issuer", kT1,
                             f.Cert("id9", "ID_CARD", "PSB", f.HolderRef("999"), kGenesisTimeMs))};
       },
       {{"0", v1::CERT_MISSING}},
       false},
      {"cert_revoked",
       IdLeaf(),
       [](F f) {
         auto t = GoodId(f);
         t.push_back(f.Revoke("PSB/issuer", kT1, "id1"));
         return t;
       },
       {{"0", v1::CERT_REVOKED, "id1"}},
       false},
      {"cert_suspended",
       IdLeaf(),
       [](F f) {
         auto t = GoodId(f);
         t.push_back(f.Suspend("PSB/issuer", kT1, "id1"));
         return t;
       },
       {{"0", v1::CERT_SUSPENDED, "id1"}},
       false},
      {"cert_reinstated_is_valid",
       IdLeaf(),
       [](F f) {
         auto t = GoodId(f);
         t.push_back(f.Suspend("PSB/issuer", kT1, "id1"));
         t.push_back(f.Reinstate("PSB/issuer", kT1, "id1"));
         return t;
       },
       {{"0", v1::SATISFIED, "id1"}},
       true},
      {"cert_expired",
       IdLeaf(),
       [](F f) {
         return Txs{Register(f), AnchorId(f, "id1", kGenesisTimeMs, kT1), GrantId(f, "g1")};
       },
       {{"0", v1::CERT_EXPIRED, "id1"}},
       false},
      {"cert_expires_at_block_time_inclusive",
       IdLeaf(),
       [](F f) {
         return Txs{Register(f), AnchorId(f, "id1", kGenesisTimeMs, kT2), GrantId(f, "g1")};
       },
       {{"0", v1::SATISFIED, "id1"}},
       true},
      {"cert_not_yet_valid",
       IdLeaf(),
       [](F f) {
         auto a = Id(f, "id1");
         a.set_valid_from_ms(kT2 + kDayMs);
         return Txs{Register(f), f.Anchor("PSB/issuer", kT1, a), GrantId(f, "g1")};
       },
       {{"0", v1::CERT_EXPIRED, "id1"}},
       false},
      {"cert_superseded_newest_reported",
       IdLeaf(),
       [](F f) {
         // id-new supersedes id-old but carries an older issue date, then is suspended:
         // the newest-issued candidate (id-old) is reported.
         return Txs{Register(f),
                    GrantId(f, "g1"),
                    AnchorId(f, "id-old", kGenesisTimeMs + kDayMs),
                    AnchorId(f, "id-new", kGenesisTimeMs),
                    f.Supersede("PSB/issuer", kT1, "id-old", "id-new"),
                    f.Suspend("PSB/issuer", kT1, "id-new")};
       },
       {{"0", v1::CERT_SUPERSEDED, "id-old"}},
       false},
      {"older_valid_cert_used_when_newest_revoked",
       IdLeaf(),
       [](F f) {
         return Txs{Register(f), GrantId(f, "g1"), AnchorId(f, "id-old", kGenesisTimeMs),
                    AnchorId(f, "id-new", kGenesisTimeMs + kDayMs),
                    f.Revoke("PSB/issuer", kT1, "id-new")};
       },
       {{"0", v1::SATISFIED, "id-old"}},
       true},
      {"cert_wrong_issuer",
       CertLeaf("公安签发居住证", "RESIDENCE", {"PSB"}),
       [](F f) { return Txs{AnchorResidence(f, "r1", "ASC")}; },
       {{"0", v1::CERT_WRONG_ISSUER, "r1"}},
       false},
      {"cert_too_old",
       IdLeaf({}, 30),
       [](F f) {
         return Txs{Register(f), AnchorId(f, "id1", kT1 - 31 * kDayMs), GrantId(f, "g1")};
       },
       {{"0", v1::CERT_TOO_OLD, "id1"}},
       false},
      {"cert_within_max_age",
       IdLeaf({}, 30),
       [](F f) {
         return Txs{Register(f), AnchorId(f, "id1", kT1 - 29 * kDayMs), GrantId(f, "g1")};
       },
       {{"0", v1::SATISFIED, "id1"}},
       true},
      {"predicate_satisfied",
       IdLeaf({kBornBefore1965}),
       [=](F f) {
         return Txs{Register(f), AnchorId(f, "id1", kGenesisTimeMs, 0, kBirth1960),
                    GrantId(f, "g1")};
       },
       {{"0", v1::SATISFIED, "id1"}},
       true,
       disclose("id1", "birth_year", "1960")},
      {"attribute_not_disclosed",
       IdLeaf({kBornBefore1965}),
       [=](F f) {
         return Txs{Register(f), AnchorId(f, "id1", kGenesisTimeMs, 0, kBirth1960),
                    GrantId(f, "g1")};
       },
       {{"0", v1::ATTRIBUTE_NOT_DISCLOSED, "id1"}},
       false},
      {"attribute_mismatch_wrong_value",
       IdLeaf({kBornBefore1965}),
       [=](F f) {
         return Txs{Register(f), AnchorId(f, "id1", kGenesisTimeMs, 0, kBirth1960),
                    GrantId(f, "g1")};
       },
       {{"0", v1::ATTRIBUTE_MISMATCH, "id1"}},
       false,
       disclose("id1", "birth_year", "1950")},
      {"attribute_mismatch_no_commitment",
       IdLeaf({kBornBefore1965}),
       GoodId,
       {{"0", v1::ATTRIBUTE_MISMATCH, "id1"}},
       false,
       disclose("id1", "birth_year", "1960")},
      {"predicate_failed",
       IdLeaf({kBornBefore1965}),
       [](F f) {
         return Txs{Register(f), AnchorId(f, "id1", kGenesisTimeMs, 0, {{"birth_year", "1990"}}),
                    GrantId(f, "g1")};
       },
       {{"0", v1::PREDICATE_FAILED, "id1"}},
       false,
       disclose("id1", "birth_year", "1990")},
      {"predicate_one_of",
       IdLeaf({Pred("ethnicity", P::ONE_OF, {"汉", "回"})}),
       [](F f) {
         return Txs{Register(f), AnchorId(f, "id1", kGenesisTimeMs, 0, {{"ethnicity", "回"}}),
                    GrantId(f, "g1")};
       },
       {{"0", v1::SATISFIED, "id1"}},
       true,
       disclose("id1", "ethnicity", "回")},
      {"consent_satisfied",
       Consent(),
       [](F f) {
         return Txs{Register(f), GrantId(f, "g1")};
       },
       {{"0", v1::SATISFIED, "g1"}},
       true},
      {"no_consent",
       Consent(),
       [](F f) { return Txs{Register(f)}; },
       {{"0", v1::NO_CONSENT}},
       false},
      {"no_consent_grant_to_other_department",
       Consent(),
       [](F f) {
         return Txs{Register(f), GrantId(f, "g1", "CAB")};
       },
       {{"0", v1::NO_CONSENT}},
       false},
      {"no_consent_grant_missing_a_data_type",
       Consent({"identity", "marriage"}),
       [](F f) {
         return Txs{Register(f), GrantId(f, "g1")};
       },
       {{"0", v1::NO_CONSENT}},
       false},
      {"consent_expired",
       Consent(),
       [](F f) {
         return Txs{Register(f),
                    GrantId(f, "g1", "HOUSING", {"identity"}, kGenesisTimeMs, kT1 + 10)};
       },
       {{"0", v1::CONSENT_EXPIRED, "g1"}},
       false},
      {"consent_not_yet_in_force",
       Consent(),
       [](F f) {
         return Txs{Register(f),
                    GrantId(f, "g1", "HOUSING", {"identity"}, kT2 + kDayMs, kT2 + 2 * kDayMs)};
       },
       {{"0", v1::CONSENT_EXPIRED, "g1"}},
       false},
      {"consent_withdrawn",
       Consent(),
       [](F f) {
         return Txs{Register(f), GrantId(f, "g1"), f.Withdraw("citizen", kT1, "g1")};
       },
       {{"0", v1::CONSENT_WITHDRAWN, "g1"}},
       false},
      {"consent_used_up",
       Consent(),
       [](F f) {
         return Txs{Register(f),
                    GrantId(f, "g1", "HOUSING", {"identity"}, kGenesisTimeMs, kT1 + kYearMs, 1),
                    f.DefineService("HOUSING/admin", kT1, CheckService(Consent())),
                    f.Request("HOUSING/service", kT1, f.RequestMsg("r0", "CHECK", Citizen(f)))};
       },
       {{"0", v1::CONSENT_USED_UP, "g1"}},
       false},
      {"newer_grant_used_when_older_withdrawn",
       Consent(),
       [](F f) {
         return Txs{Register(f), GrantId(f, "g1"), f.Withdraw("citizen", kT1, "g1"),
                    GrantId(f, "g2")};
       },
       {{"0", v1::SATISFIED, "g2"}},
       true},
      {"cert_valid_but_no_consent_for_its_data",
       IdLeaf(),
       [](F f) {
         return Txs{Register(f), AnchorId(f, "id1")};
       },
       {{"0", v1::NO_CONSENT, "id1"}},
       false},
      {"cert_valid_but_consent_withdrawn",
       IdLeaf(),
       [](F f) {
         auto t = GoodId(f);
         t.push_back(f.Withdraw("citizen", kT1, "g1"));
         return t;
       },
       {{"0", v1::CONSENT_WITHDRAWN, "id1"}},
       false},
      {"requester_not_permitted", IdLeaf(), GoodId, {}, false, nullptr, "ASC/service"},
      {"any_of_skips_after_first_satisfied",
       AnyOf("居住证或身份证", {CertLeaf("居住证", "RESIDENCE"), IdLeaf()}),
       [](F f) { return Txs{AnchorResidence(f, "r1")}; },
       {{"0.0", v1::SATISFIED, "r1"}, {"0.1", v1::NOT_EVALUATED}},
       true},
      {"any_of_falls_through",
       AnyOf("身份证或居住证", {IdLeaf(), CertLeaf("居住证", "RESIDENCE")}),
       [](F f) { return Txs{AnchorResidence(f, "r1")}; },
       {{"0.0", v1::CERT_MISSING}, {"0.1", v1::SATISFIED, "r1"}},
       true},
      {"all_of_reports_every_leaf",
       AllOf("全部", {IdLeaf(), CertLeaf("居住证", "RESIDENCE"), Consent({"marriage"})}),
       GoodId,
       {{"0.0", v1::SATISFIED, "id1"}, {"0.1", v1::CERT_MISSING}, {"0.2", v1::NO_CONSENT}},
       false},
  };
}

void PrintTo(const VerdictCase& c, std::ostream* os) { *os << c.name; }

class VerdictTest : public ::testing::TestWithParam<VerdictCase> {};

TEST_P(VerdictTest, ListsEveryLeafWithItsReason) {
  const VerdictCase& c = GetParam();
  Fixture f = MakeFixture();
  Chain chain(f);
  Txs setup = c.setup(f);
  bool defined = false;
  for (const auto& tx : setup) {
    v1::SignedTx s;
    v1::TxBody b;
    s.ParseFromString(tx);
    b.ParseFromString(s.body());
    defined = defined || b.has_define_service();
  }
  if (!defined)
    setup.insert(setup.begin(), f.DefineService("HOUSING/admin", kT1, CheckService(c.tree)));
  auto out = chain.Apply(setup, kT1);
  for (const auto& raw : out.receipts) {
    v1::Receipt r;
    ASSERT_TRUE(r.ParseFromString(raw));
    ASSERT_EQ(r.code(), v1::OK) << "setup tx " << r.index() << ": " << r.message();
  }
  v1::ProofRequest p = f.RequestMsg("req-1", "CHECK", Citizen(f), "购房资格审核");
  if (c.edit_request) c.edit_request(f, p);
  v1::Receipt r = chain.ApplyOne(f.Request(c.requester, kT2, p), kT2);
  ASSERT_EQ(r.code(), v1::OK) << r.message();
  const v1::Verdict& v = r.verdict();
  EXPECT_EQ(v.approved(), c.want_approved);
  EXPECT_EQ(v.height(), chain.height());
  EXPECT_EQ(v.time_ms(), kT2);
  ASSERT_EQ(v.matters_size(), 1);
  EXPECT_EQ(v.matters(0).service_code(), "CHECK");
  EXPECT_EQ(v.matters(0).service_version(), 1u);
  ASSERT_EQ(v.matters(0).leaves_size(), static_cast<int>(c.want_leaves.size())) << v.DebugString();
  for (size_t i = 0; i < c.want_leaves.size(); ++i) {
    const auto& got = v.matters(0).leaves(static_cast<int>(i));
    SCOPED_TRACE(got.DebugString());
    EXPECT_EQ(got.path(), c.want_leaves[i].path);
    EXPECT_EQ(v1::LeafReason_Name(got.reason()), v1::LeafReason_Name(c.want_leaves[i].reason));
    EXPECT_EQ(got.satisfied(), c.want_leaves[i].reason == v1::SATISFIED);
    if (!c.want_leaves[i].record_id.empty()) {
      EXPECT_EQ(got.record_id(), c.want_leaves[i].record_id);
    }
    EXPECT_FALSE(got.detail().empty());
  }
  if (c.want_leaves.empty()) {
    EXPECT_EQ(v.denial(), v1::REQUESTER_NOT_PERMITTED);
    EXPECT_EQ(v.matters(0).denial(), v1::REQUESTER_NOT_PERMITTED);
  } else {
    EXPECT_EQ(v.denial(), v1::LEAF_REASON_UNSPECIFIED);
  }
  // The verdict is stored, and the holder's access log has the request.
  auto stored = GetVerdict(chain.state(), "req-1");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->SerializeAsString(), v.SerializeAsString());
  auto log = AccessLog(chain.state(), Citizen(f), {});
  ASSERT_TRUE(log.ok());
  ASSERT_FALSE(log->items.empty());
  EXPECT_EQ(log->items.back().request_id(), "req-1");
  EXPECT_EQ(log->items.back().approved(), c.want_approved);
}

INSTANTIATE_TEST_SUITE_P(Contracts, VerdictTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<VerdictCase>& p) {
                           return p.param.name;
                         });

TEST(ConsentUseTest, ApprovalsCountUsesOncePerRequestDenialsNone) {
  Fixture f = MakeFixture();
  Chain chain(f);
  // The grant backs both the cert leaf's consent and the consent leaf.
  auto tree = AllOf("x", {IdLeaf(), Consent()});
  auto out = chain.Apply(
      {f.DefineService("HOUSING/admin", kT1, CheckService(tree)), Register(f), AnchorId(f, "id1"),
       GrantId(f, "g1", "HOUSING", {"identity"}, kGenesisTimeMs, kT1 + kYearMs, 2)},
      kT1);
  v1::Receipt r1 = chain.ApplyOne(
      f.Request("HOUSING/service", kT2, f.RequestMsg("r1", "CHECK", Citizen(f))), kT2);
  ASSERT_TRUE(r1.verdict().approved());
  EXPECT_EQ(std::vector<std::string>(r1.verdict().grants_used().begin(),
                                     r1.verdict().grants_used().end()),
            std::vector<std::string>{"g1"});
  EXPECT_EQ(GetAuthorization(chain.state(), "g1")->value().uses(), 1u);
  // A denied request (certificate suspended) uses nothing.
  chain.ApplyOne(f.Suspend("PSB/issuer", kT2, "id1"), kT2);
  v1::Receipt r2 = chain.ApplyOne(
      f.Request("HOUSING/service", kT2, f.RequestMsg("r2", "CHECK", Citizen(f))), kT2);
  EXPECT_FALSE(r2.verdict().approved());
  EXPECT_TRUE(r2.verdict().grants_used().empty());
  EXPECT_EQ(GetAuthorization(chain.state(), "g1")->value().uses(), 1u);
  chain.ApplyOne(f.Reinstate("PSB/issuer", kT2, "id1"), kT2);
  EXPECT_TRUE(
      chain
          .ApplyOne(f.Request("HOUSING/service", kT2, f.RequestMsg("r3", "CHECK", Citizen(f))), kT2)
          .verdict()
          .approved());
  v1::Receipt r4 = chain.ApplyOne(
      f.Request("HOUSING/service", kT2, f.RequestMsg("r4", "CHECK", Citizen(f))), kT2);
  EXPECT_FALSE(r4.verdict().approved());
  EXPECT_EQ(r4.verdict().matters(0).leaves(1).reason(), v1::CONSENT_USED_UP);
  // The access log lists all four requests, oldest first, with the grants used.
  auto log = AccessLog(chain.state(), Citizen(f), {});
  ASSERT_EQ(log->items.size(), 4u);
  EXPECT_EQ(log->items[0].request_id(), "r1");
  EXPECT_EQ(log->items[0].requester(), "HOUSING");
  EXPECT_EQ(log->items[0].service_code(), "CHECK");
  EXPECT_EQ(log->items[0].grants_used_size(), 1);
  EXPECT_FALSE(log->items[1].approved());
  EXPECT_EQ(log->items[3].request_id(), "r4");
}

}  // namespace
}  // namespace cl::contracts::testing
