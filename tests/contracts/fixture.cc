#include "tests/contracts/fixture.h"

#include "base/check.h"
#include "crypto/domain.h"

namespace cl::contracts::testing {

const std::vector<std::string>& Departments() {
  static const std::vector<std::string> kDepts = {"PSB",  "CAB",     "HRSS", "AMR",
                                                  "HOSP", "HOUSING", "ASC",  "TAX"};
  return kDepts;
}

namespace {

v1::Department Dept(std::string code, std::string name, bool identity = false) {
  v1::Department d;
  d.set_code(std::move(code));
  d.set_name(std::move(name));
  d.set_identity_authority(identity);
  return d;
}

v1::CertType Type(std::string code, std::string name, v1::DocClass cls,
                  std::vector<std::string> issuers, std::vector<std::string> data_types,
                  uint32_t validity_days = 0) {
  v1::CertType t;
  t.set_type_code(std::move(code));
  t.set_name(std::move(name));
  t.set_doc_class(cls);
  for (auto& i : issuers) t.add_issuers(i);
  for (auto& d : data_types) t.add_data_types(d);
  t.set_default_validity_days(validity_days);
  return t;
}

}  // namespace

Fixture::Fixture(std::string_view suite_name) : suite_(crypto::MakeSuite(suite_name).value()) {
  genesis_.set_chain_id(std::string(kChainId));
  genesis_.set_suite(std::string(suite_->name()));
  genesis_.set_genesis_time_ms(kGenesisTimeMs);
  *genesis_.add_departments() = Dept("PSB", "市公安局", true);
  *genesis_.add_departments() = Dept("CAB", "市民政局");
  *genesis_.add_departments() = Dept("HRSS", "市人力资源和社会保障局");
  *genesis_.add_departments() = Dept("AMR", "市市场监督管理局");
  *genesis_.add_departments() = Dept("HOSP", "市第一人民医院");
  *genesis_.add_departments() = Dept("HOUSING", "市住房和城乡建设局");
  *genesis_.add_departments() = Dept("ASC", "市行政服务中心");
  *genesis_.add_departments() = Dept("TAX", "市税务局");
  auto add_member = [&](const std::string& name, const std::string& dept,
                        std::vector<v1::Role> roles) {
    v1::Member m;
    m.set_public_key(Pub(name));
    m.set_department(dept);
    for (auto r : roles) m.add_roles(r);
    m.set_label(name);
    *genesis_.add_members() = m;
  };
  for (const auto& d : Departments()) {
    add_member(d + "/admin", d, {v1::ADMIN});
    add_member(d + "/issuer", d, {v1::ISSUING_CLERK});
    add_member(d + "/service", d, {v1::SERVICE_SYSTEM});
    add_member(d + "/verifier", d, {v1::VERIFYING_CLERK});
    add_member(d + "/operator", d, {v1::OPERATOR});
  }
  add_member("PSB/identity", "PSB", {v1::IDENTITY_CLERK});
  genesis_.set_admin_threshold(3);
  using C = v1::DocClass;
  *genesis_.add_cert_types() = Type("ID_CARD", "居民身份证", C::CERTIFICATE, {"PSB"}, {"identity"});
  *genesis_.add_cert_types() =
      Type("HUKOU", "居民户口簿", C::CERTIFICATE, {"PSB"}, {"household_register"});
  *genesis_.add_cert_types() = Type("MARRIAGE", "结婚证", C::CERTIFICATE, {"CAB"}, {"marriage"});
  *genesis_.add_cert_types() = Type("DIVORCE", "离婚证", C::CERTIFICATE, {"CAB"}, {"marriage"});
  *genesis_.add_cert_types() =
      Type("BIRTH_MED", "出生医学证明", C::CERTIFICATE, {"HOSP"}, {"birth"});
  *genesis_.add_cert_types() =
      Type("BIZ_LICENSE", "营业执照", C::CERTIFICATE, {"AMR"}, {"business_registration"});
  *genesis_.add_cert_types() =
      Type("NO_CRIME", "无犯罪记录证明", C::CERTIFICATE, {"PSB"}, {"criminal_record"}, 90);
  *genesis_.add_cert_types() =
      Type("SOCIAL_INS", "社保缴纳证明", C::CERTIFICATE, {"HRSS", "TAX"}, {"social_insurance"});
  *genesis_.add_cert_types() =
      Type("HOUSE_DEED", "不动产权证书", C::CERTIFICATE, {"HOUSING"}, {"real_estate"});
  *genesis_.add_cert_types() =
      Type("LEASE_FILING", "房屋租赁登记备案", C::CERTIFICATE, {"HOUSING"}, {"real_estate"});
  *genesis_.add_cert_types() = Type("TAX_REG", "税务登记", C::CERTIFICATE, {"TAX"}, {"tax"});
  *genesis_.add_cert_types() =
      Type("MED_INVOICE", "医疗收费票据", C::EBILL, {"HOSP"}, {"medical_billing"});
  for (uint64_t id = 1; id <= 3; ++id) {
    v1::NodeInfo n;
    n.set_node_id(id);
    n.set_department(Departments()[id - 1]);
    n.set_public_key(Pub("node/" + std::to_string(id)));
    n.set_peer_address("127.0.0.1:" + std::to_string(7000 + id));
    n.set_role(v1::NodeInfo::VOTER);
    *genesis_.add_nodes() = n;
  }
}

const crypto::KeyPair& Fixture::Key(std::string_view name) const {
  auto it = keys_.find(name);
  if (it != keys_.end()) return it->second;
  crypto::Digest seed = suite_->Hash("certledger-test-key/" + std::string(name));
  auto kp = suite_->KeyFromSeed(seed.view());
  CL_CHECK(kp.ok(), "key from seed");
  return keys_.emplace(std::string(name), std::move(kp).value()).first->second;
}

Bytes Fixture::HolderRef(std::string_view code, std::string_view code_type) const {
  Bytes data(code_type);
  data.push_back('\0');
  data.append(code);
  return suite_->KeyedHash(kNetworkSecret, data).ToBytes();
}

Bytes Fixture::NumberRef(std::string_view number) const {
  return suite_->KeyedHash(kNetworkSecret, "number/" + std::string(number)).ToBytes();
}

Bytes Fixture::DocHash(std::string_view cert_id) const {
  return suite_->Hash("document of " + std::string(cert_id)).ToBytes();
}

v1::TxBody Fixture::Body(int64_t now_ms, int64_t valid_until_ms) const {
  v1::TxBody b;
  b.set_chain_id(std::string(kChainId));
  b.set_nonce(++nonce_);
  b.set_valid_until_ms(valid_until_ms != 0 ? valid_until_ms : now_ms + 3'600'000);
  return b;
}

Bytes Fixture::Sign(const v1::TxBody& body, std::string_view signer,
                    const std::vector<std::string>& cosigners) const {
  v1::SignedTx tx;
  tx.set_body(body.SerializeAsString());
  Bytes msg = crypto::TxMessage(tx.body());
  tx.set_signer(Pub(signer));
  tx.set_signature(suite_->Sign(Key(signer).secret_key, msg).value());
  for (const auto& c : cosigners) {
    auto* cs = tx.add_cosignatures();
    cs->set_signer(Pub(c));
    cs->set_signature(suite_->Sign(Key(c).secret_key, msg).value());
  }
  return tx.SerializeAsString();
}

Bytes Fixture::Tx(std::string_view signer, int64_t now_ms,
                  const std::function<void(v1::TxBody&)>& fill,
                  const std::vector<std::string>& cosigners) const {
  v1::TxBody b = Body(now_ms);
  fill(b);
  return Sign(b, signer, cosigners);
}

namespace {
Bytes Salt(const crypto::Suite& s, std::string_view cert_id, std::string_view name) {
  return s.Hash("salt/" + std::string(cert_id) + "/" + std::string(name)).ToBytes();
}
}  // namespace

v1::AnchorCertificate Fixture::Cert(
    std::string_view cert_id, std::string_view type_code, std::string_view issuer,
    ByteView holder_ref, int64_t issued_at_ms, int64_t valid_until_ms,
    const std::vector<std::pair<std::string, std::string>>& attrs) const {
  v1::AnchorCertificate a;
  a.set_cert_id(std::string(cert_id));
  a.set_doc_hash(DocHash(cert_id));
  a.set_type_code(std::string(type_code));
  a.set_number_ref(NumberRef(cert_id));
  a.set_holder_ref(std::string(holder_ref));
  a.set_issuer(std::string(issuer));
  a.set_issued_at_ms(issued_at_ms);
  a.set_valid_from_ms(issued_at_ms);
  a.set_valid_until_ms(valid_until_ms);
  a.set_jurisdiction("330100");
  for (const auto& [name, value] : attrs) {
    auto d = Disclose(cert_id, name, value);
    const ByteView parts[] = {crypto::kAttrTag, d.salt(), d.name(), ByteView("\0", 1), d.value()};
    auto* c = a.add_attributes();
    c->set_name(name);
    c->set_commitment(suite_->HashParts(parts).ToBytes());
  }
  return a;
}

v1::AttributeDisclosure Fixture::Disclose(std::string_view cert_id, std::string_view name,
                                          std::string_view value) const {
  v1::AttributeDisclosure d;
  d.set_cert_id(std::string(cert_id));
  d.set_name(std::string(name));
  d.set_value(std::string(value));
  d.set_salt(Salt(*suite_, cert_id, name));
  return d;
}

Bytes Fixture::Anchor(std::string_view signer, int64_t now, const v1::AnchorCertificate& a) const {
  return Tx(signer, now, [&](v1::TxBody& b) { *b.mutable_anchor_certificate() = a; });
}
Bytes Fixture::Revoke(std::string_view signer, int64_t now, std::string_view cert_id,
                      std::string_view reason) const {
  return Tx(signer, now, [&](v1::TxBody& b) {
    b.mutable_revoke_certificate()->set_cert_id(std::string(cert_id));
    b.mutable_revoke_certificate()->set_reason(std::string(reason));
  });
}
Bytes Fixture::Suspend(std::string_view signer, int64_t now, std::string_view cert_id,
                       std::string_view reason) const {
  return Tx(signer, now, [&](v1::TxBody& b) {
    b.mutable_suspend_certificate()->set_cert_id(std::string(cert_id));
    b.mutable_suspend_certificate()->set_reason(std::string(reason));
  });
}
Bytes Fixture::Reinstate(std::string_view signer, int64_t now, std::string_view cert_id,
                         std::string_view reason) const {
  return Tx(signer, now, [&](v1::TxBody& b) {
    b.mutable_reinstate_certificate()->set_cert_id(std::string(cert_id));
    b.mutable_reinstate_certificate()->set_reason(std::string(reason));
  });
}
Bytes Fixture::Supersede(std::string_view signer, int64_t now, std::string_view cert_id,
                         std::string_view new_id, std::string_view reason) const {
  return Tx(signer, now, [&](v1::TxBody& b) {
    auto* s = b.mutable_supersede_certificate();
    s->set_cert_id(std::string(cert_id));
    s->set_new_cert_id(std::string(new_id));
    s->set_reason(std::string(reason));
  });
}
Bytes Fixture::RegisterHolder(std::string_view signer, int64_t now, ByteView ref,
                              std::string_view holder_key) const {
  return Tx(signer, now, [&](v1::TxBody& b) {
    b.mutable_register_holder()->set_holder_ref(std::string(ref));
    b.mutable_register_holder()->set_public_key(Pub(holder_key));
  });
}
Bytes Fixture::RegisterAgent(std::string_view signer, int64_t now, ByteView ref,
                             std::string_view agent_key, std::string_view relation,
                             int64_t valid_until_ms, bool revoke) const {
  return Tx(signer, now, [&](v1::TxBody& b) {
    auto* a = b.mutable_register_agent();
    a->set_holder_ref(std::string(ref));
    a->set_agent_public_key(Pub(agent_key));
    a->set_relation(std::string(relation));
    a->set_valid_until_ms(valid_until_ms);
    a->set_revoke(revoke);
  });
}
v1::GrantAuthorization Fixture::GrantMsg(std::string_view grant_id, ByteView ref,
                                         std::string_view grantee,
                                         const std::vector<std::string>& data_types,
                                         int64_t not_before_ms, int64_t not_after_ms,
                                         uint32_t max_uses) const {
  v1::GrantAuthorization g;
  g.set_grant_id(std::string(grant_id));
  g.set_holder_ref(std::string(ref));
  g.set_grantee(std::string(grantee));
  for (const auto& d : data_types) g.add_data_types(d);
  g.set_purpose("办理业务");
  g.set_not_before_ms(not_before_ms);
  g.set_not_after_ms(not_after_ms);
  g.set_max_uses(max_uses);
  return g;
}
Bytes Fixture::Grant(std::string_view signer, int64_t now, const v1::GrantAuthorization& g) const {
  return Tx(signer, now, [&](v1::TxBody& b) { *b.mutable_grant_authorization() = g; });
}
Bytes Fixture::Withdraw(std::string_view signer, int64_t now, std::string_view grant_id) const {
  return Tx(signer, now, [&](v1::TxBody& b) {
    b.mutable_revoke_authorization()->set_grant_id(std::string(grant_id));
    b.mutable_revoke_authorization()->set_reason("不再授权");
  });
}
Bytes Fixture::DefineService(std::string_view signer, int64_t now,
                             const v1::ServiceDefinition& s) const {
  return Tx(signer, now,
            [&](v1::TxBody& b) { *b.mutable_define_service()->mutable_service() = s; });
}
Bytes Fixture::DefineBundle(std::string_view signer, int64_t now,
                            const v1::BundleDefinition& bd) const {
  return Tx(signer, now, [&](v1::TxBody& b) { *b.mutable_define_bundle()->mutable_bundle() = bd; });
}
v1::ProofRequest Fixture::RequestMsg(std::string_view request_id, std::string_view service_code,
                                     ByteView ref, std::string_view reason) const {
  v1::ProofRequest p;
  p.set_request_id(std::string(request_id));
  p.set_service_code(std::string(service_code));
  p.set_holder_ref(std::string(ref));
  p.set_reason(std::string(reason));
  return p;
}
Bytes Fixture::Request(std::string_view signer, int64_t now, const v1::ProofRequest& p) const {
  return Tx(signer, now, [&](v1::TxBody& b) { *b.mutable_proof_request() = p; });
}
Bytes Fixture::Govern(std::string_view signer, const std::vector<std::string>& cosigners,
                      int64_t now, const v1::Governance& g) const {
  return Tx(
      signer, now, [&](v1::TxBody& b) { *b.mutable_governance() = g; }, cosigners);
}

// ---------------------------------------------------------------- trees

v1::Requirement AllOf(std::string_view label, std::vector<v1::Requirement> items) {
  v1::Requirement r;
  r.set_label(std::string(label));
  for (auto& i : items) *r.mutable_all_of()->add_items() = std::move(i);
  return r;
}
v1::Requirement AnyOf(std::string_view label, std::vector<v1::Requirement> items) {
  v1::Requirement r;
  r.set_label(std::string(label));
  for (auto& i : items) *r.mutable_any_of()->add_items() = std::move(i);
  return r;
}
v1::Requirement CertLeaf(std::string_view label, std::string_view type_code,
                         std::vector<std::string> issuers, uint32_t max_age_days,
                         std::vector<v1::AttributePredicate> predicates) {
  v1::Requirement r;
  r.set_label(std::string(label));
  auto* c = r.mutable_cert();
  c->set_type_code(std::string(type_code));
  for (auto& i : issuers) c->add_issuers(i);
  c->set_max_age_days(max_age_days);
  for (auto& p : predicates) *c->add_predicates() = std::move(p);
  return r;
}
v1::Requirement ConsentLeaf(std::string_view label, std::vector<std::string> data_types) {
  v1::Requirement r;
  r.set_label(std::string(label));
  for (auto& d : data_types) r.mutable_consent()->add_data_types(d);
  return r;
}
v1::AttributePredicate Pred(std::string_view name, v1::AttributePredicate::Op op,
                            std::vector<std::string> values) {
  v1::AttributePredicate p;
  p.set_name(std::string(name));
  p.set_op(op);
  for (auto& v : values) p.add_values(v);
  return p;
}
v1::ServiceDefinition Service(std::string_view code, std::string_view name,
                              std::vector<std::string> owners, std::vector<std::string> requesters,
                              std::vector<std::string> data_types, v1::Requirement requirement,
                              uint32_t version) {
  v1::ServiceDefinition s;
  s.set_code(std::string(code));
  s.set_name(std::string(name));
  s.set_version(version);
  for (auto& o : owners) s.add_owners(o);
  for (auto& r : requesters) s.add_requesters(r);
  for (auto& d : data_types) s.add_data_types(d);
  *s.mutable_requirement() = std::move(requirement);
  return s;
}

// ---------------------------------------------------------------- matters

using P = v1::AttributePredicate;

v1::ServiceDefinition NewbornBirthRegistrationMatter() {
  return Service(
      "NEWBORN_BIRTH_REG", "出生登记", {"HOSP"}, {"HOSP", "ASC"}, {"identity", "marriage"},
      AllOf("出生登记材料", {
                                CertLeaf("申请人居民身份证", "ID_CARD", {"PSB"}),
                                CertLeaf("父母结婚证", "MARRIAGE", {"CAB"}),
                                ConsentLeaf("授权核验身份与婚姻信息", {"identity", "marriage"}),
                            }));
}

v1::ServiceDefinition NewbornHukouMatter() {
  return Service(
      "NEWBORN_HUKOU", "新生儿入户", {"PSB"}, {"PSB", "ASC"}, {"birth", "household_register"},
      AllOf("入户材料", {
                            CertLeaf("出生医学证明", "BIRTH_MED", {"HOSP"}, 365),
                            CertLeaf("父或母户口簿 (本市)", "HUKOU", {"PSB"}, 0,
                                     {Pred("registered_city", P::EQUALS, {"330100"})}),
                            ConsentLeaf("授权共享出生与户籍信息", {"birth", "household_register"}),
                        }));
}

v1::ServiceDefinition NewbornMedicalInsuranceMatter() {
  return Service("NEWBORN_MEDINS", "新生儿参保登记", {"HRSS"}, {"HRSS", "ASC"},
                 {"birth", "household_register", "identity"},
                 AllOf("参保材料", {
                                       CertLeaf("出生医学证明", "BIRTH_MED", {"HOSP"}),
                                       AnyOf("监护人户籍或身份",
                                             {
                                                 CertLeaf("户口簿", "HUKOU", {"PSB"}),
                                                 CertLeaf("居民身份证", "ID_CARD", {"PSB"}),
                                             }),
                                       ConsentLeaf("授权共享出生信息", {"birth"}),
                                   }));
}

v1::BundleDefinition NewbornBundle() {
  v1::BundleDefinition b;
  b.set_code("NEWBORN_BUNDLE");
  b.set_name("新生儿出生一件事");
  b.set_version(1);
  b.add_owners("ASC");
  b.add_service_codes("NEWBORN_BIRTH_REG");
  b.add_service_codes("NEWBORN_HUKOU");
  b.add_service_codes("NEWBORN_MEDINS");
  return b;
}

v1::ServiceDefinition HousePurchaseMatter() {
  return Service(
      "HOUSE_PURCHASE", "购房资格审核", {"HOUSING"}, {"HOUSING", "ASC"},
      {"identity", "household_register", "social_insurance", "marriage", "real_estate"},
      AllOf("购房资格", {
                            CertLeaf("购房人居民身份证", "ID_CARD", {"PSB"}),
                            AnyOf("本市户籍或连续社保",
                                  {
                                      CertLeaf("本市户口簿", "HUKOU", {"PSB"}, 0,
                                               {Pred("registered_city", P::EQUALS, {"330100"})}),
                                      CertLeaf("近60个月社保缴纳证明", "SOCIAL_INS", {"HRSS"}, 30,
                                               {Pred("paid_months", P::INT_GTE, {"60"})}),
                                  }),
                            AnyOf("婚姻状况",
                                  {
                                      CertLeaf("结婚证", "MARRIAGE", {"CAB"}),
                                      CertLeaf("离婚证", "DIVORCE", {"CAB"}),
                                  }),
                            ConsentLeaf("授权查询家庭住房信息", {"real_estate"}),
                        }));
}

v1::ServiceDefinition PensionClaimMatter() {
  return Service("PENSION_CLAIM", "退休养老金申领", {"HRSS"}, {"HRSS", "ASC"},
                 {"identity", "social_insurance", "household_register"},
                 AllOf("养老金申领条件",
                       {
                           CertLeaf("居民身份证 (达到退休年龄)", "ID_CARD", {"PSB"}, 0,
                                    {Pred("birth_year", P::INT_LTE, {"1965"})}),
                           CertLeaf("社保缴纳证明 (满15年)", "SOCIAL_INS", {"HRSS"}, 90,
                                    {Pred("contribution_years", P::INT_GTE, {"15"})}),
                           CertLeaf("户口簿", "HUKOU", {"PSB"}),
                           ConsentLeaf("授权共享身份与社保信息", {"identity", "social_insurance"}),
                       }));
}

v1::ServiceDefinition CompanyStartupMatter() {
  return Service(
      "COMPANY_STARTUP", "企业开办", {"AMR"}, {"PSB", "TAX", "HRSS", "ASC"},
      {"business_registration", "real_estate"},
      AllOf("企业开办材料", {
                                CertLeaf("营业执照 (新设)", "BIZ_LICENSE", {"AMR"}, 90,
                                         {Pred("company_type", P::ONE_OF,
                                               {"有限责任公司", "股份有限公司", "个人独资企业"})}),
                                AnyOf("住所证明",
                                      {
                                          CertLeaf("不动产权证书", "HOUSE_DEED", {"HOUSING"}),
                                          CertLeaf("房屋租赁登记备案", "LEASE_FILING", {"HOUSING"}),
                                      }),
                                ConsentLeaf("授权共享登记信息", {"business_registration"}),
                            }));
}

// ---------------------------------------------------------------- chain

Chain::Chain(const Fixture& f) : Chain(f, Executor::Create(f.genesis(), f.suite_ptr()).value()) {}

Chain::Chain(const Fixture& f, std::unique_ptr<Executor> executor)
    : f_(f), executor_(std::move(executor)) {
  state_.Apply(executor_->GenesisState());
  snapshots_.emplace(0, state_);
  genesis_hash_ = f_.suite().Hash(f_.genesis().SerializeAsString());
  prev_hash_ = genesis_hash_;
  time_ms_ = f_.genesis().genesis_time_ms();
}

ExecOutput Chain::Apply(std::vector<Bytes> txs, int64_t time_ms) {
  ExecInput in;
  in.prev_header = last_header_.get();
  in.prev_hash = prev_hash_;
  in.prev_time_ms = time_ms_;
  in.ctx = BlockContext{.height = Height(height_ + 1),
                        .time_ms = time_ms,
                        .proposer = NodeId(1),
                        .raft_term = RaftTerm(1),
                        .raft_index = RaftIndex(height_ + 10)};
  in.txs = txs;
  in.state = &state_;
  in.history = history_;
  if (pass_floor_) in.expiry_floor = expiry_floor_;
  auto out = executor_->Apply(in);
  CL_CHECK(out.ok(), out.status().ToString());
  expiry_floor_ = out->expiry_floor;
  state_.Apply(out->writes);
  ++height_;
  snapshots_.emplace(height_, state_);
  blocks_.emplace(height_, out->block);
  auto hdr = std::make_shared<v1::BlockHeader>();
  CL_CHECK(hdr->ParseFromString(out->header_bytes), "header decodes");
  last_header_ = hdr;
  prev_hash_ = out->block_hash;
  time_ms_ = hdr->time_ms();
  history_ = out->history;
  return std::move(out).value();
}

void Chain::Restart() {
  executor_ = Executor::Create(f_.genesis(), f_.suite_ptr()).value();
  expiry_floor_.reset();  // a node keeps it in memory only
  history_ = crypto::MerkleFrontier::Restore(history_.size(), history_.roots()).value();
  if (last_header_) {
    auto hdr = std::make_shared<v1::BlockHeader>();
    CL_CHECK(hdr->ParseFromString(last_header_->SerializeAsString()), "header decodes");
    last_header_ = hdr;
  }
}

v1::Receipt Chain::ApplyOne(Bytes tx, int64_t time_ms) {
  ExecOutput out = Apply({std::move(tx)}, time_ms);
  v1::Receipt r;
  CL_CHECK(r.ParseFromString(out.receipts.at(0)), "receipt decodes");
  return r;
}

}  // namespace cl::contracts::testing
