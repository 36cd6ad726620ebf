// A reusable test network for the contracts (and for node/CLI tests): a
// genesis with a city's departments, keys derived from names, certificate
// types, signing helpers, requirement-tree builders, realistic matters, and a
// Chain that drives an Executor over a MemState block by block.
//
// Departments (all with an ADMIN "X/admin", ISSUING_CLERK "X/issuer",
// SERVICE_SYSTEM "X/service", VERIFYING_CLERK "X/verifier"; PSB also has
// IDENTITY_CLERK "PSB/identity"; admin threshold 3 of 8):
//   PSB 市公安局 (identity authority), CAB 市民政局, HRSS 市人社局, AMR 市市场监管局,
//   HOSP 市第一人民医院, HOUSING 市住建局, ASC 市行政服务中心, TAX 市税务局.
// Certificate types (code: name, issuers, data types):
//   ID_CARD 居民身份证 (PSB; identity), HUKOU 居民户口簿 (PSB; household_register),
//   MARRIAGE 结婚证 and DIVORCE 离婚证 (CAB; marriage), BIRTH_MED 出生医学证明
//   (HOSP; birth), BIZ_LICENSE 营业执照 (AMR; business_registration),
//   NO_CRIME 无犯罪记录证明 (PSB; criminal_record; 90 days default validity),
//   SOCIAL_INS 社保缴纳证明 (HRSS and TAX, which collects premiums; social_insurance), HOUSE_DEED
//   不动产权证书 (HOUSING; real_estate), LEASE_FILING 房屋租赁登记备案 (HOUSING; real_estate),
//   TAX_REG 税务登记 (TAX; tax), and the e-bill
//   MED_INVOICE 医疗收费票据 (EBILL; HOSP; medical_billing).
//
// Keys are the suite's (Ed25519 by default) from
// suite.KeyFromSeed(Hash("certledger-test-key/" + name)), so every run and every
// process derives the same keys from the same names.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "contracts/executor.h"
#include "contracts/state_view.h"
#include "crypto/suite.h"
#include "proto/records.pb.h"
#include "proto/tx.pb.h"

namespace cl::contracts::testing {

namespace v1 = certledger::v1;

inline constexpr int64_t kGenesisTimeMs = 1'735'689'600'000;  // 2025-01-01T00:00:00Z
inline constexpr int64_t kDayMs = 86'400'000;
inline constexpr int64_t kYearMs = 365 * kDayMs;
inline constexpr std::string_view kChainId = "city-test";
inline constexpr std::string_view kNetworkSecret = "test-network-secret";

// The departments of the fixture, in genesis order.
const std::vector<std::string>& Departments();

class Fixture {
 public:
  // The network of `suite_name` (a crypto::SuiteNames() entry; crashes on an
  // unknown one): its genesis names that suite and every key is the suite's.
  explicit Fixture(std::string_view suite_name = crypto::kDefaultSuite);

  const crypto::Suite& suite() const { return *suite_; }
  std::shared_ptr<const crypto::Suite> suite_ptr() const { return suite_; }
  const v1::Genesis& genesis() const { return genesis_; }
  v1::Genesis& mutable_genesis() { return genesis_; }

  // The key pair named `name` (derived on first use, then cached).
  const crypto::KeyPair& Key(std::string_view name) const;
  Bytes Pub(std::string_view name) const { return Key(name).public_key; }

  // holder_ref of a citizen (code type 111) or an organisation (001).
  Bytes HolderRef(std::string_view code, std::string_view code_type = "111") const;
  Bytes NumberRef(std::string_view number) const;
  Bytes DocHash(std::string_view cert_id) const;

  // A body for the chain with a fresh nonce, valid until `valid_until_ms`
  // (default: an hour after `now_ms`).
  v1::TxBody Body(int64_t now_ms, int64_t valid_until_ms = 0) const;
  // Signs body by `signer`, adding cosignatures by `cosigners`.
  Bytes Sign(const v1::TxBody& body, std::string_view signer,
             const std::vector<std::string>& cosigners = {}) const;
  // Body(now) with `fill` setting the payload, signed.
  Bytes Tx(std::string_view signer, int64_t now_ms, const std::function<void(v1::TxBody&)>& fill,
           const std::vector<std::string>& cosigners = {}) const;

