// The hand-rendered certificate answer must be byte for byte what protobuf's
// JSON converter prints (the CLI and every client parse it): compared over a
// table of certificate states and over every Unicode code point.
#include "node/api_json.h"

#include <gtest/gtest.h>
#include <google/protobuf/util/json_util.h>

#include <string>
#include <vector>

#include "proto/api.pb.h"
#include "proto/records.pb.h"

namespace cl::node {
namespace {

namespace v1 = certledger::v1;
namespace api = certledger::api;

// What http::ProtoResponse sends for `m` (the converter, default options).
std::string Converter(const google::protobuf::Message& m) {
  std::string s;
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = false;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(m, &s, opts).ok());
  return s;
}

std::string Utf8(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xc0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xe0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    s += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    s += static_cast<char>(0xf0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    s += static_cast<char>(0x80 | (cp & 0x3f));
  }
  return s;
}

v1::CertEvent Event(v1::CertEvent::Kind kind, uint64_t height, int64_t time_ms, std::string tx_id) {
  v1::CertEvent e;
  e.set_kind(kind);
  e.set_height(height);
  e.set_time_ms(time_ms);
  e.set_tx_id(std::move(tx_id));
  e.set_signer(std::string(32, '\x7f'));
  return e;
}

// A marriage certificate as the registry stores it after anchoring.
v1::CertificateRecord Anchored() {
  v1::CertificateRecord r;
  v1::AnchorCertificate* a = r.mutable_anchor();
  a->set_cert_id("MARRIAGE-330100-2026-000123");
  std::string doc_hash("\x01\xfe\xff\x00\x80", 5);  // bytes base64 must carry as they are
  doc_hash.resize(32, 'h');
  a->set_doc_hash(doc_hash);
  a->set_type_code("MARRIAGE");
  a->set_holder_ref(std::string(32, '\xab'));
  a->set_issuer("CAB");
  a->set_issued_at_ms(1'795'000'000'000);
  a->set_valid_from_ms(1'795'000'000'000);
  a->set_valid_until_ms(2'110'000'000'000);
  a->set_jurisdiction("330100");
  r.set_status(v1::VALID);
  r.set_doc_class(v1::CERTIFICATE);
  *r.add_history() = Event(v1::CertEvent::ANCHORED, 17, 1'795'000'000'123, std::string(32, '\x11'));
  return r;
}

api::CertificateView View(v1::CertificateRecord rec, std::string status) {
  api::CertificateView v;
  if (rec.history_size() > 0) v.set_anchor_tx_id(std::string(64, 'e'));
  *v.mutable_record() = std::move(rec);
  v.set_status(std::move(status));
  v.set_checked_height(4242);
  v.set_checked_time_ms(1'800'000'000'000);
  return v;
}

struct Case {
  const char* name;
  api::CertificateView view;
};

std::vector<Case> Cases() {
  std::vector<Case> cases;
  cases.push_back({"valid", View(Anchored(), "VALID")});
  {
    v1::CertificateRecord r = Anchored();
    r.set_status(v1::REVOKED);
    v1::CertEvent e = Event(v1::CertEvent::REVOKED, 90, 1'796'000'000'000, std::string(32, '\x22'));
    e.set_reason("证照信息有误，依申请撤销 \"quoted\" <b>&</b> \\ tab\t nl\n");
    *r.add_history() = e;
    cases.push_back({"revoked with a Chinese reason and characters to escape", View(r, "REVOKED")});
  }
  {
    v1::CertificateRecord r = Anchored();
    r.set_status(v1::SUSPENDED);
    *r.add_history() = Event(v1::CertEvent::SUSPENDED, 91, 1'796'000'000'001, std::string(32, '\x33'));
    cases.push_back({"suspended", View(r, "SUSPENDED")});
  }
  {
    v1::CertificateRecord r = Anchored();
    *r.add_history() = Event(v1::CertEvent::SUSPENDED, 91, 1'796'000'000'001, std::string(32, '\x33'));
    *r.add_history() = Event(v1::CertEvent::REINSTATED, 92, 1'796'000'000'002, std::string(32, '\x44'));
    cases.push_back({"reinstated", View(r, "VALID")});
  }
  {
    v1::CertificateRecord r = Anchored();
    r.set_status(v1::SUPERSEDED);
    r.set_superseded_by("MARRIAGE-330100-2026-000999");
    v1::CertEvent e = Event(v1::CertEvent::SUPERSEDED, 93, 1'796'000'000'003, std::string(32, '\x55'));
    e.set_new_cert_id("MARRIAGE-330100-2026-000999");
    e.set_reason("换发");
    *r.add_history() = e;
    cases.push_back({"superseded", View(r, "SUPERSEDED")});
  }
  {
    v1::CertificateRecord r = Anchored();
    r.mutable_anchor()->set_valid_until_ms(1'700'000'000'000);
    cases.push_back({"expired", View(r, "EXPIRED")});
  }
  {
    v1::CertificateRecord r = Anchored();
    r.mutable_anchor()->set_valid_from_ms(1'900'000'000'000);
    cases.push_back({"not yet valid", View(r, "NOT_YET_VALID")});
  }
  {
    v1::CertificateRecord r = Anchored();
    r.mutable_anchor()->set_valid_until_ms(0);  // 长期: does not expire
    r.mutable_anchor()->set_number_ref(std::string(32, '\x01'));
    auto* at = r.mutable_anchor()->add_attributes();
    at->set_name("marital_status");
    at->set_commitment(std::string(32, '\x02'));
    r.mutable_anchor()->add_attributes();  // an empty attribute still prints as {}
    r.mutable_anchor()->add_attributes()->set_name("出生日期");
    cases.push_back({"no expiry, number ref and attributes", View(r, "VALID")});
  }
  {
    v1::CertificateRecord r = Anchored();
    r.set_doc_class(v1::EBILL);
    r.mutable_anchor()->set_issued_at_ms(-1);  // negative 64-bit values are quoted too
    r.mutable_anchor()->set_valid_from_ms(-9'223'372'036'854'775'807 - 1);
    r.mutable_history(0)->set_height(UINT64_MAX);
    cases.push_back({"e-bill with extreme integers", View(r, "VALID")});
  }
  {
    v1::CertificateRecord r = Anchored();
    r.set_status(static_cast<v1::CertStatus>(99));  // unknown enum values print as numbers
    r.set_doc_class(static_cast<v1::DocClass>(7));
    r.mutable_history(0)->set_kind(static_cast<v1::CertEvent::Kind>(42));
    cases.push_back({"unknown enum values", View(r, "VALID")});
  }
  {
    v1::CertificateRecord r;
    r.mutable_anchor();  // present but empty
    cases.push_back({"empty anchor", View(r, "VALID")});
  }
  cases.push_back({"empty record", View(v1::CertificateRecord(), "")});
  {
    api::CertificateView v;
    v.set_status("VALID");
    cases.push_back({"no record", v});
  }
  {
    std::string s;
    for (uint32_t c = 0; c < 0xa0; ++c) s += Utf8(c);
    for (uint32_t c : {0xadu, 0x600u, 0x603u, 0x6ddu, 0x70fu, 0x17b4u, 0x17b5u, 0x200bu, 0x200fu, 0x2028u,
                       0x202eu, 0x2060u, 0x2064u, 0x206au, 0x206fu, 0xfeffu, 0xfff9u, 0xfffbu, 0xe0001u,
                       0x1d173u, 0x1d17au, 0xe0020u, 0xe007fu, 0x1f600u, 0x10ffffu, 0x4e2du, 0xffffu})
      s += Utf8(c);
    v1::CertificateRecord r = Anchored();
    r.mutable_anchor()->set_jurisdiction(s);
    cases.push_back({"every escaped character", View(r, s)});
  }
  return cases;
}

TEST(CertificateViewJsonTest, EqualsTheProtobufConverterForEveryCertificateState) {
  for (const Case& c : Cases()) {
    auto fast = CertificateViewJson(c.view);
    ASSERT_TRUE(fast.has_value()) << c.name;
    EXPECT_EQ(*fast, Converter(c.view)) << c.name;
    // And it parses back to the same message.
    api::CertificateView back;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(*fast, &back).ok()) << c.name;
    EXPECT_EQ(back.SerializeAsString(), c.view.SerializeAsString()) << c.name;
  }
}

