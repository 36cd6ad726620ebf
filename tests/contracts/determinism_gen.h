// A seeded random workload over the fixture network: valid and invalid
// transactions of every kind (anchors with right and wrong issuers, status
// changes of existing and unknown certificates, holders, agents, grants,
// withdrawals, matters, proof requests with true and forged disclosures,
// governance with and without quorum, garbage, replays, expired and
// wrong-chain txs) and block times that sometimes go backwards (a leader with a
// slow clock). Used by the determinism and replay tests.
#pragma once

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "tests/contracts/fixture.h"

namespace cl::contracts::testing {

class RandomWorkload {
 public:
  RandomWorkload(const Fixture& f, uint64_t seed) : f_(f), rng_(seed) {}

  // The txs of the next block and its proposal time.
  std::pair<std::vector<Bytes>, int64_t> NextBlock() {
    // Block time: usually forward by up to two days, sometimes a little back.
    int64_t step =
        Pick(10) == 0 ? -static_cast<int64_t>(Pick(5000)) : static_cast<int64_t>(Pick(2 * kDayMs));
    now_ = std::max<int64_t>(kGenesisTimeMs + 1, now_ + step);
    std::vector<Bytes> txs;
    if (block_++ == 0) {
      txs.push_back(f_.DefineService("ASC/admin", now_, NewbornBirthRegistrationMatter()));
      txs.push_back(f_.DefineService("PSB/admin", now_, NewbornHukouMatter()));
      txs.push_back(f_.DefineService("HRSS/admin", now_, NewbornMedicalInsuranceMatter()));
      txs.push_back(f_.DefineBundle("ASC/admin", now_, NewbornBundle()));
      txs.push_back(f_.DefineService("HOUSING/admin", now_, HousePurchaseMatter()));
      txs.push_back(f_.DefineService("HRSS/admin", now_, PensionClaimMatter()));
      txs.push_back(f_.DefineService("AMR/admin", now_, CompanyStartupMatter()));
    }
    size_t n = Pick(16);
    for (size_t i = 0; i < n; ++i) {
      txs.push_back(NextTx());
      previous_.push_back(txs.back());
      if (previous_.size() > 8) previous_.erase(previous_.begin());
    }
    return {txs, now_};
  }

 private:
  uint64_t Pick(uint64_t n) { return n == 0 ? 0 : rng_() % n; }
  template <typename T>
  const T& Of(const std::vector<T>& v) {
    return v[Pick(v.size())];
  }

  std::string Holder(size_t i) { return "holder-" + std::to_string(i); }
  Bytes Ref(size_t i) { return f_.HolderRef(Holder(i)); }
  std::string Dept() { return Of(Departments()); }
  std::string Cert() { return "c-" + std::to_string(Pick(certs_ + 2)); }
  std::string Grant() { return "g-" + std::to_string(Pick(grants_ + 2)); }

  Bytes NextTx() {
    switch (Pick(14)) {
      case 0:
      case 1:
        return Anchor();
      case 2:
        return f_.Revoke(Dept() + "/issuer", now_, Cert());
      case 3:
        return f_.Suspend(Of(issuers_) + "/issuer", now_, Cert());
      case 4:
        return f_.Reinstate(Of(issuers_) + "/issuer", now_, Cert());
      case 5:
        return f_.Supersede(Of(issuers_) + "/issuer", now_, Cert(), Cert());
      case 6: {
        size_t h = Pick(kHolders);
        return f_.RegisterHolder(Pick(4) ? "PSB/identity" : "CAB/issuer", now_, Ref(h),
                                 Holder(h) + (Pick(5) == 0 ? "-new" : ""));
      }
      case 7:
        return f_.RegisterAgent(
            "PSB/identity", now_, Ref(Pick(kHolders)), "agent-" + std::to_string(Pick(2)),
            "guardian", Pick(2) ? 0 : now_ + static_cast<int64_t>(Pick(10 * kDayMs)), Pick(6) == 0);
      case 8:
      case 9: {
        size_t h = Pick(kHolders);
        std::vector<std::string> types;
        for (const auto& t : kDataTypes) {
          if (Pick(2)) types.push_back(t);
        }
        if (types.empty()) types.push_back("identity");
        std::string signer = Pick(5) == 0 ? "agent-" + std::to_string(Pick(2)) : Holder(h);
        int64_t nb = now_ - static_cast<int64_t>(Pick(kDayMs));
        auto g = f_.GrantMsg("g-" + std::to_string(grants_++), Ref(h), Dept(), types, nb,
                             nb + 1 + static_cast<int64_t>(Pick(30 * kDayMs)),
                             static_cast<uint32_t>(Pick(3)));
        return f_.Grant(signer, now_, g);
      }
      case 10:
        return f_.Withdraw(Pick(3) ? Holder(Pick(kHolders)) : "agent-0", now_, Grant());
      case 11:
      case 12:
        return Request();
      default:
        return Odd();
    }
  }