  // Certificates with attributes: salts are derived from cert id and name so
  // Disclose() can open the commitments later.
  v1::AnchorCertificate Cert(
      std::string_view cert_id, std::string_view type_code, std::string_view issuer,
      ByteView holder_ref, int64_t issued_at_ms, int64_t valid_until_ms = 0,
      const std::vector<std::pair<std::string, std::string>>& attrs = {}) const;
  v1::AttributeDisclosure Disclose(std::string_view cert_id, std::string_view name,
                                   std::string_view value) const;

  // Typed payload helpers (each returns a signed tx).
  Bytes Anchor(std::string_view signer, int64_t now, const v1::AnchorCertificate& a) const;
  Bytes Revoke(std::string_view signer, int64_t now, std::string_view cert_id,
               std::string_view reason = "吊销") const;
  Bytes Suspend(std::string_view signer, int64_t now, std::string_view cert_id,
                std::string_view reason = "暂扣") const;
  Bytes Reinstate(std::string_view signer, int64_t now, std::string_view cert_id,
                  std::string_view reason = "恢复") const;
  Bytes Supersede(std::string_view signer, int64_t now, std::string_view cert_id,
                  std::string_view new_id, std::string_view reason = "换证") const;
  Bytes RegisterHolder(std::string_view signer, int64_t now, ByteView ref,
                       std::string_view holder_key) const;
  Bytes RegisterAgent(std::string_view signer, int64_t now, ByteView ref,
                      std::string_view agent_key, std::string_view relation = "guardian",
                      int64_t valid_until_ms = 0, bool revoke = false) const;
  v1::GrantAuthorization GrantMsg(std::string_view grant_id, ByteView ref, std::string_view grantee,
                                  const std::vector<std::string>& data_types, int64_t not_before_ms,
                                  int64_t not_after_ms, uint32_t max_uses = 0) const;
  Bytes Grant(std::string_view signer, int64_t now, const v1::GrantAuthorization& g) const;
  Bytes Withdraw(std::string_view signer, int64_t now, std::string_view grant_id) const;
  Bytes DefineService(std::string_view signer, int64_t now, const v1::ServiceDefinition& s) const;
  Bytes DefineBundle(std::string_view signer, int64_t now, const v1::BundleDefinition& b) const;
  v1::ProofRequest RequestMsg(std::string_view request_id, std::string_view service_code,
                              ByteView ref, std::string_view reason = "窗口受理") const;
  Bytes Request(std::string_view signer, int64_t now, const v1::ProofRequest& p) const;
  Bytes Govern(std::string_view signer, const std::vector<std::string>& cosigners, int64_t now,
               const v1::Governance& g) const;