TEST(CertificateViewJsonTest, EscapesEveryCodePointAsTheConverterDoes) {
  // Chunks of 512 consecutive code points (surrogates have no UTF-8 form).
  for (uint32_t first = 0; first <= 0x10ffff; first += 512) {
    std::string s;
    for (uint32_t c = first; c < first + 512 && c <= 0x10ffff; ++c)
      if (c < 0xd800 || c > 0xdfff) s += Utf8(c);
    api::CertificateView v;
    v.set_status(s);
    auto fast = CertificateViewJson(v);
    ASSERT_TRUE(fast.has_value()) << "from U+" << std::hex << first;
    ASSERT_EQ(*fast, Converter(v)) << "from U+" << std::hex << first;
  }
}

TEST(CertificateViewJsonTest, DeclinesWhatOnlyTheConverterRenders) {
  struct Decline {
    const char* name;
    api::CertificateView view;
  };
  std::vector<Decline> cases;
  {
    api::CertificateView v = View(Anchored(), "VALID");
    v.mutable_proof()->set_leaf_index(3);
    cases.push_back({"with a proof", v});
  }
  {
    api::CertificateView v = View(Anchored(), "VALID");
    v.add_history_txs()->set_tx_id("ab");
    cases.push_back({"with history txs", v});
  }
  for (const char* bad : {"\xc0\x80", "\xed\xa0\x80", "\xe4\xb8", "\xff", "\x80", "\xf4\x90\x80\x80"}) {
    api::CertificateView v = View(Anchored(), "VALID");
    v.mutable_record()->mutable_anchor()->set_issuer(std::string("CAB") + bad);
    cases.push_back({"malformed UTF-8", v});
  }
  for (const Decline& c : cases) EXPECT_FALSE(CertificateViewJson(c.view).has_value()) << c.name;
}

// The renderer names every field of these messages: a field added to the
// protos must be added to node/api_json.cc too (this count then fails).
TEST(CertificateViewJsonTest, KnowsEveryFieldOfTheMessagesItRenders) {
  EXPECT_EQ(api::CertificateView::descriptor()->field_count(), 7);  // proof, history_txs: converter
  EXPECT_EQ(v1::CertificateRecord::descriptor()->field_count(), 5);
  EXPECT_EQ(v1::AnchorCertificate::descriptor()->field_count(), 11);
  EXPECT_EQ(v1::AttributeCommitment::descriptor()->field_count(), 2);
  EXPECT_EQ(v1::CertEvent::descriptor()->field_count(), 7);
}

}  // namespace
}  // namespace cl::node