  Bytes Anchor() {
    static const std::vector<std::pair<std::string, std::string>> kTypes = {
        {"ID_CARD", "PSB"},      {"HUKOU", "PSB"},
        {"MARRIAGE", "CAB"},     {"BIRTH_MED", "HOSP"},
        {"SOCIAL_INS", "HRSS"},  {"SOCIAL_INS", "TAX"},
        {"BIZ_LICENSE", "AMR"},  {"LEASE_FILING", "HOUSING"},
        {"MED_INVOICE", "HOSP"}, {"ID_CARD", "CAB"} /* not permitted */};
    const auto& [type, issuer] = Of(kTypes);
    int64_t issued = now_ - static_cast<int64_t>(Pick(400 * kDayMs));
    int64_t until = Pick(3) == 0 ? 0 : issued + static_cast<int64_t>(Pick(800 * kDayMs)) + 1;
    std::string id = "c-" + std::to_string(certs_++);
    std::vector<std::pair<std::string, std::string>> attrs = {
        {"registered_city", Pick(2) ? "330100" : "310000"},
        {"birth_year", std::to_string(1950 + Pick(50))},
        {"paid_months", std::to_string(Pick(100))},
        {"contribution_years", std::to_string(Pick(30))},
        {"company_type", Pick(2) ? "有限责任公司" : "农民专业合作社"}};
    values_[id] = attrs;
    return f_.Anchor(issuer + "/issuer", now_,
                     f_.Cert(id, type, issuer, Ref(Pick(kHolders)), issued, until, attrs));
  }

  Bytes Request() {
    static const std::vector<std::string> kTargets = {
        "NEWBORN_BIRTH_REG", "NEWBORN_HUKOU",   "NEWBORN_MEDINS", "HOUSE_PURCHASE",
        "PENSION_CLAIM",     "COMPANY_STARTUP", "NEWBORN_BUNDLE", "NO_SUCH"};
    const std::string& target = Of(kTargets);
    auto p =
        f_.RequestMsg("r-" + std::to_string(requests_++), target, Ref(Pick(kHolders)), "随机事由");
    if (target == "NEWBORN_BUNDLE") p.set_bundle_code(target);
    for (int i = 0; i < 3 && certs_ > 0; ++i) {
      std::string id = "c-" + std::to_string(Pick(certs_));
      auto it = values_.find(id);
      if (it == values_.end()) continue;
      const auto& [name, value] = Of(it->second);
      *p.add_disclosures() = f_.Disclose(id, name, Pick(6) == 0 ? value + "0" : value);
    }
    std::string signer = Dept() + (Pick(4) ? "/service" : Pick(2) ? "/verifier" : "/issuer");
    return f_.Request(signer, now_, p);
  }

  Bytes Odd() {
    switch (Pick(7)) {
      case 0:
        return Bytes(
            "\x0a\x03"
            "abc"
            "\xff",
            6);
      case 1:
        return previous_.empty() ? Bytes("x") : Of(previous_);  // a replay of a recent tx
      case 2: {
        auto b = f_.Body(now_, now_ - 1);  // expired
        b.mutable_revoke_certificate()->set_cert_id(Cert());
        return f_.Sign(b, "PSB/issuer");
      }
      case 3: {
        auto b = f_.Body(now_);
        b.set_chain_id("other");
        b.mutable_revoke_certificate()->set_cert_id(Cert());
        return f_.Sign(b, "PSB/issuer");
      }
      case 4: {
        v1::Governance g;
        g.mutable_add_member()->set_public_key(f_.Pub("member-" + std::to_string(members_++)));
        g.mutable_add_member()->set_department(Dept());
        g.mutable_add_member()->add_roles(v1::ISSUING_CLERK);
        std::vector<std::string> cos = {"CAB/admin"};
        if (Pick(2)) cos.push_back("HRSS/admin");
        return f_.Govern("PSB/admin", cos, now_, g);
      }
      case 5: {
        v1::Governance g;
        g.set_revoke_member(f_.Pub(Dept() + "/verifier"));
        return f_.Govern("AMR/admin", {"TAX/admin", "HOSP/admin"}, now_, g);
      }
      default: {
        auto s = PensionClaimMatter();
        s.set_version(2);
        return f_.DefineService(Dept() + "/admin", now_, s);
      }
    }
  }

  static constexpr size_t kHolders = 6;
  const std::vector<std::string> kDataTypes = {
      "identity",    "household_register",   "marriage", "birth", "social_insurance",
      "real_estate", "business_registration"};
  const std::vector<std::string> issuers_ = {"PSB", "CAB", "HOSP", "HRSS", "AMR"};
  const Fixture& f_;
  std::mt19937_64 rng_;
  int64_t now_ = kGenesisTimeMs;
  int block_ = 0;
  uint64_t certs_ = 0, grants_ = 0, requests_ = 0, members_ = 0;
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> values_;
  std::vector<Bytes> previous_;
};

}  // namespace cl::contracts::testing