 private:
  std::shared_ptr<const crypto::Suite> suite_;
  v1::Genesis genesis_;
  mutable std::map<std::string, crypto::KeyPair, std::less<>> keys_;
  mutable uint64_t nonce_ = 0;
};

// ---- requirement-tree builders
v1::Requirement AllOf(std::string_view label, std::vector<v1::Requirement> items);
v1::Requirement AnyOf(std::string_view label, std::vector<v1::Requirement> items);
v1::Requirement CertLeaf(std::string_view label, std::string_view type_code,
                         std::vector<std::string> issuers = {}, uint32_t max_age_days = 0,
                         std::vector<v1::AttributePredicate> predicates = {});
v1::Requirement ConsentLeaf(std::string_view label, std::vector<std::string> data_types);
v1::AttributePredicate Pred(std::string_view name, v1::AttributePredicate::Op op,
                            std::vector<std::string> values);
v1::ServiceDefinition Service(std::string_view code, std::string_view name,
                              std::vector<std::string> owners, std::vector<std::string> requesters,
                              std::vector<std::string> data_types, v1::Requirement requirement,
                              uint32_t version = 1);

// ---- realistic matters (see tests/contracts/scenario_test.cc and docs/contracts.md)
// The holder of a family matter is the applying parent: the hospital anchors
// the 出生医学证明 to the parent who applies, and each spouse holds a 结婚证.
// 出生登记: parent's 身份证 + 结婚证; consent (identity, marriage).
v1::ServiceDefinition NewbornBirthRegistrationMatter();  // NEWBORN_BIRTH_REG; HOSP, ASC
// 新生儿入户: 出生医学证明 (<= 365 days old) + 户口簿 (registered_city = 330100); consent.
v1::ServiceDefinition NewbornHukouMatter();  // NEWBORN_HUKOU; PSB, ASC
// 新生儿参保: 出生医学证明 + (户口簿 or 身份证); consent (birth, household_register).
v1::ServiceDefinition NewbornMedicalInsuranceMatter();  // NEWBORN_MEDINS; HRSS, ASC
// 新生儿出生一件事: the three above under one request.
v1::BundleDefinition NewbornBundle();  // NEWBORN_BUNDLE
// 购房资格审核: 身份证; local 户口簿 or >= 60 months of 社保 (proof <= 30 days old);
// marital status by 结婚证 or 离婚证; consent incl. real_estate.
v1::ServiceDefinition HousePurchaseMatter();  // HOUSE_PURCHASE; HOUSING, ASC
// 退休养老金申领: 身份证 (birth_year <= 1965), 社保缴纳证明 (contribution_years >= 15,
// <= 90 days old), 户口簿; consent (identity, social_insurance, household_register).
v1::ServiceDefinition PensionClaimMatter();  // PENSION_CLAIM; HRSS, ASC
// 企业开办 (seal, tax and social-insurance registration after licensing), for a
// company holder (code type 001): 营业执照 from AMR (<= 90 days old, company_type
// one of 有限责任公司/股份有限公司/个人独资企业) + premises (不动产权证书 or
// 房屋租赁登记备案); consent, typically granted by the legal representative as agent.
v1::ServiceDefinition CompanyStartupMatter();  // COMPANY_STARTUP; PSB, TAX, HRSS, ASC

// Drives an Executor block by block over a MemState, like a node would:
// applies the write set, keeps the previous header, the history frontier and
// a snapshot of the state after every height (for replay tests).
class Chain {
 public:
  explicit Chain(const Fixture& f);
  // Another chain from the same genesis (e.g. a second "node").
  Chain(const Fixture& f, std::unique_ptr<Executor> executor);

  // Applies one block with the given txs at `time_ms` (block time is
  // max(time_ms, previous block time)). Crashes on an executor error.
  ExecOutput Apply(std::vector<Bytes> txs, int64_t time_ms);
  // Applies a block of one tx and returns its decoded receipt.
  v1::Receipt ApplyOne(Bytes tx, int64_t time_ms);
  // Simulates a node restart: a fresh Executor from the genesis, the history
  // frontier restored from its (size, roots) and the last header re-decoded
  // from its bytes; the state is what was persisted.
  void Restart();
  // Whether each block gets the previous one's expiry floor (as a node
  // passes it on; default) or none (every block reads the replay index).
  void set_pass_expiry_floor(bool pass) { pass_floor_ = pass; }

  const Executor& executor() const { return *executor_; }
  const MemState& state() const { return state_; }
  // State after block `h` (0 = genesis).
  const MemState& StateAt(uint64_t h) const { return snapshots_.at(h); }
  uint64_t height() const { return height_; }
  int64_t time_ms() const { return time_ms_; }
  const v1::BlockHeader& last_header() const { return *last_header_; }
  const crypto::MerkleFrontier& history() const { return history_; }
  // Every block's serialized bytes, by height.
  const std::map<uint64_t, Bytes>& blocks() const { return blocks_; }
  crypto::Digest genesis_hash() const { return genesis_hash_; }

 private:
  const Fixture& f_;
  std::unique_ptr<Executor> executor_;
  MemState state_;
  std::map<uint64_t, MemState> snapshots_;
  std::map<uint64_t, Bytes> blocks_;
  std::shared_ptr<v1::BlockHeader> last_header_;
  crypto::Digest genesis_hash_;
  crypto::Digest prev_hash_;
  crypto::MerkleFrontier history_;
  uint64_t height_ = 0;
  int64_t time_ms_ = kGenesisTimeMs;
  bool pass_floor_ = true;
  std::optional<int64_t> expiry_floor_;
};

}  // namespace cl::contracts::testing
