// Read-side helpers: lookups, "was it valid on date D?", bounded pages.
#include "contracts/queries.h"

#include <gtest/gtest.h>

#include <set>

#include "tests/contracts/fixture.h"

namespace cl::contracts::testing {
namespace {

const int64_t kT = kGenesisTimeMs + 10 * kDayMs;

TEST(QueriesTest, CertificateByIdAndByDocumentHash) {
  Fixture f;
  Chain chain(f);
  Bytes ref = f.HolderRef("1");
  chain.Apply({f.Anchor("PSB/issuer", kT, f.Cert("id1", "ID_CARD", "PSB", ref, kGenesisTimeMs))},
              kT);
  auto by_id = GetCertificate(chain.state(), "id1");
  ASSERT_TRUE(by_id.ok() && by_id->has_value());
  EXPECT_EQ((*by_id)->anchor().holder_ref(), ref);
  EXPECT_EQ((*by_id)->status(), v1::VALID);
  EXPECT_EQ((*by_id)->doc_class(), v1::CERTIFICATE);
  auto by_doc = FindCertificateByDocHash(chain.state(), f.DocHash("id1"));
  ASSERT_TRUE(by_doc.ok() && by_doc->has_value());
  EXPECT_EQ((*by_doc)->anchor().cert_id(), "id1");
  EXPECT_FALSE(FindCertificateByDocHash(chain.state(), f.DocHash("other"))->has_value());
  EXPECT_FALSE(GetCertificate(chain.state(), "nope")->has_value());
}

TEST(QueriesTest, DefaultValidityOfTheTypeApplies) {
  Fixture f;
  Chain chain(f);
  chain.Apply({f.Anchor("PSB/issuer", kT, f.Cert("nc1", "NO_CRIME", "PSB", f.HolderRef("1"), kT))},
              kT);
  EXPECT_EQ(GetCertificate(chain.state(), "nc1")->value().anchor().valid_until_ms(),
            kT + 90 * kDayMs);
}

TEST(QueriesTest, StatusAtAnyPastTime) {
  Fixture f;
  Chain chain(f);
  const int64_t t1 = kT, t2 = kT + kDayMs, t3 = kT + 2 * kDayMs, t4 = kT + 3 * kDayMs;
  chain.Apply(
      {f.Anchor("PSB/issuer", t1,
                f.Cert("id1", "ID_CARD", "PSB", f.HolderRef("1"), kGenesisTimeMs, t4 + kDayMs))},
      t1);
  chain.Apply({f.Suspend("PSB/issuer", t2, "id1")}, t2);
  chain.Apply({f.Reinstate("PSB/issuer", t3, "id1")}, t3);
  chain.Apply({f.Revoke("PSB/issuer", t4, "id1")}, t4);
  struct Case {
    std::string name;
    int64_t at;
    bool anchored;
    v1::CertStatus status;
    bool valid;
  };
  const std::vector<Case> cases = {
      {"before_anchoring", t1 - 1, false, v1::CERT_STATUS_UNSPECIFIED, false},
      {"after_anchoring", t1, true, v1::VALID, true},
      {"while_suspended", t2 + 10, true, v1::SUSPENDED, false},
      {"after_reinstatement", t3, true, v1::VALID, true},
      {"after_revocation", t4, true, v1::REVOKED, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto s = CertificateStatusAt(chain.state(), "id1", c.at);
    ASSERT_TRUE(s.ok() && s->has_value());
    EXPECT_EQ((*s)->anchored, c.anchored);
    EXPECT_EQ((*s)->status, c.status);
    EXPECT_EQ((*s)->valid(), c.valid);
  }
  auto rec = GetCertificate(chain.state(), "id1")->value();
  ASSERT_EQ(rec.history_size(), 4);
  EXPECT_EQ(rec.history(3).kind(), v1::CertEvent::REVOKED);
  EXPECT_EQ(rec.history(3).reason(), "吊销");
  EXPECT_EQ(rec.history(3).signer(), f.Pub("PSB/issuer"));
  // Expiry is judged at the asked time.
  EXPECT_FALSE(StatusAt(rec, t4 + 2 * kDayMs).within_validity);
}

TEST(QueriesTest, PagesAreBoundedAndCoverEverythingOnce) {
  Fixture f;
  Chain chain(f);
  Bytes ref = f.HolderRef("1");
  std::vector<Bytes> txs = {f.RegisterHolder("PSB/identity", kT, ref, "citizen")};
  for (int i = 0; i < 5; ++i) {
    txs.push_back(f.Grant("citizen", kT,
                          f.GrantMsg("g" + std::to_string(i), ref, Departments()[i % 3],
                                     {"identity"}, kT, kT + kDayMs)));
    txs.push_back(f.Anchor("PSB/issuer", kT,
                           f.Cert("c" + std::to_string(i), i % 2 ? "HUKOU" : "ID_CARD", "PSB", ref,
                                  kGenesisTimeMs + i)));
  }
  txs.push_back(f.DefineService("HRSS/admin", kT, PensionClaimMatter()));
  txs.push_back(f.DefineService("HOUSING/admin", kT, HousePurchaseMatter()));
  txs.push_back(f.DefineService("AMR/admin", kT, CompanyStartupMatter()));
  for (int i = 0; i < 3; ++i) {
    txs.push_back(
        f.Request("HRSS/service", kT, f.RequestMsg("r" + std::to_string(i), "PENSION_CLAIM", ref)));
  }
  chain.Apply(txs, kT);

  auto drain = [](auto fetch) {
    std::vector<std::string> ids;
    PageRequest page{.after = "", .limit = 2};
    for (int guard = 0; guard < 10; ++guard) {
      auto p = fetch(page);
      EXPECT_TRUE(p.ok());
      EXPECT_LE(p->items.size(), 2u);
      for (const auto& item : p->items) ids.push_back(item);
      if (p->next.empty()) break;
      page.after = p->next;
    }
    return ids;
  };
  auto grants = drain([&](const PageRequest& p) -> Result<Page<std::string>> {
    CL_ASSIGN_OR_RETURN(auto page, ListAuthorizations(chain.state(), ref, p));
    Page<std::string> out{.items = {}, .next = page.next};
    for (const auto& a : page.items) out.items.push_back(a.grant().grant_id());
    return out;
  });
  EXPECT_EQ(std::set<std::string>(grants.begin(), grants.end()),
            (std::set<std::string>{"g0", "g1", "g2", "g3", "g4"}));
  EXPECT_EQ(grants.size(), 5u);
  auto certs = drain([&](const PageRequest& p) -> Result<Page<std::string>> {
    CL_ASSIGN_OR_RETURN(auto page, ListHolderCertificates(chain.state(), ref, p));
    Page<std::string> out{.items = {}, .next = page.next};
    for (const auto& c : page.items) out.items.push_back(c.anchor().cert_id());
    return out;
  });
  // By type code, newest first within a type.
  EXPECT_EQ(certs, (std::vector<std::string>{"c3", "c1", "c4", "c2", "c0"}));
  auto services = drain([&](const PageRequest& p) -> Result<Page<std::string>> {
    CL_ASSIGN_OR_RETURN(auto page, ListServices(chain.state(), p));
    Page<std::string> out{.items = {}, .next = page.next};
    for (const auto& s : page.items) out.items.push_back(s.code());
    return out;
  });
  EXPECT_EQ(services,
            (std::vector<std::string>{"COMPANY_STARTUP", "HOUSE_PURCHASE", "PENSION_CLAIM"}));
  auto log = drain([&](const PageRequest& p) -> Result<Page<std::string>> {
    CL_ASSIGN_OR_RETURN(auto page, AccessLog(chain.state(), ref, p));
    Page<std::string> out{.items = {}, .next = page.next};
    for (const auto& e : page.items) out.items.push_back(e.request_id());
    return out;
  });
  EXPECT_EQ(log, (std::vector<std::string>{"r0", "r1", "r2"}));
  // Oversized limits are capped.
  PageRequest huge{.after = "", .limit = 1'000'000};
  EXPECT_LE(ListServices(chain.state(), huge)->items.size(), kMaxPageSize);
}

TEST(QueriesTest, ServiceVersionsStayReadable) {
  Fixture f;
  Chain chain(f);
  auto v2 = PensionClaimMatter();
  v2.set_version(2);
  v2.set_name("退休养老金申领 (2025版)");
  chain.Apply({f.DefineService("HRSS/admin", kT, PensionClaimMatter()),
               f.DefineService("HRSS/admin", kT, v2)},
              kT);
  EXPECT_EQ(GetService(chain.state(), "PENSION_CLAIM")->value().version(), 2u);
  EXPECT_EQ(GetService(chain.state(), "PENSION_CLAIM", 1)->value().name(), "退休养老金申领");
  EXPECT_EQ(GetService(chain.state(), "PENSION_CLAIM", 2)->value().defined_height(), 1u);
  EXPECT_FALSE(GetService(chain.state(), "PENSION_CLAIM", 3)->has_value());
  EXPECT_EQ(GetMember(chain.state(), f.Pub("HRSS/service"))->value().roles(0), v1::SERVICE_SYSTEM);
}

}  // namespace
}  // namespace cl::contracts::testing
